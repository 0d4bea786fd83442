/**
 * What an OCSP response (RFC 6960) says about one certificate: pure, no I/O.
 *
 * A response counts only when every one of these holds (else it "cannot be used", with the
 * reason in a sentence):
 *  - its status is successful and its type basic (x509/ocsp.ts parses only that);
 *  - it is signed by the certificate's issuer, or by a delegated responder: a certificate sent
 *    in the response, issued directly by the issuer (signature checked), with the
 *    id-kp-OCSPSigning extended key usage, valid at the time (RFC 6960 §4.2.2.2). The
 *    ResponderID must name the signer (by name or by the SHA-1 hash of its key);
 *  - a SingleResponse's CertID matches the certificate: hash algorithm (SHA-1 or SHA-2), the
 *    hash of the issuer's name, the hash of the issuer's public key, and the serial number;
 *  - its signature verifies and its algorithm is not weak (the same rule as certificates);
 *  - it is current: producedAt and thisUpdate not after now + skew, nextUpdate not before
 *    now - skew; without nextUpdate, thisUpdate no older than {@link OCSP_MAX_AGE_NO_NEXT_UPDATE_MS}.
 */
import { createHash } from 'node:crypto';
import { DerReader, hexOf } from '../der/reader.js';
import type { OcspResponse, OcspSingleResponse } from '../x509/ocsp.js';
import { encodeOcspRequest } from '../x509/ocsp-request.js';
import type { Certificate } from '../x509/types.js';
import { verifySignature } from './crypto.js';
import { checkSignatureAlgorithm } from './policy.js';

/** id-kp-OCSPSigning (RFC 6960 §4.2.2.2). */
const ID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

/**
 * Clock skew allowed on OCSP times: 5 minutes. The responder's clock and ours differ; 5 minutes is
 * the skew Kerberos and Windows' certificate chain engine allow, small beside a staple's usual
 * lifetime (Let's Encrypt: 7 days) and small enough that a response past its nextUpdate (one that
 * might hide a later revocation) is not accepted for long.
 */
export const OCSP_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * A response without nextUpdate ("newer information is always available", RFC 6960 §4.2.2.1) is
 * accepted for 24 hours after its thisUpdate (Firefox's limit for such responses), not forever.
 */
export const OCSP_MAX_AGE_NO_NEXT_UPDATE_MS = 24 * 3_600_000;

const HASHES: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1', // RFC 5019 §2.1.1: SHA-1 is what responders expect in CertIDs
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export type OcspVerdict =
  | {
      ok: true;
      single: OcspSingleResponse;
      producedAt: Date;
      /** 'the issuer' or 'the delegated responder "<subject>"'. */
      responder: string;
    }
  | { ok: false; problem: string };

/** The subjectPublicKey BIT STRING's bytes (what CertID and ResponderID byKey hash). */
function subjectPublicKeyBytes(cert: Certificate): Uint8Array {
  const r = new DerReader(cert.publicKey.der);
  const spki = r.sequence('SubjectPublicKeyInfo');
  spki.sequence('SubjectPublicKeyInfo algorithm');
  return spki.bitString('SubjectPublicKeyInfo subjectPublicKey').bytes;
}

function digest(alg: string, data: Uint8Array): string {
  return createHash(alg).update(data).digest('hex');
}

/** Does `certId` name `cert`, issued by `issuer`? */
function certIdMatches(single: OcspSingleResponse, cert: Certificate, issuer: Certificate): boolean {
  const id = single.certId;
  const alg = HASHES[id.hashAlgorithm];
  if (!alg) return false;
  return (
    hexOf(id.serial) === hexOf(cert.serial) &&
    hexOf(id.issuerNameHash) === digest(alg, issuer.subject.der) &&
    hexOf(id.issuerKeyHash) === digest(alg, subjectPublicKeyBytes(issuer))
  );
}

/** Does the ResponderID name `cert`? */
function namesResponder(res: OcspResponse, cert: Certificate): boolean {
  if (res.responderName) return res.responderName.key === cert.subject.key;
  if (res.responderKeyHash)
    return hexOf(res.responderKeyHash) === digest('sha1', subjectPublicKeyBytes(cert));
  return false;
}

/**
 * What `res` says about `cert` (issued by `issuer`) at `time`. `spend` is called before each
 * signature check (the path budget).
 */
export function checkOcspResponse(
  res: OcspResponse,
  cert: Certificate,
  issuer: Certificate,
  time: Date,
  spend: () => void,
): OcspVerdict {
  const fail = (problem: string): OcspVerdict => ({ ok: false, problem });
  if (res.responseStatus !== 'successful')
    return fail(`the responder answered "${res.responseStatus}", not a status`);
  const single = res.responses.find((s) => certIdMatches(s, cert, issuer));
  if (!single) {
    const unknownHash = res.responses.find((s) => !HASHES[s.certId.hashAlgorithm]);
    return fail(
      unknownHash
        ? `its CertID uses a hash algorithm that is not supported (${unknownHash.certId.hashAlgorithm})`
        : 'it is about another certificate (no CertID matches this certificate: serial, issuer name hash and issuer key hash)',
    );
  }

  // The signer: the issuer itself, or a delegated responder it issued (RFC 6960 §4.2.2.2).
  let signer: Certificate | undefined;
  let responder = 'the issuer';
  if (namesResponder(res, issuer)) {
    signer = issuer;
  } else {
    const delegate = res.certs.find((c) => namesResponder(res, c));
    if (!delegate)
      return fail(
        "it is signed by a responder that is neither the certificate's issuer nor a certificate sent with it",
      );
    responder = `the delegated responder "${delegate.subject.text}"`;
    if (delegate.issuer.key !== issuer.subject.key) {
      return fail(`${responder} was not issued by the certificate's issuer (RFC 6960 §4.2.2.2)`);
    }
    spend();
    if (!verifySignature(delegate.signatureAlgorithm, delegate.tbsDer, delegate.signature, issuer))
      return fail(`${responder} is not signed by the certificate's issuer`);
    if (!delegate.extKeyUsage?.oids.includes(ID_KP_OCSP_SIGNING))
      return fail(`${responder} is not authorised to sign OCSP responses (no id-kp-OCSPSigning)`);
    if (delegate.notAfter.getTime() < time.getTime() || delegate.notBefore.getTime() > time.getTime())
      return fail(`${responder}'s certificate is not valid at ${time.toISOString()}`);
    signer = delegate;
  }
  const weak = checkSignatureAlgorithm(res.signatureAlgorithm!);
  if (weak) return fail(weak.message);
  spend();
  if (!verifySignature(res.signatureAlgorithm!, res.tbsDer!, res.signature!, signer))
    return fail(`its signature does not verify with the key of ${responder}`);

  const now = time.getTime();
  const producedAt = res.producedAt!;
  if (producedAt.getTime() > now + OCSP_CLOCK_SKEW_MS)
    return fail(`it was produced in the future (${producedAt.toISOString()})`);
  if (single.thisUpdate.getTime() > now + OCSP_CLOCK_SKEW_MS)
    return fail(`it is not valid until ${single.thisUpdate.toISOString()}`);
  if (single.nextUpdate) {
    if (single.nextUpdate.getTime() < now - OCSP_CLOCK_SKEW_MS)
      return fail(`it is out of date: its next update was due at ${single.nextUpdate.toISOString()}`);
  } else if (single.thisUpdate.getTime() + OCSP_MAX_AGE_NO_NEXT_UPDATE_MS < now - OCSP_CLOCK_SKEW_MS) {
    return fail(
      `it is out of date: it has no nextUpdate and was made at ${single.thisUpdate.toISOString()}, more than 24 hours ago`,
    );
  }
  return { ok: true, single, producedAt, responder };
}

/** The OCSPRequest (DER) asking about `cert`, issued by `issuer`: a SHA-1 CertID (RFC 5019 §2.1.1). */
export function ocspRequestFor(cert: Certificate, issuer: Certificate): Uint8Array {
  const sha1 = (d: Uint8Array) => createHash('sha1').update(d).digest();
  return encodeOcspRequest({
    hashAlgorithm: '1.3.14.3.2.26',
    issuerNameHash: sha1(issuer.subject.der),
    issuerKeyHash: sha1(subjectPublicKeyBytes(issuer)),
    serial: cert.serial,
  });
}
