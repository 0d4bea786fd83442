/**
 * What `npm pack` would publish (npm's own file list, `npm pack --dry-run`): the bundles for
 * import and require, their declarations, the command, LICENSE and README; no source maps, no
 * sources, no tests; within a size budget. scripts/consumers.mjs installs the real tarball
 * into consumer projects (CI); this test is the quick check that the list is right.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

// Budgets: today about 640 KB packed and 2.5 MB unpacked: three copies of the library's code
// (the ES module and CommonJS entry bundles, each one file so that an import links one module,
// and the command's split build) and two declaration trees. Room for features still landing,
// not for a mistake such as shipping maps, sources or tests, which would at least double it.
const MAX_PACKED = 768 * 1024;
const MAX_UNPACKED = 3 * 1024 * 1024;
const MAX_FILES = 400;

interface PackResult {
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string; size: number }[];
}

function dryRun(): PackResult {
  // --ignore-scripts: list what is built (npm test has just built it) without prepack's rebuild.
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return (JSON.parse(out) as PackResult[])[0] as PackResult;
}

describe('npm pack --dry-run: the published file list', () => {
  const pack = dryRun();
  const paths = pack.files.map((f) => f.path);
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    exports: Record<string, string | Record<string, { types: string; default: string }>>;
    bin: Record<string, string>;
    main: string;
    types: string;
    scripts: Record<string, string>;
    license: string;
  };

  test('every file package.json points at is in the tarball', () => {
    const wanted = new Set<string>([pkg.main, pkg.types, ...Object.values(pkg.bin)]);
    for (const target of Object.values(pkg.exports)) {
      if (typeof target === 'string') wanted.add(target);
      else for (const cond of Object.values(target)) wanted.add(cond.types).add(cond.default);
    }
    const missing = [...wanted].map((p) => p.replace(/^\.\//, '')).filter((p) => !paths.includes(p));
    assert.deepEqual(missing, []);
  });

  test('LICENSE (Apache-2.0, as package.json says), README and package.json are in it', () => {
    for (const name of ['LICENSE', 'README.md', 'package.json']) assert.ok(paths.includes(name), name);
    assert.equal(pkg.license, 'Apache-2.0');
    assert.match(
      readFileSync(new URL('../../LICENSE', import.meta.url), 'utf8'),
      /Apache License\s+Version 2\.0/,
    );
  });

  test('no source maps, sources, tests or build output: only dist/ and the three top-level files', () => {
    const stray = paths.filter(
      (p) =>
        p.endsWith('.map') ||
        !(p.startsWith('dist/') || ['LICENSE', 'README.md', 'package.json'].includes(p)),
    );
    assert.deepEqual(stray, []);
    assert.ok(
      !paths.some((p) => p.endsWith('.ts') && !p.endsWith('.d.ts')),
      'a .ts source is in the tarball',
    );
  });

  test(`within budget: ≤ ${MAX_PACKED / 1024} KiB packed, ≤ ${MAX_UNPACKED / 1024 / 1024} MiB unpacked, ≤ ${MAX_FILES} files`, () => {
    const line = `${pack.size} bytes packed, ${pack.unpackedSize} unpacked, ${pack.entryCount} files`;
    assert.ok(pack.size <= MAX_PACKED, line);
    assert.ok(pack.unpackedSize <= MAX_UNPACKED, line);
    assert.ok(pack.entryCount <= MAX_FILES, line);
  });

  test('prepack builds, so a publish never ships a stale or missing dist/', () => {
    assert.match(pkg.scripts.prepack ?? '', /npm run build/);
  });
});
