/**
 * verify/crypto.ts imports an issuer's key the fast way for its type (an RSA key as PKCS#1, an
 * EC or Ed25519 key as a JWK of its coordinates) instead of through OpenSSL's SPKI decoder. The
 * result must be the same: every key type verifies what it signed and nothing else, and a key
 * OpenSSL would refuse as an SPKI (an EC point off its curve) is refused on the fast road too.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { describe, test } from 'node:test';
import { clearCryptoCaches, verifySignature } from '../../src/verify/crypto.js';
import { anchorsFrom, verifyServer } from '../../src/verify/index.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import type { Certificate } from '../../src/x509/types.js';
import { createRoot, intermediate, issue, type KeyType } from '../support/pki.js';

const TYPES: KeyType[] = ['rsa2048', 'p256', 'p384', 'p521', 'ed25519'];

/** The certificate with one byte of its SubjectPublicKeyInfo's key bits changed (the last one). */
function withKeyByteFlipped(cert: Certificate): Certificate {
  const der = Buffer.from(cert.der);
  const spki = Buffer.from(cert.publicKey.der);
  const at = der.indexOf(spki);
  assert.ok(at > 0, 'the SPKI is inside the certificate');
  der[at + spki.length - 1]! ^= 0x01;
  return parseCertificate(der);
}

describe('issuer keys imported by type', () => {
  for (const type of TYPES) {
    test(`${type}: a chain verifies, and a signature by another key does not`, () => {
      clearCryptoCaches();
      const root = createRoot({ keyType: type });
      const inter = intermediate(root, { keyType: type });
      const leaf = issue(inter, { keyType: type });
      const trust = anchorsFrom([parseCertificate(root.der)], 'bundled');
      const chain = [parseCertificate(leaf.der), parseCertificate(inter.der)];
      assert.doesNotThrow(() => verifyServer({ chain, name: 'localhost', trust, time: new Date() }));
      const child = parseCertificate(leaf.der);
      assert.equal(verifySignature(child.signatureAlgorithm, child.tbsDer, child.signature, chain[1]!), true);
      // The leaf was not signed by the root.
      clearCryptoCaches();
      const rootCert = parseCertificate(root.der);
      assert.equal(verifySignature(child.signatureAlgorithm, child.tbsDer, child.signature, rootCert), false);
    });
  }

  for (const type of ['p256', 'p384', 'p521', 'ed25519', 'rsa2048'] as const) {
    test(`${type}: an issuer key changed by one bit verifies nothing (off the curve for EC)`, () => {
      clearCryptoCaches();
      const root = createRoot({ keyType: type });
      const inter = intermediate(root, { keyType: type });
      const child = parseCertificate(issue(inter, { keyType: type }).der);
      const bad = withKeyByteFlipped(parseCertificate(inter.der));
      if (type.startsWith('p')) {
        // OpenSSL's own SPKI reader refuses such a point; the JWK road must refuse it as well.
        assert.throws(() =>
          createPublicKey({ key: Buffer.from(bad.publicKey.der), format: 'der', type: 'spki' }),
        );
      }
      assert.equal(verifySignature(child.signatureAlgorithm, child.tbsDer, child.signature, bad), false);
    });
  }
});
