/**
 * The layer check (scripts/layers.mjs) as CI runs it: on a fake source tree with an import that
 * goes up the layer order, an import circle and an errors.ts that imports something, it fails and
 * names each offending edge; on a clean tree it passes; on this repository's src/ it passes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/index.js';

const SCRIPT = fileURLToPath(new URL('../../../scripts/layers.mjs', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

function run(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', cwd: REPO });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('scripts/layers.mjs', () => {
  const dir = tempDir('certainly-layers-');
  after(() => dir.cleanup());

  /** A small tree that obeys the rules: der <- x509 <- verify, errors imported by all. */
  function cleanTree(name: string): string {
    dir.write(`${name}/errors.ts`, 'export class E extends Error {}\n');
    dir.write(`${name}/der/reader.ts`, "import { E } from '../errors.js';\nexport const r = E;\n");
    dir.write(
      `${name}/x509/cert.ts`,
      "import type { E } from '../errors.js';\nimport {\n  r,\n} from '../der/reader.js';\nexport const c = r;\n",
    );
    dir.write(
      `${name}/verify/index.ts`,
      "export { c } from '../x509/cert.js';\n// import '../cli/main.js'\n",
    );
    dir.write(`${name}/cli/main.ts`, "import '../testing/index.js';\nawait import('../verify/index.js');\n");
    dir.write(`${name}/testing/index.ts`, "export * from '../x509/cert.js';\n");
    dir.write(`${name}/index.ts`, "export * from './verify/index.js';\n");
    return `${dir.path}/${name}`;
  }

  test('a tree that follows the order passes', () => {
    const r = run('--root', cleanTree('clean'), '--no-allow-list');
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /layer check passed: 7 modules/);
  });

  test('an upward import, a circle and an importing errors.ts fail, each edge named', () => {
    const root = cleanTree('bad');
    // x509 importing from verify goes up the order.
    dir.write('bad/x509/up.ts', "import type { c } from '../verify/index.js';\nexport type T = typeof c;\n");
    // A circle inside one layer: a -> b -> a.
    dir.write('bad/der/a.ts', "import { b } from './b.js';\nexport const a = () => b;\n");
    dir.write('bad/der/b.ts', "export { a as b } from './a.js';\n");
    // errors.ts imports nothing, not even a type from below.
    dir.write('bad/errors.ts', "import type { r } from './der/reader.js';\nexport type R = typeof r;\n");
    // Nothing in a layer imports the main entry or testing/ (only cli/ may use testing/).
    dir.write('bad/trust/t.ts', "import '../testing/index.js';\nimport '../index.js';\n");
    const r = run('--root', root, '--no-allow-list');
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /upward import: x509\/up\.ts -> verify\/index\.ts/);
    assert.match(r.out, /upward import: errors\.ts -> der\/reader\.ts {2}\(errors\.ts imports nothing\)/);
    assert.match(r.out, /upward import: trust\/t\.ts -> testing\/index\.ts/);
    assert.match(r.out, /upward import: trust\/t\.ts -> index\.ts/);
    assert.match(r.out, /import circle:\n {2}der\/a\.ts -> der\/b\.ts\n {2}der\/b\.ts -> der\/a\.ts/);
    // errors.ts -> der/reader.ts -> errors.ts is a circle too.
    assert.match(
      r.out,
      /import circle:\n {2}der\/reader\.ts -> errors\.ts\n {2}errors\.ts -> der\/reader\.ts/,
    );
    assert.match(r.out, /4 upward import\(s\), 2 circle\(s\)/);
    // The commented-out import in verify/index.ts is not an edge.
    assert.doesNotMatch(r.out, /verify\/index\.ts -> cli/);
  });

  test("this repository's src/ passes (with its allow-list), and every allow-list entry is still needed", () => {
    const r = run();
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /layer check passed/);
  });
});
