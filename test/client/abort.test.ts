/**
 * Security review: an AbortSignal ends a request when it fires, whatever phase the request is in
 * (TCP, the TLS handshake, our verification, the body), and nothing is sent afterwards. undici
 * reports an abort only once a connection in progress is made or has failed, so a request to a
 * server that stalls its handshake waited for the connect timeout (10 s by default) instead.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Session } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { type RawServer, startRawTlsServer, startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let stall: RawServer;
let partial: TestServer;

before(async () => {
  root = createRoot({ cn: 'review abort root' });
  stall = await startRawTlsServer({ mode: 'stall' });
  // Headers and a first chunk, then nothing.
  partial = await startTlsServer({
    cert: issue(root),
    handler: (_req, res) => {
      res.writeHead(200);
      res.write('partial');
    },
  });
});

after(async () => {
  await stall.close();
  await partial.close();
});

const isAbort = (e: unknown) => (e as Error)?.name === 'AbortError';

describe('AbortSignal', () => {
  test('during a TLS handshake the server stalls: the request rejects when the signal fires', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false, timeout: { connect: 1500, read: 1500 } });
    try {
      const started = performance.now();
      await assert.rejects(s.get(stall.url('/'), { signal: AbortSignal.timeout(150) }), (e: unknown) => {
        assert.ok(
          isAbort(e) || (e as Error)?.name === 'TimeoutError',
          `expected the signal's reason, got ${String(e)}`,
        );
        return true;
      });
      const took = performance.now() - started;
      assert.ok(took < 1000, `the abort took ${Math.round(took)} ms; the connect timeout is 1500 ms`);
    } finally {
      await s.close();
    }
  });

  test("the signal's own reason is what the request rejects with", async () => {
    // close() waits for the abandoned handshake to time out: keep that short.
    const s = new Session({ verify: root.pem, trustEnv: false, timeout: { connect: 1000, read: 1000 } });
    const ac = new AbortController();
    const reason = new Error('stop, the user left');
    try {
      const p = s.get(stall.url('/'), { signal: ac.signal });
      setTimeout(() => ac.abort(reason), 100);
      await assert.rejects(p, (e: unknown) => e === reason);
    } finally {
      await s.close();
    }
  });

  test('an already aborted signal sends nothing', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      const before = partial.connections;
      await assert.rejects(s.get(partial.url('/'), { signal: AbortSignal.abort() }), isAbort);
      assert.equal(partial.connections, before);
    } finally {
      await s.close();
    }
  });

  test('while the body is read: the read rejects at once', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false, timeout: { connect: 4000, read: 4000 } });
    try {
      const ac = new AbortController();
      const r = await s.get(partial.url('/'), { signal: ac.signal });
      const started = performance.now();
      setTimeout(() => ac.abort(), 100);
      await assert.rejects(r.text(), isAbort);
      assert.ok(performance.now() - started < 2000);
    } finally {
      await s.close();
    }
  });
});
