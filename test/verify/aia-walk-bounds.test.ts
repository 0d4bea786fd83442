/**
 * Security review (AIA): completing a chain walks the certificates the server sent, checking
 * signatures to find each issuer. The server chooses those certificates, so the walk must be
 * bounded like path building is: no certificate visited twice, and at most the path builder's
 * signature budget.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { completeChain } from '../../src/tls/aia.js';
import { TrustStore } from '../../src/trust/store.js';
import { nodeVerifier, type SignatureVerifier } from '../../src/verify/crypto.js';
import { DEFAULT_BUDGET } from '../../src/verify/path/budget.js';
import { parseCertificate } from '../../src/x509/index.js';
import { createRoot, generateKey, type Issued, intermediate, issue } from '../support/pki.js';

const cert = (i: Issued) => parseCertificate(i.der);

/** Counts every signature check; no cache, so each one is real work. */
function counting(): SignatureVerifier & { count: number } {
  const v = {
    count: 0,
    verifySignedBy(
      child: Parameters<SignatureVerifier['verifySignedBy']>[0],
      by: Parameters<SignatureVerifier['verifySignedBy']>[1],
    ) {
      v.count++;
      return nodeVerifier.verifySignedBy(child, by);
    },
  };
  return v;
}

describe('completeChain: the walk over the certificates sent is bounded', () => {
  const trust = new TrustStore([{ source: 'inline', certs: [cert(createRoot())] }]);

  test(`a long chain under two alternating names costs at most ${DEFAULT_BUDGET.signatures} signature checks`, () => {
    // X0 (the leaf) <- X1 <- … <- X60, named A, B, A, B, …, each signed by the next one's key
    // (real signatures: the server holds every key). Sent in reverse order, every step tries
    // every unvisited certificate of its issuer's name before the one that signed it.
    const name = (i: number) => (i % 2 === 1 ? 'CN=B' : 'CN=A');
    const keys = Array.from({ length: 62 }, () => generateKey('p256'));
    const signer = (i: number) => createRoot({ subject: name(i), key: keys[i] });
    const xs: Issued[] = [issue(signer(1), { key: keys[0] })];
    for (let i = 1; i <= 60; i++) xs.push(intermediate(signer(i + 1), { subject: name(i), key: keys[i] }));
    const chain = [xs[0]!, ...xs.slice(1).reverse()].map(cert);
    return (async () => {
      const v = counting();
      const r = await completeChain(chain, trust, { verifier: v });
      // Before the bound: 960 checks.
      assert.ok(v.count <= DEFAULT_BUDGET.signatures, `${v.count} signature checks`);
      assert.deepEqual(r.fetches, []);
      assert.ok(
        r.notes.some((n) => /signature checks/.test(n)),
        `a note says why the walk stopped: ${JSON.stringify(r.notes)}`,
      );
    })();
  });

  test('no certificate is visited twice: a cross-certifying pair among decoys ends after one round', async () => {
    // Two names, A and B, each certifying the other, with 30 decoys of each name under other keys.
    const kA = generateKey('p256');
    const kB = generateKey('p256');
    const seedA = createRoot({ subject: 'CN=A', key: kA });
    const seedB = createRoot({ subject: 'CN=B', key: kB });
    const decoys: Issued[] = [];
    for (let i = 0; i < 30; i++) {
      decoys.push(intermediate(seedA, { subject: 'CN=B', key: generateKey('p256') }));
      decoys.push(intermediate(seedB, { subject: 'CN=A', key: generateKey('p256') }));
    }
    const realB = intermediate(seedA, { subject: 'CN=B', key: kB });
    const realA = intermediate(seedB, { subject: 'CN=A', key: kA });
    const leaf = issue(seedB);
    const v = counting();
    const r = await completeChain([leaf, ...decoys, realB, realA].map(cert), trust, { verifier: v });
    // Before: 2046 checks, walking A -> B -> A -> … once per certificate sent. Now each of the
    // leaf, realB and realA tries the 31 (at most) unvisited certificates of its issuer's name.
    assert.ok(v.count <= 93, `${v.count} signature checks`);
    assert.deepEqual(r.certs, []);

    const w = counting();
    await completeChain([leaf, realB, realA].map(cert), trust, { verifier: w });
    // leaf -> realB -> realA, then realB is not taken again: two checks, not one per step (6).
    assert.ok(w.count <= 3, `${w.count} signature checks`);
  });
});
