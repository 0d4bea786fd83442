/**
 * agent(): our verification inside node:https, axios (httpsAgent), got (agent.https) and
 * node-fetch (agent), each with the real library against loopback servers. On failure the
 * library's error carries our SSLError (code, hint) and the server received no request byte.
 */
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import https from 'node:https';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import axios from 'axios';
import got from 'got';
import nodeFetch from 'node-fetch';
import { agent, ConfigError, ConnectionError, findingFor, type SSLError } from '../../src/index.js';
import { issue } from '../support/pki.js';
import { startProxy } from '../support/proxy.js';
import { closedPort, startTlsServer, type TestServer } from '../support/servers.js';
import {
  type AdapterServers,
  collectInsecureWarnings,
  sslErrorOf,
  startAdapterServers,
  UNTRUSTED,
} from './_shared.js';

let servers: AdapterServers;

before(async () => {
  servers = await startAdapterServers('adapters-https', 'certainly agent tests root');
});

after(async () => {
  await servers.close();
});

type Send = (url: string, a: https.Agent) => Promise<{ status: number; body: string }>;

const clients: Record<string, Send> = {
  'node:https': (url, a) =>
    new Promise((resolve, reject) => {
      const req = https.get(url, { agent: a }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      req.on('error', reject);
    }),
  axios: async (url, a) => {
    // proxy: false, or axios would apply HTTPS_PROXY itself and bypass the agent's tunnel.
    const r = await axios.get(url, { httpsAgent: a, proxy: false, responseType: 'text' });
    return { status: r.status, body: String(r.data) };
  },
  got: async (url, a) => {
    const r = await got(url, { agent: { https: a }, retry: { limit: 0 }, throwHttpErrors: false });
    return { status: r.statusCode, body: r.body };
  },
  'node-fetch': async (url, a) => {
    const r = await nodeFetch(url, { agent: a });
    return { status: r.status, body: await r.text() };
  },
};

/** Where each library puts the underlying error. */
const expectedShape: Record<string, (err: unknown, ssl: SSLError) => void> = {
  'node:https': (err, ssl) => assert.equal(err, ssl, 'node:https emits our error itself'),
  axios: (err, ssl) => {
    assert.equal((err as { cause?: unknown }).cause, ssl, 'AxiosError.cause');
    assert.equal((err as { code?: string }).code, ssl.code, 'AxiosError.code is our code');
  },
  got: (err, ssl) => {
    assert.equal((err as { name?: string }).name, 'RequestError');
    assert.equal((err as { cause?: unknown }).cause, ssl, 'RequestError.cause');
    assert.equal((err as { code?: string }).code, ssl.code, 'RequestError.code is our code');
  },
};

for (const [name, send] of Object.entries(clients)) {
  describe(`agent() with ${name}`, () => {
    test('a verified request succeeds, and keep-alive reuses the connection', async () => {
      const a = agent({ verify: servers.caPath, trustEnv: false });
      try {
        const c0 = servers.good.connections;
        const r = await send(servers.good.url('/hello'), a);
        assert.equal(r.status, 200);
        assert.match(r.body, /hello/);
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal((await send(servers.good.url('/again'), a)).status, 200);
        assert.equal(servers.good.connections - c0, 1);
      } finally {
        a.destroy();
      }
    });

    test('a name mismatch surfaces our SSLError (code, hint) and sends nothing', async () => {
      const a = agent({ verify: servers.caPath, trustEnv: false });
      try {
        const before = servers.wrongName.bytesReceived;
        const err = await send(servers.wrongName.url('/'), a).then(
          () => assert.fail('expected a failure'),
          (e: unknown) => e,
        );
        if (name === 'node-fetch') {
          // node-fetch 3 keeps only the code and message of the error it wraps (no cause).
          assert.equal((err as { name?: string }).name, 'FetchError');
          assert.equal((err as { code?: string }).code, 'HOSTNAME_MISMATCH');
          assert.match((err as Error).message, /api\.example\.test, not 127\.0\.0\.1/);
        } else {
          const ssl = sslErrorOf(err);
          assert.ok(ssl, `no SSLError in ${String(err)}`);
          assert.equal(ssl.code, 'HOSTNAME_MISMATCH');
          assert.deepEqual(ssl.presented, ['api.example.test']);
          assert.ok(ssl.hint && ssl.hint.length > 0);
          expectedShape[name]!(err, ssl);
        }
        assert.equal(servers.wrongName.bytesReceived, before);
      } finally {
        a.destroy();
      }
    });

    test('an untrusted server fails; rejectUnauthorized: false from the library does not weaken it', async () => {
      const a = agent({ trustEnv: false });
      try {
        const before = servers.selfSignedServer.bytesReceived;
        const err = await send(servers.selfSignedServer.url('/'), a).then(
          () => assert.fail('expected a failure'),
          (e: unknown) => e,
        );
        assert.ok(UNTRUSTED.includes((err as { code?: string }).code ?? ''), String(err));
        assert.equal(servers.selfSignedServer.bytesReceived, before);
      } finally {
        a.destroy();
      }
    });
  });
}

describe('agent(): library options cannot weaken verification', () => {
  test('node:https rejectUnauthorized: false and a ca option are ignored by the agent', async () => {
    const a = agent({ verify: servers.caPath, trustEnv: false });
    try {
      await assert.rejects(
        new Promise((resolve, reject) => {
          https
            .get(servers.selfSignedServer.url('/'), { agent: a, rejectUnauthorized: false, ca: [] }, resolve)
            .on('error', reject);
        }),
        (e: unknown) => UNTRUSTED.includes((e as SSLError).code),
      );
    } finally {
      a.destroy();
    }
  });

  test('axios with verify: false in one agent never lends its connection to a verified agent', async () => {
    const warnings = collectInsecureWarnings();
    const insecure = agent({ verify: false });
    const verified = agent({ verify: servers.caPath, trustEnv: false });
    try {
      const r = await axios.get(servers.selfSignedServer.url('/a'), { httpsAgent: insecure, proxy: false });
      assert.equal(r.status, 200);
      const bytes = servers.selfSignedServer.bytesReceived;
      await assert.rejects(
        axios.get(servers.selfSignedServer.url('/b'), { httpsAgent: verified, proxy: false }),
        (e: unknown) => UNTRUSTED.includes((e as { code?: string }).code ?? ''),
      );
      assert.equal(servers.selfSignedServer.bytesReceived, bytes);
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(warnings.messages.some((m) => m.includes('127.0.0.1')));
    } finally {
      warnings.stop();
      insecure.destroy();
      verified.destroy();
    }
  });

  test("TLS options in the pool's argument are refused, not ignored: each names the option to use", () => {
    // node:https hands these to createConnection, which is certainly's connector: a client
    // certificate given as agent({}, { cert, key }) was silently never sent.
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { cert: 'client.pem', key: 'client.key', keepAlive: true },
        /'cert' .*use cert: \{ cert, key, passphrase \}/,
      ],
      [{ pfx: Buffer.alloc(1) }, /'pfx' .*cert: \{ pfx, passphrase \}/],
      [{ ca: servers.root.pem }, /'ca' .*verify: 'ca\.pem'/],
      [{ rejectUnauthorized: false }, /'rejectUnauthorized' .*verify: false/],
      [{ servername: 'api.example.com' }, /'servername' .*use serverName/],
      [{ checkServerIdentity: () => undefined }, /'checkServerIdentity' .*pin, fingerprint or onConnection/],
      [{ family: 6 }, /'family' .*family: 4 or 6/],
      [{ minVersion: 'TLSv1.3' }, /'minVersion' .*has no option for this/],
      [{ maxCachedSessions: 10 }, /'maxCachedSessions' .*has no option for this/],
      // Node 24's Agent reads HTTPS_PROXY itself in the createConnection certainly replaces.
      [{ proxyEnv: process.env }, /'proxyEnv' .*use proxy: 'http:\/\/host:port'/],
    ];
    for (const [pool, message] of cases) {
      assert.throws(
        () => agent({ verify: servers.caPath, trustEnv: false }, pool as never),
        (e: unknown) =>
          e instanceof ConfigError && e.code === 'ERR_UNKNOWN_OPTION' && message.test(e.message),
        JSON.stringify(Object.keys(pool)),
      );
    }
    // @ts-expect-error a TLS option is not one of the pool's, at compile time too
    assert.throws(() => agent({}, { cert: 'client.pem' }), ConfigError);
    // The pool's own settings (and an undefined TLS key, as a spread leaves it) are taken.
    agent({ trustEnv: false }, {
      keepAlive: false,
      maxSockets: 2,
      timeout: 1000,
      ca: undefined,
    } as never).destroy();
  });

  test('bad options are ConfigErrors when the agent is made', () => {
    assert.throws(() => agent({ verify: '/no/such/ca.pem' }), ConfigError);
    assert.throws(() => agent({ serverName: 'bad name!' }));
    assert.throws(() => agent({ connectTo: 'host:99999' }), ConfigError);
    assert.throws(
      () => agent({ rejectUnauthorized: false } as never),
      (e: unknown) => e instanceof ConfigError && /rejectUnauthorized/.test(e.message),
    );
  });
});

describe('agent() through a proxy', () => {
  test('got and axios tunnel through CONNECT; the target is verified through it', async () => {
    const p = await startProxy({ auth: 'u:p' });
    const a = agent({ verify: servers.caPath, trustEnv: false, proxy: `http://u:p@127.0.0.1:${p.port}` });
    try {
      const r = await got(servers.good.url('/via-got'), { agent: { https: a }, retry: { limit: 0 } });
      assert.equal(r.statusCode, 200);
      const x = await axios.get(servers.good.url('/via-axios'), { httpsAgent: a, proxy: false });
      assert.equal(x.status, 200);
      assert.ok(p.connects.length >= 1);
      assert.ok(p.connects.every((c) => c.target === `127.0.0.1:${servers.good.port}` && c.status === 200));
      await assert.rejects(
        got(servers.wrongName.url('/'), { agent: { https: a }, retry: { limit: 0 } }),
        (e: unknown) => (e as { code?: string }).code === 'HOSTNAME_MISMATCH',
      );
      assert.equal(servers.wrongName.bytesReceived, 0);
    } finally {
      a.destroy();
      await p.close();
    }
  });

  test('a 407 from the proxy is a ProxyError inside the library error', async () => {
    const p = await startProxy({ auth: 'u:p' });
    const a = agent({ verify: servers.caPath, trustEnv: false, proxy: p.url });
    try {
      await assert.rejects(
        axios.get(servers.good.url('/'), { httpsAgent: a, proxy: false }),
        (e: unknown) => {
          const cause = (e as { cause?: { name?: string; status?: number; code?: string } }).cause;
          return cause?.name === 'ProxyError' && cause.status === 407 && cause.code === 'ERR_PROXY_AUTH';
        },
      );
    } finally {
      a.destroy();
      await p.close();
    }
  });
});

describe('agent(): a server that requires a client certificate, none given (TLS 1.3)', () => {
  // The server's refusal arrives after the handshake, as an 'error' node:tls emits on the
  // established socket. It used to reach node:http twice (OpenSSL's error, then ours): axios and
  // got reported OpenSSL's text, and the second 'error' went to nobody, an uncaught exception
  // that ended the process under axios.
  let mtls: TestServer;
  before(async () => {
    mtls = await startTlsServer({
      cert: issue(servers.root, { sans: ['IP:127.0.0.1'] }),
      requestCert: true,
      clientCa: servers.root.pem,
      minVersion: 'TLSv1.3',
    });
  });
  after(async () => {
    await mtls.close();
  });

  const isRefusal = (e: unknown) => {
    const ssl = sslErrorOf(e);
    assert.ok(ssl, `no SSLError in ${String(e)}`);
    assert.equal(ssl.code, 'HANDSHAKE_FAILED');
    assert.match(ssl.message, /certificate required/);
    assert.match(ssl.hint ?? '', /requires a client certificate: pass cert/);
    return true;
  };

  test('node:https emits one error, our SSLError with the hint', async () => {
    const a = agent({ verify: servers.caPath, trustEnv: false });
    try {
      const errors: unknown[] = [];
      await new Promise<void>((resolve) => {
        const req = https.get(mtls.url('/'), { agent: a }, () => resolve());
        req.on('error', (e) => {
          errors.push(e);
          // Whatever else would come follows within the same few ticks.
          setTimeout(resolve, 200);
        });
      });
      assert.equal(errors.length, 1, errors.map(String).join('\n'));
      assert.ok(isRefusal(errors[0]));
      assert.equal(mtls.requests, 0);
    } finally {
      a.destroy();
    }
  });

  for (const lib of ['axios', 'got'] as const) {
    test(`${lib} rejects with our SSLError, and nothing is left uncaught`, async () => {
      const uncaught: unknown[] = [];
      const onUncaught = (e: unknown) => uncaught.push(e);
      // node:test's own listener would fail the run; ours records the error for the assertion.
      const saved = process.listeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      process.on('uncaughtException', onUncaught);
      const a = agent({ verify: servers.caPath, trustEnv: false });
      try {
        const err = await clients[lib]!(mtls.url('/'), a).then(
          () => assert.fail('expected a failure'),
          (e: unknown) => e,
        );
        assert.ok(isRefusal(err));
        assert.equal((err as { code?: string }).code, 'HANDSHAKE_FAILED', `${lib}'s error code`);
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(uncaught.map(String), []);
      } finally {
        a.destroy();
        process.off('uncaughtException', onUncaught);
        for (const l of saved) process.on('uncaughtException', l);
      }
    });
  }
});

describe("agent(): a connection failure keeps the system's code, so the library acts on it as before", () => {
  // got retries ECONNREFUSED, ECONNRESET, ENOTFOUND, ETIMEDOUT… by default and axios users test
  // err.code === 'ECONNREFUSED'; with certainly's ERR_CONNECTION_CONNREFUSED got stopped retrying.
  test('got retries a server that resets every connection, as it does without the agent', async () => {
    let attempts = 0;
    const resetter = net.createServer((s) => {
      attempts++;
      s.resetAndDestroy();
    });
    await new Promise<void>((r) => resetter.listen(0, '127.0.0.1', r));
    const a = agent({ verify: servers.caPath, trustEnv: false });
    try {
      const url = `https://127.0.0.1:${(resetter.address() as net.AddressInfo).port}/`;
      const err = await got(url, {
        agent: { https: a },
        retry: { limit: 2, calculateDelay: ({ computedValue }) => (computedValue ? 1 : 0) },
      }).then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      );
      assert.equal((err as { code?: string }).code, 'ECONNRESET');
      assert.equal(attempts, 3, "the first attempt and got's two retries");
      const cause = (err as { cause?: unknown }).cause;
      assert.ok(cause instanceof ConnectionError, String(cause));
      assert.equal(cause.phase, 'connect');
      assert.match(cause.message, /reset by the server/);
    } finally {
      a.destroy();
      await new Promise((r) => resetter.close(r));
    }
  });

  test("axios: a refused connection is ECONNREFUSED, with certainly's message and hint", async () => {
    const a = agent({ verify: servers.caPath, trustEnv: false });
    try {
      const port = await closedPort();
      const err = await axios.get(`https://127.0.0.1:${port}/`, { httpsAgent: a, proxy: false }).then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      );
      assert.equal((err as { code?: string }).code, 'ECONNREFUSED');
      const cause = (err as { cause?: unknown }).cause;
      assert.ok(cause instanceof ConnectionError);
      assert.equal(cause.code, 'ECONNREFUSED');
      assert.match(cause.message, /nothing listens on that port/);
      assert.equal(findingFor(cause).code, 'CONNECTION_FAILED');
    } finally {
      a.destroy();
    }
  });
});

describe("agent(): the pool's maxSockets holds for a burst", () => {
  // node:http counts a socket once createConnection has called back, which ours does after the
  // handshake and verification: every request of a burst used to see an empty pool and open a
  // connection of its own (10 for 10 requests with maxSockets: 2).
  test('10 concurrent requests through axios, got and node:https with maxSockets: 2 use 2 connections', async () => {
    const a = agent({ verify: servers.caPath, trustEnv: false }, { maxSockets: 2 });
    try {
      const before = servers.good.connections;
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          clients[(['axios', 'got', 'node:https'] as const)[i % 3]]!(servers.good.url(`/burst/${i}`), a),
        ),
      );
      assert.deepEqual(
        results.map((r) => r.status),
        Array(10).fill(200),
      );
      assert.equal(servers.good.connections - before, 2);
    } finally {
      a.destroy();
    }
  });

  test('a burst to a port where nothing listens: every request fails (none left waiting in the queue)', async () => {
    const a = agent({ verify: servers.caPath, trustEnv: false }, { maxSockets: 2 });
    try {
      const url = `https://127.0.0.1:${await closedPort()}/`;
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => clients.axios!(url, a)));
      assert.deepEqual(
        results.map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code : r.status)),
        Array(6).fill('ECONNREFUSED'),
      );
    } finally {
      a.destroy();
    }
  });
});

describe("agent(): a request waiting for the pool's connection", () => {
  // With maxSockets, a request past the limit waits for a connection being made. It used to wait
  // in node:http's queue without the async context node:http keeps for the requests it queues, so
  // its callbacks ran in the context of the request that freed the socket; and an abort while it
  // waited was reported only when that connection came or failed (after the connect timeout).
  test("its callbacks run in its own AsyncLocalStorage context, as with node:https's own Agent", async () => {
    const als = new AsyncLocalStorage<string>();
    const seen = (a: https.Agent, id: string) =>
      als.run(
        id,
        () =>
          new Promise<string[]>((resolve, reject) => {
            const req = https.get(servers.good.url(`/als/${id}`), { agent: a }, (res) => {
              const stores = [als.getStore() ?? '-'];
              res.resume();
              res.on('end', () => resolve([...stores, als.getStore() ?? '-']));
            });
            req.on('error', reject);
          }),
      );
    for (const [label, a] of [
      ['agent()', agent({ verify: servers.caPath, trustEnv: false }, { maxSockets: 1 })],
      ['https.Agent', new https.Agent({ ca: servers.root.pem, maxSockets: 1 })],
    ] as const) {
      try {
        const got = await Promise.all(['A', 'B', 'C'].map((id) => seen(a, id)));
        assert.deepEqual(
          got,
          [
            ['A', 'A'],
            ['B', 'B'],
            ['C', 'C'],
          ],
          label,
        );
      } finally {
        a.destroy();
      }
    }
  });

  test('aborted while it waits: its AbortError at once, and no connection is made for it', async () => {
    let connections = 0;
    const silent = net.createServer((s) => {
      connections++;
      s.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const a = agent({ verify: servers.caPath, trustEnv: false, connectTimeout: 1500 }, { maxSockets: 1 });
    try {
      const url = `https://127.0.0.1:${(silent.address() as net.AddressInfo).port}/`;
      const first = new Promise<string>((resolve) => {
        https.get(url, { agent: a }).on('error', (e) => resolve((e as { code?: string }).code ?? e.name));
      });
      const start = Date.now();
      const waited = await new Promise<{ name: string; ms: number }>((resolve) => {
        https
          .get(url, { agent: a, signal: AbortSignal.timeout(50) })
          .on('error', (e) => resolve({ name: e.name, ms: Date.now() - start }));
      });
      assert.equal(waited.name, 'AbortError');
      // Well before the first connection's timeout (1.5 s), which it used to wait for; a bound,
      // not a speed assertion.
      assert.ok(waited.ms < 1400, `the abort was reported after ${waited.ms} ms`);
      assert.equal(await first, 'ERR_CONNECT_TIMEOUT');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(connections, 1, 'no connection was made for the aborted request');
    } finally {
      a.destroy();
      silent.close();
    }
  });
});

describe("agent(): the pool's timeout", () => {
  test("agent(options, { timeout }) is the sockets' idle timeout, as node:https's Agent's is (it was ignored)", async () => {
    const silent = await startTlsServer({
      cert: issue(servers.root, { sans: ['IP:127.0.0.1'] }),
      handler: () => {},
    });
    const a = agent({ verify: servers.caPath, trustEnv: false }, { timeout: 300 });
    try {
      const outcome = await new Promise<string>((resolve) => {
        const req = https.get(silent.url('/never'), { agent: a }, () => resolve('a response'));
        req.on('timeout', () => {
          resolve('timeout');
          req.destroy();
        });
        req.on('error', () => {});
        // A bound for a hang, not a speed assertion.
        setTimeout(() => {
          resolve('no timeout within 10 s');
          req.destroy();
        }, 10_000).unref();
      });
      assert.equal(outcome, 'timeout');
      assert.equal(silent.requests, 1, 'the request reached the server, which never answered');
    } finally {
      a.destroy();
      await silent.close();
    }
  });
});

describe('agent(): node:https aborted while the connection is being made', () => {
  // node:http gives a request its socket when createConnection calls back, which agent() does
  // after the handshake and verification: an abort before that was only recorded, and the request
  // failed when the connection came or timed out (a ConnectTimeout, 10 s later by default).
  const abortDuring = (url: string, a: https.Agent, abortAfterMs: number, watchMs: number) =>
    new Promise<unknown[]>((resolve) => {
      const errors: unknown[] = [];
      const req = https.get(url, { agent: a, signal: AbortSignal.timeout(abortAfterMs) }, () =>
        errors.push(new Error('a response')),
      );
      req.on('error', (e) => {
        errors.push(e);
        // Whatever else would come (the connection's own outcome) comes within watchMs.
        setTimeout(() => resolve(errors), watchMs);
      });
    });

  test('a server that never answers the handshake: AbortError at once, and nothing after it', async () => {
    const silent = net.createServer((s) => s.on('error', () => {}));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    // The connect timeout fires within the watch: its error must not reach the request.
    const a = agent({ verify: servers.caPath, trustEnv: false, connectTimeout: 300 });
    try {
      const url = `https://127.0.0.1:${(silent.address() as net.AddressInfo).port}/`;
      const errors = await abortDuring(url, a, 50, 1000);
      assert.deepEqual(
        errors.map((e) => (e as Error).name),
        ['AbortError'],
      );
    } finally {
      a.destroy();
      silent.close();
    }
  });

  test('a handshake that completes after the abort: nothing is sent, the agent still works', async () => {
    // A TCP relay to the good server that holds each connection 300 ms before relaying.
    const relay = net.createServer((client) => {
      client.on('error', () => {});
      client.pause();
      setTimeout(() => {
        const up = net.connect(servers.good.port, '127.0.0.1', () => {
          client.pipe(up).pipe(client);
          client.resume();
        });
        up.on('error', () => client.destroy());
        client.on('close', () => up.destroy());
      }, 300);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const a = agent({ verify: servers.caPath, trustEnv: false });
    try {
      const url = `https://127.0.0.1:${(relay.address() as net.AddressInfo).port}/after-abort`;
      const before = servers.good.requests;
      const errors = await abortDuring(url, a, 50, 800);
      assert.deepEqual(
        errors.map((e) => (e as Error).name),
        ['AbortError'],
      );
      assert.equal(servers.good.requests, before, 'the aborted request was never sent');
      assert.equal((await clients['node:https']!(url, a)).status, 200);
    } finally {
      a.destroy();
      relay.close();
    }
  });
});
