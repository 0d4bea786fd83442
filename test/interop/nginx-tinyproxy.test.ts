/**
 * Interop with servers users run: the test PKI served by Debian's nginx, reached directly and
 * through tinyproxy (CONNECT for https, absolute form for http), with the Session and with the
 * adapters. Skips with a message saying what to install when nginx or tinyproxy is missing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import axios from 'axios';
import { request as undiciRequest } from 'undici';
import { diagnose } from '../../src/diagnose/index.js';
import { agent, dispatcher, ProxyError, Session, SSLError } from '../../src/index.js';
import { resolveTrust } from '../../src/trust/resolve.js';
import { createRoot, type Issued, intermediate, issue, tempDir } from '../support/pki.js';
import { type Daemon, missing, type Nginx, startNginx, startTinyproxy } from './daemons.js';

const skip = missing();
const dir = tempDir('interop-');
let root: Issued;
let caPath: string;
let client: Issued;
let nginx: Nginx;
let proxy: Daemon & { url: string };
let authProxy: Daemon & { url: string };
let strictProxy: Daemon & { url: string };
// The verifier may name a leaf whose issuer was not sent either way (src/verify decides).
const MISSING_ISSUER = ['INCOMPLETE_CHAIN', 'UNKNOWN_ISSUER'];
const base = { trustEnv: false, timeout: { connect: 10_000, read: 10_000 } } as const;

const url = (site: string, path = '/') => `https://127.0.0.1:${nginx.sites[site]}${path}`;

describe('interop: nginx and tinyproxy', { skip: skip ?? false }, () => {
  before(async () => {
    if (skip) return;
    root = createRoot({ cn: 'certainly interop root' });
    const clientRoot = createRoot({ cn: 'certainly interop client root' });
    client = issue(clientRoot, { cn: 'alice', sans: [], eku: ['clientAuth'] });
    const inter = intermediate(root, { cn: 'certainly interop intermediate' });
    const sans = ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'];
    caPath = dir.write('root.pem', root.pem);
    nginx = await startNginx({
      full: { cert: issue(inter, { sans }), chain: [inter] },
      leafOnly: { cert: issue(inter, { sans }) },
      expired: {
        cert: issue(inter, {
          sans,
          notBefore: new Date(Date.now() - 10 * 86_400_000),
          notAfter: new Date(Date.now() - 86_400_000),
        }),
        chain: [inter],
      },
      otherName: { cert: issue(inter, { sans: ['DNS:api.example.test'] }), chain: [inter] },
      mtls: { cert: issue(inter, { sans }), chain: [inter], clientCa: clientRoot },
    });
    proxy = await startTinyproxy();
    authProxy = await startTinyproxy({ auth: 'alice:s3cret' });
    // Only port 443 may be tunnelled to, as many corporate proxies are set up.
    strictProxy = await startTinyproxy({ connectPorts: [443] });
  });

  after(async () => {
    for (const d of [strictProxy, authProxy, proxy, nginx]) await d?.stop();
    dir.cleanup();
  });

  describe('nginx directly', () => {
    test('the full chain verifies; the chain nginx sent is recorded', async () => {
      const s = new Session(base);
      try {
        const r = await s.get(url('full', '/direct'), { verify: caPath });
        assert.equal(r.status, 200);
        assert.equal(await r.text(), 'nginx full /direct\n');
        assert.equal(r.tls?.verified, true);
        // nginx sent leaf + intermediate (node may append the anchor it found: ARCHITECTURE.md facts).
        assert.match(r.tls?.chain[1]?.subject ?? '', /certainly interop intermediate/);
        assert.match(r.tls?.anchor?.subject ?? '', /certainly interop root/);
      } finally {
        await s.close();
      }
    });

    test('failures are specific SSLErrors and nginx logs no request', async () => {
      const s = new Session(base);
      try {
        const cases: [string, string[], object][] = [
          ['leafOnly', MISSING_ISSUER, {}],
          ['expired', ['CERT_EXPIRED'], {}],
          ['otherName', ['HOSTNAME_MISMATCH'], {}],
          ['full', ['HOSTNAME_MISMATCH'], { serverName: 'wrong.example.test' }],
        ];
        for (const [site, codes, extra] of cases) {
          const path = `/must-not-arrive-${site}`;
          await assert.rejects(
            s.get(url(site, path), { verify: caPath, ...extra }),
            (e: unknown) => e instanceof SSLError && codes.includes(e.code),
            site,
          );
          assert.ok(!nginx.log().includes(path), `${site}: nginx logged ${path}`);
        }
      } finally {
        await s.close();
      }
    });

    test('adapters: global fetch and axios verify nginx; a wrong trust surfaces our SSLError', async () => {
      const d = dispatcher({ verify: caPath, trustEnv: false });
      const a = agent({ verify: caPath, trustEnv: false });
      const untrusted = agent({ verify: createRoot().pem, trustEnv: false });
      try {
        const r = await fetch(url('full', '/fetch'), { dispatcher: d } as unknown as RequestInit);
        assert.equal(await r.text(), 'nginx full /fetch\n');
        const x = await axios.get(url('full', '/axios'), {
          httpsAgent: a,
          proxy: false,
          responseType: 'text',
        });
        assert.equal(x.data, 'nginx full /axios\n');
        await assert.rejects(
          axios.get(url('full', '/axios-untrusted'), { httpsAgent: untrusted, proxy: false }),
          (e: unknown) => (e as { cause?: unknown }).cause instanceof SSLError,
        );
        assert.ok(!nginx.log().includes('/axios-untrusted'));
      } finally {
        await d.close();
        a.destroy();
        untrusted.destroy();
      }
    });
  });

  describe('nginx with ssl_verify_client on (mutual TLS)', () => {
    // nginx accepts any client certificate, or none, in the handshake and refuses at the first
    // request (400), so check can only say that the server asked; get shows the 400.
    test('get: 400 without a client certificate, 200 with it', async () => {
      const s = new Session(base);
      try {
        const without = await s.get(url('mtls', '/no-cert'), { verify: caPath });
        assert.equal(without.status, 400);
        assert.match(await without.text(), /No required SSL certificate was sent/);
        const r = await s.get(url('mtls', '/with-cert'), {
          verify: caPath,
          cert: { cert: client.pem, key: client.keyPem },
        });
        assert.equal(r.status, 200);
        assert.equal(await r.text(), 'nginx mtls /with-cert\n');
      } finally {
        await s.close();
      }
    });

    test('check: the server asked for a client certificate, and the finding says it may refuse at the HTTP level', async () => {
      const resolved = resolveTrust({ verify: caPath, trustEnv: false });
      assert.ok(!resolved.insecure);
      const r = await diagnose(url('mtls'), { trust: resolved.store, aia: false });
      assert.equal(r.status, 'ok', JSON.stringify(r.findings));
      const asked = r.findings.find((f) => f.code === 'CLIENT_CERT_REQUESTED');
      assert.ok(asked, JSON.stringify(r.findings));
      assert.match(asked.message, /nginx does/);
      const withCert = await diagnose(url('mtls'), {
        trust: resolved.store,
        aia: false,
        cert: { cert: client.pem, key: client.keyPem },
      });
      assert.match(
        withCert.findings.find((f) => f.code === 'CLIENT_CERT_REQUESTED')?.message ?? '',
        /did not refuse the one given|completed the handshake with the one given/,
      );
    });
  });

  describe('through tinyproxy', () => {
    test('CONNECT: nginx is verified through the tunnel', async () => {
      const s = new Session(base);
      try {
        const r = await s.get(url('full', '/via-tinyproxy'), { verify: caPath, proxy: proxy.url });
        assert.equal(await r.text(), 'nginx full /via-tinyproxy\n');
        assert.equal(r.tls?.verified, true);
        assert.match(proxy.log(), new RegExp(`CONNECT 127\\.0\\.0\\.1:${nginx.sites.full}`));
      } finally {
        await s.close();
      }
    });

    test('verification failures through the tunnel: no request reaches nginx', async () => {
      const s = new Session(base);
      try {
        await assert.rejects(
          s.get(url('leafOnly', '/tunnel-leaf-only'), { verify: caPath, proxy: proxy.url }),
          (e: unknown) => e instanceof SSLError && MISSING_ISSUER.includes(e.code),
        );
        await assert.rejects(
          s.get(url('otherName', '/tunnel-other-name'), { verify: caPath, proxy: proxy.url }),
          (e: unknown) => e instanceof SSLError && e.code === 'HOSTNAME_MISMATCH',
        );
        assert.ok(!nginx.log().includes('/tunnel-'));
      } finally {
        await s.close();
      }
    });

    test('BasicAuth: 407 without credentials is a ProxyError; with them the credentials never reach nginx', async () => {
      const s = new Session(base);
      try {
        await assert.rejects(
          s.get(url('full', '/'), { verify: caPath, proxy: authProxy.url }),
          (e: unknown) => e instanceof ProxyError && e.status === 407 && e.code === 'ERR_PROXY_AUTH',
        );
        const withCreds = authProxy.url.replace('http://', 'http://alice:s3cret@');
        const r = await s.get(url('full', '/headers'), { verify: caPath, proxy: withCreds });
        assert.equal(r.status, 200);
        assert.equal(await r.text(), 'proxy-authorization=[] authorization=[]\n');
      } finally {
        await s.close();
      }
    });

    test('a CONNECT port the proxy does not allow is ERR_PROXY_REFUSED with its status', async () => {
      const s = new Session(base);
      try {
        await assert.rejects(
          s.get(url('full', '/'), { verify: caPath, proxy: strictProxy.url }),
          (e: unknown) => {
            assert.ok(e instanceof ProxyError, String(e));
            assert.equal(e.code, 'ERR_PROXY_REFUSED');
            assert.equal(e.status, 403);
            assert.match(e.hint ?? '', /port 443/);
            return true;
          },
        );
      } finally {
        await s.close();
      }
    });

    test('http targets go to tinyproxy in absolute form', async () => {
      const s = new Session(base);
      try {
        const withCreds = authProxy.url.replace('http://', 'http://alice:s3cret@');
        const r = await s.get(`http://127.0.0.1:${nginx.plainPort}/plain-via-proxy`, { proxy: withCreds });
        assert.equal(await r.text(), 'nginx plain /plain-via-proxy\n');
        assert.match(authProxy.log(), /plain-via-proxy/);
      } finally {
        await s.close();
      }
    });

    test('HTTPS_PROXY and NO_PROXY from the environment', async () => {
      const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY };
      for (const k of ['https_proxy', 'no_proxy', 'all_proxy']) delete process.env[k];
      process.env.HTTPS_PROXY = proxy.url;
      const s = new Session({ verify: caPath, timeout: 10_000 });
      try {
        const r = await s.get(url('full', '/env-proxied'));
        assert.equal(r.status, 200);
        assert.match(proxy.log(), /env-proxied|CONNECT/);
        const connects = (proxy.log().match(/CONNECT /g) ?? []).length;
        process.env.NO_PROXY = '127.0.0.1';
        await (await s.get(url('full', '/env-direct'))).text();
        assert.equal((proxy.log().match(/CONNECT /g) ?? []).length, connects, 'NO_PROXY went direct');
      } finally {
        await s.close();
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
    });

    test('adapters through tinyproxy: undici request and axios', async () => {
      const d = dispatcher({ verify: caPath, trustEnv: false, proxy: proxy.url });
      const a = agent({ verify: caPath, trustEnv: false, proxy: proxy.url });
      try {
        const r = await undiciRequest(url('full', '/undici-via-proxy'), { dispatcher: d });
        assert.equal(await r.body.text(), 'nginx full /undici-via-proxy\n');
        const x = await axios.get(url('full', '/axios-via-proxy'), {
          httpsAgent: a,
          proxy: false,
          responseType: 'text',
        });
        assert.equal(x.data, 'nginx full /axios-via-proxy\n');
        await assert.rejects(
          undiciRequest(url('expired', '/undici-expired'), { dispatcher: d }),
          (e: unknown) => e instanceof SSLError && e.code === 'CERT_EXPIRED',
        );
        assert.ok(!nginx.log().includes('/undici-expired'));
      } finally {
        await d.close();
        a.destroy();
      }
    });
  });
});
