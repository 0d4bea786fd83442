/**
 * The AIA fetcher (src/verify/aia.ts), shared by the library's `aia` option and `certainly check`:
 * what is fetched (http/https only, public addresses unless allowed), the bounds (size, time,
 * redirects, count), the formats (DER, PEM, PKCS#7), the cache, and that only a certificate that
 * really issued the child is taken. The library's use is tested end to end in test/client/aia.
 */
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { after, afterEach, before, describe, test } from 'node:test';
import { aiaCacheSize, clearAiaCache, completeChain, fetchIssuer } from '../../src/tls/aia.js';
import { TrustStore } from '../../src/trust/store.js';
import {
  AIA_MAX_BYTES,
  AIA_MAX_DEPTH,
  AIA_MAX_URLS_PER_CERT,
  type AiaOutcome,
  certificatesInResponse,
  privateAddressKind,
  refuseUrl,
} from '../../src/verify/aia.js';
import { parseCertificate } from '../../src/x509/index.js';
import type { Certificate } from '../../src/x509/types.js';
import {
  createRoot,
  type Issued,
  intermediate,
  issue,
  type PlainServer,
  startHttpServer,
  startTlsServer,
} from '../support/index.js';
import { pkcs7Of } from '../support/pkcs7.js';

let root: Issued;
let inter: Issued;
let leafCert: Certificate;
let http: PlainServer;
let hits: string[] = [];
const local = { allowPrivate: true };

/** This machine's name, if it resolves to a private or loopback address (most Linux hosts and containers). */
async function privateName(): Promise<string | undefined> {
  try {
    const { address } = await lookup(hostname());
    return privateAddressKind(address) ? hostname() : undefined;
  } catch {
    return undefined;
  }
}

const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {};

before(async () => {
  root = createRoot({ subject: 'CN=AIA Root' });
  inter = intermediate(root, { subject: 'CN=AIA Issuing CA' });
  http = await startHttpServer((req, res) => {
    hits.push(req.url ?? '');
    const route = routes[(req.url ?? '').split('?')[0]!];
    if (route) route(req, res);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  const ok =
    (body: Buffer | string, type = 'application/pkix-cert') =>
    (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
  routes['/der'] = ok(inter.der);
  routes['/pem'] = ok(inter.pem, 'application/x-pem-file');
  routes['/p7c'] = ok(pkcs7Of(root, inter), 'application/pkcs7-mime');
  routes['/other'] = ok(createRoot().der);
  routes['/junk'] = ok('not a certificate at all', 'text/plain');
  routes['/big'] = ok(Buffer.alloc(AIA_MAX_BYTES + 1, 0x30));
  routes['/chunked-big'] = (_req, res) => {
    res.writeHead(200); // no content-length: the limit must hold while reading
    for (let i = 0; i < 20; i++) res.write(Buffer.alloc(8192, 1));
    res.end();
  };
  routes['/slow'] = (_req, res) => {
    res.writeHead(200);
    res.write('0');
    setTimeout(() => res.end(), 5000).unref();
  };
  routes['/redirect'] = (_req, res) => {
    res.writeHead(302, { location: '/der' });
    res.end();
  };
  routes['/loop'] = (_req, res) => {
    res.writeHead(302, { location: '/loop' });
    res.end();
  };
  leafCert = parseCertificate(issue(inter).der);
});

afterEach(() => {
  clearAiaCache();
});

after(async () => {
  await http.close();
});

describe('private addresses', () => {
  const table: [string, boolean][] = [
    ['127.0.0.1', true],
    ['127.255.1.2', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['8.8.8.8', false],
    ['::1', true],
    ['::', true],
    ['fd00::1', true],
    ['fe80::1', true],
    ['2001:db8::1', false],
    ['::ffff:127.0.0.1', true],
    ['::ffff:8.8.8.8', false],
    ['224.0.0.1', true],
    ['240.0.0.1', true],
    ['192.0.0.8', true],
    ['198.18.0.1', true],
    ['ff02::1', true],
    ['100::1', true],
    ['::127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['64:ff9b::10.0.0.1', true],
    ['64:ff9b::8.8.8.8', false],
    ['2001:4860:4860::8888', false],
    ['not-an-ip', false], // a name: judged by the addresses it resolves to, at connect time
  ];
  for (const [address, isPrivate] of table) {
    test(`${address} is ${isPrivate ? '' : 'not '}private`, () => {
      assert.equal(privateAddressKind(address) !== undefined, isPrivate);
    });
  }

  test('URLs refused before any connection', () => {
    assert.match(refuseUrl('ldap://ldap.example.com/cn=ca', false) ?? '', /http and https only/);
    assert.match(refuseUrl('file:///etc/passwd', true) ?? '', /http and https only/);
    assert.match(refuseUrl('http://127.0.0.1/ca.der', false) ?? '', /loopback/);
    assert.match(refuseUrl('http://[fe80::1]/ca.der', false) ?? '', /link-local/);
    assert.match(refuseUrl('http://localhost/ca.der', false) ?? '', /localhost/);
    assert.match(refuseUrl('http://user:pw@example.com/ca.der', false) ?? '', /credentials/);
    assert.match(refuseUrl('not a url', false) ?? '', /not a URL/);
    assert.equal(refuseUrl('http://127.0.0.1/ca.der', true), undefined);
    assert.equal(refuseUrl('http://crt.example.com/ca.der', false), undefined);
  });

  test('a host name that resolves to a private address is refused at connect time', async (t) => {
    const name = await privateName();
    if (!name) {
      t.skip(
        `${hostname()} does not resolve to a private address here; nothing to test the connect-time check with`,
      );
      return;
    }
    hits = [];
    const f = await fetchIssuer(`http://${name}:${http.port}/der`, leafCert, { allowPrivate: false });
    assert.equal(f.ok, false);
    assert.match(f.error ?? '', /public addresses only/);
    assert.deepEqual(hits, [], 'nothing reached the server');
    assert.equal((await fetchIssuer(`http://${name}:${http.port}/der`, leafCert, local)).ok, true);
  });
});

describe('fetchIssuer', () => {
  test('DER, PEM and PKCS#7 responses; the certificate that issued the child is picked', async () => {
    for (const path of ['/der', '/pem', '/p7c']) {
      const f = await fetchIssuer(http.url(path), leafCert, local);
      assert.equal(f.ok, true, `${path}: ${f.error}`);
      assert.equal(f.issuer?.subject.commonName, 'AIA Issuing CA');
    }
    assert.equal(certificatesInResponse(pkcs7Of(root, inter)).length, 2);
  });

  test('a certificate that did not issue the child is not taken', async () => {
    const f = await fetchIssuer(http.url('/other'), leafCert, local);
    assert.equal(f.ok, false);
    assert.equal(f.issuer, undefined);
    assert.match(f.error ?? '', /none of the 1 certificate/);
  });

  test('not a certificate, 404, too big (declared or streamed), too slow, too many redirects', async () => {
    assert.match((await fetchIssuer(http.url('/junk'), leafCert, local)).error ?? '', /not a certificate/);
    assert.match((await fetchIssuer(http.url('/missing'), leafCert, local)).error ?? '', /HTTP status 404/);
    assert.match((await fetchIssuer(http.url('/big'), leafCert, local)).error ?? '', /more than the 65536/);
    assert.match(
      (await fetchIssuer(http.url('/chunked-big'), leafCert, local)).error ?? '',
      /larger than the 65536/,
    );
    const started = performance.now();
    const slow = await fetchIssuer(http.url('/slow'), leafCert, { ...local, timeout: 300 });
    assert.match(slow.error ?? '', /within 300 ms/);
    assert.ok(performance.now() - started < 3000);
    hits = [];
    assert.match(
      (await fetchIssuer(http.url('/loop'), leafCert, local)).error ?? '',
      /more than 3 redirects/,
    );
    assert.equal(hits.length, 4);
  });

  test('a redirect is followed, and checked like the first URL', async () => {
    assert.equal((await fetchIssuer(http.url('/redirect'), leafCert, local)).ok, true);
    routes['/to-loopback'] = (_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${http.port}/der` });
      res.end();
    };
    const f = await fetchIssuer(http.url('/to-loopback'), leafCert, { allowPrivate: true });
    assert.equal(f.ok, true);
    routes['/to-ldap'] = (_req, res) => {
      res.writeHead(302, { location: 'ldap://ldap.example.com/cn=ca' });
      res.end();
    };
    assert.match(
      (await fetchIssuer(http.url('/to-ldap'), leafCert, local)).error ?? '',
      /http and https only/,
    );
  });
});

describe('completeChain', () => {
  test('fetches each missing level, never the anchor, and stops at the trust store', async () => {
    const i2 = intermediate(inter, { subject: 'CN=AIA Second', aia: { caIssuers: [http.url('/der')] } });
    routes['/i2'] = (_req, res) => res.end(i2.der);
    const leaf = parseCertificate(issue(i2, { aia: { caIssuers: [http.url('/i2')] } }).der);
    const trust = new TrustStore([{ source: 'inline', certs: [parseCertificate(root.der)] }]);
    hits = [];
    const r = await completeChain([leaf], trust, local);
    assert.deepEqual(
      r.certs.map((c) => c.subject.commonName),
      ['AIA Second', 'AIA Issuing CA'],
    );
    assert.deepEqual(hits, ['/i2', '/der']);
  });

  test('nothing is fetched when the chain already reaches an anchor, and at most AIA_MAX_URLS_PER_CERT otherwise', async () => {
    const trust = new TrustStore([{ source: 'inline', certs: [parseCertificate(root.der)] }]);
    hits = [];
    const sent = [parseCertificate(issue(inter).der), parseCertificate(inter.der)];
    assert.deepEqual((await completeChain(sent, trust, local)).fetches, []);
    const urls = Array.from({ length: AIA_MAX_URLS_PER_CERT + 3 }, (_, i) => http.url(`/missing-${i}`));
    const leaf = parseCertificate(issue(inter, { aia: { caIssuers: urls } }).der);
    const r = await completeChain([leaf], trust, local);
    assert.equal(r.fetches.length, AIA_MAX_URLS_PER_CERT);
    assert.equal(hits.length, AIA_MAX_URLS_PER_CERT);
  });
});

describe('what a fetch reports', () => {
  test('each failure has its outcome; bytes and time are reported', async () => {
    const table: [string, AiaOutcome, RegExp][] = [
      ['/der', 'found', /^$/],
      ['/other', 'no-issuer', /holds no certificate for "CN=AIA Issuing CA"/],
      ['/junk', 'not-certificate', /neither DER, PKCS#7 nor PEM/],
      ['/missing', 'http-error', /HTTP status 404/],
      ['/big', 'too-large', /65536/],
      ['/loop', 'http-error', /redirects/],
    ];
    for (const [path, outcome, error] of table) {
      const f = await fetchIssuer(http.url(path), leafCert, local);
      assert.equal(f.outcome, outcome, path);
      assert.equal(f.ok, outcome === 'found', path);
      assert.match(f.error ?? '', error, path);
      assert.equal(f.url, http.url(path));
      assert.equal(f.for, leafCert.subject.text);
      assert.ok(f.ms >= 0 && f.ms < 5000, `${path}: ${f.ms} ms`);
    }
    assert.equal((await fetchIssuer(http.url('/der'), leafCert, local)).bytes, inter.der.length);
    assert.equal((await fetchIssuer(http.url('/junk'), leafCert, local)).bytes, 24);
    const refused = await fetchIssuer(http.url('/der'), leafCert, { allowPrivate: false });
    assert.equal(refused.outcome, 'refused');
    assert.equal(refused.bytes, undefined);
    const closed = await startHttpServer();
    const url = closed.url('/gone.der');
    await closed.close();
    assert.equal((await fetchIssuer(url, leafCert, local)).outcome, 'network');
    assert.equal(
      (await fetchIssuer(http.url('/slow'), leafCert, { ...local, timeout: 200 })).outcome,
      'timeout',
    );
  });

  test('an impostor with the issuer name but another key is not taken (the signature decides)', async () => {
    const impostor = intermediate(createRoot({ subject: 'CN=AIA Root' }), { subject: 'CN=AIA Issuing CA' });
    routes['/impostor'] = (_req, res) => res.end(impostor.der);
    const f = await fetchIssuer(http.url('/impostor'), leafCert, local);
    assert.equal(f.outcome, 'no-issuer');
    assert.equal(f.certificates.length, 1);
    assert.equal(f.issuer, undefined);
  });

  test('an https URL is read even when its server certificate is not trusted', async () => {
    const stranger = createRoot({ subject: 'CN=Nobody Trusts Me' });
    const srv = await startTlsServer({ cert: issue(stranger), handler: (_req, res) => res.end(inter.der) });
    try {
      const f = await fetchIssuer(srv.url('/ca.der'), leafCert, local);
      assert.equal(f.ok, true, f.error);
    } finally {
      await srv.close();
    }
  });

  test('certificatesInResponse: DER, PEM (several), PKCS#7 (several, in order; DER or PEM), garbage', () => {
    const second = intermediate(inter, { subject: 'CN=AIA Second' });
    assert.equal(certificatesInResponse(inter.der)[0]?.subject.commonName, 'AIA Issuing CA');
    assert.equal(certificatesInResponse(Buffer.from(inter.pem + second.pem)).length, 2);
    assert.deepEqual(
      certificatesInResponse(pkcs7Of(inter, second)).map((c) => c.subject.commonName),
      ['AIA Issuing CA', 'AIA Second'],
    );
    assert.equal(certificatesInResponse(pkcs7Of(inter)).length, 1);
    const p7pem = `-----BEGIN PKCS7-----\n${pkcs7Of(inter, second).toString('base64')}\n-----END PKCS7-----\n`;
    assert.equal(certificatesInResponse(Buffer.from(p7pem)).length, 2);
    assert.throws(() => certificatesInResponse(Buffer.from('nope')), /neither DER, PKCS#7 nor PEM/);
    assert.throws(() => certificatesInResponse(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])));
  });
});

describe('the cache', () => {
  test('a response is fetched once, then served from the cache', async () => {
    hits = [];
    const a = await fetchIssuer(http.url('/der'), leafCert, local);
    const b = await fetchIssuer(http.url('/der'), leafCert, local);
    assert.equal(a.cached, undefined);
    assert.equal(b.cached, true);
    assert.equal(b.ok, true);
    assert.equal(b.bytes, inter.der.length);
    assert.deepEqual(hits, ['/der']);
    assert.equal(aiaCacheSize(), 1);
    clearAiaCache();
    await fetchIssuer(http.url('/der'), leafCert, local);
    assert.deepEqual(hits, ['/der', '/der']);
  });

  test('a failure is remembered and says so; a timeout is not remembered', async () => {
    hits = [];
    await fetchIssuer(http.url('/junk'), leafCert, local);
    const again = await fetchIssuer(http.url('/junk'), leafCert, local);
    assert.equal(again.outcome, 'not-certificate');
    assert.match(again.error ?? '', /remembered from a recent attempt/);
    assert.deepEqual(hits, ['/junk']);
    await fetchIssuer(http.url('/slow'), leafCert, { ...local, timeout: 100 });
    await fetchIssuer(http.url('/slow'), leafCert, { ...local, timeout: 100 });
    assert.deepEqual(hits, ['/junk', '/slow', '/slow']);
  });

  test('the options that change the answer are part of the key', async () => {
    hits = [];
    assert.equal(
      (await fetchIssuer(http.url('/der'), leafCert, { ...local, maxBytes: 100 })).outcome,
      'too-large',
    );
    assert.equal((await fetchIssuer(http.url('/der'), leafCert, local)).ok, true);
    assert.equal((await fetchIssuer(http.url('/der'), leafCert, { allowPrivate: false })).outcome, 'refused');
    assert.deepEqual(hits, ['/der', '/der']);
  });

  test('concurrent fetches of one URL share one request; a joiner keeps its own time limit', async () => {
    let release: () => void = () => {};
    routes['/held'] = (_req, res) => {
      release = () => res.end(inter.der);
    };
    hits = [];
    const first = fetchIssuer(http.url('/held'), leafCert, local);
    const joiner = await fetchIssuer(http.url('/held'), leafCert, { ...local, timeout: 100 });
    assert.equal(joiner.outcome, 'timeout');
    const second = fetchIssuer(http.url('/held'), leafCert, local);
    release();
    assert.equal((await first).ok, true);
    assert.equal((await second).ok, true);
    assert.deepEqual(hits, ['/held']);
  });
});

describe('completeChain: limits', () => {
  test('the time limit covers all the fetches of a chain', async () => {
    const trust = new TrustStore([{ source: 'inline', certs: [parseCertificate(root.der)] }]);
    const leaf = parseCertificate(
      issue(inter, { aia: { caIssuers: [http.url('/slow'), http.url('/der')] } }).der,
    );
    hits = [];
    const started = performance.now();
    const r = await completeChain([leaf], trust, { ...local, timeout: 300 });
    assert.ok(performance.now() - started < 3000);
    assert.deepEqual(hits, ['/slow']);
    assert.equal(r.certs.length, 0);
    assert.equal(r.fetches[0]?.outcome, 'timeout');
    assert.match(r.notes.join(' '), /stopped after 300 ms/);
  });

  test('a certificate without caIssuers is noted; a fetched root that is not trusted is only a candidate', async () => {
    const trust = new TrustStore([{ source: 'inline', certs: [parseCertificate(root.der)] }]);
    const plain = await completeChain([leafCert], trust, local);
    assert.deepEqual(plain.fetches, []);
    assert.match(plain.notes[0] ?? '', /no caIssuers URL/);
    const rogue = createRoot({ subject: 'CN=AIA Rogue Root' });
    routes['/rogue'] = (_req, res) => res.end(rogue.der);
    const leaf = parseCertificate(issue(rogue, { aia: { caIssuers: [http.url('/rogue')] } }).der);
    const r = await completeChain([leaf], trust, local);
    assert.deepEqual(
      r.certs.map((c) => c.subject.commonName),
      ['AIA Rogue Root'],
    );
    assert.equal(r.fetches.length, 1, 'the walk stops at a self-issued certificate');
  });

  test('at most AIA_MAX_DEPTH missing issuers are fetched', async () => {
    const trust = new TrustStore([{ source: 'inline', certs: [parseCertificate(root.der)] }]);
    // A ladder of intermediates, each naming the next up at its own URL.
    let upper: Issued = inter;
    let url = http.url('/der');
    for (let i = 0; i < AIA_MAX_DEPTH + 1; i++) {
      const next = intermediate(upper, { subject: `CN=AIA Rung ${i}`, aia: { caIssuers: [url] } });
      const path = `/rung-${i}`;
      routes[path] = (_req, res) => res.end(next.der);
      upper = next;
      url = http.url(path);
    }
    const leaf = parseCertificate(issue(upper, { aia: { caIssuers: [url] } }).der);
    const r = await completeChain([leaf], trust, local);
    assert.equal(r.certs.length, AIA_MAX_DEPTH);
    assert.match(r.notes.join(' '), /more than 3 missing issuers/);
  });
});
