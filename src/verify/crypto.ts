/**
 * Signature checks, behind a small interface so that tests can count or replace them.
 *
 * Which algorithms are *allowed* is policy (policy.ts decides before anything gets here); this
 * file only answers "does this signature verify under that key", with node:crypto. A malformed
 * key or signature is a plain `false`, never an exception: the path builder then tries the next
 * candidate issuer.
 */
import { constants, createPublicKey, type JsonWebKey, type KeyObject, verify } from 'node:crypto';
import { DerReader } from '../der/index.js';
import { rsaPublicNumbers } from '../x509/certificate.js';
import type { Certificate, PublicKeyInfo, SignatureAlgorithm } from '../x509/types.js';

/** Verifies the signature on `child` with the public key of `issuer`. */
export interface SignatureVerifier {
  verifySignedBy(child: Certificate, issuer: Certificate): boolean;
}

/**
 * RSA keys whose use is bounded, because a signature check is an exponentiation by the public
 * exponent modulo the modulus, and a server picks both for the intermediates it sends (a
 * 3072-bit exponent costs ~4 ms a check, 100 times the usual, and the budget allows 100 checks):
 * - modulus at most 8192 bits: rustls-webpki's RSA algorithms (ring's RSA_PKCS1_2048_8192_*),
 *   and Go's crypto/tls since CVE-2023-29409 ("large RSA keys can cause high CPU usage");
 * - public exponent odd, at least 3 and at most 2^33 - 1: ring (src/rsa/public_exponent.rs),
 *   chosen there to bound the cost of verification. OpenSSL accepts any exponent below the modulus.
 */
export const MAX_RSA_BITS = 8192;
export const MIN_RSA_EXPONENT = 3n;
export const MAX_RSA_EXPONENT = 2n ** 33n - 1n;

/** Why an RSA key of this size and exponent is not used, as the end of a sentence; undefined if it is fine. */
export function rsaKeyBoundsProblem(modulusBits: number, exponent: bigint): string | undefined {
  if (modulusBits > MAX_RSA_BITS)
    return `its RSA key has ${modulusBits} bits; at most ${MAX_RSA_BITS} are accepted`;
  if (exponent < MIN_RSA_EXPONENT || exponent > MAX_RSA_EXPONENT || (exponent & 1n) === 0n) {
    const shown =
      exponent.toString(2).length > 40 ? `a ${exponent.toString(2).length}-bit number` : exponent.toString();
    return `its RSA public exponent is ${shown}; it must be odd, at least ${MIN_RSA_EXPONENT} and at most 2^33 - 1`;
  }
  return undefined;
}

/** Digest lengths in octets, for the RSASSA-PSS salt length rule (RFC 4055 §3.1, CA/B BR §7.1.3.2). */
const DIGEST_OCTETS: Readonly<Record<string, number>> = { sha256: 32, sha384: 48, sha512: 64 };

/** Does the issuer's key type fit the signature algorithm (RFC 5280 §4.1.1.2, RFC 4055, RFC 8410)? */
function keyFits(alg: SignatureAlgorithm, key: PublicKeyInfo): boolean {
  switch (alg.keyType) {
    case 'rsa':
      return key.type === 'rsa';
    case 'rsa-pss':
      // A PSS signature may come from an rsaEncryption key or an id-RSASSA-PSS key (RFC 4055 §1.2).
      return key.type === 'rsa' || key.type === 'rsa-pss';
    case 'ec':
      return key.type === 'ec';
    case 'ed25519':
      return key.type === 'ed25519';
    default:
      return false;
  }
}

/**
 * The key as a node KeyObject. Parsing an SPKI costs more than an ECDSA verification, so keys are
 * kept by their SPKI hash; the map is bounded (a server can make us parse many keys, but only
 * `MAX_KEYS` stay alive).
 */
const MAX_KEYS = 512; // A few hundred trust anchors plus chains in flight; Node bundles ~150 roots.
const keyCache = new Map<string, KeyObject | null>();

/** Coordinate length in octets of the named curves that have a JWK name. */
const JWK_CURVES: Readonly<Record<string, number>> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };

/**
 * The key as node:crypto takes it fastest. OpenSSL 3 reads a SubjectPublicKeyInfo through its
 * generic decoder chain, which tries format after format: measured on the development machine,
 * about 200 µs for an RSA-2048 or P-256 key, more than both signature checks of a chain. The same
 * key given as what it is costs a fraction: an RSA key as its PKCS#1 RSAPublicKey (the BIT STRING
 * inside the SPKI; ~15 µs), an EC or Ed25519 key as a JWK of its coordinates (~60 µs for P-256).
 * OpenSSL still checks the key (an EC point must be on its curve; tested in test/verify). Other
 * keys (RSASSA-PSS keys with parameters, compressed EC points, Ed448, DSA) take the SPKI road.
 */
function importKey(info: PublicKeyInfo): KeyObject {
  const spki = Buffer.from(info.der.buffer, info.der.byteOffset, info.der.byteLength);
  if (info.type === 'rsa' || info.type === 'ec' || info.type === 'ed25519') {
    const seq = new DerReader(spki).sequence('subjectPublicKeyInfo');
    seq.sequence('subjectPublicKeyInfo algorithm');
    const bits = seq.bitString('subjectPublicKeyInfo subjectPublicKey').bytes;
    const raw = Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength);
    if (info.type === 'rsa') return createPublicKey({ key: raw, format: 'der', type: 'pkcs1' });
    if (info.type === 'ed25519' && raw.length === 32) {
      const jwk: JsonWebKey = { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') };
      return createPublicKey({ key: jwk, format: 'jwk' });
    }
    const n = info.curve === undefined ? undefined : JWK_CURVES[info.curve];
    if (info.type === 'ec' && n !== undefined && raw.length === 1 + 2 * n && raw[0] === 0x04) {
      const jwk: JsonWebKey = {
        kty: 'EC',
        crv: info.curve,
        x: raw.subarray(1, 1 + n).toString('base64url'),
        y: raw.subarray(1 + n).toString('base64url'),
      };
      return createPublicKey({ key: jwk, format: 'jwk' });
    }
  }
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

function keyObjectOf(cert: Certificate): KeyObject | null {
  const id = cert.spkiSha256;
  let key = keyCache.get(id);
  if (key !== undefined) return key;
  try {
    // An RSA key outside the bounds above is never used, whoever asks (path, AIA, CRL); the
    // bounds are read from our own parse, before OpenSSL is asked to import anything.
    const rsa = rsaPublicNumbers(cert.publicKey);
    key =
      rsa !== undefined && rsaKeyBoundsProblem(rsa.modulusBits, rsa.exponent) !== undefined
        ? null
        : importKey(cert.publicKey);
  } catch {
    key = null;
  }
  if (keyCache.size >= MAX_KEYS) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(id, key);
  return key;
}

/**
 * Checks one signature over `data` by the key of `issuer` with node:crypto (for certificates and
 * CRLs alike); no caching of results.
 */
export function verifySignature(
  alg: SignatureAlgorithm,
  data: Uint8Array,
  sig: Uint8Array,
  issuer: Certificate,
): boolean {
  if (!keyFits(alg, issuer.publicKey)) return false;
  const key = keyObjectOf(issuer);
  if (key === null) return false;
  try {
    switch (alg.keyType) {
      case 'rsa':
      case 'ec':
        if (alg.hash === undefined) return false;
        return verify(alg.hash, data, key, sig);
      case 'rsa-pss': {
        const pss = alg.pss;
        if (pss === undefined || pss.mgf1Hash !== pss.hash || pss.trailerField !== 1) return false;
        // node:crypto uses the message digest for MGF1 too, hence the equality required above.
        return verify(
          pss.hash,
          data,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pss.saltLength },
          sig,
        );
      }
      case 'ed25519':
        return verify(null, data, key, sig);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** Checks the signature on `child` with node:crypto; no caching of results. */
export function verifyWithNode(child: Certificate, issuer: Certificate): boolean {
  return verifySignature(child.signatureAlgorithm, child.tbsDer, child.signature, issuer);
}

/** The verifier used when none is given: node:crypto, with results remembered. */
export const nodeVerifier: SignatureVerifier = { verifySignedBy: verifyWithNode };

/**
 * Remembers results of `inner`, keyed by (child certificate, issuer key), so that a warm
 * connection to the same server verifies no signature twice. Both halves of the key are SHA-256
 * hashes of DER, so a hit means the same bytes were signed and the same key checked them.
 */
export class CachingVerifier implements SignatureVerifier {
  private readonly results = new Map<string, boolean>();
  constructor(
    private readonly inner: SignatureVerifier = nodeVerifier,
    private readonly maxEntries = 4096, // ~100 bytes each: well under 1 MB, enough for many servers' chains.
  ) {}
  verifySignedBy(child: Certificate, issuer: Certificate): boolean {
    const k = `${child.fingerprintSha256}/${issuer.spkiSha256}`;
    const hit = this.results.get(k);
    if (hit !== undefined) return hit;
    const ok = this.inner.verifySignedBy(child, issuer);
    if (this.results.size >= this.maxEntries) this.results.delete(this.results.keys().next().value!);
    this.results.set(k, ok);
    return ok;
  }
  clear(): void {
    this.results.clear();
  }
}

/** The process-wide cache used by verifyServer unless told otherwise. */
export const defaultVerifier = new CachingVerifier();

/** Forget every cached key and signature result (for cold-path benchmarks and tests). */
export function clearCryptoCaches(): void {
  keyCache.clear();
  defaultVerifier.clear();
}

/** Digest length for a PSS hash name, or undefined when the hash is not one we accept. */
export function pssSaltFor(hash: string): number | undefined {
  return DIGEST_OCTETS[hash];
}
