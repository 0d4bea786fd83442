/**
 * Every way undici fails reaches the caller typed: a class, a code and a sentence. Each case is a
 * real loopback HTTPS server (our verifier passes it) that then misbehaves at the HTTP layer:
 * broken response lines, oversized headers, a body cut short with and without keep-alive,
 * silence, and requests undici itself refuses. Two run through `certainly get --json` too, which
 * printed {"error":"Error"} before.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { runGet } from '../../src/cli/get.js';
import {
  type CertainlyError,
  ConfigError,
  ConnectionError,
  ProtocolError,
  ReadTimeout,
  Session,
} from '../../src/index.js';
import { createRoot, intermediate, issue, pemOf, tempDir } from '../support/pki.js';

const root = createRoot();
const inter = intermediate(root);
const leaf = issue(inter);

type Script = (s: TLSSocket, request: string) => void;

/** An HTTPS server that reads one request head, then runs `script` on the socket. */
async function scripted(script: Script): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<TLSSocket>();
  const server: Server = createServer({ key: leaf.keyPem, cert: pemOf(leaf, inter) }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let head = '';
    let done = false;
    s.on('data', (chunk: Buffer) => {
      if (done) return;
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      done = true;
      script(s, head.slice(0, end));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const session = new Session({
  trustEnv: false,
  verify: root.pem,
  retries: 0,
  timeout: { connect: 10_000, read: 1_500 },
});
const servers: { close(): Promise<void> }[] = [];
after(async () => {
  await session.close();
  for (const s of servers) await s.close();
});
async function serve(script: Script): Promise<string> {
  const srv = await scripted(script);
  servers.push(srv);
  return srv.url;
}

function typed(cls: abstract new (...a: never[]) => CertainlyError, code: string, re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof cls, `${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.equal((e as CertainlyError).code, code, (e as Error).message);
    assert.match((e as Error).message, re);
    assert.ok((e as CertainlyError).hint, 'a hint');
    return true;
  };
}

const BROKEN_STATUS: Script = (s) => s.end('HTTP/1.1 2x0 OK\r\ncontent-length: 0\r\n\r\n');
const BIG_HEADERS: Script = (s) =>
  s.end(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(40_000)}\r\ncontent-length: 0\r\n\r\n`);

describe('undici failures, typed', () => {
  test('a broken status line (HTTPParserError): ProtocolError ERR_HTTP_PARSE', async () => {
    const url = await serve(BROKEN_STATUS);
    await assert.rejects(
      session.get(url),
      typed(ProtocolError, 'ERR_HTTP_PARSE', /is not valid HTTP\/1\.1: Invalid status code/),
    );
  });

  test('a header line without a colon (HTTPParserError): ProtocolError ERR_HTTP_PARSE', async () => {
    const url = await serve((s) => s.end('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n'));
    await assert.rejects(session.get(url), typed(ProtocolError, 'ERR_HTTP_PARSE', /not valid HTTP\/1\.1/));
  });

  test('40 KB of headers (HeadersOverflowError): ProtocolError ERR_HEADERS_OVERFLOW', async () => {
    const url = await serve(BIG_HEADERS);
    await assert.rejects(
      session.get(url),
      typed(ProtocolError, 'ERR_HEADERS_OVERFLOW', /response headers from .* are larger than the limit/),
    );
  });

  test('closed mid-body on a keep-alive connection (SocketError "other side closed"): ConnectionError ERR_CONNECTION_CLOSED', async () => {
    const url = await serve((s) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789');
      setTimeout(() => s.end(), 50);
    });
    const r = await session.get(url);
    assert.equal(r.status, 200);
    await assert.rejects(r.text(), (e: unknown) => {
      typed(
        ConnectionError,
        'ERR_CONNECTION_CLOSED',
        /closed before the response was complete \(other side closed\)/,
      )(e);
      assert.equal((e as ConnectionError).phase, 'exchange');
      return true;
    });
  });

  test('Connection: close and a body shorter than Content-Length (ResponseContentLengthMismatchError): ProtocolError ERR_CONTENT_LENGTH_MISMATCH', async () => {
    const url = await serve((s) => {
      s.write('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 100\r\n\r\n0123456789');
      setTimeout(() => s.end(), 50);
    });
    const r = await session.get(url);
    await assert.rejects(
      r.text(),
      typed(ProtocolError, 'ERR_CONTENT_LENGTH_MISMATCH', /does not match its Content-Length/),
    );
  });

  test('closed after the request, before any response (SocketError): ConnectionError ERR_CONNECTION_CLOSED, phase exchange', async () => {
    const url = await serve((s) => s.end());
    await assert.rejects(session.get(url), (e: unknown) => {
      typed(ConnectionError, 'ERR_CONNECTION_CLOSED', /was closed before/)(e);
      // The connection was made and handed the request: for retries a read failure.
      assert.equal((e as ConnectionError).phase, 'exchange');
      return true;
    });
  });

  test('no answer (HeadersTimeoutError) and a stall mid-body (BodyTimeoutError): ReadTimeout ERR_READ_TIMEOUT', async () => {
    const silent = await serve(() => {});
    await assert.rejects(
      session.get(silent),
      typed(ReadTimeout, 'ERR_READ_TIMEOUT', /did not answer within 1500 ms/),
    );
    const stall = await serve((s) => s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789'));
    const r = await session.get(stall);
    await assert.rejects(r.text(), typed(ReadTimeout, 'ERR_READ_TIMEOUT', /did not answer within 1500 ms/));
  });

  test('a Content-Length header the body does not match (RequestContentLengthMismatchError): ConfigError ERR_CONTENT_LENGTH_MISMATCH', async () => {
    let requests = 0;
    const url = await serve((s) => {
      requests++;
      s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    });
    await assert.rejects(
      session.post(url, { data: 'abc', headers: { 'content-length': '10' } }),
      typed(ConfigError, 'ERR_CONTENT_LENGTH_MISMATCH', /not as long as the Content-Length header/),
    );
    assert.equal(requests, 0);
  });

  test('headers undici refuses (InvalidArgumentError, NotSupportedError): ConfigError', async () => {
    const url = await serve((s) => s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'));
    await assert.rejects(
      session.get(url, { headers: { 'content-length': 'abc' } }),
      typed(ConfigError, 'ERR_OPTIONS', /invalid request: invalid content-length header/),
    );
    await assert.rejects(
      session.get(url, { headers: { expect: '100-continue' } }),
      typed(ConfigError, 'ERR_NOT_SUPPORTED', /not supported: expect header not supported/),
    );
    // Connection-level headers (as "Copy as cURL" lines carry): the hint names the header and the fix.
    for (const [name, value] of [
      ['keep-alive', 'timeout=5'],
      ['transfer-encoding', 'chunked'],
      ['upgrade', 'h2c'],
    ] as const) {
      await assert.rejects(session.get(url, { headers: { [name]: value } }), (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match(
          err.hint ?? '',
          /is a connection-level header that the client sets for each connection itself/,
        );
        assert.match(err.hint ?? '', new RegExp(`^${name}`, 'i'));
        return true;
      });
    }
  });
});

class Out extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe('certainly get --json carries the class, the code and the message', () => {
  let dir: ReturnType<typeof tempDir>;
  let ca: string;
  before(() => {
    dir = tempDir();
    ca = dir.write('root.pem', root.pem);
  });
  after(() => dir.cleanup());

  for (const [label, script, error, code] of [
    ['a broken status line', BROKEN_STATUS, 'ProtocolError', 'ERR_HTTP_PARSE'],
    ['40 KB of headers', BIG_HEADERS, 'ProtocolError', 'ERR_HEADERS_OVERFLOW'],
    [
      'a body cut short',
      ((s) => {
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789');
        setTimeout(() => s.end(), 50);
      }) as Script,
      'ConnectionError',
      'ERR_CONNECTION_CLOSED',
    ],
  ] as const) {
    test(`${label}: {"error":"${error}","code":"${code}",…}, exit 2`, async () => {
      const url = await serve(script);
      const stdout = new Out();
      const stderr = new Out();
      const exit = await runGet([url, '--verify', ca, '--json'], {
        stdout,
        stderr,
        env: {},
      } as unknown as Parameters<typeof runGet>[1]);
      assert.equal(exit, 2, stdout.text + stderr.text);
      const j = JSON.parse(stdout.text.slice(stdout.text.lastIndexOf('\n{') + 1));
      assert.equal(j.error, error, stdout.text);
      assert.equal(j.code, code);
      assert.match(j.message, new RegExp(new URL(url).host.replace(/[.]/g, '\\.')));
      assert.ok(j.hint);
    });
  }
});
