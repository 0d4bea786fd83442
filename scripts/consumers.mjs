#!/usr/bin/env node
/**
 * Installs the package as a user would get it (the `npm pack` tarball, not the source tree) into
 * tiny consumer projects in a temporary directory, and checks that each way of loading it works:
 *
 *   ESM       import { get, … } from 'certainly' (and every subpath export)
 *   CJS       require('certainly') (and every subpath export)
 *   bin       the installed `certainly` command runs
 *   TS        tsc --noEmit under module/moduleResolution node16 (an .mts and a .cts file),
 *             nodenext, bundler and node10 (no esModuleInterop: a default import of a node
 *             built-in in our .d.ts would fail there with TS1192)
 *   bundler   esbuild bundles a consumer (CommonJS and ESM output), and the bundles run
 *   attw      @arethetypeswrong/cli on the tarball (every resolution mode)
 *   publint   on the unpacked package
 *
 *   node scripts/consumers.mjs [--node PATH]…     also run the ESM/CJS/bundle checks under each PATH
 *
 * It packs what dist/ holds now (npm test builds it; `npm pack` proper runs prepack = build).
 * Installing needs undici from the npm registry or npm's cache (CI has just run `npm ci`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { node: { type: 'string', multiple: true, default: [] } } });
const nodes = [process.execPath, ...values.node];
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const subpaths = Object.keys(pkg.exports)
  .filter((k) => k !== './package.json')
  .map((k) => (k === '.' ? pkg.name : `${pkg.name}/${k.slice(2)}`));

if (!existsSync(join(root, 'dist/esm/index.js'))) {
  process.stderr.write('consumers: dist/ is not built; run `npm run build` first\n');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'certainly-consumers-'));
let failures = 0;
function step(name, fn) {
  const t = performance.now();
  try {
    const out = fn();
    process.stdout.write(`ok    ${name} (${Math.round(performance.now() - t)} ms)${out ? `: ${out}` : ''}\n`);
  } catch (err) {
    failures++;
    const detail = [err.stdout, err.stderr].filter(Boolean).join('\n').trim() || err.message;
    process.stdout.write(`FAIL  ${name}\n${detail.replace(/^/gm, '      ')}\n`);
  }
}
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
const bin = (name) => join(root, 'node_modules/.bin', name);

try {
  // --ignore-scripts: pack what is built (prepack would rebuild it, a minute on a busy machine).
  const packed = JSON.parse(
    run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], root),
  );
  const tarball = join(work, packed[0].filename);
  process.stdout.write(
    `packed ${packed[0].filename}: ${packed[0].entryCount} files, ${packed[0].size} bytes\n`,
  );

  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true }, null, 2));
  step('npm install <tarball>', () =>
    run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', tarball],
      app,
    ).trim(),
  );

  // What every runtime consumer checks: the documented names, an offline verification that
  // refuses with a typed error, and each subpath export loading.
  const checks = (mod) => `
    for (const [name, kind] of Object.entries({ get: 'function', request: 'function', Session: 'function', verifyChain: 'function', SSLError: 'function', errors: 'object' })) {
      if (typeof ${mod}[name] !== kind) throw new Error(name + ' is ' + typeof ${mod}[name]);
    }
    const r = ${mod}.verifyChain({ chain: [], name: 'example.com' });
    if (r.ok || !(r.error instanceof ${mod}.CertainlyError) || typeof r.error.code !== 'string') throw new Error('verifyChain([]) did not refuse with a typed error');
  `;
  // A wildcard name is checked against the Public Suffix List, which is loaded lazily (tldts):
  // the one path that needs a require inside the bundles, so each consumer walks it once.
  const wildcard = (mod, testing) => `
    {
      const ca = ${testing}.createCA();
      const leaf = ca.issue('*.example.com');
      const ok = ${mod}.verifyChain({ chain: [leaf.certPem], ca: ca.pem, name: 'api.example.com' });
      if (!ok.ok) throw new Error('wildcard chain refused: ' + ok.error.message);
      const co = ${mod}.verifyChain({ chain: [ca.issue('*.co.uk').certPem], ca: ca.pem, name: 'example.co.uk' });
      if (co.ok || co.error.code !== 'HOSTNAME_MISMATCH') throw new Error('*.co.uk was not refused: ' + (co.ok ? 'accepted' : co.error.code));
    }
  `;
  writeFileSync(
    join(app, 'esm.mjs'),
    `import * as c from 'certainly';\nimport * as t from 'certainly/testing';\nimport { get } from 'certainly';\nif (get !== c.get) throw new Error('named import');\n${checks('c')}\n${wildcard('c', 't')}\n` +
      subpaths.map((s) => `await import(${JSON.stringify(s)});`).join('\n') +
      "\nconsole.log('esm ok: ' + Object.keys(c).length + ' exports');\n",
  );
  writeFileSync(
    join(app, 'cjs.cjs'),
    `const c = require('certainly');\nconst t = require('certainly/testing');\n${checks('c')}\n${wildcard('c', 't')}\n` +
      subpaths.map((s) => `require(${JSON.stringify(s)});`).join('\n') +
      "\nconsole.log('cjs ok: ' + Object.keys(c).length + ' exports');\n",
  );
  writeFileSync(
    join(app, 'bundled-entry.mjs'),
    `import * as c from 'certainly';\nimport * as t from 'certainly/testing';\nconst r = c.verifyChain({ chain: [], name: 'example.com' });\nif (r.ok || !(r.error instanceof c.CertainlyError)) throw new Error('not refused');\n${wildcard('c', 't')}\nconsole.log('bundle ok');\n`,
  );
  // A bundler: esbuild, as CommonJS (the usual output for node), and as ESM. undici is
  // CommonJS and requires node built-ins, which an ESM bundle can only do through a require made
  // by createRequire (esbuild's documented banner); without it any bundle of undici fails.
  step('esbuild bundles a consumer (CommonJS output)', () =>
    run(
      bin('esbuild'),
      [
        'bundled-entry.mjs',
        '--bundle',
        '--platform=node',
        '--format=cjs',
        '--outfile=bundle.cjs',
        '--log-level=warning',
      ],
      app,
    ),
  );
  step('esbuild bundles a consumer (ESM output, createRequire banner)', () =>
    run(
      bin('esbuild'),
      [
        'bundled-entry.mjs',
        '--bundle',
        '--platform=node',
        '--format=esm',
        '--outfile=bundle.mjs',
        '--log-level=warning',
        "--banner:js=import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      ],
      app,
    ),
  );
  for (const node of nodes) {
    const v = run(node, ['--version'], app).trim();
    step(`Node ${v}: import (ESM)`, () => run(node, ['esm.mjs'], app).trim());
    step(`Node ${v}: require (CommonJS)`, () => run(node, ['cjs.cjs'], app).trim());
    step(`Node ${v}: the installed command (node_modules/.bin/certainly --version)`, () =>
      run(node, [join(app, 'node_modules/.bin/certainly'), '--version'], app).trim(),
    );
    step(
      `Node ${v}: the esbuild bundles run`,
      () => `${run(node, ['bundle.cjs'], app).trim()}, ${run(node, ['bundle.mjs'], app).trim()}`,
    );
  }

  // TypeScript: one small program, checked under each resolution mode.
  const tsBody = `
import { get, Session, SSLError, verifyChain, type RequestOptions } from 'certainly';
const options: RequestOptions = { verify: true };
export async function f(): Promise<number> {
  const s = new Session();
  const r = await get('https://example.com/', options);
  const v = verifyChain({ chain: [], name: 'example.com' });
  if (!v.ok && v.error instanceof SSLError) return v.error.code.length;
  await s.close();
  return r.status;
}
`;
  const tsSub = subpaths
    .slice(1)
    .map(
      (s) =>
        `import * as sub${s.length} from ${JSON.stringify(s)};\nexport const n${s.length} = Object.keys(sub${s.length}).length;`,
    )
    .join('\n');
  writeFileSync(join(app, 'consumer.mts'), tsBody + tsSub);
  writeFileSync(join(app, 'consumer.cts'), tsBody + tsSub);
  writeFileSync(join(app, 'consumer.ts'), tsBody + tsSub);
  const typeRoots = [join(root, 'node_modules/@types')];
  const modes = {
    node16: { module: 'node16', moduleResolution: 'node16', files: ['consumer.mts', 'consumer.cts'] },
    nodenext: { module: 'nodenext', moduleResolution: 'nodenext', files: ['consumer.mts', 'consumer.cts'] },
    bundler: { module: 'esnext', moduleResolution: 'bundler', files: ['consumer.ts'] },
    node10: { module: 'commonjs', moduleResolution: 'node10', files: ['consumer.ts'] },
  };
  for (const [mode, { files, ...opts }] of Object.entries(modes)) {
    writeFileSync(
      join(app, `tsconfig.${mode}.json`),
      JSON.stringify(
        {
          compilerOptions: {
            ...opts,
            target: 'es2022',
            strict: true,
            noEmit: true,
            // No skipLibCheck: our declarations are checked too. No esModuleInterop: the
            // strictest setting, where a default import of a node built-in fails.
            esModuleInterop: false,
            typeRoots,
            types: ['node'],
            ...(mode === 'node10' ? { ignoreDeprecations: '5.0' } : {}),
          },
          files,
        },
        null,
        2,
      ),
    );
    step(`TypeScript moduleResolution ${mode}`, () =>
      run(
        process.execPath,
        [join(root, 'node_modules/typescript/bin/tsc'), '-p', `tsconfig.${mode}.json`],
        app,
      ).trim(),
    );
  }

  step('@arethetypeswrong/cli (every resolution mode)', () => {
    const out = run(bin('attw'), [tarball, '--format', 'table-flipped'], app);
    return `\n${out.trim()}`;
  });
  step('publint', () => run(bin('publint'), ['--strict', join(app, 'node_modules', pkg.name)], app).trim());
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (failures > 0) {
  process.stderr.write(`consumers: ${failures} check(s) failed\n`);
  process.exit(1);
}
process.stdout.write('consumers: every check passed\n');
