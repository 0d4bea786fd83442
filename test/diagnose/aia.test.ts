/**
 * AIA fetching: what is fetched (http/https only, public addresses unless allowed), the bounds
 * (size, time, redirects, count), the formats (DER, PEM, PKCS#7), and that only a certificate
 * that really issued the child is taken.
 */
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import {
  AIA_MAX_BYTES,
  AIA_MAX_FETCHES,
  certificatesInResponse,
  completeChain,
  fetchIssuer,
  privateAddressKind,
  refuseUrl,
} from '../../src/diagnose/aia.js';
import { TrustStore } from '../../src/trust/store.js';
import { parseCertificate } from '../../src/x509/index.js';
import type { Certificate } from '../../src/x509/types.js';
import {
  createRoot,
  der,
  type Issued,
  intermediate,
  issue,
  type PlainServer,
  startHttpServer,
} from '../support/index.js';

let root: Issued;
let inter: Issued;
let leafCert: Certificate;
let http: PlainServer;
let hits: string[] = [];
const local = { allowPrivate: true };

/** PKCS#7 SignedData "certs-only" (RFC 5652 §5.1), as `openssl crl2pkcs7 -nocrl` writes it. */
function pkcs7(...certs: Issued[]): Buffer {
  return der.sequence(
    der.oid('1.2.840.113549.1.7.2'),
    der.explicit(
      0,
      der.sequence(
        der.integer(1),
        der.set(),
        der.sequence(der.oid('1.2.840.113549.1.7.1')),
        der.implicit(0, der.set(...certs.map((c) => c.der))),
        der.set(),
      ),
    ),
  );
}

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
  routes['/p7c'] = ok(pkcs7(root, inter), 'application/pkcs7-mime');
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
    assert.equal(certificatesInResponse(pkcs7(root, inter)).length, 2);
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
      r.added.map((c) => c.subject.commonName),
      ['AIA Second', 'AIA Issuing CA'],
    );
    assert.deepEqual(hits, ['/i2', '/der']);
  });

  test('nothing is fetched when the chain already reaches an anchor, and at most AIA_MAX_FETCHES otherwise', async () => {
    const trust = new TrustStore([{ source: 'inline', certs: [parseCertificate(root.der)] }]);
    hits = [];
    const sent = [parseCertificate(issue(inter).der), parseCertificate(inter.der)];
    assert.deepEqual((await completeChain(sent, trust, local)).fetches, []);
    const urls = Array.from({ length: AIA_MAX_FETCHES + 3 }, (_, i) => http.url(`/missing-${i}`));
    const leaf = parseCertificate(issue(inter, { aia: { caIssuers: urls } }).der);
    const r = await completeChain([leaf], trust, local);
    assert.equal(r.fetches.length, AIA_MAX_FETCHES);
    assert.equal(hits.length, AIA_MAX_FETCHES);
  });
});
