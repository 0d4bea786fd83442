/**
 * Security review (path building): trusting more must never make a valid chain fail. An
 * intermediate CA that is itself a trust anchor (an administrator added it to the system store)
 * is a subordinate CA: the root-only rules of the profile do not apply to it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anchorsFrom, verifyServer } from '../../src/verify/index.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { createRoot, type Issued, intermediate, issue } from '../support/pki.js';
import { failure } from './_helpers.js';

const cert = (i: Issued) => parseCertificate(i.der);
/** A source that is not a user file: the profile is enforced in full (policy.ts). */
const SYSTEM = 'system:/etc/ssl/certs/ca-certificates.crt';

function verify(chain: Issued[], anchors: Issued[]) {
  return verifyServer({
    chain: chain.map(cert),
    trust: anchorsFrom(anchors.map(cert), SYSTEM),
    name: 'localhost',
  });
}

describe('a trusted intermediate is held to the intermediate profile, not the root one', () => {
  const root = createRoot();
  // Subordinate CAs carry an EKU (CA/B BR §7.1.2.10.6); roots must not (§7.1.2.1.2).
  const inter = intermediate(root, { eku: ['serverAuth', 'clientAuth'] });
  const leaf = issue(inter);

  it('the chain verifies to the root', () => {
    assert.equal(verify([leaf, inter], [root]).anchor.cert.subject.text, cert(root).subject.text);
  });

  it('and still verifies when the intermediate is trusted as well', () => {
    const r = verify([leaf, inter], [root, inter]);
    assert.deepEqual(r.notes, []);
  });

  it('with only the intermediate trusted, and when the server does not send it', () => {
    assert.equal(verify([leaf], [inter]).anchor.cert.subject.text, cert(inter).subject.text);
  });

  it("a trusted intermediate's EKU still limits what it may issue", () => {
    const clientOnly = intermediate(root, { eku: ['clientAuth'] });
    const err = failure(() => verify([issue(clientOnly)], [clientOnly]));
    assert.equal(err.code, 'WRONG_PURPOSE', err.message);
  });

  it('a self-signed root with an EKU is still refused under the strict profile (CA/B BR §7.1.2.1.2)', () => {
    const rootWithEku = createRoot({ eku: ['serverAuth'] });
    const err = failure(() => verify([issue(rootWithEku)], [rootWithEku]));
    assert.equal(err.code, 'PROFILE_VIOLATION', err.message);
    assert.match(err.message, /extKeyUsage/);
  });
});
