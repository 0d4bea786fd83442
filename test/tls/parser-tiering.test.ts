/**
 * undici's HTTP/1.1 parser and V8's tier-up (src/tls/parser-tiering.ts). Each case is a fresh
 * process run with `--trace-wasm-compilation-times`, which prints one line per WebAssembly
 * function compiled, naming the compiler; "using TurboFan" is a tier-up.
 *
 * - One verified GET does not recompile llhttp with TurboFan (on Node 20 it did: 57 ms and 29 MB
 *   on a background thread the process waited for before exiting).
 * - The application's own WebAssembly keeps V8's default budget: a hand-written hot loop that
 *   tiers up at V8 11.3's default budget and not at 13,000,000 (checked here, both ways) still
 *   tiers up after certainly's first connection.
 * - A budget the user set on the command line is left alone.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRoot, type Issued, issue, startTlsServer, type TestServer } from '../support/index.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const V8_11_3 = process.versions.v8.startsWith('11.3.');

// (module (func (export "spin") (param i32) (result i32)
//   (loop (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br_if 0 (local.get 0)))
//   (local.get 0)))
const SPIN_WASM = [
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 6, 1, 0x60, 1, 0x7f, 1, 0x7f, 3, 2, 1, 0, 7, 8, 1, 4, 0x73, 0x70, 0x69,
  0x6e, 0, 0, 0x0a, 0x14, 1, 0x12, 0, 3, 0x40, 0x20, 0, 0x41, 1, 0x6b, 0x21, 0, 0x20, 0, 0x0d, 0, 0x0b, 0x20,
  0, 0x0b,
];
// Iterations of the loop: measured on V8 11.3, it tiers up from ~100,000 at the default budget
// and only from ~1,000,000 at 13,000,000; 300,000 sits between with room either way.
const SPINS = 300_000;

/** The child: optionally one GET through certainly, then optionally the hot loop. */
function program(opts: { get: boolean; spin: boolean }): string {
  return `
    if (${opts.get}) {
      const { get, closeDefaultSession } = await import('certainly');
      const r = await get(process.argv[1], { verify: process.argv[2], trustEnv: false });
      if (r.status !== 200) throw new Error('status ' + r.status);
      await r.text();
      await closeDefaultSession();
    }
    if (${opts.spin}) {
      const m = new WebAssembly.Module(new Uint8Array(${JSON.stringify(SPIN_WASM)}));
      new WebAssembly.Instance(m).exports.spin(${SPINS});
    }
    // On stderr: V8 prints its trace on stdout from the compiling thread, and a line of ours
    // written there could land in the middle of one of its lines.
    console.error('done');`;
}

/** The functions compiled with TurboFan, by size of their body ('bodysize N'). */
async function turbofan(url: string, ca: string, opts: { get: boolean; spin: boolean; flags?: string[] }) {
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    [
      ...(opts.flags ?? []),
      '--trace-wasm-compilation-times',
      '--input-type=module',
      '-e',
      program(opts),
      url,
      ca,
    ],
    { cwd: REPO, env: { PATH: process.env.PATH }, maxBuffer: 16 << 20 },
  );
  assert.match(stderr, /^done$/m, 'the child ran to its end');
  const lines = stdout.split('\n').filter((l) => /using TurboFan/.test(l));
  return lines.map((l) => Number(/bodysize (\d+)/.exec(l)?.[1]));
}

// The hand-written function's body is 18 bytes; llhttp's parsing function is tens of KB.
const SPIN_BODY = 18;
const isParser = (bodySize: number) => bodySize > 10_000;

describe("undici's HTTP/1.1 parser and V8's tier-up", () => {
  let root: Issued;
  let server: TestServer;
  before(async () => {
    root = createRoot({ cn: 'parser tiering root' });
    server = await startTlsServer({ cert: issue(root) });
  });
  after(() => server.close());

  test('one verified GET does not recompile the parser with TurboFan', async () => {
    const compiled = await turbofan(server.url('/'), root.pem, { get: true, spin: false });
    assert.deepEqual(compiled.filter(isParser), []);
  });

  test("the application's own WebAssembly still tiers up at V8's default budget", {
    skip: V8_11_3 ? false : `V8 ${process.versions.v8} is not 11.3: nothing is changed there`,
  }, async () => {
    const url = server.url('/');
    // The loop is hot enough for the default budget and not for the raised one…
    assert.deepEqual(await turbofan(url, root.pem, { get: false, spin: true }), [SPIN_BODY]);
    assert.deepEqual(
      await turbofan(url, root.pem, { get: false, spin: true, flags: ['--wasm-tiering-budget=13000000'] }),
      [],
    );
    // …so after certainly's connection it tiers up only if the default budget is back.
    const compiled = await turbofan(url, root.pem, { get: true, spin: true });
    assert.deepEqual(
      compiled.filter((n) => !isParser(n)),
      [SPIN_BODY],
    );
    assert.deepEqual(compiled.filter(isParser), []);
  });

  test('a budget the user set on the command line is left alone', {
    skip: V8_11_3 ? false : `V8 ${process.versions.v8} is not 11.3: nothing is changed there`,
  }, async () => {
    const compiled = await turbofan(server.url('/'), root.pem, {
      get: true,
      spin: false,
      flags: ['--wasm-tiering-budget=1800000'],
    });
    assert.equal(compiled.filter(isParser).length, 1, "V8 11.3's default budget: the parser tiers up");
  });
});
