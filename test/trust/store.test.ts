import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { TrustStore } from '../../src/trust/store.js';
import { parseCertificate } from '../../src/x509/index.js';
import { createRoot, intermediate, reissue } from '../support/index.js';

const parse = (issued: { der: Uint8Array }) => parseCertificate(issued.der);

describe('TrustStore', () => {
  const a = createRoot({ subject: 'CN=Root A, O=certainly tests' });
  const b = createRoot({ subject: 'CN=Root B, O=certainly tests' });
  const c = createRoot({ subject: 'CN=Root C, O=certainly tests' });

  it('de-duplicates by DER and keeps every source, first one first', () => {
    const store = new TrustStore([
      { source: 'file:/one.pem', certs: [parse(a), parse(b)] },
      { source: 'bundled', certs: [parse(b), parse(c)] },
      { source: 'inline', certs: [parse(a)] },
    ]);
    assert.equal(store.size, 3);
    assert.deepEqual(
      store.anchors.map((x) => x.cert.subject.commonName),
      ['Root A', 'Root B', 'Root C'],
    );
    assert.deepEqual(store.anchors[0]!.sources, ['file:/one.pem', 'inline']);
    assert.deepEqual(store.anchors[1]!.sources, ['file:/one.pem', 'bundled']);
    assert.deepEqual(store.anchors[2]!.sources, ['bundled']);
    assert.ok(Object.isFrozen(store.anchors) && Object.isFrozen(store.anchors[0]!.sources));
  });

  it('counts anchors per source (an anchor in two sources counts in both)', () => {
    const store = new TrustStore([
      { source: 'x', certs: [parse(a), parse(b), parse(a)] },
      { source: 'y', certs: [parse(b)] },
    ]);
    assert.deepEqual(
      [...store.bySource()],
      [
        ['x', 2],
        ['y', 1],
      ],
    );
  });

  it('finds issuers by subject name, and anchors by exact DER', () => {
    const inter = intermediate(a, { subject: 'CN=Inter, O=certainly tests' });
    // The same subject and key, issued again: a second anchor with the same name.
    const a2 = reissue(a, a);
    const store = new TrustStore([{ source: 'x', certs: [parse(a), parse(a2), parse(b)] }]);
    const issuers = store.issuersOf(parse(inter));
    assert.equal(issuers.length, 2);
    assert.ok(issuers.every((i) => i.cert.subject.commonName === 'Root A'));
    assert.deepEqual(store.issuersOf(parse(c)), []);
    assert.equal(store.find(parse(b))?.cert.fingerprintSha256, parse(b).fingerprintSha256);
    assert.equal(store.find(parse(c)), undefined);
    const fp = parse(b).fingerprintSha256.toUpperCase().match(/../g)!.join(':');
    assert.equal(store.findByFingerprint(fp)?.cert.subject.commonName, 'Root B');
  });

  it('has a key that depends on the set of anchors only', () => {
    const one = new TrustStore([{ source: 'file:/x', certs: [parse(a), parse(b)] }]);
    const two = new TrustStore([
      { source: 'bundled', certs: [parse(b)] },
      { source: 'inline', certs: [parse(a), parse(a)] },
    ]);
    const three = new TrustStore([{ source: 'file:/x', certs: [parse(a), parse(c)] }]);
    assert.equal(one.key, two.key);
    assert.notEqual(one.key, three.key);
    assert.match(one.key, /^[0-9a-f]{64}$/);
    assert.notEqual(new TrustStore([]).key, one.key);
  });

  it('gives PEM strings for node:tls, built once', () => {
    const store = new TrustStore([{ source: 'x', certs: [parse(a), parse(b)] }]);
    const pems = store.pems();
    assert.equal(store.pems(), pems);
    assert.equal(pems.length, 2);
    assert.equal(
      new X509Certificate(pems[0]!).fingerprint256.replace(/:/g, '').toLowerCase(),
      parse(a).fingerprintSha256,
    );
  });
});
