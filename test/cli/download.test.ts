/**
 * `certainly get` as a download tool, run as a real process against a loopback HTTPS server:
 * a 100 MB random binary byte for byte to stdout and with -o, -O and its refusals, --fail, -I,
 * -i, -L/--max-redirs, -d/--data-binary (TEXT, @file, @-), -u.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI, type CliRunOptions, runCli } from '../support/cli.js';
import {
  closedPort,
  createRoot,
  type Issued,
  issue,
  startTlsServer,
  type TestServer,
  tempDir,
} from '../support/index.js';
import { startProxy } from '../support/proxy.js';

const MB = 1 << 20;
const BIG = 100 * MB;
// Enough body for every V8 we run on to tier undici's parser up unless told not to: Node 24's V8
// 13.6 did it from a 2 MB download (1 MB did not), Node 20's within the first response.
const MID = 8 * MB;

/** A deterministic pseudo-random byte stream (AES-128-CTR keystream): regenerated, not stored. */
function* randomChunks(total: number): Generator<Buffer> {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(MB);
  for (let sent = 0; sent < total; sent += MB)
    yield cipher.update(zeros.subarray(0, Math.min(MB, total - sent)));
}

function sha256Of(total: number): string {
  const h = createHash('sha256');
  for (const c of randomChunks(total)) h.update(c);
  return h.digest('hex');
}

const run = (args: string[], opts: Pick<CliRunOptions, 'cwd' | 'input' | 'env'> = {}) =>
  runCli(args, { ...opts, timeout: 120_000, maxBuffer: 16 * MB });

const dir = tempDir('cli-download-');
let root: Issued;
let server: TestServer;
let caPath: string;
const flakyHits = new Map<string, number>();
const BINARY = Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x1b, 0x80, 0]);

before(async () => {
  root = createRoot({ cn: 'cli download root' });
  caPath = dir.write('root.pem', root.pem);
  server = await startTlsServer({
    cert: issue(root, { sans: ['DNS:localhost', 'IP:127.0.0.1'] }),
    host: '127.0.0.1',
    handler: (req, res) => {
      const url = new URL(req.url ?? '/', 'https://x');
      if (url.pathname === '/mid') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': MID });
        void pipeline(Readable.from(randomChunks(MID)), res).catch(() => {});
        return;
      }
      if (url.pathname === '/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG });
        void pipeline(Readable.from(randomChunks(BIG)), res).catch(() => {});
        return;
      }
      if (url.pathname.startsWith('/files/') || url.pathname === '/bin') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(BINARY);
        return;
      }
      if (url.pathname === '/missing') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no such thing\n');
        return;
      }
      if (url.pathname.startsWith('/flaky/')) {
        // 503 (Retry-After: 0) twice per name, then 200.
        const n = (flakyHits.get(url.pathname) ?? 0) + 1;
        flakyHits.set(url.pathname, n);
        if (n <= 2) res.writeHead(503, { 'retry-after': '0', 'content-type': 'text/plain' }).end('busy\n');
        else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      }
      if (url.pathname.startsWith('/drop/')) {
        // Read whole, then the connection closed without an answer, twice per name; then 200.
        const n = (flakyHits.get(url.pathname) ?? 0) + 1;
        flakyHits.set(url.pathname, n);
        req.resume();
        req.on('end', () => {
          if (n <= 2) req.socket.destroy();
          else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        });
        return;
      }
      if (url.pathname.startsWith('/flaky404/')) {
        // 404 (no Retry-After) twice per name, then 200: an error only --retry-all-errors retries.
        const n = (flakyHits.get(url.pathname) ?? 0) + 1;
        flakyHits.set(url.pathname, n);
        if (n <= 2) res.writeHead(404, { 'content-type': 'text/plain' }).end('not yet\n');
        else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      }
      if (url.pathname === '/digest') {
        // RFC 7616 with MD5 and qop=auth, checked here from the definition.
        const a = req.headers.authorization ?? '';
        const p = Object.fromEntries(
          [...a.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)].map((m) => [m[1], m[2] ?? m[3]]),
        );
        const md5 = (t: string) => createHash('md5').update(t).digest('hex');
        const ok =
          a.startsWith('Digest ') &&
          p.username === 'u' &&
          p.nonce === 'n0nce' &&
          p.response ===
            md5(`${md5('u:realm:p')}:n0nce:${p.nc}:${p.cnonce}:auth:${md5(`${req.method}:${p.uri}`)}`);
        if (ok) res.writeHead(200, { 'content-type': 'text/plain' }).end('welcome\n');
        else
          res
            .writeHead(401, {
              'www-authenticate': 'Digest realm="realm", nonce="n0nce", qop="auth", algorithm=MD5',
            })
            .end();
        return;
      }
      if (url.pathname === '/set-cookie') {
        res
          .writeHead(200, {
            'set-cookie': ['sid=abc; Path=/; HttpOnly', 'pref=dark; Max-Age=3600; Path=/'],
            'content-type': 'text/plain',
          })
          .end('set\n');
        return;
      }
      if (url.pathname.startsWith('/busy-once/')) {
        // 503 (Retry-After: 0) the first time per name, then the echo below.
        const n = (flakyHits.get(url.pathname) ?? 0) + 1;
        flakyHits.set(url.pathname, n);
        if (n === 1) {
          req.resume();
          res.writeHead(503, { 'retry-after': '0' }).end('busy\n');
          return;
        }
      }
      if (url.pathname === '/stall') {
        // Headers and one byte, then nothing: only a deadline ends it.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('x');
        return;
      }
      if (url.pathname.startsWith('/hop/')) {
        const n = Number(url.pathname.slice(5));
        res.writeHead(302, { location: n > 0 ? `/hop/${n - 1}` : '/bin' }).end('moved\n');
        return;
      }
      // /echo: what was received.
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        res.writeHead(200, { 'content-type': 'application/json', 'x-seen': 'yes' });
        res.end(
          JSON.stringify({
            method: req.method,
            url: req.url,
            headers: req.headers,
            body: body.toString('base64'),
          }),
        );
      });
    },
  });
});

after(async () => {
  await server.close();
  dir.cleanup();
});

type Echo = { method: string; url: string; headers: Record<string, string>; body: string };
const echo = (r: { stdout: Buffer }) => JSON.parse(r.stdout.toString()) as Echo;

describe('a 100 MB random binary, byte for byte', () => {
  const expected = sha256Of(BIG);

  test('to stdout (a pipe)', async () => {
    const child = spawn(process.execPath, [CLI, 'get', server.url('/big'), '--ca', caPath], {
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const hash = createHash('sha256');
    let n = 0;
    child.stdout.on('data', (c: Buffer) => {
      hash.update(c);
      n += c.length;
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.equal(n, BIG);
    assert.equal(hash.digest('hex'), expected);
  });

  test('with -o FILE', async () => {
    const file = join(dir.path, 'big.bin');
    const r = await run(['get', server.url('/big'), '--ca', caPath, '-o', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, 0);
    // Waiting for the file to drain once per full buffer left a listener each time, until Node
    // printed a MaxListenersExceededWarning here.
    assert.equal(r.stderr, '');
    const hash = createHash('sha256');
    await pipeline((await import('node:fs')).createReadStream(file), hash);
    assert.equal(hash.digest('hex'), expected);
  });
});

describe('the installed command (bin.js) and V8', () => {
  const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
  /** The body sizes of the WebAssembly functions V8 compiled with TurboFan during one 8 MB `get`. */
  async function turbofanBodies(nodeFlags: string[]): Promise<number[]> {
    const child = spawn(
      process.execPath,
      [
        ...nodeFlags,
        '--trace-wasm-compilation-times',
        BIN,
        'get',
        server.url('/mid'),
        '--ca',
        caPath,
        '-o',
        join(dir.path, 'mid.bin'),
      ],
      { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.match(
      out,
      /Compiled function .* using (Liftoff|TurboFan)/,
      'the trace shows the parser compiled at all',
    );
    return [...out.matchAll(/using TurboFan.*?bodysize (\d+)/g)].map((m) => Number(m[1]));
  }

  test("undici's parser stays on Liftoff: no ~30 MB TurboFan compilation of its state machine", async () => {
    const bodies = await turbofanBodies([]);
    assert.deepEqual(bodies, [], `functions compiled by TurboFan: ${bodies}`);
  });

  test('a process started with a Liftoff flag of its own keeps it (here: TurboFan from the start)', async () => {
    const bodies = await turbofanBodies(['--no-liftoff']);
    assert.ok(
      bodies.some((b) => b > 10_000),
      `functions compiled by TurboFan: ${bodies}`,
    );
  });
});

describe('where the body goes', () => {
  test('-O names the file after the URL; names that could land elsewhere are refused', async () => {
    const r = await run(['get', server.url('/files/report.bin'), '--ca', caPath, '-O'], { cwd: dir.path });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readFileSync(join(dir.path, 'report.bin')), BINARY);
    for (const [path, why] of [
      ['/files/', /names no file/],
      ['/files/..%2F..%2Fetc%2Fx', /path separator/],
      ['/files/.bashrc', /hidden file/],
      ['/files/%2e%2e', /names no file|directory name/],
      ['/files/a%1b%5b2Jb', /control or invisible/],
    ] as const) {
      const bad = await run(['get', server.url(path), '--ca', caPath, '-O'], { cwd: dir.path });
      assert.equal(bad.code, 2, `${path}: ${bad.stderr}`);
      assert.match(bad.stderr, why);
    }
  });

  test('binary to stdout (a pipe) is written as it is', async () => {
    const r = await run(['get', server.url('/bin'), '--ca', caPath]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout, BINARY);
  });

  test('-o into a directory that does not exist: exit 23 and a message', async () => {
    const r = await run(['get', server.url('/bin'), '--ca', caPath, '-o', join(dir.path, 'no/such/dir/x')]);
    assert.equal(r.code, 23, r.stderr);
    assert.match(r.stderr, /cannot write .*ENOENT/);
  });
});

describe('curl flags', () => {
  test('--fail: exit 22 on a 404 and no body; without it the body and exit 0', async () => {
    const failed = await run(['get', server.url('/missing'), '--ca', caPath, '--fail']);
    assert.equal(failed.code, 22, failed.stderr);
    assert.equal(failed.stdout.length, 0);
    assert.match(failed.stderr, /404/);
    const plain = await run(['get', server.url('/missing'), '--ca', caPath]);
    assert.equal(plain.code, 0);
    assert.equal(plain.stdout.toString(), 'no such thing\n');
  });

  test('-I sends HEAD and prints the status line and headers; -i puts them before the body', async () => {
    const head = await run(['get', server.url('/echo'), '--ca', caPath, '-I']);
    assert.equal(head.code, 0, head.stderr);
    assert.match(head.stdout.toString(), /^HTTP\/1\.1 200 OK\n/);
    assert.match(head.stdout.toString(), /\nx-seen: yes\n/);
    assert.doesNotMatch(head.stdout.toString(), /"method"/);
    const inc = await run(['get', server.url('/echo'), '--ca', caPath, '-i']);
    const text = inc.stdout.toString();
    assert.match(text, /^HTTP\/1\.1 200 OK\n(.+\n)+\n\{"method":"GET"/);
  });

  test('redirects: not followed without -L (as curl); -L follows; --max-redirs bounds it', async () => {
    const plain = await run(['get', server.url('/hop/2'), '--ca', caPath]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout.toString(), 'moved\n');
    const followed = await run(['get', server.url('/hop/2'), '--ca', caPath, '-L']);
    assert.equal(followed.code, 0, followed.stderr);
    assert.deepEqual(followed.stdout, BINARY);
    const bounded = await run(['get', server.url('/hop/2'), '--ca', caPath, '-L', '--max-redirs', '1']);
    assert.equal(bounded.code, 2, bounded.stderr);
    assert.match(bounded.stderr, /TooManyRedirects/);
    // -i -L prints every response of the chain, as curl.
    const heads = await run(['get', server.url('/hop/1'), '--ca', caPath, '-L', '-I']);
    assert.equal(heads.code, 0, heads.stderr);
    assert.deepEqual(heads.stdout.toString().match(/^HTTP\/1\.1 \d+ .*$/gm), [
      'HTTP/1.1 302 Found',
      'HTTP/1.1 302 Found',
      'HTTP/1.1 200 OK',
    ]);
  });

  test('-d TEXT (joined with &), -d @file (newlines dropped), -d @- (stdin): a form POST', async () => {
    const file = dir.write('form.txt', 'b=2\r\nc=3\n');
    const r = await run(
      ['get', server.url('/echo'), '--ca', caPath, '-d', 'a=1', '-d', `@${file}`, '-d', '@-'],
      {
        input: 'd=4\n',
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const e = echo(r);
    assert.equal(e.method, 'POST');
    assert.equal(Buffer.from(e.body, 'base64').toString(), 'a=1&b=2c=3&d=4');
    assert.equal(e.headers['content-type'], 'application/x-www-form-urlencoded');
  });

  test('--data-binary @file sends the bytes as they are; @- streams stdin; -H Content-Type wins', async () => {
    const file = dir.write('bytes.bin', BINARY);
    const r = await run([
      'get',
      server.url('/echo'),
      '--ca',
      caPath,
      '--data-binary',
      `@${file}`,
      '-H',
      'Content-Type: application/octet-stream',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(Buffer.from(echo(r).body, 'base64'), BINARY);
    assert.equal(echo(r).headers['content-type'], 'application/octet-stream');
    const piped = await run(['get', server.url('/echo'), '--ca', caPath, '--data-binary', '@-'], {
      input: BINARY,
    });
    assert.equal(piped.code, 0, piped.stderr);
    assert.deepEqual(Buffer.from(echo(piped).body, 'base64'), BINARY);
    const missing = await run(['get', server.url('/echo'), '--ca', caPath, '-d', '@/no/such/file']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /-d @\/no\/such\/file: cannot read it \(ENOENT\)/);
  });

  test('-u user:pass is basic auth; -u user without a terminal to ask on is exit 2', async () => {
    const r = await run(['get', server.url('/echo'), '--ca', caPath, '-u', 'alice:s3cret:x']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(echo(r).headers.authorization, `Basic ${Buffer.from('alice:s3cret:x').toString('base64')}`);
    const noPass = await run(['get', server.url('/echo'), '--ca', caPath, '-u', 'alice']);
    assert.equal(noPass.code, 2);
    assert.match(noPass.stderr, /no password and standard input is not a terminal/);
  });

  test('a URL without a scheme is https (as check takes its targets)', async () => {
    const r = await run(['get', server.url('/bin').replace(/^https:\/\//, ''), '--ca', caPath]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout, BINARY);
  });

  test('--digest with -u answers a Digest challenge (Basic is refused there); alone it is a usage error', async () => {
    const digest = await run([
      'get',
      server.url('/digest'),
      '--ca',
      caPath,
      '-u',
      'u:p',
      '--digest',
      '--fail',
    ]);
    assert.equal(digest.code, 0, digest.stderr);
    assert.equal(digest.stdout.toString(), 'welcome\n');
    const basic = await run(['get', server.url('/digest'), '--ca', caPath, '-u', 'u:p', '--fail']);
    assert.equal(basic.code, 22);
    const alone = await run(['get', server.url('/digest'), '--ca', caPath, '--digest']);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--digest goes with -u USER:PASS/);
  });

  test('--retry N sends again after a transient status (Retry-After honoured), as curl; without it, once', async () => {
    const once = await run(['get', server.url('/flaky/once'), '--ca', caPath, '--fail']);
    assert.equal(once.code, 22);
    assert.equal(flakyHits.get('/flaky/once'), 1);
    const r = await run(['get', server.url('/flaky/three'), '--ca', caPath, '--retry', '3', '-v']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), 'ok\n');
    assert.equal(flakyHits.get('/flaky/three'), 3);
    assert.equal(
      r.stderr.match(/^\* attempt \d .*HTTP 503; sent again after 0 ms \(Retry-After\)$/gm)?.length,
      2,
      r.stderr,
    );
    // Too few retries: the last answer stands (and --fail exits 22 on it).
    const short = await run(['get', server.url('/flaky/short'), '--ca', caPath, '--retry', '1', '--fail']);
    assert.equal(short.code, 22);
    assert.equal(flakyHits.get('/flaky/short'), 2);
    // A connection error is retried too, and the final error says how many attempts it ended.
    const closed = await closedPort();
    const refused = await run(['get', `https://127.0.0.1:${closed}/`, '--retry', '1']);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /ERR_CONNECTION_CONNREFUSED.*\n {2}after 2 attempts: ERR_CONNECTION_CONNREFUSED \(then 1000 ms\)/,
    );
    // A POST is sent again too (curl runs the transfer again), its body with it.
    const post = await run(['get', server.url('/flaky/post'), '--ca', caPath, '--retry', '2', '-d', 'a=1']);
    assert.equal(post.code, 0, post.stderr);
    assert.equal(flakyHits.get('/flaky/post'), 3);
    // A connection closed after the request (a read failure for the library) is retried by
    // --retry as before: the CLI asks for read retries.
    const dropped = await run(['get', server.url('/drop/two'), '--ca', caPath, '--retry', '2', '-v']);
    assert.equal(dropped.code, 0, dropped.stderr);
    assert.equal(dropped.stdout.toString(), 'ok\n');
    assert.equal(flakyHits.get('/drop/two'), 3);
    assert.equal(dropped.stderr.match(/^\* attempt \d .*ERR_CONNECTION_CLOSED; sent again/gm)?.length, 2);
  });
});

test('--retry-delay, --retry-max-time and --retry-all-errors, as curl', async () => {
  // A 404 is no transient failure: --retry alone takes it as the answer.
  const plain = await run(['get', server.url('/flaky404/plain'), '--ca', caPath, '--retry', '3', '--fail']);
  assert.equal(plain.code, 22);
  assert.equal(flakyHits.get('/flaky404/plain'), 1);
  // With --retry-all-errors and --fail it is retried, each wait the fixed --retry-delay.
  const all = await run([
    'get',
    server.url('/flaky404/all'),
    '--ca',
    caPath,
    '--retry',
    '3',
    '--retry-all-errors',
    '--fail',
    '--retry-delay',
    '0.05',
    '-v',
  ]);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(all.stdout.toString(), 'ok\n');
  assert.equal(flakyHits.get('/flaky404/all'), 3);
  assert.equal(
    all.stderr.match(/^\* attempt \d .*HTTP 404; sent again after 50 ms$/gm)?.length,
    2,
    all.stderr,
  );
  // --retry-max-time: a 1 s wait would end past 0.5 s, so the first answer stands.
  const started = Date.now();
  const late = await run([
    'get',
    server.url('/flaky404/late'),
    '--ca',
    caPath,
    '--retry',
    '3',
    '--retry-all-errors',
    '--fail',
    '--retry-delay',
    '1',
    '--retry-max-time',
    '0.5',
  ]);
  assert.equal(late.code, 22, late.stderr);
  assert.equal(flakyHits.get('/flaky404/late'), 1);
  assert.ok(Date.now() - started < 10_000);
  // Without --retry they have nothing to act on: a usage error, not a silent no-op.
  for (const flag of [
    ['--retry-delay', '1'],
    ['--retry-max-time', '5'],
    ['--retry-all-errors'],
    ['--retry-connrefused'],
  ]) {
    const alone = await run(['get', server.url('/'), '--ca', caPath, ...flag]);
    assert.equal(alone.code, 2, flag.join(' '));
    assert.match(alone.stderr, new RegExp(`${flag[0]} goes with --retry N`));
  }
});

describe('curl flags as people type them', () => {
  test('-sS, --cacert, --url, -A, -e, --http1.1', async () => {
    const r = await run([
      'get',
      '-sS',
      '--cacert',
      caPath,
      '--url',
      server.url('/echo'),
      '-A',
      'agent/1.0',
      '-e',
      'https://from.example/',
      '--http1.1',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const e = echo(r);
    assert.equal(e.headers['user-agent'], 'agent/1.0');
    assert.equal(e.headers.referer, 'https://from.example/');
    // -A '' sends none (as curl); -A beside -H User-Agent is ambiguous.
    const none = await run(['get', server.url('/echo'), '--cacert', caPath, '-A', '']);
    assert.equal(echo(none).headers['user-agent'], undefined);
    const both = await run(['get', server.url('/echo'), '--ca', caPath, '-A', 'a', '-H', 'User-Agent: b']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /-A and -H 'User-Agent: …' both set User-Agent/);
    const twice = await run(['get', server.url('/echo'), '--url', server.url('/echo')]);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /give the URL once/);
    const contradict = await run(['get', server.url('/echo'), '--http1.1', '--http2']);
    assert.equal(contradict.code, 2);
  });

  test('--fail-with-body writes the body and exits 22', async () => {
    const r = await run(['get', server.url('/missing'), '--ca', caPath, '--fail-with-body']);
    assert.equal(r.code, 22);
    assert.equal(r.stdout.toString(), 'no such thing\n');
    assert.match(r.stderr, /answered 404 .*\(--fail-with-body\)/);
    const ok = await run(['get', server.url('/bin'), '--ca', caPath, '--fail-with-body']);
    assert.equal(ok.code, 0);
    assert.deepEqual(ok.stdout, BINARY);
  });

  test('-T FILE is a streamed PUT with Content-Length; a URL ending in / gets the name; -T - streams stdin', async () => {
    const content = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
    const path = dir.write('up load.bin', content);
    const r = await run(['get', server.url('/put/'), '--ca', caPath, '-T', path]);
    assert.equal(r.code, 0, r.stderr);
    const e = echo(r);
    assert.equal(e.method, 'PUT');
    assert.equal(e.url, '/put/up%20load.bin');
    assert.equal(e.headers['content-length'], String(content.length));
    assert.equal(e.headers['transfer-encoding'], undefined);
    assert.equal(e.headers['content-type'], undefined);
    assert.ok(Buffer.from(e.body, 'base64').equals(content));
    const piped = await run(['get', server.url('/put/x'), '--ca', caPath, '-T', '-', '-X', 'POST'], {
      input: 'from stdin',
    });
    const p = echo(piped);
    assert.equal(p.method, 'POST');
    assert.equal(p.url, '/put/x');
    assert.equal(Buffer.from(p.body, 'base64').toString(), 'from stdin');
    // With --retry the file is read again and sent whole, as curl does.
    const again = await run(['get', server.url('/busy-once/up'), '--ca', caPath, '-T', path, '--retry', '1']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(flakyHits.get('/busy-once/up'), 2);
    assert.ok(Buffer.from(echo(again).body, 'base64').equals(content));
    const mixed = await run(['get', server.url('/put/x'), '--ca', caPath, '-T', path, '-d', 'a=1']);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /-d\/--data-binary and -T are different kinds of body/);
    const missing = await run(['get', server.url('/put/x'), '--ca', caPath, '-T', join(dir.path, 'nope')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /-T '.*nope' cannot be read: ENOENT/);
  });

  test('--max-time ends a transfer that stalls; --connect-timeout a handshake that never comes', async () => {
    const started = Date.now();
    const r = await run(['get', server.url('/stall'), '--ca', caPath, '--max-time', '0.5']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /ERR_TOTAL_TIMEOUT/);
    assert.ok(Date.now() - started < 20_000);
    // A TCP server that accepts and says nothing: the TLS handshake waits for the connect timeout.
    const silent = createNetServer(() => {});
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    try {
      const port = (silent.address() as AddressInfo).port;
      const c = await run(['get', `https://127.0.0.1:${port}/`, '--ca', caPath, '--connect-timeout', '0.3']);
      assert.equal(c.code, 2, c.stderr);
      assert.match(c.stderr, /ERR_CONNECT_TIMEOUT/);
    } finally {
      silent.close();
    }
  });

  test('-w FORMAT: the facts after the body, on failure too (http_code 000), @FILE, unknown variables refused', async () => {
    const r = await run([
      'get',
      server.url('/bin'),
      '--ca',
      caPath,
      '-s',
      '-o',
      join(dir.path, 'w.bin'),
      '-w',
      '%{http_code} %{size_download} %{content_type} %{http_version} %{method} %{num_redirects} %header{Content-Type} 100%%\\n',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout.toString(),
      '200 9 application/octet-stream 1.1 GET 0 application/octet-stream 100%\n',
    );
    const hops = await run([
      'get',
      server.url('/hop/2'),
      '--ca',
      caPath,
      '-L',
      '-o',
      '-',
      '-w',
      '\\n%{num_redirects} %{url_effective}',
    ]);
    assert.match(hops.stdout.toString(), new RegExp(`\\n3 ${server.url('/bin').replace(/[.?]/g, '\\$&')}$`));
    const moved = await run([
      'get',
      server.url('/hop/1'),
      '--ca',
      caPath,
      '-w',
      '%{http_code} %{redirect_url}',
    ]);
    assert.match(
      moved.stdout.toString(),
      new RegExp(`302 ${server.url('/hop/0').replace(/[.?]/g, '\\$&')}$`),
    );
    const failed = await run([
      'get',
      server.url('/missing'),
      '--ca',
      caPath,
      '--fail',
      '-w',
      '%{http_code} %{exitcode}',
    ]);
    assert.equal(failed.code, 22);
    assert.equal(failed.stdout.toString(), '404 22');
    // No answer at all: what a health check reads is 000.
    const closed = await closedPort();
    const refused = await run([
      'get',
      `https://127.0.0.1:${closed}/`,
      '-w',
      '%{http_code} %{exitcode} %{errormsg}',
    ]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stdout.toString(),
      /^000 2 could not connect to 127\.0\.0\.1:\d+: the connection was refused/,
    );
    const formatFile = dir.write('format.txt', 'code=%{response_code}\n');
    const fromFile = await run([
      'get',
      server.url('/bin'),
      '--ca',
      caPath,
      '-o',
      '/dev/null',
      '-w',
      `@${formatFile}`,
    ]);
    assert.equal(fromFile.stdout.toString(), 'code=200\n');
    const unknown = await run(['get', server.url('/bin'), '--ca', caPath, '-w', '%{remote_ip}']);
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /-w: %\{remote_ip\} is not a variable this command has; it has %\{http_code\}/,
    );
    const withJson = await run(['get', server.url('/bin'), '--ca', caPath, '-w', '%{http_code}', '--json']);
    assert.equal(withJson.code, 2);
  });

  test("-G and --data-urlencode (curl's five forms)", async () => {
    const file = dir.write('q.txt', 'a&b c');
    const r = await run([
      'get',
      server.url('/echo?k=v'),
      '--ca',
      caPath,
      '-G',
      '-d',
      'a=1',
      '--data-urlencode',
      'q=a b&c',
      '--data-urlencode',
      '=x/y',
      '--data-urlencode',
      'plain text',
      '--data-urlencode',
      `f@${file}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const e = echo(r);
    assert.equal(e.method, 'GET');
    assert.equal(e.url, '/echo?k=v&a=1&q=a%20b%26c&x%2Fy&plain%20text&f=a%26b%20c');
    assert.equal(e.body, '');
    // Without -G they are a form body.
    const post = echo(await run(['get', server.url('/echo'), '--ca', caPath, '--data-urlencode', 'q=a b']));
    assert.equal(post.method, 'POST');
    assert.equal(Buffer.from(post.body, 'base64').toString(), 'q=a%20b');
    assert.equal(post.headers['content-type'], 'application/x-www-form-urlencoded');
    const mixed = await run(['get', server.url('/echo'), '--ca', caPath, '-G', '-F', 'a=1']);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /-G puts -d and --data-urlencode data in the URL/);
  });

  test("--resolve and curl's four-part --connect-to dial another address for the URL's host and port", async () => {
    const port = new URL(server.url('/')).port;
    const byName = `https://localhost:${port}/bin`;
    const ok = await run(['get', byName, '--ca', caPath, '--resolve', `localhost:${port}:127.0.0.1`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(ok.stdout, BINARY);
    // The server listens on 127.0.0.1 only: dialled at ::1 it is not there, so --resolve was used.
    const v6 = await run(['get', byName, '--ca', caPath, '--resolve', `localhost:${port}:[::1]`]);
    assert.equal(v6.code, 2);
    assert.match(v6.stderr, /ERR_CONNECTION/);
    // Nothing listens on port 1 of the URL; --connect-to sends it to the server, which is verified as localhost.
    for (const spec of [`localhost:1:127.0.0.1:${port}`, `:1:127.0.0.1:${port}`, `::127.0.0.1:${port}`]) {
      const moved = await run(['get', 'https://localhost:1/bin', '--ca', caPath, '--connect-to', spec]);
      assert.equal(moved.code, 0, `${spec}: ${moved.stderr}`);
      assert.deepEqual(moved.stdout, BINARY);
    }
    const elsewhere = await run(['get', byName, '--ca', caPath, '--resolve', 'other.example:443:127.0.0.1']);
    assert.equal(elsewhere.code, 2);
    assert.match(
      elsewhere.stderr,
      /is for other\.example:443, and the URL is localhost:\d+; it would not be used/,
    );
    const badPort = await run([
      'get',
      'https://localhost:1/bin',
      '--connect-to',
      'localhost:1:127.0.0.1:abc',
    ]);
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /'abc' is not a port \(HOST1:PORT1:HOST2:PORT2\)/);
    const both = await run([
      'get',
      server.url('/bin'),
      '--resolve',
      `localhost:${port}:127.0.0.1`,
      '--connect-to',
      'a:1',
    ]);
    assert.equal(both.code, 2);
  });

  test('-c FILE writes the cookies in the Netscape format; -b FILE sends them back; -b NAME=VALUE sends those', async () => {
    const jar = join(dir.path, 'jar.txt');
    const set = await run(['get', server.url('/set-cookie'), '--ca', caPath, '-c', jar]);
    assert.equal(set.code, 0, set.stderr);
    const text = readFileSync(jar, 'utf8');
    assert.match(text, /^# Netscape HTTP Cookie File$/m);
    assert.match(text, /^#HttpOnly_127\.0\.0\.1\tFALSE\t\/\tFALSE\t0\tsid\tabc$/m);
    const pref = /^127\.0\.0\.1\tFALSE\t\/\tFALSE\t(\d+)\tpref\tdark$/m.exec(text);
    assert.ok(pref, text);
    const expiry = Number(pref[1]) - Date.now() / 1000;
    assert.ok(expiry > 3500 && expiry <= 3600, String(expiry));
    const back = echo(await run(['get', server.url('/echo'), '--ca', caPath, '-b', jar]));
    assert.deepEqual(back.headers.cookie?.split('; ').sort(), ['pref=dark', 'sid=abc']);
    const literal = echo(await run(['get', server.url('/echo'), '--ca', caPath, '-b', 'a=1; b=2']));
    assert.equal(literal.headers.cookie, 'a=1; b=2');
    const mixed = await run(['get', server.url('/echo'), '--ca', caPath, '--json', '-c', '-']);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /-c - would write the cookies into the JSON/);
    const broken = dir.write('broken-jar.txt', '# comment\nexample.com\tTRUE\t/\n');
    const bad = await run(['get', server.url('/echo'), '--ca', caPath, '-b', broken]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-b '.*broken-jar\.txt', line 2: 3 tab-separated fields, not 7/);
  });

  test('--data-raw, --oauth2-bearer, -g, --no-progress-meter; -U without a proxy is refused', async () => {
    const r = await run([
      'get',
      server.url('/echo'),
      '--ca',
      caPath,
      '-g',
      '--no-progress-meter',
      '--data-raw',
      '@not-a-file',
      '--oauth2-bearer',
      'tok123',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const e = echo(r);
    assert.equal(Buffer.from(e.body, 'base64').toString(), '@not-a-file');
    assert.equal(e.headers.authorization, 'Bearer tok123');
    const both = await run(['get', server.url('/echo'), '--ca', caPath, '-u', 'a:b', '--oauth2-bearer', 't']);
    assert.equal(both.code, 2);
    const proxyUser = await run(['get', server.url('/echo'), '--ca', caPath, '-U', 'a:b']);
    assert.equal(proxyUser.code, 2);
    assert.match(proxyUser.stderr, /-U gives credentials for a proxy, and none is used/);
    // With a proxy that wants them: refused without -U (407), through with it.
    const proxy = await startProxy({ auth: 'pu:pp' });
    try {
      const without = await run(['get', server.url('/bin'), '--ca', caPath, '-x', proxy.url]);
      assert.equal(without.code, 2);
      assert.match(without.stderr, /407/);
      const withIt = await run(['get', server.url('/bin'), '--ca', caPath, '-x', proxy.url, '-U', 'pu:pp']);
      assert.equal(withIt.code, 0, withIt.stderr);
      assert.deepEqual(withIt.stdout, BINARY);
      // The proxy from the environment counts, as the library chooses it; one NO_PROXY bypasses does not.
      const fromEnv = await run(['get', server.url('/bin'), '--ca', caPath, '-U', 'pu:pp'], {
        env: { HTTPS_PROXY: proxy.url },
      });
      assert.equal(fromEnv.code, 0, fromEnv.stderr);
      const bypassed = await run(['get', server.url('/bin'), '--ca', caPath, '-U', 'pu:pp'], {
        env: { HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' },
      });
      assert.equal(bypassed.code, 2);
      assert.match(bypassed.stderr, /-U gives credentials for a proxy, and none is used/);
    } finally {
      await proxy.close();
    }
  });

  test('--output-dir and --create-dirs; --max-filesize refuses a larger body before writing it (exit 63)', async () => {
    const out = join(dir.path, 'made', 'deeper');
    const r = await run([
      'get',
      server.url('/bin'),
      '--ca',
      caPath,
      '--output-dir',
      out,
      '-o',
      'b.bin',
      '--create-dirs',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readFileSync(join(out, 'b.bin')), BINARY);
    const noDir = await run([
      'get',
      server.url('/bin'),
      '--ca',
      caPath,
      '--output-dir',
      join(dir.path, 'absent'),
      '-o',
      'b.bin',
    ]);
    assert.equal(noDir.code, 23);
    const alone = await run(['get', server.url('/bin'), '--ca', caPath, '--create-dirs']);
    assert.equal(alone.code, 2);
    const big = join(dir.path, 'too-big.bin');
    const tooBig = await run([
      'get',
      server.url('/mid'),
      '--ca',
      caPath,
      '--max-filesize',
      '1000',
      '-o',
      big,
    ]);
    assert.equal(tooBig.code, 63, tooBig.stderr);
    assert.match(tooBig.stderr, /ERR_RESPONSE_TOO_LARGE.*\n.*Raise --max-filesize/);
    assert.equal(existsSync(big), false);
    const fits = await run(['get', server.url('/bin'), '--ca', caPath, '--max-filesize', '9']);
    assert.equal(fits.code, 0);
  });

  test('--tlsv1.3 refuses a TLS 1.2 server; --tls-max 1.2 speaks 1.2; --tlsv1.2 (and --tlsv1.0) change nothing', async () => {
    const old = await startTlsServer({
      cert: issue(root, { sans: ['IP:127.0.0.1'] }),
      maxVersion: 'TLSv1.2',
    });
    try {
      const refused = await run(['get', old.url('/'), '--ca', caPath, '--tlsv1.3']);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(
        refused.stderr,
        /accepts none of the TLS versions offered \(TLS 1\.3, narrowed for this process\)/,
      );
      assert.equal(old.requests, 0);
      for (const flag of ['--tlsv1.2', '--tlsv1.0']) {
        const fine = await run(['get', old.url('/'), '--ca', caPath, flag, '-v']);
        assert.equal(fine.code, 0, fine.stderr);
        assert.match(fine.stderr, /TLS: TLSv1\.2 /);
      }
    } finally {
      await old.close();
    }
    const capped = await run(['get', server.url('/bin'), '--ca', caPath, '--tls-max', '1.2', '-v']);
    assert.equal(capped.code, 0, capped.stderr);
    assert.match(capped.stderr, /TLS: TLSv1\.2 /);
    const newest = await run(['get', server.url('/bin'), '--ca', caPath, '--tlsv1.3', '-v']);
    assert.match(newest.stderr, /TLS: TLSv1\.3 /);
    const none = await run(['get', server.url('/bin'), '--ca', caPath, '--tlsv1.3', '--tls-max', '1.2']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /leave no TLS version/);
  });

  test("curl's --json DATA is named for what it is here", async () => {
    const r = await run(['get', server.url('/echo'), '--json', '{"a":1}']);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /--json prints the result as JSON.*--data-binary '\{"a":1\}' -H 'Content-Type: application\/json'/,
    );
  });
});

test('the download is not left behind when --fail refuses it', () => {
  assert.equal(existsSync(join(dir.path, 'missing')), false);
});
