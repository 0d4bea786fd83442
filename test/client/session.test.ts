/**
 * Session defaults and precedence, verify: false and its warning, pool separation, and the three
 * loopback hosts (127.0.0.1, ::1, localhost).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closeDefaultSession, get, INSECURE_WARNING, Session, SSLError } from '../../src/index.js';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let otherRoot: Issued;
let caPath: string;
let otherCaPath: string;
const servers: Record<string, TestServer> = {};
const dir = tempDir('session-');

before(async () => {
  root = createRoot({ cn: 'certainly session tests root' });
  otherRoot = createRoot({ cn: 'an unrelated root' });
  const leaf = issue(root, { sans: ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'] });
  caPath = dir.write('root.pem', root.pem);
  otherCaPath = dir.write('other.pem', otherRoot.pem);
  for (const host of ['127.0.0.1', '::1', 'localhost'] as const) {
    servers[host] = await startTlsServer({ cert: leaf, host });
  }
});

after(async () => {
  await closeDefaultSession();
  for (const s of Object.values(servers)) await s.close();
  dir.cleanup();
});

describe('loopback hosts', () => {
  for (const host of ['127.0.0.1', '::1', 'localhost'] as const) {
    test(`verifies ${host}`, async () => {
      const r = await get(servers[host]!.url('/'), { verify: caPath });
      assert.equal(r.status, 200);
      assert.equal(r.tls?.verified, true);
      if (host === 'localhost') assert.equal(r.tls?.sni, 'localhost');
      else assert.equal(r.tls?.sni, null, 'no SNI for IP literals');
    });
  }
});

describe('verify forms', () => {
  test('a PEM string and a Buffer work like a path', async () => {
    assert.equal((await get(servers['127.0.0.1']!.url('/'), { verify: root.pem })).status, 200);
    assert.equal((await get(servers['127.0.0.1']!.url('/'), { verify: Buffer.from(root.pem) })).status, 200);
  });

  test('a c_rehash-style directory works', async () => {
    const d = tempDir('cadir-');
    try {
      d.write(`${root.x509.subject.length.toString(16).padStart(8, '0')}.0`, root.pem);
      d.write('unrelated.pem', otherRoot.pem);
      d.write('README.txt', 'not a certificate');
      assert.equal((await get(servers['127.0.0.1']!.url('/'), { verify: d.path })).status, 200);
    } finally {
      d.cleanup();
    }
  });

  test('the wrong CA fails with UNKNOWN_ISSUER', async () => {
    await assert.rejects(get(servers['127.0.0.1']!.url('/'), { verify: otherCaPath }), (e: unknown) => {
      assert.ok(e instanceof SSLError);
      assert.equal(e.code, 'UNKNOWN_ISSUER');
      return true;
    });
  });
});

describe('verify: false', () => {
  test('connects, warns once per host, and records that nothing was verified', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const s = new Session({ verify: false });
      const r1 = await s.get(servers['127.0.0.1']!.url('/'));
      const r2 = await s.get(servers['127.0.0.1']!.url('/again'));
      assert.equal(r1.status, 200);
      assert.equal(r2.status, 200);
      assert.equal(r1.tls?.verified, false);
      assert.equal(r1.tls?.anchor, undefined);
      await s.close();
      await new Promise((r) => setImmediate(r));
      const insecure = warnings.filter((w) => w.name === INSECURE_WARNING && w.message.includes('127.0.0.1'));
      assert.equal(insecure.length, 1, warnings.map((w) => w.message).join('\n'));
    } finally {
      process.off('warning', onWarning);
    }
  });

  test('a verify: false connection is never reused by a verified request, nor the reverse', async () => {
    const server = servers.localhost!;
    const s = new Session();
    // connections, not handshakes: under TLS 1.3 a client that refuses the certificate closes
    // before the server's side of the handshake completes.
    const start = server.connections;
    await (await s.get(server.url('/1'), { verify: false })).text();
    // the same origin, now verified against a CA that did not issue the certificate: must fail,
    // which it could not if the unverified keep-alive connection were reused.
    await assert.rejects(s.get(server.url('/2'), { verify: otherCaPath }), SSLError);
    await (await s.get(server.url('/3'), { verify: caPath })).text();
    await (await s.get(server.url('/4'), { verify: false })).text();
    assert.equal(server.connections - start, 3, 'one connection per trust setting, then reuse');
    await s.close();
  });
});

describe('Session defaults and precedence', () => {
  test('Session headers and verify apply; request options win', async () => {
    const s = new Session({ verify: caPath, headers: { 'X-Session': 's', 'X-Both': 'session' } });
    const r = await s.get(servers['127.0.0.1']!.url('/'), { headers: { 'X-Both': 'request' } });
    const echo = (await r.json()) as { headers: Record<string, string> };
    assert.equal(echo.headers['x-session'], 's');
    assert.equal(echo.headers['x-both'], 'request');
    await assert.rejects(s.get(servers['127.0.0.1']!.url('/'), { verify: otherCaPath }), SSLError);
    await s.close();
  });

  test('REQUESTS_CA_BUNDLE replaces the defaults; verify in code beats it; trustEnv: false ignores it', async () => {
    const saved = process.env.REQUESTS_CA_BUNDLE;
    process.env.REQUESTS_CA_BUNDLE = caPath;
    try {
      const s = new Session();
      const r = await s.get(servers['127.0.0.1']!.url('/'));
      assert.equal(r.status, 200);
      assert.ok(
        r.tls?.anchor?.sources.some((x) => x.startsWith('env:REQUESTS_CA_BUNDLE')),
        JSON.stringify(r.tls?.anchor),
      );
      await assert.rejects(s.get(servers['127.0.0.1']!.url('/'), { verify: otherCaPath }), SSLError);
      await assert.rejects(s.get(servers['127.0.0.1']!.url('/'), { trustEnv: false }), SSLError);
      await s.close();
      const code = new Session({ verify: otherCaPath });
      await assert.rejects(
        code.get(servers['127.0.0.1']!.url('/')),
        SSLError,
        'Session.verify beats the env',
      );
      await code.close();
    } finally {
      if (saved === undefined) delete process.env.REQUESTS_CA_BUNDLE;
      else process.env.REQUESTS_CA_BUNDLE = saved;
    }
  });

  test('verify: false in code is never overridden by the environment', async () => {
    const saved = process.env.REQUESTS_CA_BUNDLE;
    process.env.REQUESTS_CA_BUNDLE = otherCaPath;
    try {
      const r = await get(servers['127.0.0.1']!.url('/'), { verify: false });
      assert.equal(r.status, 200);
    } finally {
      if (saved === undefined) delete process.env.REQUESTS_CA_BUNDLE;
      else process.env.REQUESTS_CA_BUNDLE = saved;
    }
  });
});
