/**
 * The retries option against loopback servers that fail on purpose: idempotent methods are sent
 * again after connection errors, with a doubling backoff; POST and PATCH, stream bodies, read
 * timeouts and verification failures are never retried.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { backoffDelay, isRetryable, MAX_BACKOFF_MS, resolveRetries } from '../../src/client/retry.js';
import {
  ConfigError,
  ConnectionError,
  ConnectTimeout,
  ProxyError,
  ReadTimeout,
  Session,
  SSLError,
} from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startRawTlsServer, startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let server: TestServer;
let session: Session;

/**
 * A TCP front for `server` that resets the first `failures` connections (RST as soon as the
 * ClientHello arrives) and forwards the later ones. Counts connections.
 */
async function flaky(
  failures: number,
): Promise<{ url(path?: string): string; connections: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const front = net.createServer((s) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    if (state.connections <= failures) {
      s.once('data', () => s.resetAndDestroy());
      return;
    }
    const back = net.connect(server.port, '127.0.0.1');
    sockets.add(back);
    back.on('error', () => s.destroy());
    s.on('error', () => back.destroy());
    s.pipe(back).pipe(s);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const port = (front.address() as net.AddressInfo).port;
  return {
    url: (path = '/') => `https://127.0.0.1:${port}${path}`,
    get connections() {
      return state.connections;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}

before(async () => {
  root = createRoot({ cn: 'retries tests root' });
  server = await startTlsServer({ cert: issue(root) });
  session = new Session({ verify: root.pem, trustEnv: false });
});

after(async () => {
  await session.close();
  await server.close();
});

describe('idempotent requests are retried after connection errors', () => {
  test('GET: two resets, then an answer, with retries: 2', async () => {
    const f = await flaky(2);
    try {
      const r = await session.get(f.url('/ok'), { retries: 2 });
      assert.equal(r.status, 200);
      assert.equal(f.connections, 3);
    } finally {
      await f.close();
    }
  });

  test('retries: 1 is not enough for two failures: the last ConnectionError is thrown', async () => {
    const f = await flaky(2);
    try {
      await assert.rejects(session.get(f.url('/'), { retries: 1 }), ConnectionError);
      assert.equal(f.connections, 2);
    } finally {
      await f.close();
    }
  });

  test('no retries by default', async () => {
    const f = await flaky(1);
    try {
      await assert.rejects(session.get(f.url('/')), ConnectionError);
      assert.equal(f.connections, 1);
    } finally {
      await f.close();
    }
  });

  test('PUT, DELETE, HEAD and OPTIONS are idempotent; a string body is sent again', async () => {
    for (const method of ['PUT', 'DELETE', 'HEAD', 'OPTIONS']) {
      const f = await flaky(1);
      try {
        const r = await session.request(method, f.url('/'), {
          retries: 1,
          ...(method === 'PUT' ? { data: 'payload' } : {}),
        });
        assert.equal(r.status, 200, method);
        if (method === 'PUT') assert.equal((await r.json<{ body: string }>()).body, 'payload');
        assert.equal(f.connections, 2, method);
      } finally {
        await f.close();
      }
    }
  });

  test('a Session default applies; a request can turn it off', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false, retries: 3 });
    const f = await flaky(1);
    try {
      assert.equal((await s.get(f.url('/'))).status, 200);
      assert.equal(f.connections, 2);
    } finally {
      await f.close();
    }
    const g = await flaky(1);
    try {
      await assert.rejects(s.get(g.url('/'), { retries: 0 }), ConnectionError);
      assert.equal(g.connections, 1);
    } finally {
      await g.close();
      await s.close();
    }
  });

  test('a connect timeout is retried', async () => {
    const stall = await startRawTlsServer({ mode: 'stall' });
    try {
      await assert.rejects(
        session.get(stall.url('/'), { retries: 1, timeout: { connect: 150 } }),
        ConnectTimeout,
      );
      assert.equal(stall.connections, 2);
    } finally {
      await stall.close();
    }
  });

  test('a connection reset after the request was sent is retried for GET', async () => {
    const raw = await startRawTlsServer({ mode: 'resetAfterHandshake', cert: issue(root) });
    try {
      await assert.rejects(session.get(raw.url('/'), { retries: 2 }), ConnectionError);
      assert.equal(raw.connections, 3);
    } finally {
      await raw.close();
    }
  });

  test('backoff doubles: { total: 2, backoff: 60 } waits 60 then 120 ms', async () => {
    const f = await flaky(2);
    try {
      const t0 = performance.now();
      assert.equal((await session.get(f.url('/'), { retries: { total: 2, backoff: 60 } })).status, 200);
      const elapsed = performance.now() - t0;
      assert.ok(elapsed >= 170, `waited only ${elapsed.toFixed(0)} ms`);
    } finally {
      await f.close();
    }
  });

  test('an abort during the backoff ends the request at once', async () => {
    const f = await flaky(5);
    try {
      const ac = new AbortController();
      const t0 = performance.now();
      setTimeout(() => ac.abort(new Error('stop')), 50);
      await assert.rejects(
        session.get(f.url('/'), { retries: { total: 5, backoff: 5_000 }, signal: ac.signal }),
        /stop/,
      );
      assert.ok(performance.now() - t0 < 2_000);
      assert.equal(f.connections, 1);
    } finally {
      await f.close();
    }
  });
});

describe('never retried', () => {
  test('POST and PATCH', async () => {
    for (const method of ['POST', 'PATCH']) {
      const f = await flaky(1);
      try {
        await assert.rejects(session.request(method, f.url('/'), { retries: 3, data: 'x' }), ConnectionError);
        assert.equal(f.connections, 1, method);
      } finally {
        await f.close();
      }
    }
  });

  test('a stream body (spent after one attempt)', async () => {
    const f = await flaky(1);
    try {
      await assert.rejects(
        session.put(f.url('/'), { retries: 3, data: Readable.from(['a', 'b']) }),
        ConnectionError,
      );
      assert.equal(f.connections, 1);
    } finally {
      await f.close();
    }
  });

  test('a verification failure (SSLError)', async () => {
    const before = server.connections;
    await assert.rejects(session.get(server.url('/'), { retries: 3, verify: createRoot().pem }), SSLError);
    assert.equal(server.connections, before + 1);
  });

  test('a read timeout (the request reached the server)', async () => {
    const before = server.requests;
    await assert.rejects(
      session.get(server.url('/stall'), { retries: 3, timeout: { read: 150 } }),
      ReadTimeout,
    );
    assert.equal(server.requests, before + 1);
  });
});

describe('the option and the rules', () => {
  test('bad values are ConfigErrors', async () => {
    for (const retries of [-1, 1.5, 101, '3', { total: 2, backoff: -5 }, { backoff: 10 }, null]) {
      await assert.rejects(session.get(server.url('/'), { retries: retries as never }), (err: unknown) => {
        assert.ok(err instanceof ConfigError, JSON.stringify(retries));
        assert.equal(err.code, 'ERR_RETRIES_OPTION');
        return true;
      });
    }
  });

  test('resolveRetries, backoffDelay (capped at two minutes as urllib3)', () => {
    assert.deepEqual(resolveRetries(undefined), { total: 0, backoff: 0 });
    assert.deepEqual(resolveRetries(3), { total: 3, backoff: 0 });
    const p = resolveRetries({ total: 20, backoff: 100 });
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => backoffDelay(p, n)),
      [100, 200, 400, 800],
    );
    assert.equal(backoffDelay(p, 20), MAX_BACKOFF_MS);
    assert.equal(backoffDelay(resolveRetries(5), 3), 0);
  });

  test('isRetryable table', () => {
    const conn = new ConnectionError('reset');
    const table: [unknown, string, boolean, boolean][] = [
      [conn, 'GET', true, true],
      [conn, 'get', true, true],
      [conn, 'POST', true, false],
      [conn, 'PATCH', true, false],
      [conn, 'PUT', false, false], // stream body
      [new ConnectTimeout('slow'), 'HEAD', true, true],
      [new ReadTimeout('slow'), 'GET', true, false],
      [new SSLError('bad', { code: 'UNKNOWN_ISSUER' }), 'GET', true, false],
      [new SSLError('alert', { code: 'HANDSHAKE_FAILED' }), 'GET', true, false],
      [new ProxyError('407', { proxy: 'http://p', status: 407 }), 'GET', true, false],
      [new ProxyError('502', { proxy: 'http://p', status: 502 }), 'GET', true, true],
      [new ProxyError('refused', { proxy: 'http://p' }), 'GET', true, true],
      [new ConfigError('bad'), 'GET', true, false],
      [new Error('plain'), 'GET', true, false],
    ];
    for (const [err, method, replayable, expected] of table) {
      assert.equal(
        isRetryable(err, method, replayable),
        expected,
        `${(err as Error).name} ${method} ${replayable}`,
      );
    }
  });
});
