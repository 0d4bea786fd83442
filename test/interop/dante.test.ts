/**
 * SOCKS5 against a real server users run: Debian's dante (`danted`) on loopback, configured per
 * run. Requests and `check` go through it and verify the target inside the tunnel; a destination
 * dante blocks, bad credentials and a bad certificate are typed errors. Skips with a message when
 * danted is not installed.
 *
 * Not covered: a successful username/password login. dante checks RFC 1929 credentials against
 * the system's users (passwd/shadow), so it needs a real account; a test must not create one on
 * the machine it runs on. A wrong login, which needs none, is covered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { diagnose } from '../../src/diagnose/index.js';
import { ProxyError, Session, SSLError } from '../../src/index.js';
import { resolveTrust } from '../../src/trust/resolve.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';
import { type Daemon, findBinary, startDante } from './daemons.js';

const skip =
  findBinary('danted') === undefined
    ? 'danted not found: install it with `apt-get install -y dante-server` (Debian/Ubuntu; .ci/run does this) to run the SOCKS5 interop test'
    : undefined;
let root: Issued;
let good: TestServer;
let wrongName: TestServer;
let blocked: TestServer;
let dante: Daemon & { url: string };
let danteAuth: Daemon & { url: string };
const base = { trustEnv: false, timeout: { connect: 10_000, read: 10_000 }, retries: 0 } as const;

describe('interop: dante (SOCKS5)', { skip: skip ?? false }, () => {
  before(async () => {
    if (skip) return;
    root = createRoot({ cn: 'certainly dante root' });
    good = await startTlsServer({ cert: issue(root, { sans: ['DNS:localhost', 'IP:127.0.0.1'] }) });
    wrongName = await startTlsServer({ cert: issue(root, { sans: ['DNS:other.example'] }) });
    blocked = await startTlsServer({ cert: issue(root) });
    dante = await startDante({ block: [{ to: '127.0.0.1/32', port: blocked.port }] });
    danteAuth = await startDante({ method: 'username' });
  });

  after(async () => {
    await dante?.stop();
    await danteAuth?.stop();
    await Promise.all([good, wrongName, blocked].map((s) => s?.close()));
  });

  test('socks5:// and socks5h://: the target is verified through dante; dante logged the connects', async () => {
    const s = new Session({ ...base, verify: root.pem });
    try {
      const before = good.requests;
      const a = await s.get(good.url('/via-dante'), { proxy: dante.url });
      assert.equal(a.status, 200);
      assert.equal(a.tls?.verified, true);
      await a.text();
      const b = await s.get(`https://localhost:${good.port}/via-dante-h`, {
        proxy: dante.url.replace('socks5:', 'socks5h:'),
      });
      assert.equal(b.status, 200);
      await b.text();
      assert.equal(good.requests - before, 2);
      assert.match(dante.log(), new RegExp(`127\\.0\\.0\\.1\\.${good.port}`));
    } finally {
      await s.close();
    }
  });

  test('a wrong name through dante: SSLError HOSTNAME_MISMATCH, no request reaches the server', async () => {
    const s = new Session({ ...base, verify: root.pem });
    try {
      await assert.rejects(s.get(wrongName.url('/x'), { proxy: dante.url }), (e: unknown) => {
        assert.ok(e instanceof SSLError, String(e));
        assert.equal(e.code, 'HOSTNAME_MISMATCH');
        return true;
      });
      assert.equal(wrongName.requests, 0);
      assert.equal(wrongName.bytesReceived, 0);
    } finally {
      await s.close();
    }
  });

  test("a destination dante's rules block: ProxyError ERR_PROXY_REFUSED", async () => {
    const s = new Session({ ...base, verify: root.pem });
    try {
      await assert.rejects(s.get(blocked.url('/blocked'), { proxy: dante.url }), (e: unknown) => {
        assert.ok(e instanceof ProxyError, String(e));
        assert.equal(e.code, 'ERR_PROXY_REFUSED');
        return true;
      });
      assert.equal(blocked.requests, 0);
    } finally {
      await s.close();
    }
  });

  test('username method: a wrong login and no credentials are ProxyError ERR_PROXY_AUTH', async () => {
    const s = new Session({ ...base, verify: root.pem });
    try {
      for (const proxy of [danteAuth.url.replace('//', '//nobody-here:wrong@'), danteAuth.url]) {
        await assert.rejects(s.get(good.url('/auth'), { proxy }), (e: unknown) => {
          assert.ok(e instanceof ProxyError, String(e));
          assert.equal(e.code, 'ERR_PROXY_AUTH', e.message);
          return true;
        });
      }
    } finally {
      await s.close();
    }
  });

  test('certainly check (diagnose) through dante verifies the target', async () => {
    const resolved = resolveTrust({ verify: root.pem, trustEnv: false });
    assert.ok(!resolved.insecure);
    const r = await diagnose(good.url('/'), { trust: resolved.store, proxy: dante.url, aia: false });
    assert.equal(r.status, 'ok', JSON.stringify(r.findings));
    assert.equal(r.verification.ok, true);
  });
});
