// Bounded file inputs (issue 14): every file the library or the CLI reads is a regular file of
// bounded size, opened before it is checked (fstat), never a FIFO that blocks or a device that
// never ends. One helper (src/trust/load.ts readBounded / readUserFile) serves them all.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError } from '../../src/errors.js';
import { FILE_LIMITS, MAX_CA_FILE_BYTES, readBounded } from '../../src/trust/load.js';
import { resolveTrust } from '../../src/trust/resolve.js';

const dir = mkdtempSync(join(tmpdir(), 'certainly-bounds-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const fifo = join(dir, 'pipe.pem');
let haveFifo = true;
try {
  execFileSync('mkfifo', [fifo]);
} catch {
  haveFifo = false;
}
const NO_FIFO = haveFifo ? false : 'mkfifo is not available here';

/** A sparse file one byte over `limit`: costs no disk space. */
function oversize(name: string, limit: number): string {
  const path = join(dir, name);
  writeFileSync(path, '');
  truncateSync(path, limit + 1);
  return path;
}

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const CLI = join(SRC, 'cli', 'main.js');

/**
 * Runs `body` (ESM source) in a child process with a deadline: a read that blocks on a FIFO would
 * hang this process for good (the open is synchronous), so a hang must kill a child instead.
 */
function inChild(body: string): unknown {
  const load = `const load = (p) => import(${JSON.stringify(pathToFileURL(SRC).href)} + p);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `${load}\n${body}`], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return JSON.parse(out);
}

describe('readBounded', () => {
  test('a regular file is read whole', () => {
    const path = join(dir, 'small.pem');
    writeFileSync(path, 'hello');
    assert.equal(readBounded(path).toString(), 'hello');
  });

  test('/dev/zero is a character device, refused without reading', () => {
    assert.throws(() => readBounded('/dev/zero'), /is a character device, not a regular file/);
  });

  test('a directory is refused', () => {
    assert.throws(() => readBounded(dir), /is a directory|EISDIR/);
  });

  test('a file over the limit is refused, saying the size and the limit', () => {
    const big = oversize('big.pem', MAX_CA_FILE_BYTES);
    assert.throws(
      () => readBounded(big),
      new RegExp(`is ${MAX_CA_FILE_BYTES + 1} bytes, more than the limit of ${MAX_CA_FILE_BYTES} bytes`),
    );
    assert.throws(
      () => readBounded(oversize('key.pem', FILE_LIMITS.key), FILE_LIMITS.key),
      /more than the limit/,
    );
  });

  test('a FIFO is refused at once, with no writer (no blocking open)', { skip: NO_FIFO }, () => {
    const result = inChild(`
      const { readBounded } = await load('trust/load.js');
      const t = Date.now();
      let message;
      try { readBounded(${JSON.stringify(fifo)}); } catch (e) { message = e.message; }
      console.log(JSON.stringify({ message, ms: Date.now() - t }));
    `) as { message: string };
    assert.match(result.message, /is a FIFO \(named pipe\), not a regular file/);
  });
});

describe('every reader uses it', () => {
  test("verify: '/dev/zero', a FIFO and an oversize bundle are ConfigErrors naming the path", {
    skip: NO_FIFO,
  }, () => {
    const big = oversize('bundle.pem', MAX_CA_FILE_BYTES);
    const results = inChild(`
      const { resolveTrust } = await load('trust/resolve.js');
      const out = [];
      for (const verify of ['/dev/zero', ${JSON.stringify(fifo)}, ${JSON.stringify(big)}]) {
        try { resolveTrust({ verify, env: {} }); out.push('accepted'); }
        catch (e) { out.push(e.name + ' ' + e.code + ' ' + e.message); }
      }
      console.log(JSON.stringify(out));
    `) as string[];
    assert.match(results[0]!, /^ConfigError ERR_CA_PATH .*\/dev\/zero.* neither a file nor a directory/);
    assert.match(results[1]!, /^ConfigError ERR_CA_PATH .*pipe\.pem.* neither a file nor a directory/);
    assert.match(
      results[2]!,
      new RegExp(
        `^ConfigError ERR_CA_PATH .*bundle\\.pem.* more than the limit of ${MAX_CA_FILE_BYTES} bytes`,
      ),
    );
  });

  test('REQUESTS_CA_BUNDLE=/dev/zero is refused the same way', () => {
    assert.throws(
      () => resolveTrust({ env: { REQUESTS_CA_BUNDLE: '/dev/zero' } }),
      (e: unknown) => e instanceof ConfigError && /\/dev\/zero/.test(e.message),
    );
  });

  test('client certificate and key files: a FIFO, /dev/zero, an oversize key', { skip: NO_FIFO }, () => {
    const bigKey = oversize('big-key.pem', FILE_LIMITS.key);
    const results = inChild(`
      const { Session } = await load('index.js');
      const s = new Session();
      const out = [];
      for (const cert of [${JSON.stringify(fifo)}, '/dev/zero', ${JSON.stringify(bigKey)}]) {
        try { await s.get('https://127.0.0.1:9/', { cert: { cert, key: cert } }); out.push('sent'); }
        catch (e) { out.push(e.name + ' ' + e.code + ' ' + e.message); }
      }
      await s.close();
      console.log(JSON.stringify(out));
    `) as string[];
    assert.match(
      results[0]!,
      /^ConfigError ERR_CLIENT_CERT .*pipe\.pem' is a FIFO \(named pipe\), not a regular file/,
    );
    assert.match(results[1]!, /^ConfigError ERR_CLIENT_CERT .*\/dev\/zero' is a character device/);
    assert.match(
      results[2]!,
      new RegExp(
        `^ConfigError ERR_CLIENT_CERT .*big-key\\.pem' is ${FILE_LIMITS.key + 1} bytes, more than the limit of ${FILE_LIMITS.key} bytes`,
      ),
    );
  });

  const cli = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });

  test('certainly verify FILE and --crl FILE: /dev/zero, a FIFO, an oversize chain', {
    skip: NO_FIFO,
  }, async () => {
    for (const [args, pattern] of [
      [['verify', '/dev/zero'], /the chain file '\/dev\/zero' is a character device/],
      [['verify', fifo], /the chain file '.*pipe\.pem' is a FIFO/],
      [['verify', oversize('chain.pem', FILE_LIMITS.certificates)], /more than the limit of 16777216 bytes/],
      [['verify', '--crl', fifo, join(dir, 'small.pem')], /the CRL file '.*pipe\.pem' is a FIFO/],
    ] as const) {
      const r = await cli([...args]);
      assert.notEqual(r.code, 0, `${args.join(' ')} should fail`);
      assert.match(r.stderr + r.stdout, pattern, args.join(' '));
    }
  });

  test('certainly get --pass file:FIFO and check --targets FIFO do not block', {
    skip: NO_FIFO,
  }, async () => {
    const pass = await cli(['get', '--cert', '/dev/null', '--pass', `file:${fifo}`, 'https://127.0.0.1:9/']);
    assert.notEqual(pass.code, 0);
    assert.match(pass.stderr, /--pass file:.*pipe\.pem: it is a FIFO \(named pipe\), not a regular file/);
    const targets = await cli(['check', '--targets', fifo]);
    assert.notEqual(targets.code, 0);
    assert.match(targets.stderr, /pipe\.pem: it is a FIFO/);
  });
});
