/**
 * Every misconfiguration of issue 5's "Done when" list, served on loopback, diagnosed: the
 * finding code and the fix. And for each one the library fails on, the library's SSLError says
 * the same thing (findingFor(err) equals the report's finding).
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { Session } from '../../src/client/session.js';
import {
  type CheckReport,
  type DiagnoseOptions,
  diagnose,
  type Finding,
  findingFor,
} from '../../src/diagnose/index.js';
import { SSLError } from '../../src/errors.js';
import { resolveTrust } from '../../src/trust/resolve.js';
import { TrustStore } from '../../src/trust/store.js';
import { parseCertificate } from '../../src/x509/index.js';
import {
  createRoot,
  type Issued,
  intermediate,
  issue,
  pemOf,
  selfSigned,
  startHttpServer,
  startTlsServer,
  type TestServer,
  tempDir,
} from '../support/index.js';

const DAY = 86_400_000;

let root: Issued;
let inter: Issued;
/** The root as a PEM string: an 'inline' anchor, checked with the full profile like a public root. */
let rootPem: string;
let trust: TrustStore;
const dir = tempDir('diagnose-');
const servers: { close(): Promise<void> }[] = [];
const session = new Session({ trustEnv: false });

before(() => {
  root = createRoot({ subject: 'CN=Diagnose Test Root, O=certainly tests' });
  inter = intermediate(root, { subject: 'CN=Diagnose Test Issuing CA, O=certainly tests' });
  rootPem = root.pem;
  const resolved = resolveTrust({ verify: rootPem, trustEnv: false });
  assert.ok(!resolved.insecure);
  trust = resolved.store;
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await session.close();
  dir.cleanup();
});

async function serve(cert: Issued, chain: Issued[] = [inter]): Promise<TestServer> {
  const s = await startTlsServer({ cert, chain });
  servers.push(s);
  return s;
}

/**
 * A bare TLS server at OpenSSL security level 0, for chains Node's default level refuses to even
 * load ("ca md too weak" for a SHA-1 CA); test/support's server has no option for it.
 */
async function serveWeak(cert: Issued, chain: Issued[]): Promise<{ port: number }> {
  const server = tls.createServer({
    key: cert.keyPem,
    cert: pemOf(cert, ...chain),
    ciphers: 'DEFAULT:@SECLEVEL=0',
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  });
  return { port: (server.address() as AddressInfo).port };
}

async function check(
  s: { port: number },
  opts: Partial<DiagnoseOptions> & { target?: string } = {},
): Promise<CheckReport> {
  const { target, ...rest } = opts;
  return diagnose(target ?? `localhost:${s.port}`, { trust, aia: true, ...rest });
}

function finding(r: CheckReport, code: string): Finding {
  const f = r.findings.find((x) => x.code === code);
  assert.ok(
    f,
    `no ${code} finding; findings: ${r.findings.map((x) => `${x.code}: ${x.message}`).join(' | ')}`,
  );
  return f;
}

/** ISO times differ between two runs a second apart; everything else must be equal. */
function timeless(s: string): string {
  return s.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>');
}

/**
 * The library's error for the same endpoint, and the check that it says what `certainly check`
 * says: same code, sentence and fix. Every verifier error carries its hint, which is the fix.
 */
async function libraryAgrees(url: string, f: Finding): Promise<SSLError> {
  const err = await libraryError(url);
  const mine = findingFor(err, { name: new URL(url).hostname.replace(/^\[|\]$/g, '') });
  assert.equal(mine.code, f.code);
  assert.equal(timeless(mine.message), timeless(f.message));
  assert.ok(err.hint !== undefined, `${err.code} has no hint`);
  assert.equal(f.fix, err.hint);
  assert.equal(timeless(mine.fix), timeless(f.fix));
  return err;
}

/** The library's error for `url` (verify: the test root). */
async function libraryError(url: string): Promise<SSLError> {
  try {
    await session.request('GET', url, { verify: rootPem });
  } catch (e) {
    if (e instanceof SSLError) return e;
    throw e;
  }
  throw new Error(`the request to ${url} succeeded`);
}

/** The URL diagnose checks by default (localhost), for the library. */
function urlOf(s: { port: number }): string {
  return `https://localhost:${s.port}/`;
}

describe('the misconfigurations of issue 5, on loopback', () => {
  test('expired: CERT_EXPIRED with the dates, and the local clock in the report', async () => {
    const s = await serve(
      issue(inter, { notBefore: new Date(Date.now() - 40 * DAY), notAfter: new Date(Date.now() - DAY) }),
    );
    const r = await check(s);
    assert.equal(r.status, 'error');
    assert.equal(r.exitCode, 1);
    const f = finding(r, 'CERT_EXPIRED');
    assert.equal(f.position, 0);
    assert.match(f.message, /expired at \d{4}-/);
    assert.match(f.fix, /renewed|clock/);
    assert.ok(Math.abs(Date.parse(r.checkedAt) - Date.now()) < 60_000);
    assert.equal(r.chain[0]!.daysLeft, -2);
    await libraryAgrees(urlOf(s), f);
  });

  test('wrong host: HOSTNAME_MISMATCH names what the certificate is for', async () => {
    const s = await serve(issue(inter, { sans: ['DNS:other.example'] }));
    const r = await check(s);
    const f = finding(r, 'HOSTNAME_MISMATCH');
    assert.match(f.message, /valid for other\.example, not localhost/);
    assert.match(f.fix, /localhost is the host you meant/);
    assert.equal(r.identity?.matched, false);
    await libraryAgrees(urlOf(s), f);
  });

  test('IP literal with a DNS-only certificate (the seed): IP_ADDRESS_MISMATCH and the serverName to use', async () => {
    const s = await serve(issue(inter, { sans: ['DNS:*.example.com', 'DNS:example.com'] }));
    const r = await check(s, { target: `https://127.0.0.1:${s.port}/` });
    assert.equal(r.connection?.sni, null, 'no SNI for an IP literal');
    const f = finding(r, 'IP_ADDRESS_MISMATCH');
    assert.equal(f.verifyCode, 'HOSTNAME_MISMATCH');
    assert.equal(f.serverName, 'example.com');
    assert.match(f.fix, /serverName: 'example\.com'/);
    await libraryAgrees(`https://127.0.0.1:${s.port}/`, f);
    // The fix works.
    const fixed = await check(s, { target: `https://127.0.0.1:${s.port}/`, serverName: 'api.example.com' });
    assert.equal(fixed.status, 'ok', JSON.stringify(fixed.findings));
    assert.equal(fixed.connection?.sni, 'api.example.com');
  });

  test('self-signed: SELF_SIGNED, save and trust this certificate or use a CA', async () => {
    const s = await serve(selfSigned(), []);
    const r = await check(s);
    const f = finding(r, 'SELF_SIGNED');
    assert.match(
      f.fix,
      /trust this certificate: save it \(certainly ca pem --server [^ ]+:\d+ > cert\.pem\).*verify: 'cert\.pem'/,
    );
    assert.equal(r.chain.length, 1);
    await libraryAgrees(urlOf(s), f);
  });

  test('untrusted root: UNKNOWN_ISSUER names the root to add', async () => {
    const other = createRoot({ subject: 'CN=Somebody Else Root' });
    const otherInter = intermediate(other, { subject: 'CN=Somebody Else Issuing CA' });
    const s = await serve(issue(otherInter), [otherInter]);
    const r = await check(s);
    const f = finding(r, 'UNKNOWN_ISSUER');
    assert.equal(f.position, 1);
    assert.match(f.fix, /Somebody Else Root/);
    assert.equal(r.openssl?.authorized, false);
    await libraryAgrees(urlOf(s), f);
  });

  test('incomplete chain with an AIA server: MISSING_INTERMEDIATE names the intermediate, its URL and fingerprint', async () => {
    const aia = await startHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/pkix-cert' });
      res.end(inter.der);
    });
    servers.push(aia);
    const url = aia.url('/issuing-ca.der');
    const s = await serve(issue(inter, { aia: { caIssuers: [url] } }), []);
    const r = await check(s);
    assert.equal(r.status, 'error', 'the library still fails: the server must send it');
    assert.equal(r.verification.ok, false);
    const f = finding(r, 'MISSING_INTERMEDIATE');
    assert.match(f.message, /Diagnose Test Issuing CA/);
    assert.ok(f.fix.includes(url));
    assert.ok(f.fix.includes(parseCertificate(inter.der).fingerprintSha256));
    assert.equal(r.aia?.completed?.ok, true);
    assert.deepEqual(
      r.path?.map((c) => c.origin),
      ['sent', 'aia', 'trust-store'],
    );
    assert.ok(
      !r.findings.some((x) => x.code === 'INCOMPLETE_CHAIN' || x.code === 'UNKNOWN_ISSUER'),
      'refined, not repeated',
    );
    // The library, which does not fetch, says INCOMPLETE_CHAIN with the URL.
    const err = await libraryAgrees(urlOf(s), findingFor(await libraryError(urlOf(s))));
    assert.ok(err.hint?.includes(url));
  });

  test('incomplete chain without an AIA server: INCOMPLETE_CHAIN, and the failed fetch as info', async () => {
    const closed = await startHttpServer();
    const url = closed.url('/gone.der');
    await closed.close(); // nothing listens there any more
    const s = await serve(issue(inter, { aia: { caIssuers: [url] } }), []);
    const r = await check(s);
    // The verifier calls a leaf whose issuer is neither sent nor trusted INCOMPLETE_CHAIN (it
    // cannot tell a missing intermediate from an unknown private root); either code is the truth.
    const f = r.findings.find((x) => x.code === 'INCOMPLETE_CHAIN' || x.code === 'UNKNOWN_ISSUER');
    assert.ok(f, JSON.stringify(r.findings));
    assert.match(f.fix, /send/);
    assert.ok(f.fix.includes('Diagnose Test Issuing CA'));
    assert.equal(finding(r, 'AIA_FETCH_FAILED').severity, 'info');
    assert.equal(r.aia?.fetches[0]?.ok, false);
    await libraryAgrees(urlOf(s), f);
    // AIA off: no fetch at all.
    const off = await check(s, { aia: false });
    assert.equal(off.aia, null);
    assert.equal(off.findings[0]?.code, f.code);
  });

  test('AIA to a loopback address is refused when the server itself is not local (allowPrivate: false)', async () => {
    const aia = await startHttpServer((_req, res) => res.end(inter.der));
    servers.push(aia);
    const s = await serve(issue(inter, { aia: { caIssuers: [aia.url('/ca.der')] } }), []);
    const r = await check(s, { aia: { allowPrivate: false } });
    assert.match(finding(r, 'AIA_FETCH_FAILED').message, /public addresses only/);
    assert.ok(!r.findings.some((x) => x.code === 'MISSING_INTERMEDIATE'));
  });

  test('reversed chain order: verified from the chain as sent, CHAIN_ORDER warning with the right order', async () => {
    const i2 = intermediate(inter, { subject: 'CN=Diagnose Second Tier CA' });
    const s = await serve(issue(i2), [inter, i2]);
    const r = await check(s);
    assert.equal(r.chainSource, 'wire');
    assert.deepEqual(
      r.chain.map((c) => c.subject.split(',')[0]),
      ['CN=localhost', 'CN=Diagnose Test Issuing CA', 'CN=Diagnose Second Tier CA'],
    );
    assert.equal(r.verification.ok, true);
    assert.equal(r.status, 'warning');
    assert.equal(r.exitCode, 0);
    const f = finding(r, 'CHAIN_ORDER');
    assert.equal(f.severity, 'warning');
    assert.match(f.fix, /Second Tier CA.*then.*Issuing CA/);
    // The library verifies the chain as sent, so nothing is added about Node-based clients.
    assert.doesNotMatch(f.message, /Node-based clients/);
    // In order, nothing to say.
    const fine = await check(await serve(issue(i2), [i2, inter]));
    assert.equal(fine.status, 'ok', JSON.stringify(fine.findings));
  });

  test('extra certificates and the root sent: CHAIN_EXTRA_CERTS warning, CHAIN_INCLUDES_ROOT info', async () => {
    const stray = createRoot({ subject: 'CN=Stray Root' });
    const s = await serve(issue(inter), [inter, stray, root]);
    const r = await check(s);
    assert.equal(r.verification.ok, true);
    assert.match(finding(r, 'CHAIN_EXTRA_CERTS').message, /#2 "CN=Stray Root"/);
    assert.equal(finding(r, 'CHAIN_INCLUDES_ROOT').position, 3);
    assert.ok(!r.findings.some((x) => x.code === 'CHAIN_ORDER'), 'an extra in between is not disorder');
  });

  test('SHA-1 intermediate: WEAK_ALGORITHM at position 1', async () => {
    const sha1 = intermediate(root, { hash: 'sha1', subject: 'CN=Old SHA-1 CA' });
    const s = await serveWeak(issue(sha1), [sha1]);
    const r = await check(s);
    const f = finding(r, 'WEAK_ALGORITHM');
    assert.equal(f.position, 1);
    assert.match(f.message, /SHA1/);
    assert.match(f.fix, /SHA-256/);
    await libraryAgrees(urlOf(s), f);
  });

  test('RSA-1024 leaf: WEAK_KEY', async () => {
    const s = await serveWeak(issue(inter, { keyType: 'rsa1024' }), [inter]);
    const r = await check(s);
    const f = finding(r, 'WEAK_KEY');
    assert.equal(f.position, 0);
    assert.match(f.fix, /2048/);
    assert.equal(r.chain[0]!.key, 'RSA 1024');
    await libraryAgrees(urlOf(s), f);
  });

  test('no SAN (CN only): NO_SUBJECT_ALT_NAME, once, with the SAN to add', async () => {
    const s = await serve(issue(inter, { sans: [], cn: 'localhost' }));
    const r = await check(s);
    const f = finding(r, 'NO_SUBJECT_ALT_NAME');
    assert.match(f.fix, /DNS:localhost/);
    assert.equal(r.findings.filter((x) => x.code === 'NO_SUBJECT_ALT_NAME').length, 1);
    const err = await libraryAgrees(urlOf(s), f);
    // The library's error says it all by itself: the name, the CN, the SAN entry to add.
    assert.equal(err.expected, 'localhost');
    assert.deepEqual(err.presented, []);
    assert.match(err.message, /Common Name 'localhost' would have matched/);
    assert.match(err.hint ?? '', /subjectAltName=DNS:localhost/);
    assert.ok(err.chain && err.chain.length > 0, 'the chain is attached');
  });

  test('no subject: EMPTY_SUBJECT (an error under a public-style root, a warning under a private CA file)', async () => {
    const s = await serve(issue(inter, { emptySubject: true }));
    const r = await check(s);
    const f = finding(r, 'EMPTY_SUBJECT');
    assert.equal(f.severity, 'error');
    assert.equal(f.verifyCode, 'PROFILE_VIOLATION');
    assert.match(f.message, /subject is empty/);
    await libraryAgrees(urlOf(s), f);

    const caFile = dir.write('root.pem', rootPem);
    const fileTrust = resolveTrust({ verify: caFile, trustEnv: false });
    assert.ok(!fileTrust.insecure);
    const relaxed = await check(s, { trust: fileTrust.store });
    assert.equal(relaxed.verification.ok, true);
    assert.equal(finding(relaxed, 'EMPTY_SUBJECT').severity, 'warning');
    assert.match(finding(relaxed, 'EMPTY_SUBJECT').fix, /mark subjectAltName critical/);
    finding(relaxed, 'RELAXED_RULE');
  });

  test('not yet valid: CERT_NOT_YET_VALID, check the clock', async () => {
    const s = await serve(
      issue(inter, { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 40 * DAY) }),
    );
    const r = await check(s);
    const f = finding(r, 'CERT_NOT_YET_VALID');
    assert.match(f.fix, /clock/);
    await libraryAgrees(urlOf(s), f);
  });

  test('wrong EKU (clientAuth only): WRONG_PURPOSE', async () => {
    const s = await serve(issue(inter, { eku: ['clientAuth'] }));
    const r = await check(s);
    const f = finding(r, 'WRONG_PURPOSE');
    assert.match(f.message, /clientAuth/);
    assert.match(f.fix, /TLS server certificate/);
    await libraryAgrees(urlOf(s), f);
  });

  test('CA certificate used as leaf: CA_USED_AS_LEAF', async () => {
    const s = await serve(intermediate(inter, { sans: ['DNS:localhost'] }));
    const r = await check(s);
    const f = finding(r, 'CA_USED_AS_LEAF');
    assert.equal(f.position, 0);
    assert.match(f.fix, /end-entity certificate/);
    await libraryAgrees(urlOf(s), f);
  });

  test('expiring in 3 days: verified, CERT_EXPIRING_SOON warning, exit 0; --warn-days 2 silences it', async () => {
    const s = await serve(issue(inter, { notAfter: new Date(Date.now() + 3 * DAY) }));
    const r = await check(s);
    assert.equal(r.verification.ok, true);
    assert.equal(r.status, 'warning');
    assert.equal(r.exitCode, 0);
    const f = finding(r, 'CERT_EXPIRING_SOON');
    // The one rule for days (rounded down): the finding says what the chain's daysLeft says.
    assert.match(f.message, new RegExp(`expires in ${r.chain[0]!.daysLeft} days`));
    assert.equal(r.chain[0]!.daysLeft, 2);
    assert.match(f.fix, /Renew the server certificate before \d{4}-\d{2}-\d{2}/);
    const quiet = await check(s, { warnDays: 2 });
    assert.equal(quiet.status, 'ok');
  });

  test('1000 SANs: verified, MANY_NAMES warning, and quickly', async () => {
    const sans = Array.from({ length: 1000 }, (_, i) => `DNS:host${i}.example.com`);
    const s = await serve(issue(inter, { sans: [...sans, 'DNS:localhost'] }));
    const started = performance.now();
    const r = await check(s);
    assert.ok(performance.now() - started < 10_000);
    assert.equal(r.verification.ok, true);
    assert.equal(r.chainSource, 'wire');
    const f = finding(r, 'MANY_NAMES');
    assert.match(f.message, /1001 names/);
  });
});

describe('odd chains', () => {
  test('a trusted self-signed certificate: verified, no order or expiry noise from being path and anchor at once', async () => {
    const self = selfSigned({ notAfter: new Date(Date.now() + 5 * DAY) });
    const s = await serve(self, []);
    const selfTrust = resolveTrust({ verify: self.pem, trustEnv: false });
    assert.ok(!selfTrust.insecure);
    const r = await check(s, { trust: selfTrust.store });
    assert.equal(r.verification.ok, true, JSON.stringify(r.verification));
    assert.ok(!r.findings.some((f) => f.code === 'CHAIN_ORDER'));
    assert.equal(r.findings.filter((f) => f.code === 'CERT_EXPIRING_SOON').length, 1);
    assert.equal(r.path?.length, 1);
  });

  test('certificates our parser refuses (OpenSSL loads them): BAD_ENCODING at the right position, no crash', async () => {
    // A PrintableString holding 0xFF: OpenSSL serves it, RFC 5280 forbids it.
    const badLeaf = issue(inter, { subject: 'CN=#1302ff00' });
    const r1 = await check(await serve(badLeaf));
    assert.equal(r1.status, 'error');
    assert.equal(finding(r1, 'BAD_ENCODING').position, 0);
    assert.ok(!r1.findings.some((f) => f.code === 'NO_CERTIFICATE'));

    const stray = intermediate(root, { subject: 'CN=#1302ff00' });
    const r2 = await check(await serve(issue(inter), [stray, inter]));
    assert.equal(finding(r2, 'BAD_ENCODING').position, 1);
    assert.deepEqual(
      r2.chain.map((c) => c.position),
      [0, 2],
    );
    assert.equal(r2.verification.ok, true, 'the certificates that parse still verify');
    assert.ok(r2.path?.some((c) => c.position === 2));
  });
});

describe('trust stores compared', () => {
  test('root in the OS store, not in the trust used: SYSTEM_ROOT_NOT_TRUSTED with the file to trust', async () => {
    const corp = createRoot({ subject: 'CN=Corp Inspection Root' });
    const s = await serve(issue(corp, { sans: ['DNS:localhost', 'DNS:www.example.org'] }), []);
    const system = new TrustStore([
      { source: 'system:/etc/ssl/certs/ca-certificates.crt', certs: [parseCertificate(corp.der)] },
    ]);
    const r = await check(s, {
      compareWith: { system, bundled: new TrustStore([]) },
      serverName: 'www.example.org',
    });
    const f = finding(r, 'SYSTEM_ROOT_NOT_TRUSTED');
    assert.equal(f.verifyCode, r.verification.code);
    assert.match(f.message, /Corp Inspection Root/);
    assert.match(f.message, /TLS-inspecting proxy/);
    assert.match(f.fix, /verify: '\/etc\/ssl\/certs\/ca-certificates\.crt'/);
  });

  test('a public root missing from the trust used: PUBLIC_ROOT_NOT_TRUSTED, add instead of replace', async () => {
    const pub = createRoot({ subject: 'CN=Pretend Public Root' });
    const pubInter = intermediate(pub);
    const s = await serve(issue(pubInter), [pubInter]);
    const bundled = new TrustStore([{ source: 'bundled', certs: [parseCertificate(pub.der)] }]);
    const explanation = {
      decidedBy: 'env' as const,
      detail: 'REQUESTS_CA_BUNDLE replaces the defaults',
      sources: [],
      envConsidered: [{ name: 'REQUESTS_CA_BUNDLE', value: '/corp/only.pem', used: true, why: 'set' }],
      bundledNodeVersion: process.versions.node,
    };
    const r = await check(s, {
      compareWith: { bundled, system: new TrustStore([]) },
      trustExplanation: explanation,
    });
    const f = finding(r, 'PUBLIC_ROOT_NOT_TRUSTED');
    assert.match(f.message, /Pretend Public Root/);
    assert.match(f.fix, /REQUESTS_CA_BUNDLE=\/corp\/only\.pem replaces the default roots/);
    assert.match(f.fix, /NODE_EXTRA_CA_CERTS/);
  });

  test('verified through a root only the OS trusts, for a public name: LIKELY_INTERCEPTION warning', async () => {
    const corp = createRoot({ subject: 'CN=Corp Proxy Root' });
    const s = await serve(issue(corp, { sans: ['DNS:www.example.org'] }), []);
    const sysTrust = new TrustStore([
      { source: 'system:/etc/ssl/certs/ca-certificates.crt', certs: [parseCertificate(corp.der)] },
    ]);
    const r = await check(s, { trust: sysTrust, serverName: 'www.example.org' });
    assert.equal(r.anchor?.class, 'system-only');
    const f = finding(r, 'LIKELY_INTERCEPTION');
    assert.equal(f.severity, 'warning');
    assert.match(f.message, /TLS-inspecting proxy/);
    // An internal name with the same root is expected: info only.
    const internal = await serve(issue(corp, { sans: ['DNS:wiki.corp'] }), []);
    const r2 = await check(internal, { trust: sysTrust, serverName: 'wiki.corp' });
    assert.equal(finding(r2, 'LIKELY_INTERCEPTION').severity, 'info');
    assert.equal(r2.status, 'ok');
  });
});

describe('connection failures', () => {
  test('nothing listening: CONNECTION_FAILED, status unreachable, exit code 2', async () => {
    const gone = await startHttpServer();
    const port = gone.port;
    await gone.close();
    const r = await diagnose(`127.0.0.1:${port}`, { trust });
    assert.equal(r.status, 'unreachable');
    assert.equal(r.exitCode, 2);
    assert.equal(finding(r, 'CONNECTION_FAILED').severity, 'error');
    assert.equal(r.chain.length, 0);
  });

  test('a plain HTTP server: HANDSHAKE_FAILED, unreachable', async () => {
    const plain = await startHttpServer();
    servers.push(plain);
    const r = await diagnose(`127.0.0.1:${plain.port}`, { trust, timeout: 5000 });
    assert.equal(r.status, 'unreachable');
    assert.match(finding(r, 'HANDSHAKE_FAILED').fix, /TLS/);
  });

  test('a name that does not resolve: DNS_FAILED', async () => {
    const r = await diagnose('https://does-not-exist.invalid/', { trust, timeout: 5000 });
    assert.equal(r.dns?.addresses.length, 0);
    assert.equal(finding(r, 'DNS_FAILED').severity, 'error');
    assert.equal(r.exitCode, 2);
  });

  test('bad targets are InvalidURL before anything is dialled', async () => {
    await assert.rejects(diagnose('http://example.com/', { trust }), /not an https URL/);
    await assert.rejects(diagnose('host:99999', { trust }), /not a target/);
  });
});
