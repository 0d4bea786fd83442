/**
 * Streaming: request bodies from a Readable (chunked, never buffered whole), responses read as a
 * stream before the server has finished sending, and the edges (redirects with a spent body, a
 * body stream that fails).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { CertainlyError, ConfigError, Session } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let server: TestServer;
let session: Session;
let release: (() => void) | undefined;

const MIB = 1024 * 1024;

/** Deterministic bytes: chunk i is filled with i & 0xff. */
function* chunks(count: number, size: number): Generator<Buffer> {
  for (let i = 0; i < count; i++) yield Buffer.alloc(size, i & 0xff);
}

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'https://x');
  if (url.pathname === '/upload') {
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      hash.update(c);
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          size,
          sha256: hash.digest('hex'),
          chunked: req.headers['transfer-encoding'] === 'chunked',
          method: req.method,
        }),
      );
    });
    return;
  }
  if (url.pathname === '/download') {
    const n = Number(url.searchParams.get('chunks'));
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const it = chunks(n, 64 * 1024);
    const pump = () => {
      for (;;) {
        const next = it.next();
        if (next.done) {
          res.end();
          return;
        }
        if (!res.write(next.value)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
    return;
  }
  if (url.pathname === '/slow-body') {
    // The first part now; the rest only when the test says so.
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first part;');
    release = () => res.end('second part');
    return;
  }
  if (url.pathname === '/redirect') {
    req.resume();
    req.on('end', () => {
      res.writeHead(Number(url.searchParams.get('code')), { location: '/upload' });
      res.end();
    });
    return;
  }
  res.writeHead(404);
  res.end();
}

before(async () => {
  root = createRoot({ cn: 'streaming tests root' });
  server = await startTlsServer({ cert: issue(root), handler });
  session = new Session({ verify: root.pem, trustEnv: false });
});

after(async () => {
  release?.();
  await session.close();
  await server.close();
});

type Upload = { size: number; sha256: string; chunked: boolean; method: string };

describe('streaming request bodies', () => {
  test('a Readable is sent chunked and arrives intact (16 MiB, generated lazily)', async () => {
    const expected = createHash('sha256');
    for (const c of chunks(256, 64 * 1024)) expected.update(c);
    const r = await session.post(server.url('/upload'), { data: Readable.from(chunks(256, 64 * 1024)) });
    const got = await r.json<Upload>();
    assert.equal(got.size, 16 * MIB);
    assert.equal(got.sha256, expected.digest('hex'));
    assert.equal(got.chunked, true);
  });

  test('the stream is read as it is sent, not buffered first', async () => {
    let produced = 0;
    let maxAhead = 0;
    const body = new Readable({
      highWaterMark: 64 * 1024,
      read() {
        if (produced >= 32 * MIB) {
          this.push(null);
          return;
        }
        produced += 256 * 1024;
        this.push(Buffer.alloc(256 * 1024, 1));
      },
    });
    // How far production runs ahead of what the server has counted shows buffering; the socket
    // and stream buffers hold a few MiB at most, far less than the 32 MiB sent.
    const before = server.bytesReceived;
    const timer = setInterval(() => {
      maxAhead = Math.max(maxAhead, produced - (server.bytesReceived - before));
    }, 2);
    try {
      const got = await (await session.put(server.url('/upload'), { data: body })).json<Upload>();
      assert.equal(got.size, 32 * MIB);
      assert.equal(got.method, 'PUT');
    } finally {
      clearInterval(timer);
    }
    assert.ok(maxAhead < 16 * MIB, `the client ran ${maxAhead} bytes ahead of the server`);
  });

  test('a body stream that fails rejects the request (no hang)', async () => {
    const body = new Readable({
      read() {
        this.push(Buffer.alloc(1024, 2));
        setImmediate(() => this.destroy(new Error('disk on fire')));
      },
    });
    await assert.rejects(session.post(server.url('/upload'), { data: body, timeout: 5000 }), /disk on fire/);
  });

  test('a 307 cannot be followed with a spent stream: ConfigError; a 303 becomes a GET', async () => {
    await assert.rejects(
      session.post(server.url('/redirect?code=307'), { data: Readable.from(['abc']) }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, 'ERR_REDIRECT_BODY');
        assert.match(err.hint ?? '', /allowRedirects: false/);
        return true;
      },
    );
    const r = await session.post(server.url('/redirect?code=303'), { data: Readable.from(['abc']) });
    const got = await r.json<Upload>();
    assert.equal(got.method, 'GET');
    assert.equal(got.size, 0);
    const raw = await session.post(server.url('/redirect?code=307'), {
      data: Readable.from(['abc']),
      allowRedirects: false,
    });
    assert.equal(raw.status, 307);
  });
});

describe('streaming responses', () => {
  test('stream() yields the body in pieces (16 MiB), intact', async () => {
    const r = await session.get(server.url('/download?chunks=256'));
    const expected = createHash('sha256');
    for (const c of chunks(256, 64 * 1024)) expected.update(c);
    const hash = createHash('sha256');
    let size = 0;
    let pieces = 0;
    for await (const piece of r.stream()) {
      size += (piece as Buffer).length;
      pieces++;
      hash.update(piece as Buffer);
    }
    assert.equal(size, 16 * MIB);
    assert.ok(pieces > 1);
    assert.equal(hash.digest('hex'), expected.digest('hex'));
  });

  test('the Response arrives before the body is complete, and reading waits for the rest', async () => {
    const r = await session.get(server.url('/slow-body'));
    assert.equal(r.status, 200);
    const stream = r.stream();
    const first = await new Promise<string>((resolve) =>
      stream.once('data', (c: Buffer) => resolve(c.toString())),
    );
    assert.equal(first, 'first part;');
    const rest: string[] = [];
    stream.on('data', (c: Buffer) => rest.push(c.toString()));
    const ended = new Promise((resolve) => stream.once('end', resolve));
    release?.();
    await ended;
    assert.equal(rest.join(''), 'second part');
  });

  test('after stream() the other readers refuse, and the reverse', async () => {
    const r = await session.get(server.url('/download?chunks=1'));
    const s = r.stream();
    await assert.rejects(
      r.text(),
      (err: unknown) => err instanceof CertainlyError && err.code === 'ERR_BODY_USED',
    );
    s.resume();
    const r2 = await session.get(server.url('/download?chunks=1'));
    assert.equal((await r2.bytes()).length, 64 * 1024);
    assert.throws(
      () => r2.stream(),
      (err: unknown) => err instanceof CertainlyError && err.code === 'ERR_BODY_USED',
    );
  });
});
