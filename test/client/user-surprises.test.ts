/**
 * What a new user's probe of the library found surprising, each fixed and pinned here through a
 * real loopback server: a request's timeout merges with the Session's key by key; a timeout a
 * Node timer cannot hold is a ConfigError (it fired after 1 ms); HTTPError carries the response,
 * body readable; port 0 and a URL without a scheme are InvalidURL saying what to write; pool
 * settings passed to an adapter's first argument say they go in the second; a redirect's body,
 * read off by the client, says so when asked for.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  agent,
  ConfigError,
  dispatcher,
  HTTPError,
  InvalidURL,
  Session,
  TotalTimeout,
} from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let server: TestServer;

function handler(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/slow') {
    setTimeout(() => res.writeHead(200).end('late'), 1000);
    return;
  }
  if (req.url === '/taken') {
    res.writeHead(422, { 'content-type': 'application/json' }).end('{"error":"email is already taken"}');
    return;
  }
  if (req.url === '/moved') {
    res.writeHead(301, { location: '/new' }).end('see /new');
    return;
  }
  res.writeHead(200).end('ok');
}

before(async () => {
  root = createRoot({ cn: 'user surprises root' });
  server = await startTlsServer({ cert: issue(root), handler });
});

after(async () => {
  await server.close();
});

describe('timeouts', () => {
  test("a request's timeout keeps the Session's total (merged key by key)", async () => {
    const s = new Session({ verify: root.pem, trustEnv: false, timeout: { total: 300 } });
    try {
      for (const timeout of [{ read: 5000 }, { connect: 5000 }, 5000]) {
        const started = Date.now();
        await assert.rejects(s.get(server.url('/slow'), { timeout }), TotalTimeout, JSON.stringify(timeout));
        assert.ok(Date.now() - started < 900, `${JSON.stringify(timeout)}: ${Date.now() - started} ms`);
      }
      // A request's own total still wins over the Session's.
      const r = await s.get(server.url('/slow'), { timeout: { total: 5000 } });
      assert.equal(await r.text(), 'late');
    } finally {
      await s.close();
    }
  });

  test('a timeout longer than a Node timer can wait (2^31 ms) is a ConfigError, not a timeout after 1 ms', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      for (const timeout of [2 ** 31, Number.MAX_SAFE_INTEGER, { read: 2_592_000_000 }, { total: 1e12 }]) {
        await assert.rejects(s.get(server.url('/'), { timeout }), (e: unknown) => {
          assert.ok(e instanceof ConfigError, `${JSON.stringify(timeout)}: ${String(e)}`);
          assert.equal(e.code, 'ERR_TIMEOUT_OPTION');
          assert.match(e.message, /more than the 2147483647 ms \(24\.8 days\) a timer can wait/);
          return true;
        });
      }
      assert.equal((await s.get(server.url('/'), { timeout: 2 ** 31 - 1 })).status, 200);
    } finally {
      await s.close();
    }
  });
});

describe('errors and URLs', () => {
  test("HTTPError carries the response, its body readable (requests' e.response), not enumerable", async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      const r = await s.post(server.url('/taken'), { json: { email: 'a@example.com' } });
      try {
        r.raiseForStatus();
        assert.fail('no HTTPError');
      } catch (e) {
        assert.ok(e instanceof HTTPError);
        assert.equal(e.response?.status, 422);
        assert.deepEqual(await e.response?.json(), { error: 'email is already taken' });
        assert.equal(Object.keys(e).includes('response'), false);
        assert.equal(JSON.stringify(e).includes('already taken'), false);
      }
    } finally {
      await s.close();
    }
  });

  test('port 0 and a URL without a scheme are InvalidURL that say what to write', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      await assert.rejects(s.get('https://localhost:0/'), (e: unknown) => {
        assert.ok(e instanceof InvalidURL, String(e));
        assert.match(e.message, /has port 0, which no server listens on/);
        return true;
      });
      for (const [given, suggested] of [
        ['localhost:8443/api', 'https://localhost:8443/api'],
        ['api.example.com/v1', 'https://api.example.com/v1'],
      ]) {
        await assert.rejects(s.get(given!), (e: unknown) => {
          assert.ok(e instanceof InvalidURL, String(e));
          assert.equal(e.message, `'${given}' has no scheme; did you mean ${suggested} ?`);
          return true;
        });
      }
    } finally {
      await s.close();
    }
  });

  test("a redirect's body, read off by the client, says so when asked for", async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      const r = await s.get(server.url('/moved'));
      assert.equal(r.history.length, 1);
      await assert.rejects(r.history[0]!.text(), (e: unknown) => {
        assert.match(String((e as Error).message), /body was discarded by the client: a redirect's/);
        assert.match((e as { hint?: string }).hint ?? '', /allowRedirects: false/);
        return true;
      });
      const own = await s.get(server.url('/moved'), { allowRedirects: false });
      assert.equal(await own.text(), 'see /new');
    } finally {
      await s.close();
    }
  });
});

describe('adapters', () => {
  test('pool settings in the first argument say they go in the second, which takes them', async () => {
    for (const [make, key] of [
      [() => agent({ maxSockets: 10 } as never), 'maxSockets'],
      [() => dispatcher({ connections: 4 } as never), 'connections'],
    ] as const) {
      assert.throws(make, (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.equal(e.code, 'ERR_UNKNOWN_OPTION');
        assert.match(
          e.message,
          new RegExp(`'${key}' is a setting of the connection pool, which goes in the second argument`),
        );
        return true;
      });
    }
    const a = agent({ verify: root.pem, trustEnv: false }, { maxSockets: 10 });
    assert.equal(a.maxSockets, 10);
    a.destroy();
    const d = dispatcher({ verify: root.pem, trustEnv: false }, { connections: 4 });
    await d.close();
  });
});
