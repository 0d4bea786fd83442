/**
 * `certainly get -C - / -C N` (curl's --continue-at), run as a real process against a loopback
 * HTTPS server that honours Range, one that ignores it, one that answers from the wrong byte, and
 * the 416 of a file already whole; the file's bytes are compared with the original's by hash, and
 * the Range headers the server received are checked. The exit codes are curl's (measured with curl
 * 7.88.1 against the same kinds of server: docs/decisions.md).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../support/cli.js';
import {
  createRoot,
  type Issued,
  issue,
  startTlsServer,
  type TestServer,
  tempDir,
} from '../support/index.js';

/** The file served: 300 KB of bytes that are not a repeated pattern (a wrong offset shows). */
const BODY = createHash('sha512').update('resume').digest().toString('hex').repeat(3000).slice(0, 300_000);
const WHOLE = Buffer.from(Array.from(BODY, (c, i) => (c.charCodeAt(0) * 31 + i * 7) & 0xff));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const run = (args: string[], cwd?: string) => runCli(args, { ...(cwd ? { cwd } : {}), maxBuffer: 4 << 20 });

const dir = tempDir('cli-resume-');
let root: Issued;
let caPath: string;
let server: TestServer;
/** The Range header of each request, by path ('' when none). */
const ranges: { path: string; range: string }[] = [];
const hits = new Map<string, number>();

before(async () => {
  root = createRoot({ cn: 'cli resume root' });
  caPath = dir.write('root.pem', root.pem);
  server = await startTlsServer({
    cert: issue(root),
    handler: (req, res) => {
      const path = new URL(req.url ?? '/', 'https://x').pathname;
      const range = req.headers.range ?? '';
      ranges.push({ path, range });
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      if (path.startsWith('/redirect/')) {
        res.writeHead(302, { location: '/file' }).end();
        return;
      }
      if (path.startsWith('/flaky/') && n === 1) {
        res.writeHead(503, { 'retry-after': '0', 'content-type': 'text/plain' }).end('busy\n');
        return;
      }
      if (path === '/ignore') {
        // Ranges not supported: the whole body, always.
        res.writeHead(200, { 'content-length': WHOLE.length }).end(WHOLE);
        return;
      }
      if (path === '/shorter') {
        // Another, shorter file at this URL: 416 with its length.
        res.writeHead(416, { 'content-range': 'bytes */1000', 'content-length': 0 }).end();
        return;
      }
      const m = /^bytes=(\d+)-$/.exec(range);
      if (!m) {
        res.writeHead(200, { 'content-length': WHOLE.length, 'accept-ranges': 'bytes' }).end(WHOLE);
        return;
      }
      const from = Number(m[1]);
      if (from >= WHOLE.length) {
        res
          .writeHead(416, { 'content-range': `bytes */${WHOLE.length}`, 'content-type': 'text/html' })
          .end('<h1>416 Range Not Satisfiable</h1>');
        return;
      }
      // /wrongstart: a server off by one.
      const start = path === '/wrongstart' ? from - 1 : from;
      res
        .writeHead(206, {
          'content-range': `bytes ${start}-${WHOLE.length - 1}/${WHOLE.length}`,
          'content-length': WHOLE.length - start,
        })
        .end(WHOLE.subarray(start));
    },
  });
});

after(async () => {
  await server.close();
  dir.cleanup();
});

/** A file holding the first `n` bytes of the body (a download cut short). */
function partial(name: string, n: number): string {
  const path = join(dir.path, name);
  writeFileSync(path, WHOLE.subarray(0, n));
  return path;
}

function rangesSince(mark: number): string[] {
  return ranges.slice(mark).map((r) => `${r.path} ${r.range}`);
}

describe('-C: resuming a download', () => {
  test("-C - -o FILE asks for the bytes from FILE's size on and appends them: the whole file, byte for byte", async () => {
    const file = partial('a.bin', 123_457);
    const mark = ranges.length;
    const r = await run(['get', '-s', '--ca', caPath, '-C', '-', '-o', file, server.url('/file')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(rangesSince(mark), ['/file bytes=123457-']);
    assert.equal(sha(readFileSync(file)), sha(WHOLE));
    // --continue-at N with a FILE of N bytes is the same; -O names the file after the URL.
    const b = partial('b.bin', 5);
    assert.equal(
      (await run(['get', '-s', '--ca', caPath, '--continue-at', '5', '-o', b, server.url('/file')])).code,
      0,
    );
    assert.equal(sha(readFileSync(b)), sha(WHOLE));
    partial('file', 299_999);
    const o = await run(['get', '-s', '--ca', caPath, '-C', '-', '-O', server.url('/file')], dir.path);
    assert.equal(o.code, 0, o.stderr);
    assert.equal(sha(readFileSync(join(dir.path, 'file'))), sha(WHOLE));
  });

  test('-C N without a file writes the tail to stdout; -C 0, or -C - with an empty or missing FILE, is a plain download', async () => {
    const mark = ranges.length;
    const tail = await run(['get', '-s', '--ca', caPath, '-C', '299990', server.url('/file')]);
    assert.equal(tail.code, 0, tail.stderr);
    assert.deepEqual(tail.stdout, WHOLE.subarray(299_990));
    const empty = partial('empty.bin', 0);
    const missing = join(dir.path, 'missing.bin');
    assert.equal(
      (await run(['get', '-s', '--ca', caPath, '-C', '-', '-o', empty, server.url('/file')])).code,
      0,
    );
    assert.equal(
      (await run(['get', '-s', '--ca', caPath, '-C', '-', '-o', missing, server.url('/file')])).code,
      0,
    );
    // -C 0 starts over (as curl): the file is written anew, not appended to.
    const zero = partial('zero.bin', 10);
    assert.equal(
      (await run(['get', '-s', '--ca', caPath, '-C', '0', '-o', zero, server.url('/file')])).code,
      0,
    );
    for (const f of [empty, missing, zero]) assert.equal(sha(readFileSync(f)), sha(WHOLE));
    assert.deepEqual(rangesSince(mark), ['/file bytes=299990-', '/file ', '/file ', '/file ']);
  });

  test('a server that ignores Range (200), or answers from another byte: exit 33 (curl), FILE left as it was', async () => {
    const file = partial('c.bin', 1000);
    const before = sha(readFileSync(file));
    const ignored = await run(['get', '--ca', caPath, '-C', '-', '-o', file, server.url('/ignore')]);
    assert.equal(ignored.code, 33);
    assert.match(
      ignored.stderr,
      /sent the whole body \(200\) instead of the bytes from 1000 on \(206\).*left as it was/,
    );
    const wrong = await run(['get', '--ca', caPath, '-C', '-', '-o', file, server.url('/wrongstart')]);
    assert.equal(wrong.code, 33);
    assert.match(wrong.stderr, /Content-Range: bytes 999-299999\/300000\), not the bytes from 1000 on/);
    assert.equal(sha(readFileSync(file)), before);
  });

  test('a FILE already whole: the 416 is exit 0 (curl), and --fail makes it 22; FILE untouched either way', async () => {
    const file = partial('d.bin', WHOLE.length);
    const mark = ranges.length;
    const done = await run(['get', '--ca', caPath, '-C', '-', '-o', file, server.url('/file')]);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stderr, '');
    assert.equal(
      (await run(['get', '-s', '--fail', '--ca', caPath, '-C', '-', '-o', file, server.url('/file')])).code,
      22,
    );
    // A server without ranges sending exactly FILE's size: curl's "already downloaded", exit 0.
    assert.equal(
      (await run(['get', '-s', '--ca', caPath, '-C', '-', '-o', file, server.url('/ignore')])).code,
      0,
    );
    assert.deepEqual(rangesSince(mark), [
      '/file bytes=300000-',
      '/file bytes=300000-',
      '/ignore bytes=300000-',
    ]);
    assert.equal(sha(readFileSync(file)), sha(WHOLE));
    // A 416 that says the server's file is shorter than ours: not the same file (curl says 0).
    const other = await run(['get', '--ca', caPath, '-C', '-', '-o', file, server.url('/shorter')]);
    assert.equal(other.code, 33);
    assert.match(other.stderr, /body has 1000 bytes, fewer than the 300000 already here/);
    assert.equal(sha(readFileSync(file)), sha(WHOLE));
  });

  test('with -L the Range goes to every hop; with --retry the same Range is sent again after a 503', async () => {
    const file = partial('e.bin', 77_777);
    const mark = ranges.length;
    const r = await run([
      'get',
      '-s',
      '-L',
      '--ca',
      caPath,
      '-C',
      '-',
      '-o',
      file,
      server.url('/redirect/1'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(readFileSync(file)), sha(WHOLE));
    const f = partial('f.bin', 200_000);
    const retried = await run([
      'get',
      '-s',
      '--retry',
      '2',
      '--ca',
      caPath,
      '-C',
      '-',
      '-o',
      f,
      server.url('/flaky/1'),
    ]);
    assert.equal(retried.code, 0, retried.stderr);
    assert.equal(sha(readFileSync(f)), sha(WHOLE), 'the 503 body was not appended');
    assert.deepEqual(rangesSince(mark), [
      '/redirect/1 bytes=77777-',
      '/file bytes=77777-',
      '/flaky/1 bytes=200000-',
      '/flaky/1 bytes=200000-',
    ]);
    // Without -L the redirect is not a part of the file: exit 33.
    const g = partial('g.bin', 10);
    assert.equal(
      (await run(['get', '-s', '--ca', caPath, '-C', '-', '-o', g, server.url('/redirect/2')])).code,
      33,
    );
    assert.equal(readFileSync(g).length, 10);
  });

  test('refused before anything is sent: flags resuming makes no sense with, a bad offset, a FILE of another size', async () => {
    const file = partial('h.bin', 100);
    const requests = server.requests;
    const cases: [string[], RegExp][] = [
      [['-C', '-', server.url('/file')], /-C - continues the file -o FILE or -O names/],
      [['-C', '-', '-o', '-', server.url('/file')], /-C - continues the file/],
      [
        ['-C', '-', '-o', file, '--compressed', server.url('/file')],
        /--compressed: a range of a compressed body/,
      ],
      [
        ['-C', '-', '-o', file, '-d', 'a=1', server.url('/file')],
        /request body .* resuming an upload is not supported/,
      ],
      [['-C', '-', '-o', file, '-I', server.url('/file')], /-I: a HEAD has no body/],
      [['-C', '-', '--json', server.url('/file')], /--json/],
      [['-C', '-', '-o', file, '-H', 'Range: bytes=0-1', server.url('/file')], /-C makes the Range header/],
      [['-C', 'abc', '-o', file, server.url('/file')], /-C takes a byte offset/],
      [['-C', '-5', '-o', file, server.url('/file')], /-C takes a byte offset/],
      [
        ['-C', '50', '-o', file, server.url('/file')],
        /holds 100 bytes, so the bytes from 50 on would not continue it/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await run(['get', '--ca', caPath, ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.equal(server.requests, requests, 'nothing was sent');
    assert.deepEqual(readFileSync(file), WHOLE.subarray(0, 100));
    assert.equal(existsSync(join(dir.path, '-')), false);
  });
});
