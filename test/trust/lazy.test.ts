/**
 * Lazily parsed anchors (src/trust/lazy.ts): the bundled roots and OS stores are indexed by
 * subject and fingerprint when read, and parsed when a path first uses them. A lazy certificate
 * must read exactly as a parsed one, must not parse before a field needs it, and one whose full
 * parse fails must be left out where it is used, not break verification.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ParseError } from '../../src/errors.js';
import { loadBundled } from '../../src/trust/bundled.js';
import { isUsable, lazyCertificate } from '../../src/trust/lazy.js';
import { extractCertificates } from '../../src/trust/load.js';
import { TrustStore } from '../../src/trust/store.js';
import { verifyChain } from '../../src/verify/index.js';
import { parseCertificate } from '../../src/x509/index.js';
import { createRoot, issue, pemOf } from '../support/index.js';

/** A copy of `der` whose notBefore is not a valid time: the subject still reads, the rest does not. */
function brokenValidity(der: Uint8Array): Uint8Array {
  const copy = new Uint8Array(der);
  for (let i = 0; i < copy.length - 15; i++) {
    // UTCTime (tag 0x17, 13 octets 'YYMMDDhhmmssZ'): the first one in a certificate is notBefore.
    if (copy[i] === 0x17 && copy[i + 1] === 13 && copy[i + 14] === 0x5a) {
      copy[i + 14] = 0x58; // 'Z' -> 'X'
      return copy;
    }
  }
  throw new Error('no UTCTime found');
}

describe('lazy anchors', () => {
  const root = createRoot({ subject: 'CN=Lazy Root, O=certainly tests' });
  const leaf = issue(root);

  test('a lazy certificate reads as the parsed one, field for field', () => {
    const eager = parseCertificate(root.der);
    const lazy = lazyCertificate(root.der);
    assert.equal(lazy.fingerprintSha256, eager.fingerprintSha256);
    assert.equal(lazy.subject.key, eager.subject.key);
    assert.equal(lazy.subject.text, eager.subject.text);
    assert.equal(lazy.toPEM(), eager.toPEM());
    assert.deepEqual(lazy.summary(), eager.summary());
    assert.equal(lazy.issuer.text, eager.issuer.text);
    assert.equal(lazy.basicConstraints?.ca, true);
    assert.equal(lazy.selfIssued, true);
    assert.deepEqual(Object.keys(lazy).sort(), Object.keys(eager).sort());
  });

  test('nothing but the subject is read until another field is asked for', () => {
    const bad = brokenValidity(root.der);
    assert.throws(() => parseCertificate(bad), ParseError);
    // Reading it lazily succeeds: the validity is not looked at yet.
    const lazy = lazyCertificate(bad);
    assert.equal(lazy.subject.commonName, 'Lazy Root');
    assert.match(lazy.toPEM(), /^-----BEGIN CERTIFICATE-----/);
    assert.equal(isUsable(lazy), false);
    assert.throws(() => lazy.notBefore, ParseError);
    assert.equal(isUsable(parseCertificate(root.der)), true);
  });

  test('a certificate whose subject cannot be read is reported at once, as an eager read would', () => {
    const got = extractCertificates(root.der.subarray(0, 40), { lazy: true });
    assert.equal(got.certs.length, 0);
    assert.equal(got.invalid.length, 1);
  });

  test('an anchor that does not parse is left out where a path meets it; the good twin still verifies', () => {
    // Same subject (same issuer name for the leaf): one broken, one good.
    const broken = lazyCertificate(brokenValidity(root.der));
    const store = new TrustStore([{ source: 'system:/test', certs: [broken, lazyCertificate(root.der)] }]);
    assert.equal(store.size, 2);
    const leafCert = parseCertificate(leaf.der);
    assert.equal(store.issuersOf(leafCert).length, 1);
    const r = verifyChain({ chain: pemOf(leaf), trust: store, name: 'localhost' });
    assert.equal(r.ok, true, r.ok ? '' : r.error.message);
    const alone = new TrustStore([
      { source: 'system:/test', certs: [lazyCertificate(brokenValidity(root.der))] },
    ]);
    const refused = verifyChain({ chain: pemOf(leaf), trust: alone, name: 'localhost' });
    assert.equal(refused.ok, false);
    if (!refused.ok) assert.equal(refused.error.code, 'UNKNOWN_ISSUER');
  });

  test("Node's bundled roots are read lazily: indexed, not parsed, until used", () => {
    const bundled = loadBundled();
    assert.ok(bundled.certs.length > 100);
    assert.deepEqual(bundled.warnings, []);
    // Every one of them does parse when asked (Node's list holds no malformed root).
    assert.ok(bundled.certs.every((c) => isUsable(c)));
  });
});
