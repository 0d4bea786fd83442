/**
 * verifyChain, the offline API: inputs in every form, the result object, bad input as errors a
 * person can act on, and the relaxation of hygiene rules for anchors from user files.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, SSLError } from '../../src/errors.js';
import { anchorsFrom, isUserFileAnchor, verifyChain, verifyServer } from '../../src/verify/index.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { createRoot, intermediate, issue, pemOf, standardPki } from '../support/pki.js';

const { root, intermediate: inter, leaf } = standardPki();

function failed(r: ReturnType<typeof verifyChain>): SSLError {
  assert.equal(r.ok, false, 'expected a failure');
  return (r as { error: SSLError }).error;
}

describe('verifyChain', () => {
  it('takes PEM text (one string or several), DER bytes and parsed certificates', () => {
    const forms = [
      pemOf(leaf, inter),
      [leaf.pem, inter.pem],
      [new Uint8Array(leaf.der), new Uint8Array(inter.der)],
      [parseCertificate(leaf.der), inter.pem],
      [Buffer.from(pemOf(leaf, inter))],
    ];
    for (const chain of forms) {
      const r = verifyChain({ chain, ca: root.pem, name: 'localhost' });
      assert.equal(r.ok, true, r.ok ? '' : r.error.message);
      if (!r.ok) continue;
      assert.equal(r.path.length, 2);
      assert.equal(r.path[0]!.subject, 'CN=localhost, O=certainly tests');
      assert.deepEqual(r.anchor, { subject: parseCertificate(root.der).subject.text, sources: ['inline'] });
      assert.equal(r.verified.anchor.cert.fingerprintSha256, parseCertificate(root.der).fingerprintSha256);
    }
  });

  it('takes CAs as PEM, DER or a list, and an ISO time', () => {
    assert.equal(verifyChain({ chain: pemOf(leaf, inter), ca: [new Uint8Array(root.der)] }).ok, true);
    assert.equal(verifyChain({ chain: pemOf(leaf, inter), ca: [createRoot().pem, root.pem] }).ok, true);
    const later = new Date(Date.now() + 60 * 86400_000).toISOString();
    assert.equal(
      failed(verifyChain({ chain: pemOf(leaf, inter), ca: root.pem, time: later })).code,
      'CERT_EXPIRED',
    );
  });

  it("uses Node's bundled roots when no CA is given", () => {
    const err = failed(verifyChain({ chain: pemOf(leaf, inter) }));
    assert.equal(err.code, 'UNKNOWN_ISSUER');
    assert.equal(err.position, 1);
  });

  it('reports a malformed server certificate as BAD_ENCODING, and sets a malformed extra aside', () => {
    const broken = '-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n';
    const first = failed(verifyChain({ chain: [broken, inter.pem], ca: root.pem }));
    assert.equal(first.code, 'BAD_ENCODING');
    assert.equal(first.position, 0);
    assert.match(first.hint ?? '', /PEM|DER/);
    const ok = verifyChain({ chain: [leaf.pem, broken, inter.pem], ca: root.pem });
    assert.equal(ok.ok, true);
    if (ok.ok) assert.match(ok.verified.notes.join('\n'), /#1 of the chain could not be parsed/);
    const missing = failed(verifyChain({ chain: [leaf.pem, broken], ca: root.pem }));
    assert.equal(missing.code, 'UNKNOWN_ISSUER');
    assert.ok(missing.candidates?.some((c) => c.code === 'BAD_ENCODING' && c.position === 1));
  });

  it('throws ConfigError for unusable options', () => {
    assert.throws(() => verifyChain({ chain: leaf.pem, ca: 'not a certificate' }), ConfigError);
    assert.throws(() => verifyChain({ chain: leaf.pem, ca: root.pem, time: 'yesterday' }), ConfigError);
    assert.throws(
      () => verifyChain({ chain: leaf.pem, ca: root.pem, requiredEku: ['fastAuth'] }),
      ConfigError,
    );
  });

  it('checks the purpose and the required extended key usages', () => {
    const clientOnly = issue(inter, { eku: ['clientAuth'] });
    assert.equal(
      failed(verifyChain({ chain: pemOf(clientOnly, inter), ca: root.pem })).code,
      'WRONG_PURPOSE',
    );
    assert.equal(
      verifyChain({ chain: pemOf(clientOnly, inter), ca: root.pem, purpose: 'clientAuth' }).ok,
      true,
    );
    assert.equal(
      failed(verifyChain({ chain: pemOf(leaf, inter), ca: root.pem, requiredEku: ['codeSigning'] })).code,
      'WRONG_PURPOSE',
    );
  });
});

describe('a CN-only server certificate (no subjectAltName)', () => {
  const cnOnly = issue(inter, { sans: [], cn: 'localhost' });

  it("is refused with identity.ts's explanation: the CN, the SAN entry to add, expected", () => {
    const time = new Date();
    const err = failed(verifyChain({ chain: pemOf(cnOnly, inter), ca: root.pem, name: 'localhost', time }));
    assert.equal(err.code, 'NO_SUBJECT_ALT_NAME');
    assert.equal(err.position, 0);
    assert.equal(err.expected, 'localhost');
    assert.deepEqual(err.presented, []);
    assert.match(
      err.message,
      /no subjectAltName extension, and its Common Name 'localhost' would have matched/,
    );
    assert.match(err.hint ?? '', /lists DNS:localhost in its subjectAltName.*subjectAltName=DNS:localhost/);
    assert.match(err.hint ?? '', /ignore the Common Name/);
    // The path's context is kept, and the failure is not listed a second time as a candidate.
    assert.equal(err.chain?.length, 2);
    assert.equal(err.time?.getTime(), Math.floor(time.getTime() / 1000) * 1000);
    assert.ok(!err.candidates?.some((c) => c.code === 'NO_SUBJECT_ALT_NAME'));
  });

  it('names the IP address entry for an IP literal, and the CN that would not have matched', () => {
    const err = failed(verifyChain({ chain: pemOf(cnOnly, inter), ca: root.pem, name: '127.0.0.1' }));
    assert.equal(err.code, 'NO_SUBJECT_ALT_NAME');
    assert.equal(err.expected, '127.0.0.1');
    assert.match(err.message, /would not have matched either/);
    assert.match(err.hint ?? '', /subjectAltName=IP:127\.0\.0\.1/);
  });

  it('without a name, still says what to add (the host names) and that the CN is ignored', () => {
    const err = failed(verifyChain({ chain: pemOf(cnOnly, inter), ca: root.pem }));
    assert.equal(err.code, 'NO_SUBJECT_ALT_NAME');
    assert.equal(err.expected, undefined);
    assert.match(err.hint ?? '', /lists its host names in its subjectAltName extension/);
    assert.match(err.hint ?? '', /ignore the Common Name/);
  });

  it('under an untrusted root, the profile failure is still the one reported, with its hint', () => {
    const err = failed(verifyChain({ chain: pemOf(cnOnly, inter), ca: createRoot().pem, name: 'localhost' }));
    assert.equal(err.code, 'NO_SUBJECT_ALT_NAME');
    assert.match(err.hint ?? '', /DNS:localhost/);
  });
});

describe('hygiene rules and private anchors', () => {
  const privateRoot = createRoot({ basicConstraints: { ca: true, critical: false } });
  const ica = intermediate(privateRoot, { ski: false });
  const l = issue(ica, { aki: false });
  const chain = [parseCertificate(l.der), parseCertificate(ica.der)];
  const rootCert = parseCertificate(privateRoot.der);

  it('relaxes them for an anchor from a user file, with one note per rule', () => {
    const r = verifyServer({
      chain,
      name: 'localhost',
      trust: anchorsFrom([rootCert], 'file:/etc/corp/ca.pem'),
    });
    assert.equal(r.notes.length, 3, r.notes.join('\n'));
    assert.ok(
      r.notes.every((n) => n.includes('relaxed for the private CA') && n.includes('file:/etc/corp/ca.pem')),
    );
    assert.ok(r.notes.some((n) => /basicConstraints extension is not marked critical/.test(n)));
    assert.ok(r.notes.some((n) => /lacks the subjectKeyIdentifier/.test(n)));
    assert.ok(r.notes.some((n) => /lacks the authorityKeyIdentifier/.test(n)));
  });

  it('enforces them for bundled, system and inline anchors, and when told to', () => {
    for (const source of ['bundled', 'system:/etc/ssl/certs/ca-certificates.crt', 'inline']) {
      assert.throws(
        () => verifyServer({ chain, name: 'localhost', trust: anchorsFrom([rootCert], source) }),
        (e: unknown) => e instanceof SSLError && e.code === 'PROFILE_VIOLATION' && e.position !== undefined,
        source,
      );
    }
    try {
      verifyServer({ chain, trust: anchorsFrom([rootCert], 'file:/x.pem'), relaxPrivateAnchors: false });
      assert.fail('expected PROFILE_VIOLATION');
    } catch (e) {
      assert.ok(e instanceof SSLError && e.code === 'PROFILE_VIOLATION', String(e));
    }
  });

  it('never relaxes hard rules', () => {
    const expired = intermediate(privateRoot, {
      notBefore: new Date(Date.now() - 7200_000),
      notAfter: new Date(Date.now() - 3600_000),
    });
    const c = [parseCertificate(issue(expired).der), parseCertificate(expired.der)];
    try {
      verifyServer({ chain: c, trust: anchorsFrom([rootCert], 'file:/x.pem') });
      assert.fail('expected CERT_EXPIRED');
    } catch (e) {
      assert.ok(e instanceof SSLError && e.code === 'CERT_EXPIRED', String(e));
    }
  });

  it('knows which anchors are user files', () => {
    const mk = (sources: string[]) => ({ cert: rootCert, sources });
    assert.equal(isUserFileAnchor(mk(['file:/a.pem'])), true);
    assert.equal(isUserFileAnchor(mk(['dir:/certs', 'env:SSL_CERT_FILE:/a.pem'])), true);
    assert.equal(isUserFileAnchor(mk(['file:/a.pem', 'bundled'])), false);
    assert.equal(isUserFileAnchor(mk(['inline'])), false);
    assert.equal(isUserFileAnchor(mk([])), false);
  });
});
