/**
 * diagnose() connects the way a request does (tls/handshake.ts, the one dial): through an HTTP
 * proxy and a SOCKS5 proxy, with a client certificate; and `check` and `get` name the same
 * fault with the same error (a table over refused, reset, timeout and a bad certificate, direct,
 * through an HTTP proxy and through a SOCKS5 proxy, test/support/socks5.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { resolveProxy } from '../../src/client/proxy.js';
import { connectForDiagnosis } from '../../src/diagnose/connect.js';
import { diagnose } from '../../src/diagnose/index.js';
import { CertainlyError, get } from '../../src/index.js';
import { resolveTarget } from '../../src/tls/target.js';
import { resolveTrust } from '../../src/trust/resolve.js';
import type { TrustStore } from '../../src/trust/store.js';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { startProxy, type TestProxy } from '../support/proxy.js';
import {
  closedPort as freshClosedPort,
  type RawServer,
  startRawTlsServer,
  startTlsServer,
  type TestServer,
} from '../support/servers.js';
import { type Socks5Server, startSocks5Server } from '../support/socks5.js';

const dir = tempDir('diag-options-');
let root: Issued;
let caPath: string;
let trust: TrustStore;
let good: TestServer;
let wrongName: TestServer;
let mtls: TestServer;
let mtls13: TestServer;
let client: Issued;
let stranger: Issued;
let httpProxy: TestProxy;
let socks: Socks5Server;
let reset: RawServer;
let stall: RawServer;
let closedPort: number;

before(async () => {
  root = createRoot({ cn: 'diag options root' });
  caPath = dir.write('root.pem', root.pem);
  const resolved = resolveTrust({ verify: caPath, trustEnv: false });
  assert.ok(!resolved.insecure);
  trust = resolved.store;
  good = await startTlsServer({ cert: issue(root) });
  wrongName = await startTlsServer({ cert: issue(root, { sans: ['DNS:elsewhere.test'] }) });
  const clientRoot = createRoot({ cn: 'diag client root' });
  client = issue(clientRoot, { cn: 'alice', sans: ['DNS:alice.client'], eku: ['clientAuth'] });
  stranger = issue(createRoot({ cn: 'diag stranger client root' }), { cn: 'mallory', eku: ['clientAuth'] });
  // TLS 1.2: the server refuses a missing client certificate inside the handshake. Under TLS 1.3
  // the refusal comes after the client's handshake (an alert, or a bare close), as the first read.
  mtls = await startTlsServer({
    cert: issue(root),
    requestCert: true,
    clientCa: clientRoot.pem,
    maxVersion: 'TLSv1.2',
  });
  mtls13 = await startTlsServer({ cert: issue(root), requestCert: true, clientCa: clientRoot.pem });
  httpProxy = await startProxy();
  socks = await startSocks5Server();
  reset = await startRawTlsServer({ mode: 'reset' });
  stall = await startRawTlsServer({ mode: 'stall' });
  closedPort = await freshClosedPort();
});

after(async () => {
  await Promise.all([good, wrongName, mtls, mtls13, httpProxy, socks, reset, stall].map((s) => s.close()));
  dir.cleanup();
});

describe('diagnose() through proxies and with a client certificate', () => {
  test('through an HTTP proxy (CONNECT): verified, and the proxy saw the tunnel', async () => {
    const n = httpProxy.connects.length;
    const r = await diagnose(good.url('/'), { trust, proxy: httpProxy.url, aia: false });
    assert.equal(r.status, 'ok', JSON.stringify(r.findings));
    assert.equal(r.verification.ok, true);
    assert.deepEqual(
      httpProxy.connects.slice(n).map((c) => c.target),
      [`127.0.0.1:${good.port}`],
    );
  });

  test('through a SOCKS5 proxy (socks5h): verified, and the proxy saw the name', async () => {
    const n = socks.requests.length;
    const r = await diagnose(`https://localhost:${good.port}/`, {
      trust,
      proxy: socks.url('socks5h'),
      aia: false,
    });
    assert.equal(r.status, 'ok', JSON.stringify(r.findings));
    assert.deepEqual(socks.requests.slice(n), [{ addressType: 3, host: 'localhost', port: good.port }]);
  });

  test('HTTPS_PROXY is honoured only with trustEnv, and NO_PROXY applies', async () => {
    const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY };
    process.env.HTTPS_PROXY = httpProxy.url;
    try {
      const n = httpProxy.connects.length;
      await diagnose(good.url('/'), { trust, aia: false });
      assert.equal(httpProxy.connects.length - n, 0, 'no trustEnv: direct');
      await diagnose(good.url('/'), { trust, aia: false, trustEnv: true });
      assert.equal(httpProxy.connects.length - n, 1, 'trustEnv: through HTTPS_PROXY');
      process.env.NO_PROXY = '127.0.0.1';
      await diagnose(good.url('/'), { trust, aia: false, trustEnv: true });
      assert.equal(httpProxy.connects.length - n, 1, 'NO_PROXY: direct');
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  test('a client certificate: the server that requires one is verified with it, refused without', async () => {
    // TLS 1.2: the server ends the handshake after its own flight (in the clear), so its chain
    // is verified and the refusal is named, as under TLS 1.3.
    const without = await diagnose(mtls.url('/'), { trust, aia: false });
    assert.deepEqual(clientAuthView(without), {
      status: 'error',
      verified: true,
      protocol: 'TLSv1.2',
      codes: ['CLIENT_CERT_REQUIRED'],
    });
    assert.equal(without.chainSource, 'wire');
    const refused = await diagnose(mtls.url('/'), {
      trust,
      aia: false,
      cert: { cert: stranger.pem, key: stranger.keyPem },
    });
    assert.deepEqual(clientAuthView(refused).codes, ['CLIENT_CERT_REFUSED']);
    assert.equal(refused.exitCode, 1);
    const withCert = await diagnose(mtls.url('/'), {
      trust,
      aia: false,
      cert: { cert: client.pem, key: client.keyPem },
    });
    assert.equal(withCert.status, 'ok', JSON.stringify(withCert.findings));
    const asked = withCert.findings.find((f) => f.code === 'CLIENT_CERT_REQUESTED');
    assert.match(asked?.message ?? '', /completed the handshake with the one given/);
  });

  test('TLS 1.3: the verdict the server gives after the handshake is waited for and reported', async () => {
    // No certificate: node's server sends the certificate_required alert (RFC 8446 §4.4.2.4).
    const without = await diagnose(mtls13.url('/'), { trust, aia: false });
    assert.deepEqual(clientAuthView(without), {
      status: 'error',
      verified: true,
      protocol: 'TLSv1.3',
      codes: ['CLIENT_CERT_REQUIRED'],
    });
    assert.match(without.findings[0]!.message, /alert "certificate required"/);
    assert.equal(without.exitCode, 1);
    // A certificate from a CA the server does not trust: node's server closes without an alert.
    const refused = await diagnose(mtls13.url('/'), {
      trust,
      aia: false,
      cert: { cert: stranger.pem, key: stranger.keyPem },
    });
    assert.deepEqual(clientAuthView(refused), {
      status: 'error',
      verified: true,
      protocol: 'TLSv1.3',
      codes: ['CLIENT_CERT_REFUSED'],
    });
    // The right certificate: no refusal within the wait (250 ms on loopback).
    const accepted = await diagnose(mtls13.url('/'), {
      trust,
      aia: false,
      cert: { cert: client.pem, key: client.keyPem },
    });
    assert.deepEqual(clientAuthView(accepted), {
      status: 'ok',
      verified: true,
      protocol: 'TLSv1.3',
      codes: ['CLIENT_CERT_REQUESTED'],
    });
    // A server that asks for nothing gets no such finding.
    const plain = await diagnose(good.url('/'), { trust, aia: false });
    assert.deepEqual(clientAuthView(plain).codes, []);
  });
});

/** What a report says about the connection and the server's view of a client certificate. */
function clientAuthView(r: Awaited<ReturnType<typeof diagnose>>) {
  return {
    status: r.status,
    verified: r.verification.ok,
    protocol: r.connection?.protocol,
    codes: r.findings.filter((f) => f.code.startsWith('CLIENT_CERT_')).map((f) => f.code),
  };
}

/** What `get` throws and what diagnosis's connection reports, as 'Class:code'. */
function outcome(err: unknown): string {
  if (err instanceof CertainlyError) return `${err.name}:${err.code}`;
  return `other:${String(err)}`;
}

describe('check and get name the same fault the same way', () => {
  const cases: { name: string; url: () => string; timeout?: number }[] = [
    { name: 'refused', url: () => `https://127.0.0.1:${closedPort}/` },
    { name: 'reset in the handshake', url: () => reset.url('/') },
    { name: 'timeout', url: () => stall.url('/'), timeout: 1500 },
    { name: 'bad certificate (wrong name)', url: () => wrongName.url('/') },
  ];
  for (const via of ['direct', 'through an HTTP proxy', 'through a SOCKS5 proxy'] as const) {
    for (const c of cases) {
      test(`${c.name}, ${via}`, async () => {
        const proxy =
          via === 'direct' ? false : via === 'through an HTTP proxy' ? httpProxy.url : socks.url();
        const timeout = c.timeout ?? 10_000;
        const fromGet = await get(c.url(), {
          verify: caPath,
          trustEnv: false,
          proxy,
          timeout: { connect: timeout, read: timeout },
          retries: 0,
        }).then(
          () => 'ok',
          (e: unknown) => outcome(e),
        );
        const u = new URL(c.url());
        const target = resolveTarget(u.hostname, Number(u.port));
        const wire = await connectForDiagnosis({
          target,
          trust,
          timeout,
          ...(proxy ? { proxy: resolveProxy(proxy, 'the proxy option', { trustEnv: false }) } : {}),
        });
        const report = await diagnose(c.url(), { trust, aia: false, timeout, ...(proxy ? { proxy } : {}) });
        const fromCheck = wire.error
          ? outcome(wire.error)
          : report.verification.ok
            ? 'ok'
            : `SSLError:${report.verification.code}`;
        assert.notEqual(fromGet, 'ok');
        assert.equal(fromCheck, fromGet);
      });
    }
  }
});
