/**
 * Offline CRLs: a small CRL writer here (the test PKI makes certificates only), then revocation
 * of leaves and intermediates, the rules that make a CRL unusable, and backtracking around a
 * revoked certificate.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, SSLError, type VerifyCode } from '../../src/errors.js';
import { contextPrimitive, explicit, implicit, integer, sequence } from '../../src/testing/der-writer.js';
import { parseCrl, readCrls } from '../../src/verify/crl.js';
import { anchorsFrom, type RevocationMode, verifyChain, verifyServer } from '../../src/verify/index.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { toPem } from '../../src/x509/pem.js';
import { createRoot, intermediate, issue, reissue } from '../support/pki.js';
import { DAY, makeCrl } from './crl-writer.js';

const root = createRoot();
const inter = intermediate(root);
const leaf = issue(inter);
const chain = [parseCertificate(leaf.der), parseCertificate(inter.der)];
const trust = anchorsFrom([parseCertificate(root.der)], 'inline');

function check(crls: Buffer[], c = chain, revocation?: RevocationMode) {
  return verifyServer({
    chain: c,
    trust,
    name: 'localhost',
    crls: crls.map((d) => parseCrl(d)),
    ...(revocation ? { revocation } : {}),
  });
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
    const err = expectCode(() => check([makeCrl(inter, { revoked: [leaf] })]), 'CERT_REVOKED', 0);
    assert.match(err.message, /was revoked on .*CRL of "CN=certainly Test Intermediate/);
    expectCode(() => check([makeCrl(inter), makeCrl(root, { revoked: [inter] })]), 'CERT_REVOKED', 1);
  });

  it('ignores CRLs of other issuers (the status is then unchecked, an error only under hard)', () => {
    const stranger = createRoot();
    const r = check([makeCrl(stranger, { revoked: [leaf] })]);
    assert.equal(r.path.length, 2);
    assert.equal(r.revocation.certificates[0]!.status, 'unchecked');
    const err = expectCode(() => check([makeCrl(stranger)], chain, 'hard'), 'REVOCATION_UNKNOWN', 0);
    assert.match(err.message, /no stapled OCSP response and no CRL of its issuer/);
  });

  it('never reads "good" from a CRL of the right name that the issuer did not sign', () => {
    const stranger = createRoot();
    // The signature is another key's: not usable, so the status is unknown (soft: recorded).
    const forged = makeCrl(inter, { signWith: stranger });
    const r = check([forged]);
    assert.equal(r.revocation.certificates[0]!.status, 'unknown');
    assert.match(r.revocation.certificates[0]!.reasons!.join(), /signature does not verify/);
    assert.ok(r.notes.some((n) => /revocation status .* is unknown/.test(n)));
    const err = expectCode(() => check([forged], chain, 'hard'), 'REVOCATION_UNKNOWN', 0);
    assert.match(err.message, /signature does not verify/);
    // Its authorityKeyIdentifier names another key (wrong issuer), even though it is signed well.
    const wrongAki = makeCrl(inter, {
      extraExtensions: [{ oid: '2.5.29.35', value: sequence(contextPrimitive(0, Buffer.alloc(20, 7))) }],
    });
    expectCode(() => check([wrongAki], chain, 'hard'), 'REVOCATION_UNKNOWN', 0);
    assert.match(check([wrongAki]).revocation.certificates[0]!.reasons!.join(), /wrong issuer/);
    // A usable CRL of the issuer next to a forged one still decides.
    assert.equal(check([forged, makeCrl(inter)], chain, 'hard').revocation.certificates[0]!.status, 'good');
    expectCode(() => check([forged, makeCrl(inter, { revoked: [leaf] })]), 'CERT_REVOKED', 0);
  });

  it('records a good status with its source and dates; off checks nothing', () => {
    const r = check([makeCrl(inter), makeCrl(root)], chain, 'hard');
    assert.deepEqual(
      r.revocation.certificates.map((c) => [c.depth, c.status, c.source]),
      [
        [0, 'good', 'crl'],
        [1, 'good', 'crl'],
      ],
    );
    assert.equal(r.revocation.mode, 'hard');
    assert.ok(r.revocation.certificates[0]!.nextUpdate! > new Date());
    const off = check([makeCrl(inter, { revoked: [leaf] })], chain, 'off');
    assert.deepEqual(off.revocation.certificates, []);
    assert.throws(
      () => check([], chain, 'strict' as 'hard'),
      (e: unknown) =>
        e instanceof ConfigError &&
        /revocation: "strict" is not one of 'off', 'soft', 'hard'/.test(e.message),
    );
  });

  it('a partial-scope CRL (issuingDistributionPoint) does not cover the certificate', () => {
    const uri = (u: string) => contextPrimitive(6, Buffer.from(u));
    const dpName = (u: string) => explicit(0, implicit(0, sequence(uri(u))));
    const idp = (...parts: Buffer[]) => [{ oid: '2.5.29.28', critical: true, value: sequence(...parts) }];
    const flag = (n: number) => contextPrimitive(n, Buffer.from([0xff])); // [n] IMPLICIT BOOLEAN TRUE
    const scoped: [string, Buffer, number, RegExp][] = [
      [
        'onlySomeReasons',
        makeCrl(inter, { extraExtensions: idp(contextPrimitive(3, Buffer.from([7, 0x80]))) }),
        0,
        /only some revocation reasons/,
      ],
      [
        'onlyContainsCACerts, for a leaf',
        makeCrl(inter, { extraExtensions: idp(flag(2)) }),
        0,
        /only CA certificates/,
      ],
      [
        'onlyContainsUserCerts, for an intermediate',
        makeCrl(root, { extraExtensions: idp(flag(1)) }),
        1,
        /only end-entity/,
      ],
      ['onlyContainsAttributeCerts', makeCrl(inter, { extraExtensions: idp(flag(5)) }), 0, /only attribute/],
      ['indirectCRL', makeCrl(inter, { extraExtensions: idp(flag(4)) }), 0, /indirect CRL/],
      [
        'another distribution point',
        makeCrl(inter, { extraExtensions: idp(dpName('http://crl.example/2.crl')) }),
        0,
        /not one of the certificate's cRLDistributionPoints/,
      ],
    ];
    for (const [label, der, depth, why] of scoped) {
      const soft = check([der, ...(depth === 1 ? [makeCrl(inter)] : [])]);
      const c = soft.revocation.certificates[depth]!;
      assert.equal(c.status, 'unknown', label);
      assert.match(c.reasons!.join(), why, label);
      const err = expectCode(
        () => check([der, ...(depth === 1 ? [makeCrl(inter)] : [])], chain, 'hard'),
        'REVOCATION_UNKNOWN',
        depth,
      );
      assert.match(err.message, why, label);
    }
    // The scopes that do cover: user certificates for the leaf, CA certificates for the
    // intermediate, and the distribution point the leaf names.
    const cdp = sequence(sequence(explicit(0, implicit(0, sequence(uri('http://crl.example/1.crl'))))));
    const l = issue(inter, { extensions: [{ oid: '2.5.29.31', value: cdp }] });
    const c = [parseCertificate(l.der), parseCertificate(inter.der)];
    const covered = check(
      [
        makeCrl(inter, { extraExtensions: idp(dpName('http://crl.example/1.crl'), flag(1)) }),
        makeCrl(root, { extraExtensions: idp(flag(2)) }),
      ],
      c,
      'hard',
    );
    assert.deepEqual(
      covered.revocation.certificates.map((x) => x.status),
      ['good', 'good'],
    );
  });

  it('fails under hard, and records unknown under soft, when the issuer gives a CRL that cannot be used', () => {
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
      const err = expectCode(() => check([der], chain, 'hard'), 'REVOCATION_UNKNOWN', 0);
      assert.match(err.message, /revocation status .* is unknown/, label);
      assert.equal(check([der]).revocation.certificates[0]!.status, 'unknown', label);
    }
    // RFC 5280 §6.3.3 (f): a CA whose keyUsage lacks cRLSign cannot sign CRLs.
    const noCrlSign = intermediate(root, { keyUsage: ['keyCertSign'] });
    const l = issue(noCrlSign);
    const c = [parseCertificate(l.der), parseCertificate(noCrlSign.der)];
    const err = expectCode(() => check([makeCrl(noCrlSign)], c, 'hard'), 'REVOCATION_UNKNOWN', 0);
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
    expectCode(() => verifyServer({ chain: c, trust: onlyOther, crls }), 'CERT_REVOKED', 1);
  });

  it('verifyChain takes CRLs as PEM or DER, and refuses a malformed one', () => {
    const r = verifyChain({
      chain: [leaf.pem, inter.pem],
      ca: root.pem,
      crls: [toPem(makeCrl(inter, { revoked: [leaf] }), 'X509 CRL')],
    });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.error.code, 'CERT_REVOKED');
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
