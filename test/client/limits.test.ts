/**
 * Limits and deadlines: timeout.total bounds the whole exchange (a slow endless body ends with
 * TotalTimeout), read timeouts fire on time (our native timer, not undici's 499 ms ticks),
 * a slow reader is not a read timeout, maxResponseSize aborts with ResponseTooLarge; and the
 * progress callbacks reach their totals through a real server.
 */
import assert from 'node:assert/strict';
import { constants as bufferConstants } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { ConfigError, ReadTimeout, ResponseTooLarge, Session, TotalTimeout } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let server: TestServer;
let session: Session;
const MIB = 1024 * 1024;
const BIG = Buffer.alloc(MIB, 0x61);

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'https://x');
  if (url.pathname === '/upload') {
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      hash.update(c);
    });
    req.on('end', () => res.end(JSON.stringify({ size, sha256: hash.digest('hex') })));
    return;
  }
  req.resume();
  if (url.pathname === '/trickle') {
    // An endless body, slowly: 1 byte every 20 ms, forever.
    res.writeHead(200, { 'content-type': 'text/plain' });
    const timer = setInterval(() => res.write('x'), 20);
    res.on('close', () => clearInterval(timer));
    return;
  }
  if (url.pathname === '/stall') return; // headers never come
  if (url.pathname === '/stall-body') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first chunk');
    return; // and nothing more
  }
  if (url.pathname === '/big') {
    res.writeHead(200, { 'content-length': String(BIG.length) });
    res.end(BIG);
    return;
  }
  if (url.pathname === '/big-chunked') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    let sent = 0;
    const pump = () => {
      while (sent < 64 * MIB) {
        sent += 64 * 1024;
        if (!res.write(Buffer.alloc(64 * 1024))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
    return;
  }
  if (url.pathname === '/declared') {
    // A Content-Length the readers cannot hold, and only its first 64 KiB: enough to tell
    // whether the client read on (it must not).
    res.writeHead(200, {
      'content-type': 'text/csv',
      'content-length': url.searchParams.get('length') ?? '',
    });
    if (req.method !== 'HEAD') res.write(Buffer.alloc(64 * 1024, 0x61));
    else res.end();
    res.on('close', () => declaredClosed?.());
    return;
  }
  if (url.pathname === '/bomb') {
    // A gzip body of half a megabyte that decodes to one byte more than a string can hold.
    res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
    res.end(bomb);
    return;
  }
  if (url.pathname === '/gzip') {
    const gz = zlib.gzipSync(BIG);
    res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(gz.length) });
    res.end(gz);
    return;
  }
  res.end('ok');
}

/** Called when the response of /declared is closed (the client went away). */
let declaredClosed: (() => void) | undefined;
let bomb: Buffer;

before(async () => {
  // Zeros, MAX_STRING_LENGTH + 1 of them, gzipped as they are made (never whole in memory).
  const gz = zlib.createGzip({ level: 1 });
  const parts: Buffer[] = [];
  gz.on('data', (c: Buffer) => parts.push(c));
  const done = new Promise((resolve) => gz.on('end', resolve));
  const zeros = Buffer.alloc(MIB);
  let left = bufferConstants.MAX_STRING_LENGTH + 1;
  while (left > 0) {
    const n = Math.min(left, MIB);
    if (!gz.write(zeros.subarray(0, n))) await new Promise((resolve) => gz.once('drain', resolve));
    left -= n;
  }
  gz.end();
  await done;
  bomb = Buffer.concat(parts);
  root = createRoot({ cn: 'Limits Test Root' });
  server = await startTlsServer({ cert: issue(root, { sans: ['IP:127.0.0.1'] }), handler });
  session = new Session({ verify: root.pem });
});
after(async () => {
  await session.close();
  await server.close();
});

/** How long `run()` takes to settle, timed from before it is called, and what it threw. */
async function elapsed(run: () => Promise<unknown>): Promise<{ ms: number; err: unknown }> {
  const t0 = performance.now();
  try {
    await run();
    return { ms: performance.now() - t0, err: undefined };
  } catch (err) {
    return { ms: performance.now() - t0, err };
  }
}

describe('timeout.total', () => {
  test('a slow endless body ends with TotalTimeout', async () => {
    // The read timeout never fires (a byte every 20 ms); only the total deadline can end it. On a
    // loaded machine the headers may come late: the deadline then ends the request itself.
    let headersAt = 0;
    const { ms, err } = await elapsed(() =>
      session.get(server.url('/trickle'), { timeout: { read: 5000, total: 1500 } }).then((r) => {
        headersAt = performance.now();
        return r.text();
      }),
    );
    assert.ok(err instanceof TotalTimeout, String(err));
    assert.equal((err as TotalTimeout).code, 'ERR_TOTAL_TIMEOUT');
    assert.ok(ms >= 1490 && ms < 4000, `ended after ${ms.toFixed(0)} ms`);
    if (headersAt > 0) console.log('# the deadline ended the body, after the headers had come');
  });

  test('it covers the wait for the headers too', async () => {
    const { ms, err } = await elapsed(() =>
      session.get(server.url('/stall'), { timeout: { read: 10_000, total: 400 } }),
    );
    assert.ok(err instanceof TotalTimeout, String(err));
    assert.ok(ms < 3000, `${ms.toFixed(0)} ms`);
  });

  test('a response read in time is untouched; a bad total is a ConfigError', async () => {
    const r = await session.get(server.url('/big'), { timeout: { total: 20_000 } });
    assert.equal((await r.bytes()).length, MIB);
    await assert.rejects(session.get(server.url('/'), { timeout: { total: -1 } }), ConfigError);
    await assert.rejects(
      session.get(server.url('/'), { timeout: { totl: 5 } as never }),
      /timeout has no 'totl'/,
    );
  });
});

describe('read timeout', () => {
  // 1500 ms: above the 1000 ms under which undici uses native timers itself. undici's own timer
  // (our backstop) would fire no earlier than 2500 ms; ours must fire at 1500.
  const READ = 1500;

  test('waiting for the headers: ReadTimeout on time, from our timer', async () => {
    const { ms, err } = await elapsed(() => session.get(server.url('/stall'), { timeout: { read: READ } }));
    assert.ok(err instanceof ReadTimeout, String(err));
    assert.ok(ms >= READ - 5, `fired early: ${ms.toFixed(0)} ms`);
    assert.ok(ms < READ + 1000, `fired at ${ms.toFixed(0)} ms: undici's backstop, not our timer`);
    console.log(`# read timeout ${READ} ms fired after ${ms.toFixed(0)} ms`);
  });

  test('between body chunks: ReadTimeout on time', async () => {
    // Timed from before the request: the timer is armed by the first chunk, which may come
    // with the headers, before text() is called.
    const { ms, err } = await elapsed(async () =>
      (await session.get(server.url('/stall-body'), { timeout: { read: READ } })).text(),
    );
    assert.ok(err instanceof ReadTimeout, String(err));
    assert.ok(ms >= READ - 5 && ms < READ + 1000, `${ms.toFixed(0)} ms`);
  });

  test('a reader slower than the read timeout is not a timeout (the body is paused, not stalled)', async () => {
    const r = await session.get(server.url('/big-chunked'), { timeout: { read: 300 } });
    const stream = r.stream();
    let size = 0;
    let first = true;
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (first) {
        first = false;
        await new Promise((resolve) => setTimeout(resolve, 800)); // the reader dawdles
      }
    }
    assert.equal(size, 64 * MIB);
  });
});

describe('maxResponseSize', () => {
  test('a Content-Length past the limit fails at once, before the body is read', async () => {
    await assert.rejects(session.get(server.url('/big'), { maxResponseSize: 1000 }), (err: unknown) => {
      assert.ok(err instanceof ResponseTooLarge, String(err));
      assert.equal((err as ResponseTooLarge).code, 'ERR_RESPONSE_TOO_LARGE');
      assert.match((err as Error).message, /Content-Length is 1048576/);
      return true;
    });
  });

  test('a chunked body stops as soon as it passes the limit', async () => {
    const r = await session.get(server.url('/big-chunked'), { maxResponseSize: 2 * MIB });
    let seen = 0;
    await assert.rejects(async () => {
      for await (const chunk of r.stream()) seen += (chunk as Buffer).length;
    }, ResponseTooLarge);
    assert.ok(seen <= 2 * MIB, `delivered ${seen} bytes past the limit`);
  });

  test('a body at the limit is read whole; a bad limit is a ConfigError', async () => {
    const r = await session.get(server.url('/big'), { maxResponseSize: MIB });
    assert.equal((await r.bytes()).length, MIB);
    await assert.rejects(session.get(server.url('/'), { maxResponseSize: 1.5 }), ConfigError);
  });
});

describe('a body larger than text(), json() or bytes() can hold', () => {
  const MAX_STRING = bufferConstants.MAX_STRING_LENGTH;
  const MAX_BUFFER = bufferConstants.MAX_LENGTH;
  /** Asserts ResponseTooLarge with this code, naming the reader, with a hint to stream(). */
  const tooLarge = (code: string, reader: string, what: RegExp) => (err: unknown) => {
    assert.ok(err instanceof ResponseTooLarge, String(err));
    assert.equal(err.code, code);
    assert.ok(err.message.includes(`too large for ${reader}`), err.message);
    assert.match(err.message, what);
    assert.match(err.hint ?? '', /r\.stream\(\)/);
    return true;
  };

  test('text() and json(): refused before reading when the Content-Length says so; the connection is closed', async () => {
    for (const reader of ['text', 'json'] as const) {
      const closed = new Promise<void>((resolve) => (declaredClosed = resolve));
      const r = await session.get(server.url(`/declared?length=${MAX_STRING + 1}`));
      const t0 = performance.now();
      await assert.rejects(
        r[reader](),
        tooLarge(
          'ERR_STRING_TOO_LONG',
          `${reader}()`,
          new RegExp(`Content-Length is ${MAX_STRING + 1} bytes`),
        ),
      );
      assert.ok(performance.now() - t0 < 1000, 'refused at once');
      await closed; // the server saw the client go: nothing more was read
      // The other readers get the same error: the body is gone.
      await assert.rejects(r.bytes(), ResponseTooLarge);
      assert.throws(() => r.stream(), ResponseTooLarge);
    }
    // A HEAD response declares the length of a body it does not have: nothing to refuse.
    const head = await session.head(server.url(`/declared?length=${MAX_STRING + 1}`));
    assert.equal(await head.text(), '');
  });

  test('bytes(): refused before reading when the Content-Length passes the largest Buffer', async () => {
    const length = (BigInt(MAX_BUFFER) + 1n).toString();
    const r = await session.get(server.url(`/declared?length=${length}`));
    await assert.rejects(r.bytes(), tooLarge('ERR_BUFFER_TOO_LARGE', 'bytes()', /Content-Length is/));
    // Just under what a string holds is not refused up front: text() reads (this one is cut short).
    const fits = await session.get(server.url(`/declared?length=${MAX_STRING}`), { timeout: { read: 300 } });
    await assert.rejects(fits.text(), ReadTimeout);
  });

  test('a body that decodes to more than a string holds stops there, as a typed error', async () => {
    const r = await session.get(server.url('/bomb'));
    await assert.rejects(
      r.text(),
      tooLarge('ERR_STRING_TOO_LONG', 'text()', new RegExp(`more than ${MAX_STRING} bytes once decoded`)),
    );
  });
});

describe('progress callbacks', () => {
  test('onDownloadProgress reaches total', async () => {
    const seen: { loaded: number; total: number | undefined }[] = [];
    const r = await session.get(server.url('/big'), { onDownloadProgress: (p) => seen.push(p) });
    assert.equal((await r.bytes()).length, MIB);
    const last = seen.at(-1);
    assert.ok(seen.length > 1, 'several progress events');
    assert.deepEqual(last, { loaded: MIB, total: MIB, rawLoaded: MIB, rawTotal: MIB });
    for (let i = 1; i < seen.length; i++) assert.ok((seen[i]?.loaded ?? 0) > (seen[i - 1]?.loaded ?? 0));
  });

  test('under gzip: loaded counts decoded bytes, rawLoaded the bytes as sent', async () => {
    const gz = zlib.gzipSync(BIG);
    let last:
      | { loaded: number; total: number | undefined; rawLoaded: number; rawTotal: number | undefined }
      | undefined;
    const r = await session.get(server.url('/gzip'), { onDownloadProgress: (p) => (last = p) });
    assert.equal((await r.bytes()).length, MIB);
    assert.deepEqual(last, { loaded: MIB, total: undefined, rawLoaded: gz.length, rawTotal: gz.length });
  });

  test('onUploadProgress reaches total for a Buffer, and counts a stream of unknown length', async () => {
    const seen: { loaded: number; total: number | undefined }[] = [];
    const r = await session.post(server.url('/upload'), { data: BIG, onUploadProgress: (p) => seen.push(p) });
    const got = await r.json<{ size: number; sha256: string }>();
    assert.equal(got.size, MIB);
    assert.equal(got.sha256, createHash('sha256').update(BIG).digest('hex'));
    assert.ok(seen.length > 1);
    assert.deepEqual(seen.at(-1), { loaded: MIB, total: MIB });

    const streamed: { loaded: number; total: number | undefined }[] = [];
    const r2 = await session.post(server.url('/upload'), {
      data: Readable.from([Buffer.alloc(1000), Buffer.alloc(2000)]),
      onUploadProgress: (p) => streamed.push(p),
    });
    assert.equal((await r2.json<{ size: number }>()).size, 3000);
    assert.deepEqual(streamed.at(-1), { loaded: 3000, total: undefined });
  });
});
