/**
 * `check` and `ca explain` reach what `get` reaches (issue 13 item 4): through --proxy (http,
 * https, socks5, socks5h) and HTTPS_PROXY / ALL_PROXY / NO_PROXY from the environment, with a
 * client certificate (--cert/--key/--pass) to a server that requires one, with --connect-to,
 * and `ca explain --server-name`. The real command, as a subprocess, on loopback; the proxies
 * record what they were asked for.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { startProxy, type TestProxy } from '../support/proxy.js';
import { startTlsServer, type TestServer } from '../support/servers.js';
import { type Socks5Server, startSocks5Server } from '../support/socks5.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = tempDir('check-connect-');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const base = { PATH: process.env.PATH ?? '', NO_COLOR: '1' };
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...base, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr });
      },
    );
  });
}

let root: Issued;
let caPath: string;
let good: TestServer;
let named: TestServer;
let mtls: TestServer;
let clientRoot: Issued;
let clientCert: string;
let clientKey: string;
let httpProxy: TestProxy;
let tlsProxy: TestProxy;
let proxyCa: string;
let socks: Socks5Server;

before(async () => {
  root = createRoot({ cn: 'check connect root' });
  caPath = dir.write('root.pem', root.pem);
  good = await startTlsServer({ cert: issue(root) });
  named = await startTlsServer({ cert: issue(root, { sans: ['DNS:api.example.com'] }) });
  clientRoot = createRoot({ cn: 'check connect client root' });
  const client = issue(clientRoot, { cn: 'alice', sans: ['DNS:alice.client'], eku: ['clientAuth'] });
  clientCert = dir.write('client.pem', client.pem);
  clientKey = dir.write('client.key', client.keyPem);
  // TLS 1.2: the refusal of a missing client certificate comes inside the handshake.
  mtls = await startTlsServer({
    cert: issue(root),
    requestCert: true,
    clientCa: clientRoot.pem,
    maxVersion: 'TLSv1.2',
  });
  httpProxy = await startProxy();
  const proxyRoot = createRoot({ cn: 'check connect proxy root' });
  proxyCa = dir.write('proxy-root.pem', proxyRoot.pem);
  tlsProxy = await startProxy({ tls: { cert: issue(proxyRoot, { sans: ['IP:127.0.0.1'] }) } });
  socks = await startSocks5Server();
});

after(async () => {
  await Promise.all([good, named, mtls, httpProxy, tlsProxy, socks].map((s) => s.close()));
  dir.cleanup();
});

test('check --proxy http://: verified through the tunnel the proxy opened', async () => {
  const n = httpProxy.connects.length;
  const r = await cli(['check', good.url('/'), '--ca', caPath, '--proxy', httpProxy.url]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /✓ .* verified for 127\.0\.0\.1/);
  assert.deepEqual(
    httpProxy.connects.slice(n).map((c) => c.target),
    [`127.0.0.1:${good.port}`],
  );
});

test('check --proxy https:// with --proxy-cacert: the proxy is verified too', async () => {
  const n = tlsProxy.connects.length;
  const r = await cli([
    'check',
    good.url('/'),
    '--ca',
    caPath,
    '--proxy',
    tlsProxy.url,
    '--proxy-cacert',
    proxyCa,
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(tlsProxy.connects.length - n, 1);
  // Without trust for the proxy's own certificate, the proxy is refused (and the check says so).
  const refused = await cli(['check', good.url('/'), '--ca', caPath, '--proxy', tlsProxy.url]);
  assert.notEqual(refused.code, 0);
});

test('check --proxy socks5:// and socks5h://: the name is resolved here, or by the proxy', async () => {
  for (const scheme of ['socks5', 'socks5h'] as const) {
    const n = socks.requests.length;
    const r = await cli(['check', `localhost:${good.port}`, '--ca', caPath, '--proxy', socks.url(scheme)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const req = socks.requests.slice(n);
    assert.equal(req.length, 1);
    assert.equal(req[0]!.host, scheme === 'socks5h' ? 'localhost' : '127.0.0.1');
  }
});

test('check reads HTTPS_PROXY and ALL_PROXY, NO_PROXY and --noproxy bypass them, --proxy "" turns them off', async () => {
  let n = httpProxy.connects.length;
  const args = ['check', good.url('/'), '--ca', caPath];
  assert.equal((await cli(args, { HTTPS_PROXY: httpProxy.url })).code, 0);
  assert.equal(httpProxy.connects.length - n, 1, 'HTTPS_PROXY');
  n = httpProxy.connects.length;
  assert.equal((await cli(args, { ALL_PROXY: httpProxy.url })).code, 0);
  assert.equal(httpProxy.connects.length - n, 1, 'ALL_PROXY');
  n = httpProxy.connects.length;
  assert.equal((await cli(args, { HTTPS_PROXY: httpProxy.url, NO_PROXY: '127.0.0.1' })).code, 0);
  assert.equal((await cli([...args, '--noproxy', '127.0.0.1'], { HTTPS_PROXY: httpProxy.url })).code, 0);
  assert.equal((await cli([...args, '--proxy', ''], { HTTPS_PROXY: httpProxy.url })).code, 0);
  assert.equal(httpProxy.connects.length - n, 0, 'direct each time');
});

test('check --proxy with a bad URL: exit 2 before any target is dialled', async () => {
  const r = await cli(['check', good.url('/'), '--proxy', 'ftp://nowhere']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.equal(r.stdout, '');
});

test('check --cert/--key: a server that requires a client certificate is checked with it', async () => {
  // TLS 1.2: the refusal ends the handshake, after the server's chain came in the clear: the
  // chain is verified, and the refusal is the finding (as under TLS 1.3).
  const without = await cli(['check', mtls.url('/'), '--ca', caPath]);
  assert.equal(without.code, 1, without.stdout);
  assert.match(without.stdout, /✗ .* verified for 127\.0\.0\.1, but the server refuses this client/);
  assert.match(
    without.stdout,
    /CLIENT_CERT_REQUIRED .*alert "handshake failure"; it had asked for a client certificate and none was given/,
  );
  // The library's hints, in the command line's terms.
  assert.match(without.stdout, /fix: .*pass --cert FILE --key FILE/);
  assert.doesNotMatch(without.stdout, /cert: \{|\{ pfx \}/);
  const getWithout = await cli(['get', mtls.url('/'), '--ca', caPath]);
  assert.equal(getWithout.code, 1);
  assert.match(getWithout.stderr, /fix: .*pass --cert FILE --key FILE/);
  assert.doesNotMatch(getWithout.stderr, /cert: \{|\{ pfx \}/);
  const r = await cli(['check', mtls.url('/'), '--ca', caPath, '--cert', clientCert, '--key', clientKey]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  // And get, with the same flags, agrees.
  const g = await cli(['get', mtls.url('/'), '--ca', caPath, '--cert', clientCert, '--key', clientKey]);
  assert.equal(g.code, 0, g.stderr);
  const bad = await cli(['check', mtls.url('/'), '--key', clientKey]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--key, --pass and --cert-type go with --cert FILE/);
});

test('check against a TLS 1.3 server that requires a client certificate: its refusal is the finding', async () => {
  // Under TLS 1.3 the server refuses after the client's handshake; check waits for that verdict.
  const mtls13 = await startTlsServer({ cert: issue(root), requestCert: true, clientCa: clientRoot.pem });
  try {
    const without = await cli(['check', mtls13.url('/'), '--ca', caPath]);
    assert.equal(without.code, 1, without.stdout + without.stderr);
    assert.match(without.stdout, /✗ .* verified for 127\.0\.0\.1, but the server refuses this client/);
    assert.match(without.stdout, /CLIENT_CERT_REQUIRED/);
    assert.match(without.stdout, /fix: .*pass --cert FILE --key FILE/);
    const r = await cli(['check', mtls13.url('/'), '--ca', caPath, '--cert', clientCert, '--key', clientKey]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✓ .* verified for 127\.0\.0\.1/);
  } finally {
    await mtls13.close();
  }
});

test('check --http2: a server that refuses HTTP/1.1 is checked over the ALPN get --http2 offers', async () => {
  const leaf = issue(root);
  const h2only = http2.createSecureServer({ cert: leaf.pem, key: leaf.keyPem, allowHTTP1: false }, (_q, r) =>
    r.end('h2'),
  );
  h2only.on('tlsClientError', () => {});
  h2only.on('sessionError', () => {});
  await new Promise<void>((r) => h2only.listen(0, '127.0.0.1', r));
  try {
    const url = `https://127.0.0.1:${(h2only.address() as AddressInfo).port}/`;
    const without = await cli(['check', url, '--ca', caPath]);
    assert.equal(without.code, 2, without.stdout);
    assert.match(without.stdout, /alert "no application protocol"/);
    assert.match(without.stdout, /fix: .*speaks only HTTP\/2\. Pass --http2\./);
    const r = await cli(['check', url, '--ca', caPath, '--http2', '-v']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✓ .* verified for 127\.0\.0\.1/);
    assert.match(r.stdout, /ALPN h2/);
  } finally {
    await new Promise<void>((r) => h2only.close(() => r()));
  }
});

test('check --connect-to: the name in the target is verified, the address given is dialled', async () => {
  const r = await cli([
    'check',
    'api.example.com',
    '--connect-to',
    `127.0.0.1:${named.port}`,
    '--ca',
    caPath,
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /verified for api\.example\.com/);
});

test('ca explain --server-name (and --connect-to, --proxy): verified by the right anchor', async () => {
  const miss = await cli(['ca', 'explain', named.url('/'), '--ca', caPath]);
  assert.equal(miss.code, 1, miss.stdout + miss.stderr);
  assert.match(miss.stdout, /fix: .*--server-name api\.example\.com/);
  assert.doesNotMatch(miss.stdout, /serverName/);
  const ok = await cli(['ca', 'explain', named.url('/'), '--ca', caPath, '--server-name', 'api.example.com']);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /verified by: .*check connect root/);
  const via = await cli([
    'ca',
    'explain',
    'https://api.example.com/',
    '--ca',
    caPath,
    '--connect-to',
    `127.0.0.1:${named.port}`,
  ]);
  assert.equal(via.code, 0, via.stdout + via.stderr);
  const n = httpProxy.connects.length;
  const proxied = await cli([
    'ca',
    'explain',
    named.url('/'),
    '--ca',
    caPath,
    '--server-name',
    'api.example.com',
    '--proxy',
    httpProxy.url,
  ]);
  assert.equal(proxied.code, 0, proxied.stdout + proxied.stderr);
  assert.equal(httpProxy.connects.length - n, 1);
});

test('ca pem --server through an https:// proxy (--proxy-cacert): the certificates the server sends', async () => {
  const n = tlsProxy.connects.length;
  const r = await cli([
    'ca',
    'pem',
    '--server',
    `localhost:${named.port}`,
    '--proxy',
    tlsProxy.url,
    '--proxy-cacert',
    proxyCa,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.match(/-----BEGIN CERTIFICATE-----/g)?.length, 1);
  assert.match(r.stdout, /sent by localhost:\d+, not verified/);
  assert.equal(tlsProxy.connects.length - n, 1);
});

test("check: a certificate name with '_' is refused, and its fix (--server-name) works as printed", async () => {
  const underscored = await startTlsServer({ cert: issue(root, { sans: ['DNS:my_service'] }) });
  const reissued = await startTlsServer({ cert: issue(root, { sans: ['DNS:my-service'] }) });
  try {
    const miss = await cli([
      'check',
      `127.0.0.1:${underscored.port}`,
      '--server-name',
      'my_service',
      '--ca',
      caPath,
    ]);
    assert.equal(miss.code, 1, miss.stdout + miss.stderr);
    assert.match(miss.stdout, /HOSTNAME_MISMATCH +certificate lists my_service, but not as a valid DNS name/);
    const fix =
      /keeping the address: certainly (check 127\.0\.0\.1:\d+ --server-name my-service --ca \S+)/.exec(
        miss.stdout,
      );
    assert.ok(fix, miss.stdout);
    // The re-issued certificate is on another port; the command is otherwise run as printed.
    const args = fix[1]!.replace(String(underscored.port), String(reissued.port)).split(' ');
    const ok = await cli(args);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /verified for my-service/);
  } finally {
    await Promise.all([underscored.close(), reissued.close()]);
  }
});
