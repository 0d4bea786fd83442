/**
 * Session.close() and closeDefaultSession() close: they resolve promptly whatever the caller left
 * unread (those bodies are aborted with SessionClosed), they are idempotent, and a request after
 * close is a SessionClosed error.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { closeDefaultSession, get, Session, SessionClosed } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let server: TestServer;
const MIB = 1024 * 1024;

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'https://x');
  if (url.pathname === '/big') {
    // 1 MiB, far more than the socket buffers hold: the server is still writing when we close.
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(MIB) });
    res.end(Buffer.alloc(MIB, 7));
    return;
  }
  if (url.pathname === '/endless') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const timer = setInterval(() => res.write('tick\n'), 20);
    res.on('close', () => clearInterval(timer));
    return;
  }
  if (url.pathname === '/stall') return; // never answers
  res.end('ok');
}

before(async () => {
  root = createRoot({ cn: 'Close Test Root' });
  server = await startTlsServer({ cert: issue(root, { sans: ['IP:127.0.0.1'] }), handler });
});
after(async () => {
  await closeDefaultSession();
  await server.close();
});

async function timed(p: Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await p;
  return performance.now() - t0;
}

describe('Session.close()', () => {
  test('resolves in under a second with an unread 1 MiB body, and the body reads as SessionClosed', async () => {
    const s = new Session({ verify: root.pem });
    const r = await s.get(server.url('/big'));
    assert.equal(r.status, 200);
    const ms = await timed(s.close());
    assert.ok(ms < 1000, `close() took ${ms.toFixed(0)} ms`);
    await assert.rejects(
      r.bytes(),
      (err: unknown) => err instanceof SessionClosed && (err as SessionClosed).code === 'ERR_SESSION_CLOSED',
    );
  });

  test('aborts a body being streamed and a request still waiting for its headers', async () => {
    const s = new Session({ verify: root.pem });
    const r = await s.get(server.url('/endless'));
    const stream = r.stream();
    const reading = (async (): Promise<void> => {
      for await (const _ of stream) {
        // keep reading until the Session is closed
      }
    })();
    const read = assert.rejects(reading, SessionClosed);
    const waiting = s.get(server.url('/stall'));
    const waited = assert.rejects(waiting, SessionClosed);
    // Let the stalled request reach the server before closing.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ms = await timed(s.close());
    assert.ok(ms < 1000, `close() took ${ms.toFixed(0)} ms`);
    await read;
    await waited;
  });

  test('is idempotent, and a request after it is a SessionClosed error', async () => {
    const s = new Session({ verify: root.pem });
    assert.equal((await s.get(server.url('/'))).status, 200);
    await s.close();
    await s.close();
    await assert.rejects(s.get(server.url('/')), (err: unknown) => {
      assert.ok(err instanceof SessionClosed);
      assert.match((err as Error).message, /closed/);
      return true;
    });
  });
});

describe('closeDefaultSession()', () => {
  test('resolves in under a second with an unread body; get() works again afterwards', async () => {
    const r = await get(server.url('/big'), { verify: root.pem });
    assert.equal(r.status, 200);
    const ms = await timed(closeDefaultSession());
    assert.ok(ms < 1000, `closeDefaultSession() took ${ms.toFixed(0)} ms`);
    await closeDefaultSession(); // idempotent
    await assert.rejects(r.text(), SessionClosed);
    const again = await get(server.url('/'), { verify: root.pem });
    assert.equal(await again.text(), 'ok');
  });
});
