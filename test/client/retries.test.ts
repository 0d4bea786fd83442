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
  TotalTimeout,
} from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { closedPort, startRawTlsServer, startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let server: TestServer;
let session: Session;

/**
 * A TCP front for `server` that resets the first `failures` connections (RST as soon as the
 * ClientHello arrives) and forwards the later ones. Counts connections.
 */
async function flaky(failures: number): Promise<{
  url(path?: string): string;
  connections: number;
  /** Called after each connection the front resets. */
  onReset?: () => void;
  close(): Promise<void>;
}> {
  const sockets = new Set<net.Socket>();
  const state: { connections: number; onReset?: () => void } = { connections: 0 };
  const front = net.createServer((s) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    if (state.connections <= failures) {
      s.once('data', () => {
        s.resetAndDestroy();
        state.onReset?.();
      });
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
    set onReset(fn: (() => void) | undefined) {
      state.onReset = fn;
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

  test('a connection reset after the request was sent is a read failure: retried for GET only when read asks', async () => {
    const raw = await startRawTlsServer({ mode: 'resetAfterHandshake', cert: issue(root) });
    try {
      await assert.rejects(session.get(raw.url('/'), { retries: 2 }), (err: unknown) => {
        assert.ok(err instanceof ConnectionError);
        assert.equal(err.phase, 'exchange');
        assert.equal(err.retries, undefined);
        return true;
      });
      assert.equal(raw.connections, 1);
      await assert.rejects(session.get(raw.url('/'), { retries: { total: 2, read: 2 } }), (err: unknown) => {
        assert.ok(err instanceof ConnectionError);
        assert.deepEqual(
          err.retries?.map((x) => x.kind),
          ['read', 'read'],
        );
        return true;
      });
      assert.equal(raw.connections, 4);
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
      // Abort once the first attempt has failed (the front reset it), so the request is in its
      // 30 s backoff: deterministic however slow the machine is.
      f.onReset = () => setTimeout(() => ac.abort(new Error('stop')), 20);
      const t0 = performance.now();
      await assert.rejects(
        session.get(f.url('/'), { retries: { total: 5, backoff: 30_000 }, signal: ac.signal }),
        /stop/,
      );
      assert.ok(performance.now() - t0 < 20_000, 'the abort ended the 30 s backoff');
      assert.equal(f.connections, 1);
    } finally {
      await f.close();
    }
  });
});

describe('timeout.total bounds the retries', () => {
  test('a backoff longer than the total deadline ends with TotalTimeout, not a hang', async () => {
    const f = await flaky(5);
    try {
      const t0 = performance.now();
      await assert.rejects(
        session.get(f.url('/'), { retries: { total: 5, backoff: 30_000 }, timeout: { total: 1000 } }),
        TotalTimeout,
      );
      assert.ok(performance.now() - t0 < 20_000);
      // No second attempt (on a very slow machine the deadline may even pass before the first).
      assert.ok(f.connections <= 1, `${f.connections} connections`);
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
    for (const retries of [
      -1,
      1.5,
      101,
      '3',
      { total: 2, backoff: -5 },
      { backoff: 10 },
      null,
      { total: 2, statusForcelist: [99] },
      { total: 2, statusForcelist: 503 },
      { total: 2, jitter: 2 },
      { total: 2, backoffMax: 0 },
      { total: 2, respectRetryAfter: 'yes' },
      { total: 2, allowedMethods: 'GET' },
      { total: 2, connect: -1 },
    ]) {
      await assert.rejects(session.get(server.url('/'), { retries: retries as never }), (err: unknown) => {
        assert.ok(err instanceof ConfigError, JSON.stringify(retries));
        assert.equal(err.code, 'ERR_RETRIES_OPTION');
        return true;
      });
    }
  });

  test('resolveRetries, backoffDelay (capped at two minutes as urllib3)', () => {
    assert.equal(resolveRetries(undefined).total, 0);
    const three = resolveRetries(3);
    // A number: connection errors and statuses, not read errors (requests' Retry(n, read=False)).
    assert.deepEqual([three.total, three.connect, three.read, three.status, three.backoff], [3, 3, 0, 3, 0]);
    assert.deepEqual([...three.statusForcelist], [413, 429, 503]);
    assert.deepEqual([...three.allowedMethods].sort(), ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PUT', 'TRACE']);
    // Without total: the sum of the kinds given, and a kind not given is not retried.
    const some = resolveRetries({ status: 2, read: 1 });
    assert.deepEqual([some.total, some.connect, some.read, some.status], [3, 0, 1, 2]);
    const capped = resolveRetries({ total: 5, read: 2 });
    assert.deepEqual([capped.total, capped.connect, capped.read, capped.status], [5, 5, 2, 5]);
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
      [new ConnectionError('closed', { phase: 'exchange' }), 'GET', true, false],
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
    // A connection lost after the request was handed to it counts as read: retried when asked.
    const read = resolveRetries({ total: 1, read: 1 });
    assert.equal(isRetryable(new ConnectionError('closed', { phase: 'exchange' }), 'GET', true, read), true);
    assert.equal(new ConnectionError('refused').phase, 'connect');
    assert.equal(new ProxyError('refused', { proxy: 'http://p' }).phase, 'connect');
  });
});

/**
 * A server whose answers are scripted per path: /script/<id> answers with the statuses queued for
 * <id> (then 200), each with the Retry-After queued beside it. Counts requests per id.
 */
interface Script {
  statuses: number[];
  retryAfter: (string | undefined)[];
  seen: number;
  methods: string[];
}
const scripts = new Map<string, Script>();
let scripted: TestServer;

function script(id: string, statuses: number[], retryAfter: (string | undefined)[] = []): Script {
  const s = { statuses, retryAfter, seen: 0, methods: [] };
  scripts.set(id, s);
  return s;
}

describe('statuses are retried as urllib3 does (statusForcelist, Retry-After)', () => {
  before(async () => {
    scripted = await startTlsServer({
      cert: issue(root),
      handler: (req, res) => {
        req.resume();
        req.on('end', () => {
          const id = (req.url ?? '').split('/')[2] ?? '';
          const s = scripts.get(id);
          if (!s) {
            res.writeHead(404).end();
            return;
          }
          const i = s.seen++;
          s.methods.push(req.method ?? '');
          const status = s.statuses[i] ?? 200;
          const ra = s.retryAfter[i];
          res.writeHead(status, {
            'content-type': 'text/plain',
            ...(ra === undefined ? {} : { 'retry-after': ra }),
          });
          res.end(status === 200 ? 'finally' : `status ${status}, try again`);
        });
      },
    });
  });
  after(async () => {
    await scripted.close();
  });

  test('503 with Retry-After in seconds, then 200: waited, recorded on r.retries, same connection', async () => {
    const s = script('seconds', [503], ['1']);
    const connections = scripted.connections;
    const t0 = performance.now();
    const r = await session.get(scripted.url('/script/seconds'), { retries: 2 });
    const elapsed = performance.now() - t0;
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'finally');
    assert.equal(s.seen, 2);
    assert.ok(elapsed >= 950, `waited only ${elapsed.toFixed(0)} ms for Retry-After: 1`);
    assert.equal(r.retries.length, 1);
    const [rec] = r.retries;
    assert.equal(rec?.kind, 'status');
    assert.equal(rec?.status, 503);
    assert.equal(rec?.reason, 'HTTP 503');
    assert.equal(rec?.wait, 1000);
    assert.equal(rec?.retryAfter, true);
    assert.equal(rec?.attempt, 1);
    // The 503's body was read off, so the retry went over the same connection.
    assert.equal(scripted.connections - connections, 1);
  });

  test('429 with Retry-After as an HTTP-date', async () => {
    const soon = new Date(Date.now() + 1500).toUTCString();
    const s = script('date', [429], [soon]);
    const r = await session.get(scripted.url('/script/date'), { retries: 1 });
    assert.equal(r.status, 200);
    assert.equal(s.seen, 2);
    const rec = r.retries[0]!;
    assert.equal(rec.retryAfter, true);
    assert.ok(rec.wait > 0 && rec.wait <= 1500, `wait ${rec.wait}`);
    // A date in the past: no wait.
    script('past', [503], ['Wed, 21 Oct 2015 07:28:00 GMT']);
    const p = await session.get(scripted.url('/script/past'), { retries: 1 });
    assert.equal(p.status, 200);
    assert.equal(p.retries[0]?.wait, 0);
  });

  test('a Retry-After longer than the cap returns the response at once', async () => {
    const s = script('toolong', [503], ['3600']);
    const t0 = performance.now();
    const r = await session.get(scripted.url('/script/toolong'), {
      retries: { total: 3, respectRetryAfter: 2000 },
    });
    assert.equal(r.status, 503);
    assert.equal(s.seen, 1);
    assert.equal(r.retries.length, 0);
    assert.ok(performance.now() - t0 < 3000);
    // respectRetryAfter: false: the backoff instead (0 here), so it is retried at once.
    script('ignored', [503], ['3600']);
    const ignored = await session.get(scripted.url('/script/ignored'), {
      retries: { total: 3, respectRetryAfter: false },
    });
    assert.equal(ignored.status, 200);
    assert.equal(ignored.retries[0]?.retryAfter, undefined);
  });

  test('statusForcelist: 500 is not retried by default, is when listed; the budget ends with the last response', async () => {
    const s500 = script('five', [500]);
    const r = await session.get(scripted.url('/script/five'), { retries: 3 });
    assert.equal(r.status, 500);
    assert.equal(s500.seen, 1);
    script('five-listed', [500, 502]);
    const listed = await session.get(scripted.url('/script/five-listed'), {
      retries: { total: 3, statusForcelist: [500, 502] },
    });
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.retries.map((x) => x.status),
      [500, 502],
    );
    // Always 503: three answers, the last returned (status budget 2), two records.
    const always = script('always', [503, 503, 503, 503, 503]);
    const last = await session.get(scripted.url('/script/always'), { retries: { total: 5, status: 2 } });
    assert.equal(last.status, 503);
    assert.equal(always.seen, 3);
    assert.deepEqual(
      last.retries.map((x) => x.attempt),
      [1, 2],
    );
  });

  test('maxTime: no retry whose wait would end after it (curl --retry-max-time); a connection error too', async () => {
    // Waits 100, 200, 400 ms: the third would end ~700 ms after the start, past 500.
    const s = script('max-time', [503, 503, 503, 503, 503]);
    const r = await session.get(scripted.url('/script/max-time'), {
      retries: { total: 5, backoff: 100, jitter: 0, maxTime: 500 },
    });
    assert.equal(r.status, 503);
    assert.equal(s.seen, 3);
    assert.deepEqual(
      r.retries.map((x) => x.wait),
      [100, 200],
    );
    // maxTime 0: no retry at all, and a connection error is thrown as it is.
    const closed = await closedPort();
    await assert.rejects(
      session.get(`https://127.0.0.1:${closed}/`, { retries: { total: 3, maxTime: 0 } }),
      (err: unknown) => err instanceof ConnectionError && (err.retries ?? []).length === 0,
    );
    await assert.rejects(session.get(scripted.url('/'), { retries: { total: 1, maxTime: -1 } }), ConfigError);
  });

  test('POST is not retried by default; allowedMethods can allow it', async () => {
    const s = script('post', [503]);
    const r = await session.post(scripted.url('/script/post'), { retries: 3, data: 'x' });
    assert.equal(r.status, 503);
    assert.equal(s.seen, 1);
    const allowed = script('post-allowed', [503]);
    const ok = await session.post(scripted.url('/script/post-allowed'), {
      retries: { total: 3, allowedMethods: ['GET', 'POST'] },
      data: 'x',
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(allowed.methods, ['POST', 'POST']);
  });

  test('a stream body is not sent twice: the 503 is the answer', async () => {
    const s = script('stream', [503]);
    const r = await session.put(scripted.url('/script/stream'), {
      retries: 3,
      data: Readable.from([Buffer.from('a')]),
    });
    assert.equal(r.status, 503);
    assert.equal(s.seen, 1);
  });
});

describe('what each attempt met is recorded', () => {
  test('connection errors on r.retries, with the backoff (and jitter) waited', async () => {
    const f = await flaky(2);
    try {
      const r = await session.get(f.url('/'), { retries: { total: 2, backoff: 40, jitter: 0.5 } });
      assert.equal(r.status, 200);
      assert.deepEqual(
        r.retries.map((x) => [x.attempt, x.kind]),
        [
          [1, 'connect'],
          [2, 'connect'],
        ],
      );
      for (const x of r.retries) assert.match(x.reason, /^ERR_CONNECTION/);
      const [w1, w2] = r.retries.map((x) => x.wait);
      assert.ok(w1! >= 40 && w1! <= 60, `first wait ${w1}`);
      assert.ok(w2! >= 80 && w2! <= 120, `second wait ${w2}`);
    } finally {
      await f.close();
    }
  });

  test('the error thrown after retries carries them on err.retries; an SSLError has none', async () => {
    const f = await flaky(3);
    try {
      await assert.rejects(session.get(f.url('/'), { retries: 1 }), (err: unknown) => {
        assert.ok(err instanceof ConnectionError);
        assert.equal(err.retries?.length, 1);
        assert.equal(err.retries?.[0]?.kind, 'connect');
        return true;
      });
    } finally {
      await f.close();
    }
    await assert.rejects(
      session.get(server.url('/'), { retries: 3, verify: createRoot().pem }),
      (err: unknown) => {
        assert.ok(err instanceof SSLError);
        assert.equal(err.retries, undefined);
        return true;
      },
    );
  });

  test('read: a read timeout is retried only when read retries are asked for', async () => {
    const before = server.requests;
    await assert.rejects(
      session.get(server.url('/stall'), { retries: { total: 2, read: 1 }, timeout: { read: 150 } }),
      (err: unknown) => {
        assert.ok(err instanceof ReadTimeout);
        assert.deepEqual(
          err.retries?.map((x) => x.kind),
          ['read'],
        );
        return true;
      },
    );
    assert.equal(server.requests, before + 2);
  });
});

/**
 * A server that reads each request whole, counts it (as if it acted on it), then closes the
 * connection without answering: the failure urllib3 counts as a read error (its ProtocolError
 * "Connection aborted"). `answerFrom`: from that request on (1-based), it answers 200 instead.
 */
async function dropper(answerFrom = Number.POSITIVE_INFINITY): Promise<{
  url(path?: string): string;
  readonly received: number;
  readonly bodies: string[];
  close(): Promise<void>;
}> {
  const bodies: string[] = [];
  const srv = await startTlsServer({
    cert: issue(root),
    handler: (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        bodies.push(body);
        if (bodies.length >= answerFrom) res.end('done');
        else req.socket.destroy();
      });
    },
  });
  return {
    url: (path = '/') => srv.url(path),
    get received() {
      return bodies.length;
    },
    bodies,
    close: () => srv.close(),
  };
}

describe('a connection lost after the request was sent counts as read (the server may have acted on it)', () => {
  test('POST allowed, read not given or 0: sent once; the error says phase exchange', async () => {
    for (const retries of [
      { total: 3, allowedMethods: ['POST'] },
      { total: 3, read: 0, allowedMethods: ['POST'] },
    ]) {
      const d = await dropper();
      try {
        await assert.rejects(
          session.post(d.url('/orders'), { data: 'charge=100', retries }),
          (err: unknown) => {
            assert.ok(err instanceof ConnectionError, String(err));
            assert.equal(err.code, 'ERR_CONNECTION_CLOSED');
            assert.equal(err.phase, 'exchange');
            assert.equal(err.retries, undefined);
            assert.match(err.hint ?? '', /may have acted on it/);
            return true;
          },
        );
        assert.equal(d.received, 1, JSON.stringify(retries));
        assert.deepEqual(d.bodies, ['charge=100']);
      } finally {
        await d.close();
      }
    }
  });

  test('POST allowed with read: 1: sent twice, recorded as read', async () => {
    const d = await dropper();
    try {
      await assert.rejects(
        session.post(d.url('/orders'), {
          data: 'charge=100',
          retries: { total: 3, read: 1, allowedMethods: ['POST'] },
        }),
        (err: unknown) => {
          assert.ok(err instanceof ConnectionError);
          assert.deepEqual(
            err.retries?.map((x) => [x.attempt, x.kind, x.reason]),
            [[1, 'read', 'ERR_CONNECTION_CLOSED']],
          );
          return true;
        },
      );
      assert.equal(d.received, 2);
    } finally {
      await d.close();
    }
  });

  test('retries: 3 (read 0): GET, PUT and DELETE are sent once', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const d = await dropper();
      try {
        await assert.rejects(
          session.request(method, d.url('/'), { retries: 3, ...(method === 'PUT' ? { data: 'x' } : {}) }),
          (err: unknown) => err instanceof ConnectionError && err.phase === 'exchange',
        );
        assert.equal(d.received, 1, method);
      } finally {
        await d.close();
      }
    }
  });

  test('read: 1 and a second attempt that is answered: r.retries has one read record', async () => {
    const d = await dropper(2);
    try {
      const r = await session.get(d.url('/'), { retries: { total: 3, read: 1 } });
      assert.equal(r.status, 200);
      assert.equal(await r.text(), 'done');
      assert.deepEqual(
        r.retries.map((x) => [x.attempt, x.kind, x.reason]),
        [[1, 'read', 'ERR_CONNECTION_CLOSED']],
      );
      assert.equal(d.received, 2);
    } finally {
      await d.close();
    }
  });

  test('a reused keep-alive connection dropped after the next request: read too, not sent again by retries: 3', async () => {
    // Requests are answered until `armed`; then a request on a connection that has served one
    // before is read and dropped (the server closing an idle keep-alive connection as the next
    // request arrives).
    const s = new Session({ verify: root.pem, trustEnv: false });
    const perSocket = new WeakMap<object, number>();
    let armed = false;
    let served = 0;
    let droppedOnReused = 0;
    const srv = await startTlsServer({
      cert: issue(root),
      handler: (req, res) => {
        req.resume();
        req.on('end', () => {
          served++;
          const n = (perSocket.get(req.socket) ?? 0) + 1;
          perSocket.set(req.socket, n);
          if (armed && n >= 2) {
            droppedOnReused++;
            req.socket.destroy();
          } else res.end('ok');
        });
      },
    });
    try {
      for (let i = 0; i < 3; i++) assert.equal(await (await s.get(srv.url('/'))).text(), 'ok');
      const warm = srv.connections;
      armed = true;
      await assert.rejects(
        s.get(srv.url('/'), { retries: 3 }),
        (err: unknown) => err instanceof ConnectionError && err.phase === 'exchange',
      );
      assert.equal(droppedOnReused, 1);
      assert.equal(served, 4, 'sent once');
      assert.equal(srv.connections, warm, 'it went over a pooled connection');
    } finally {
      await s.close();
      await srv.close();
    }
  });

  test('a refused port is still a connect failure, retried by retries: 2', async () => {
    const port = await closedPort();
    await assert.rejects(session.get(`https://127.0.0.1:${port}/`, { retries: 2 }), (err: unknown) => {
      assert.ok(err instanceof ConnectionError, String(err));
      assert.equal(err.code, 'ERR_CONNECTION_CONNREFUSED');
      assert.equal(err.phase, 'connect');
      assert.deepEqual(
        err.retries?.map((x) => [x.kind, x.reason]),
        [
          ['connect', 'ERR_CONNECTION_CONNREFUSED'],
          ['connect', 'ERR_CONNECTION_CONNREFUSED'],
        ],
      );
      return true;
    });
  });

  test('a reset during the TLS handshake is a connect failure (nothing sent): retried for POST when allowed', async () => {
    const f = await flaky(1);
    try {
      const r = await session.post(f.url('/'), {
        data: 'once',
        retries: { total: 1, allowedMethods: ['POST'] },
      });
      assert.equal(r.status, 200);
      assert.deepEqual(
        r.retries.map((x) => x.kind),
        ['connect'],
      );
      assert.equal(f.connections, 2);
    } finally {
      await f.close();
    }
  });
});
