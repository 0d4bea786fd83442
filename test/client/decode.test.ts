/**
 * Responses decoded: gzip, deflate (zlib and raw), br, zstd where node:zlib has it, stacked
 * codings; the bytes as sent with decompress: false or rawStream(); corrupt, truncated and unknown
 * codings are DecodeError; the default headers (User-Agent, Accept, Accept-Encoding).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { DecodeError, ResponseTooLarge, Session } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let server: TestServer;
let session: Session;

const HAS_ZSTD = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';
const PAYLOAD = Buffer.from(`${'certainly decodes what it asks for. '.repeat(2000)}✓ end`);

function encode(coding: string, data: Buffer): Buffer {
  switch (coding) {
    case 'gzip':
      return zlib.gzipSync(data);
    case 'deflate':
      return zlib.deflateSync(data);
    case 'deflate-raw':
      return zlib.deflateRawSync(data);
    case 'br':
      return zlib.brotliCompressSync(data);
    case 'zstd':
      return (zlib as unknown as { zstdCompressSync: (b: Buffer) => Buffer }).zstdCompressSync(data);
    default:
      throw new Error(coding);
  }
}

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'https://x');
  req.resume();
  if (url.pathname === '/headers') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.headers));
    return;
  }
  if (url.pathname === '/enc') {
    // c=gzip,br: gzip applied first, then br, as the header lists them.
    const codings = (url.searchParams.get('c') ?? '').split(',');
    let body: Buffer = PAYLOAD;
    for (const c of codings) body = encode(c, body);
    const header = codings.map((c) => (c === 'deflate-raw' ? 'deflate' : c)).join(', ');
    res.writeHead(200, { 'content-encoding': header, 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  if (url.pathname === '/corrupt') {
    res.writeHead(200, { 'content-encoding': url.searchParams.get('c') ?? 'gzip' });
    res.end(Buffer.from('this is not compressed at all, whatever the header says'));
    return;
  }
  if (url.pathname === '/truncated') {
    const gz = zlib.gzipSync(PAYLOAD);
    res.writeHead(200, { 'content-encoding': 'gzip' });
    res.end(gz.subarray(0, gz.length - 20));
    return;
  }
  if (url.pathname === '/unknown') {
    res.writeHead(200, { 'content-encoding': 'compress' });
    res.end('LZW bytes');
    return;
  }
  if (url.pathname === '/empty') {
    res.writeHead(Number(url.searchParams.get('status') ?? 200), { 'content-encoding': 'gzip' });
    res.end();
    return;
  }
  if (url.pathname === '/bomb') {
    // 64 MiB of zeros in ~64 KiB of gzip.
    const gz = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(gz.length) });
    res.end(gz);
    return;
  }
  res.end('ok');
}

before(async () => {
  root = createRoot({ cn: 'Decode Test Root' });
  server = await startTlsServer({ cert: issue(root, { sans: ['IP:127.0.0.1'] }), handler });
  session = new Session({ verify: root.pem });
});
after(async () => {
  await session.close();
  await server.close();
});

describe('Content-Encoding is undone', () => {
  const codings = [
    'gzip',
    'deflate',
    'deflate-raw',
    'br',
    'gzip,br',
    'deflate,gzip',
    ...(HAS_ZSTD ? ['zstd'] : []),
  ];
  for (const c of codings) {
    test(`${c}: text(), bytes() and stream() give the decoded body`, async () => {
      const r1 = await session.get(server.url(`/enc?c=${c}`));
      assert.equal(await r1.text(), PAYLOAD.toString());
      const r2 = await session.get(server.url(`/enc?c=${c}`));
      assert.ok((await r2.bytes()).equals(PAYLOAD));
      const r3 = await session.get(server.url(`/enc?c=${c}`));
      const chunks: Buffer[] = [];
      for await (const chunk of r3.stream()) chunks.push(chunk as Buffer);
      assert.ok(Buffer.concat(chunks).equals(PAYLOAD));
    });
  }

  test('decompress: false and rawStream() give the bytes as sent', async () => {
    const sent = encode('gzip', PAYLOAD);
    const r = await session.get(server.url('/enc?c=gzip'), { decompress: false });
    assert.ok((await r.bytes()).equals(sent));
    assert.equal(r.headers.get('content-encoding'), 'gzip');
    const r2 = await session.get(server.url('/enc?c=gzip'));
    const chunks: Buffer[] = [];
    for await (const chunk of r2.rawStream()) chunks.push(chunk as Buffer);
    assert.ok(Buffer.concat(chunks).equals(sent));
  });

  test('an empty body with a Content-Encoding is empty; so is HEAD, 204 and 304', async () => {
    assert.equal(await (await session.get(server.url('/empty'))).text(), '');
    assert.equal(await (await session.get(server.url('/empty?status=204'))).text(), '');
    assert.equal(await (await session.head(server.url('/enc?c=gzip'))).text(), '');
  });

  test(`zstd is ${HAS_ZSTD ? 'advertised and decoded' : 'not advertised: this Node has no zstd in node:zlib'}`, async () => {
    const sent = await (await session.get(server.url('/headers'))).json<Record<string, string>>();
    assert.equal(sent['accept-encoding'], HAS_ZSTD ? 'gzip, deflate, br, zstd' : 'gzip, deflate, br');
  });
});

describe('what cannot be decoded is a DecodeError, never garbage', () => {
  for (const c of ['gzip', 'deflate', 'br']) {
    test(`a corrupt ${c} body`, async () => {
      const r = await session.get(server.url(`/corrupt?c=${c}`));
      assert.equal(r.status, 200);
      await assert.rejects(r.text(), (err: unknown) => {
        assert.ok(err instanceof DecodeError, String(err));
        assert.equal((err as DecodeError).code, 'ERR_DECODE');
        assert.match((err as Error).message, new RegExp(`not valid ${c}`));
        return true;
      });
    });
  }

  test('a truncated gzip body, read as a stream', async () => {
    const r = await session.get(server.url('/truncated'));
    await assert.rejects(async () => {
      for await (const _ of r.stream()) {
        // read to the end
      }
    }, DecodeError);
  });

  test('an unknown coding: DecodeError ERR_UNSUPPORTED_ENCODING; decompress: false still reads it', async () => {
    const r = await session.get(server.url('/unknown'));
    assert.equal(r.status, 200);
    await assert.rejects(r.text(), (err: unknown) => {
      assert.ok(err instanceof DecodeError);
      assert.equal((err as DecodeError).code, 'ERR_UNSUPPORTED_ENCODING');
      assert.match((err as Error).message, /'compress'/);
      return true;
    });
    const raw = await session.get(server.url('/unknown'), { decompress: false });
    assert.equal(await raw.text(), 'LZW bytes');
  });

  test('a decompression bomb stops at maxResponseSize, counted in decoded bytes', async () => {
    const r = await session.get(server.url('/bomb'), { maxResponseSize: 1024 * 1024 });
    await assert.rejects(r.bytes(), (err: unknown) => {
      assert.ok(err instanceof ResponseTooLarge, String(err));
      assert.match((err as Error).message, /maxResponseSize \(1048576 bytes\).*once decoded/);
      return true;
    });
  });
});

describe('default headers', () => {
  test('User-Agent certainly/<version of package.json>, Accept */*, Accept-Encoding', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const sent = await (await session.get(server.url('/headers'))).json<Record<string, string>>();
    assert.equal(sent['user-agent'], `certainly/${pkg.version}`);
    assert.equal(sent.accept, '*/*');
    assert.match(sent['accept-encoding'] ?? '', /^gzip, deflate, br(, zstd)?$/);
  });

  test('each is overridden by a header of the Session or the request, in any case, or removed with undefined', async () => {
    const s = new Session({ verify: root.pem, headers: { 'User-Agent': 'mine/1.0' } });
    try {
      const sent = await (
        await s.get(server.url('/headers'), {
          headers: { ACCEPT: 'application/json', 'accept-encoding': undefined },
        })
      ).json<Record<string, string | undefined>>();
      assert.equal(sent['user-agent'], 'mine/1.0');
      assert.equal(sent.accept, 'application/json');
      assert.equal(sent['accept-encoding'], undefined);
    } finally {
      await s.close();
    }
  });
});
