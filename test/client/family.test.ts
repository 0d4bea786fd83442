/**
 * The `family` option (curl's -4 / -6) against servers that listen on one address family only
 * (127.0.0.1 or ::1): a name is resolved to the family asked for and nothing else is dialled; a
 * name with no such address, or an IP literal of the other family, is a ConnectionError that
 * names the family, before any byte reaches a server; a Session never hands a request that asked
 * for a family a connection made otherwise; a proxy's host and a socks5:// target are resolved
 * the same way; the adapters take it too.
 */
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { request as undiciRequest } from 'undici';
import { agent, ConfigError, ConnectionError, dispatcher, ProxyError, Session } from '../../src/index.js';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { startProxy, type TestProxy } from '../support/proxy.js';
import { type PlainServer, startHttpServer, startTlsServer, type TestServer } from '../support/servers.js';
import { type Socks5Server, startSocks5Server } from '../support/socks5.js';

const dir = tempDir('family-');
let root: Issued;
let caPath: string;
/** Listens on 127.0.0.1 only. */
let v4: TestServer;
/** Listens on ::1 only. */
let v6: TestServer;
/** Plain HTTP on ::1 only. */
let plain6: PlainServer;
let proxy: TestProxy;
let socks: Socks5Server;
/** A SOCKS5 proxy on ::1: reachable under family: 6. */
let socks6: Socks5Server;
/** The families 'localhost' resolves to on this machine (its /etc/hosts decides). */
let localhostFamilies: Set<number>;
const base = { trustEnv: false, timeout: { connect: 10_000, read: 10_000 } } as const;

before(async () => {
  root = createRoot({ cn: 'family tests root' });
  caPath = dir.write('root.pem', root.pem);
  v4 = await startTlsServer({ cert: issue(root), host: '127.0.0.1' });
  v6 = await startTlsServer({ cert: issue(root), host: '::1' });
  plain6 = await startHttpServer(undefined, { host: '::1' });
  proxy = await startProxy();
  socks = await startSocks5Server();
  socks6 = await startSocks5Server({ host: '::1' });
  localhostFamilies = new Set((await lookup('localhost', { all: true })).map((a) => a.family));
});

after(async () => {
  await Promise.all([v4, v6, plain6, proxy, socks, socks6].map((s) => s.close()));
  dir.cleanup();
});

async function withSession<T>(opts: object, fn: (s: Session) => Promise<T>): Promise<T> {
  const s = new Session({ ...base, verify: caPath, ...opts });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

async function status(
  s: Session,
  url: string,
  opts: object = {},
): Promise<{ status: number; address?: string }> {
  const r = await s.get(url, opts);
  await r.text();
  return { status: r.status, ...(r.tls ? { address: r.tls.address } : {}) };
}

/** Asserts a ConnectionError with this code whose message matches. */
function connectionError(code: string, message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ConnectionError, `expected a ConnectionError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  };
}

describe('family: the address family a name resolves to', () => {
  test('family: 4 reaches a server on 127.0.0.1 by name; family: 6 dials no IPv4 address', async () => {
    const url = `https://localhost:${v4.port}/`;
    const before = v4.connections;
    await withSession({ family: 4 }, async (s) => {
      assert.deepEqual(await status(s, url), { status: 200, address: `127.0.0.1:${v4.port}` });
    });
    assert.equal(v4.connections - before, 1);
    await withSession({ family: 6 }, async (s) => {
      await assert.rejects(
        s.get(url),
        localhostFamilies.has(6)
          ? // localhost has ::1 here: that is what is dialled, and nothing listens there.
            (e: unknown) =>
              connectionError('ERR_CONNECTION_CONNREFUSED', /refused/)(e) &&
              (e as { cause?: { address?: string } }).cause?.address === '::1'
          : connectionError(
              'ERR_CONNECTION_NOTFOUND',
              /localhost has no IPv6 address \(only 127\.0\.0\.1\), and only IPv6 was asked for \(family: 6/,
            ),
      );
    });
    assert.equal(v4.connections - before, 1, 'the IPv4 server was not reached with family: 6');
  });

  test('an IP literal of the other family is refused before anything is dialled', async () => {
    const before = v6.connections;
    await withSession({ family: 4 }, async (s) => {
      await assert.rejects(
        s.get(v6.url('/')),
        connectionError(
          'ERR_CONNECTION_FAMILY',
          /could not connect to \[::1\]:\d+: it is an IPv6 address, and only IPv4 was asked for/,
        ),
      );
      // connectTo's literal is what is dialled: the same rule.
      await assert.rejects(
        s.get(`https://localhost:${v6.port}/`, { connectTo: `[::1]:${v6.port}` }),
        connectionError('ERR_CONNECTION_FAMILY', /IPv6 address, and only IPv4/),
      );
    });
    await withSession({ family: 6 }, async (s) => {
      await assert.rejects(
        s.get(v4.url('/')),
        connectionError('ERR_CONNECTION_FAMILY', /it is an IPv4 address, and only IPv6 was asked for/),
      );
      // The literal of the family asked for is dialled; the URL host is still what is verified.
      assert.deepEqual(await status(s, v6.url('/')), { status: 200, address: `[::1]:${v6.port}` });
      const r = await s.get(`https://localhost:${v6.port}/`, { connectTo: `[::1]:${v6.port}` });
      await r.text();
      assert.equal(r.tls?.verifiedName, 'localhost');
    });
    assert.equal(v6.connections - before, 2, 'only the two family: 6 requests reached the IPv6 server');
  });

  test('a name that resolves to both families: each family reaches only its own server', async (t) => {
    if (!(localhostFamilies.has(4) && localhostFamilies.has(6))) {
      t.skip(
        `localhost resolves to IPv${[...localhostFamilies].join(' and IPv')} only on this machine (/etc/hosts); add '::1 localhost' to run this`,
      );
      return;
    }
    await withSession({ family: 6 }, async (s) => {
      assert.deepEqual(await status(s, `https://localhost:${v6.port}/`), {
        status: 200,
        address: `[::1]:${v6.port}`,
      });
    });
    await withSession({ family: 4 }, async (s) => {
      assert.deepEqual(await status(s, `https://localhost:${v4.port}/`), {
        status: 200,
        address: `127.0.0.1:${v4.port}`,
      });
    });
  });

  test("a Session's pool: a connection made without a family never serves a request that asks for one", async () => {
    const url = `https://localhost:${v4.port}/`;
    await withSession({}, async (s) => {
      assert.equal((await status(s, url)).status, 200); // an IPv4 connection, kept alive
      await assert.rejects(s.get(url, { family: 6 }), ConnectionError);
      assert.equal((await status(s, url, { family: 4 })).status, 200);
    });
    // A request's 0 lifts the Session's family.
    await withSession({ family: 6 }, async (s) => {
      await assert.rejects(s.get(url), ConnectionError);
      assert.equal((await status(s, url, { family: 0 })).status, 200);
    });
  });

  test('http:// URLs follow the same rules', async () => {
    await withSession({ family: 6 }, async (s) => {
      assert.equal((await s.get(plain6.url('/'))).status, 200);
    });
    await withSession({ family: 4 }, async (s) => {
      await assert.rejects(s.get(plain6.url('/')), connectionError('ERR_CONNECTION_FAMILY', /IPv6 address/));
      if (!localhostFamilies.has(6))
        await assert.rejects(
          s.get(`http://localhost:${plain6.port}/`, { family: 6 }),
          connectionError('ERR_CONNECTION_NOTFOUND', /localhost has no IPv6 address/),
        );
    });
    assert.equal(plain6.requests, 1);
  });

  test('an address of the other family is not retried: it would be the same every time', async () => {
    await withSession({ family: 4, retries: { total: 3, backoff: 10 } }, async (s) => {
      await assert.rejects(s.get(v6.url('/')), (e: unknown) => {
        assert.ok(e instanceof ConnectionError && e.code === 'ERR_CONNECTION_FAMILY', String(e));
        assert.equal(e.retries, undefined, 'no retry was made');
        return true;
      });
    });
  });

  test('the value is checked: 4, 6 or 0', async () => {
    for (const bad of [5, '4', 'ipv4', true]) {
      assert.throws(
        () => new Session({ family: bad as 4 }),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.code === 'ERR_OPTION_TYPE' &&
          /option 'family' takes 4/.test(e.message),
      );
    }
    assert.throws(() => dispatcher({ family: 46 as 4 }), ConfigError);
  });
});

describe('family: through proxies, and the adapters', () => {
  test('an address of the other family is refused through a proxy too: no CONNECT, no SOCKS5 request', async () => {
    // The proxy was reached and sent CONNECT [::1]:port (or the SOCKS5 address) under family: 4.
    const connects = proxy.connects.length;
    const socksRequests = socks.requests.length;
    for (const via of [`http://127.0.0.1:${proxy.port}`, `socks5://127.0.0.1:${socks.port}`]) {
      await withSession({ proxy: via, family: 4 }, async (s) => {
        await assert.rejects(
          s.get(`https://[::1]:${v6.port}/`),
          connectionError('ERR_CONNECTION_FAMILY', /IPv6 address, and only IPv4 was asked for/),
        );
        await assert.rejects(
          s.get(`http://[::1]:${plain6.port}/`),
          connectionError('ERR_CONNECTION_FAMILY', /IPv6 address, and only IPv4 was asked for/),
        );
      });
    }
    assert.equal(proxy.connects.length, connects, 'no CONNECT was sent');
    assert.equal(socks.requests.length, socksRequests, 'no SOCKS5 request was sent');
  });

  test("an HTTP proxy's host is resolved to the family asked for; the CONNECT target is the proxy's to resolve", async () => {
    const proxyUrl = `http://localhost:${proxy.port}`;
    const connects = proxy.connects.length;
    await withSession({ proxy: proxyUrl, family: 4 }, async (s) => {
      assert.equal((await status(s, `https://localhost:${v4.port}/`)).status, 200);
    });
    assert.deepEqual(
      proxy.connects.slice(connects).map((c) => c.target),
      [`localhost:${v4.port}`],
    );
    const connections = proxy.connections;
    await withSession({ proxy: proxyUrl, family: 6 }, async (s) => {
      await assert.rejects(s.get(`https://localhost:${v4.port}/`), (e: unknown) => {
        assert.ok(e instanceof ProxyError, String(e));
        assert.equal(e.code, 'ERR_PROXY_CONNECT');
        if (!localhostFamilies.has(6))
          assert.match(e.message, /proxy .*localhost has no IPv6 address .* only IPv6 was asked for/);
        return true;
      });
    });
    assert.equal(proxy.connections, connections, 'the proxy (IPv4 only) was not reached');
  });

  test('socks5:// sends the address of the family asked for; a name without one is refused before the CONNECT', async () => {
    const n = socks.requests.length;
    await withSession({ proxy: socks.url('socks5'), family: 4 }, async (s) => {
      assert.equal((await status(s, `https://localhost:${v4.port}/`)).status, 200);
    });
    assert.deepEqual(socks.requests.slice(n), [{ addressType: 1, host: '127.0.0.1', port: v4.port }]);
    // The proxy's own address is dialled by this client: the family rules it too.
    await withSession({ proxy: socks.url('socks5'), family: 6 }, async (s) => {
      await assert.rejects(
        s.get(`https://localhost:${v4.port}/`),
        (e: unknown) =>
          e instanceof ProxyError && /IPv4 address, and only IPv6 was asked for/.test(e.message),
      );
    });
    assert.equal(socks.requests.length, n + 1);
    if (localhostFamilies.has(6)) return; // localhost has ::1 here: it would be sent
    // A proxy on ::1, and a target name with no IPv6 address: refused before the CONNECT.
    await withSession({ proxy: socks6.url('socks5'), family: 6 }, async (s) => {
      await assert.rejects(s.get(`https://localhost:${v4.port}/`), (e: unknown) => {
        assert.ok(e instanceof ProxyError, String(e));
        assert.match(e.message, /could not resolve localhost .*SOCKS5.*localhost has no IPv6 address/);
        return true;
      });
    });
    assert.equal(socks6.greetings.length, 1, 'the proxy was reached');
    assert.equal(socks6.requests.length, 0, 'no CONNECT was sent');
  });

  test("agent(): a request's own family (node:https's and axios' family option) is the one used", async () => {
    // node:http hands a request's `family` to createConnection (and names the pool by it); it was
    // ignored, so axios' { family: 6 } connected over whatever the name resolved to first.
    const get = (host: string, family: number | undefined, a: https.Agent) =>
      new Promise<number>((resolve, reject) => {
        const req = https.get(
          { host, port: v4.port, servername: 'localhost', agent: a, ...(family ? { family } : {}) },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
      });
    const a = agent({ verify: caPath, trustEnv: false });
    const a6 = agent({ verify: caPath, trustEnv: false, family: 6 });
    try {
      assert.equal(await get('localhost', 4, a), 200);
      await assert.rejects(
        get('127.0.0.1', 6, a),
        connectionError('ERR_CONNECTION_FAMILY', /only IPv6 was asked for/),
      );
      // The agent's own family is the default; a request's own wins over it.
      await assert.rejects(
        get('127.0.0.1', undefined, a6),
        connectionError('ERR_CONNECTION_FAMILY', /only IPv6/),
      );
      assert.equal(await get('127.0.0.1', 4, a6), 200);
    } finally {
      a.destroy();
      a6.destroy();
    }
  });

  test('dispatcher({ family }) with undici', async () => {
    const ok = dispatcher({ verify: caPath, trustEnv: false, family: 4 });
    const no = dispatcher({ verify: caPath, trustEnv: false, family: 6 });
    try {
      const r = await undiciRequest(`https://localhost:${v4.port}/`, { dispatcher: ok });
      await r.body.text();
      assert.equal(r.statusCode, 200);
      await assert.rejects(
        undiciRequest(v4.url('/'), { dispatcher: no }),
        connectionError('ERR_CONNECTION_FAMILY', /IPv4 address, and only IPv6/),
      );
    } finally {
      await Promise.all([ok.close(), no.close()]);
    }
  });
});
