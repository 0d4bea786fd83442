/**
 * SOCKS5 proxies (RFC 1928; username/password RFC 1929): socks5:// (the name resolved here) and
 * socks5h:// (resolved by the proxy), ALL_PROXY with NO_PROXY, typed refusals, and the target
 * still verified through the tunnel with nothing sent before verification. Against the small
 * SOCKS5 server of test/support/socks5.ts, which records what it was asked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ProxyError, Session, SSLError } from '../../src/index.js';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { type PlainServer, startHttpServer, startTlsServer, type TestServer } from '../support/servers.js';
import { type Socks5Server, startSocks5Server } from '../support/socks5.js';

const dir = tempDir('socks5-');
let root: Issued;
let caPath: string;
let target: TestServer;
let wrongName: TestServer;
let plain: PlainServer;
let open: Socks5Server;
let locked: Socks5Server;
let refusing: Socks5Server;
const base = { trustEnv: false, timeout: { connect: 10_000, read: 10_000 } } as const;

before(async () => {
  root = createRoot({ cn: 'socks5 tests root' });
  caPath = dir.write('root.pem', root.pem);
  target = await startTlsServer({ cert: issue(root) });
  wrongName = await startTlsServer({ cert: issue(root, { sans: ['DNS:elsewhere.test'] }) });
  plain = await startHttpServer();
  open = await startSocks5Server();
  locked = await startSocks5Server({ credentials: { username: 'alice', password: 's3cret:x' } });
  refusing = await startSocks5Server({ refuse: 5 });
});

after(async () => {
  await Promise.all([target, wrongName, plain, open, locked, refusing].map((s) => s.close()));
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

describe('SOCKS5: the tunnel', () => {
  test('socks5h:// sends the host name to the proxy; the target is verified through the tunnel', async () => {
    const n = open.requests.length;
    const r = await withSession({ proxy: open.url('socks5h') }, async (s) => {
      const r = await s.get(`https://localhost:${target.port}/`);
      await r.text();
      return r;
    });
    assert.equal(r.status, 200);
    assert.equal(r.tls?.verified, true);
    assert.equal(r.tls?.verifiedName, 'localhost');
    assert.deepEqual(open.requests.slice(n), [{ addressType: 3, host: 'localhost', port: target.port }]);
  });

  test('socks5:// resolves the name here and sends the address', async () => {
    const n = open.requests.length;
    await withSession({ proxy: open.url('socks5') }, async (s) => {
      assert.equal((await s.get(`https://localhost:${target.port}/`)).status, 200);
    });
    const req = open.requests.slice(n);
    assert.equal(req.length, 1);
    assert.ok(req[0]!.addressType === 1 || req[0]!.addressType === 4, JSON.stringify(req[0]));
    assert.ok(req[0]!.host !== 'localhost');
  });

  test('an http:// URL goes through the tunnel too (not in absolute form)', async () => {
    const n = open.requests.length;
    const before = plain.requests;
    await withSession({ proxy: open.url('socks5h') }, async (s) => {
      assert.equal((await s.get(plain.url('/'))).status, 200);
    });
    assert.deepEqual(open.requests.slice(n), [{ addressType: 1, host: '127.0.0.1', port: plain.port }]);
    assert.equal(plain.requests - before, 1);
  });

  test('a wrong certificate behind the proxy: SSLError, and the target receives no byte', async () => {
    const bytes = wrongName.bytesReceived;
    await withSession({ proxy: open.url('socks5h') }, async (s) => {
      await assert.rejects(s.get(wrongName.url('/')), (e: unknown) => {
        assert.ok(e instanceof SSLError, String(e));
        assert.equal(e.code, 'HOSTNAME_MISMATCH');
        return true;
      });
    });
    assert.equal(wrongName.bytesReceived - bytes, 0, 'nothing is sent before verification');
  });
});

describe('SOCKS5: authentication and refusals are typed', () => {
  test('username and password (RFC 1929) from the proxy URL', async () => {
    await withSession({ proxy: locked.url('socks5h', 'alice:s3cret%3Ax') }, async (s) => {
      assert.equal((await s.get(target.url('/'))).status, 200);
    });
    assert.deepEqual(locked.authAttempts.at(-1), { username: 'alice', password: 's3cret:x' });
  });

  test('bad credentials: ProxyError ERR_PROXY_AUTH', async () => {
    await withSession({ proxy: locked.url('socks5h', 'alice:wrong') }, async (s) => {
      await assert.rejects(s.get(target.url('/')), (e: unknown) => {
        assert.ok(e instanceof ProxyError, String(e));
        assert.equal(e.code, 'ERR_PROXY_AUTH');
        assert.match(e.message, /rejected the username and password/);
        return true;
      });
    });
  });

  test('credentials demanded, none given: ProxyError ERR_PROXY_AUTH with a hint', async () => {
    await withSession({ proxy: locked.url('socks5h') }, async (s) => {
      await assert.rejects(s.get(target.url('/')), (e: unknown) => {
        assert.ok(e instanceof ProxyError, String(e));
        assert.equal(e.code, 'ERR_PROXY_AUTH');
        assert.match(e.hint ?? '', /socks5:\/\/user:password@/);
        return true;
      });
    });
  });

  test('a refused CONNECT: ProxyError ERR_PROXY_REFUSED with the reply code', async () => {
    await withSession({ proxy: refusing.url('socks5h') }, async (s) => {
      await assert.rejects(s.get(target.url('/')), (e: unknown) => {
        assert.ok(e instanceof ProxyError, String(e));
        assert.equal(e.code, 'ERR_PROXY_REFUSED');
        assert.equal(e.status, 5);
        assert.match(e.message, /connection refused by the destination/);
        return true;
      });
    });
  });

  test('nothing listening at the proxy: ProxyError ERR_PROXY_CONNECT', async () => {
    const gone = await startSocks5Server();
    const url = gone.url('socks5h');
    await gone.close();
    await withSession({ proxy: url }, async (s) => {
      await assert.rejects(s.get(target.url('/')), (e: unknown) => {
        assert.ok(e instanceof ProxyError, String(e));
        assert.equal(e.code, 'ERR_PROXY_CONNECT');
        return true;
      });
    });
  });
});

describe('SOCKS5 from the environment', () => {
  const saved: Record<string, string | undefined> = {};
  const vars = ['ALL_PROXY', 'all_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'];
  before(() => {
    for (const k of vars) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
  });
  after(() => {
    for (const k of vars) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  test('ALL_PROXY=socks5h://… is used with trustEnv; NO_PROXY sends a host direct', async () => {
    process.env.ALL_PROXY = open.url('socks5h');
    try {
      const n = open.requests.length;
      await withSession({ trustEnv: true }, async (s) => {
        assert.equal((await s.get(`https://localhost:${target.port}/`)).status, 200);
      });
      assert.equal(open.requests.length - n, 1, 'through the SOCKS5 proxy');
      process.env.NO_PROXY = 'localhost';
      await withSession({ trustEnv: true }, async (s) => {
        assert.equal((await s.get(`https://localhost:${target.port}/`)).status, 200);
      });
      assert.equal(open.requests.length - n, 1, 'NO_PROXY: direct');
    } finally {
      delete process.env.ALL_PROXY;
      delete process.env.NO_PROXY;
    }
  });
});
