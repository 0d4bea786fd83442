#!/usr/bin/env node
/**
 * Builds the package in dist/ (what `npm pack` ships):
 *
 *   dist/esm/<entry>.js   one ES module bundle per entry point, in one file
 *   dist/esm/cli.js       the `certainly` command (ES module only: it is a program, not a library);
 *                         its subcommands, reached through import(), split into dist/esm/chunks/
 *   dist/cjs/<entry>.js   one CommonJS bundle per entry point (dist/cjs/package.json says
 *                         "commonjs"), for require() on every supported Node version
 *   dist/esm/**.d.ts      declarations (tsc), and the same tree in dist/cjs/ so that TypeScript
 *                         reads them as CommonJS declarations for require (no "masquerading")
 *
 * Entry points are read from package.json "exports" ('.' is src/index.ts, './x' is
 * src/x/index.ts), so a new subpath export is one edit in package.json.
 * undici stays a dependency (external): users share it, and fetch() accepts our dispatcher.
 * No source maps: the bundles are unminified ES2022 with the source's names, so a stack trace
 * reads as it is; maps would need src/ shipped or sources embedded (twice the package) to resolve.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** { index: 'src/index.ts', testing: 'src/testing/index.ts', … } from package.json "exports". */
function libraryEntries() {
  const out = {};
  for (const key of Object.keys(pkg.exports)) {
    if (key === './package.json') continue;
    const name = key === '.' ? 'index' : key.slice(2);
    const file = key === '.' ? 'src/index.ts' : `src/${name}/index.ts`;
    if (!existsSync(join(root, file)))
      throw new Error(`package.json exports "${key}" but ${file} does not exist`);
    out[name] = join(root, file);
  }
  return out;
}

const entries = libraryEntries();
rmSync(dist, { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  // The engines floor (package.json): no syntax newer than Node 20 supports.
  target: 'node20.18',
  packages: 'external',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: root,
};

await Promise.all([
  // The library's entry points: one file each, nothing split out. A process that imports
  // certainly resolves, reads and links one module instead of fifteen (the split build's shared
  // chunks): `import 'certainly'` 93 -> 85 ms on Node 20, 63 -> 53 ms on Node 22 (hyperfine, 30
  // runs). The two entries share no state that matters (testing/ reads constants only), as in
  // the CommonJS build below.
  build({
    ...common,
    entryPoints: entries,
    format: 'esm',
    outdir: join(dist, 'esm'),
  }),
  // The command: its subcommands load on first use (import()), so it keeps esbuild's splitting;
  // it carries its own copy of the library code it uses.
  build({
    ...common,
    entryPoints: { cli: join(root, 'src/cli/bin.ts') },
    format: 'esm',
    splitting: true,
    outdir: join(dist, 'esm'),
    chunkNames: 'chunks/[name]-[hash]',
  }),
  build({
    ...common,
    entryPoints: entries,
    format: 'cjs',
    outdir: join(dist, 'cjs'),
    // import.meta.url (a module finding its own file) as the bundle's own URL, as in ESM.
    banner: { js: 'const __import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': '__import_meta_url' },
  }),
]);
writeFileSync(join(dist, 'cjs', 'package.json'), '{ "type": "commonjs" }\n');

// Declarations: tsc writes them once (dist/esm), then the same files go to dist/cjs.
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
  cwd: root,
  stdio: 'inherit',
});
// A default import of a node built-in (`import tls from 'node:tls'`) in a .d.ts fails under
// TypeScript's node10 resolution without esModuleInterop (TS1192). Declarations use the module
// only for types (tls.TLSSocket…), which a namespace import gives the same way in every mode.
const DEFAULT_BUILTIN = /^import (type )?(\w+) from '(node:[\w/]+)';$/gm;
function copyDeclarations(from, to) {
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    if (statSync(src).isDirectory()) {
      if (name === 'chunks') continue;
      copyDeclarations(src, join(to, name));
    } else if (name.endsWith('.d.ts')) {
      const text = readFileSync(src, 'utf8').replace(DEFAULT_BUILTIN, "import $1* as $2 from '$3';");
      writeFileSync(src, text);
      mkdirSync(to, { recursive: true });
      writeFileSync(join(to, name), text);
    }
  }
}
copyDeclarations(join(dist, 'esm'), join(dist, 'cjs'));

if (process.argv.includes('--verbose')) {
  for (const dir of ['esm', 'cjs']) {
    for (const name of readdirSync(join(dist, dir), { recursive: true })) {
      if (String(name).endsWith('.js')) {
        process.stdout.write(
          `${relative(root, join(dist, dir, String(name)))}  ${statSync(join(dist, dir, String(name))).size}\n`,
        );
      }
    }
  }
}
