/**
 * Offline CRLs: a small CRL writer here (the test PKI makes certificates only), then revocation
 * of leaves and intermediates, the rules that make a CRL unusable, and backtracking around a
 * revoked certificate.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, SSLError, type VerifyCode } from '../../src/errors.js';
import { parseCrl, readCrls } from '../../src/verify/crl.js';
import { anchorsFrom, verifyChain, verifyServer } from '../../src/verify/index.js';
import { integer } from '../../src/x509/build/der-writer.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { toPem } from '../../src/x509/pem.js';
import { createRoot, intermediate, issue, reissue } from '../support/pki.js';
import { DAY, makeCrl } from './crl-writer.js';

const root = createRoot();
const inter = intermediate(root);
const leaf = issue(inter);
const chain = [parseCertificate(leaf.der), parseCertificate(inter.der)];
const trust = anchorsFrom([parseCertificate(root.der)], 'inline');

function check(crls: Buffer[], c = chain) {
  return verifyServer({ chain: c, trust, name: 'localhost', crls: crls.map((d) => parseCrl(d)) });
}

function expectCode(fn: () => unknown, code: VerifyCode, position: number): SSLError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SSLError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.position, position, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

describe('CRLs', () => {
  it('parses a CRL: issuer, dates, entries, extensions', () => {
    const crl = parseCrl(makeCrl(inter, { revoked: [leaf] }));
    assert.equal(crl.version, 2);
    assert.equal(crl.issuer.key, parseCertificate(inter.der).subject.key);
    assert.equal(crl.revoked.size, 1);
    assert.ok(crl.nextUpdate && crl.nextUpdate > crl.thisUpdate);
    assert.deepEqual(
      crl.extensions.map((e) => e.oid),
      ['2.5.29.20'],
    );
    assert.equal(readCrls(toPem(makeCrl(inter), 'X509 CRL')).length, 1);
  });

  it('accepts a certificate its issuer has not revoked', () => {
    assert.equal(check([makeCrl(inter), makeCrl(root)]).path.length, 2);
  });

  it('refuses a revoked leaf and a revoked intermediate, naming them', () => {
    const err = expectCode(() => check([makeCrl(inter, { revoked: [leaf] })]), 'REVOKED', 0);
    assert.match(err.message, /was revoked on .*CRL of "CN=certainly Test Intermediate/);
    expectCode(() => check([makeCrl(inter), makeCrl(root, { revoked: [inter] })]), 'REVOKED', 1);
  });

  it('ignores CRLs of other issuers and CRLs signed by another key with the same name', () => {
    const stranger = createRoot();
    assert.equal(check([makeCrl(stranger, { revoked: [leaf] })]).path.length, 2);
    assert.equal(check([makeCrl(inter, { revoked: [leaf], signWith: stranger })]).path.length, 2);
  });

  it('fails when the issuer gives a CRL that cannot be used', () => {
    const unusable: [string, Buffer][] = [
      ['no CRLNumber', makeCrl(inter, { crlNumber: false })],
      ['critical CRLNumber', makeCrl(inter, { crlNumber: 'critical' })],
      [
        'out of date',
        makeCrl(inter, {
          thisUpdate: new Date(Date.now() - 9 * DAY),
          nextUpdate: new Date(Date.now() - DAY),
        }),
      ],
      ['not yet valid', makeCrl(inter, { thisUpdate: new Date(Date.now() + DAY) })],
      [
        'a delta CRL',
        makeCrl(inter, { extraExtensions: [{ oid: '2.5.29.27', critical: true, value: integer(6) }] }),
      ],
      [
        'an unknown critical extension',
        makeCrl(inter, { extraExtensions: [{ oid: '1.2.3.4', critical: true, value: Buffer.from([5, 0]) }] }),
      ],
    ];
    for (const [label, der] of unusable) {
      const err = expectCode(() => check([der]), 'REVOCATION_UNKNOWN', 0);
      assert.match(err.message, /revocation status .* is unknown/, label);
    }
    // RFC 5280 §6.3.3 (f): a CA whose keyUsage lacks cRLSign cannot sign CRLs.
    const noCrlSign = intermediate(root, { keyUsage: ['keyCertSign'] });
    const l = issue(noCrlSign);
    const c = [parseCertificate(l.der), parseCertificate(noCrlSign.der)];
    const err = expectCode(() => check([makeCrl(noCrlSign)], c), 'REVOCATION_UNKNOWN', 0);
    assert.match(err.message, /cRLSign|signing CRLs/);
  });

  it('finds a path around a revoked cross-certificate', () => {
    const otherRoot = createRoot();
    const cross = reissue(otherRoot, inter);
    const c = [parseCertificate(leaf.der), parseCertificate(cross.der), parseCertificate(inter.der)];
    const both = anchorsFrom([parseCertificate(root.der), parseCertificate(otherRoot.der)], 'inline');
    const crls = [parseCrl(makeCrl(otherRoot, { revoked: [cross] }))];
    const r = verifyServer({ chain: c, trust: both, crls });
    assert.equal(r.anchor.cert.subject.text, parseCertificate(root.der).subject.text);
    const onlyOther = anchorsFrom([parseCertificate(otherRoot.der)], 'inline');
    expectCode(() => verifyServer({ chain: c, trust: onlyOther, crls }), 'REVOKED', 1);
  });

  it('verifyChain takes CRLs as PEM or DER, and refuses a malformed one', () => {
    const r = verifyChain({
      chain: [leaf.pem, inter.pem],
      ca: root.pem,
      crls: [toPem(makeCrl(inter, { revoked: [leaf] }), 'X509 CRL')],
    });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.code, 'REVOKED');
    assert.equal(
      verifyChain({ chain: [leaf.pem, inter.pem], ca: root.pem, crls: [makeCrl(inter)] }).ok,
      true,
    );
    assert.throws(
      () => verifyChain({ chain: leaf.pem, ca: root.pem, crls: [Buffer.from([0x30, 0x03, 1, 2, 3])] }),
      ConfigError,
    );
  });
});
