/**
 * Certificates parsed once per process, and anchors parsed only when first used.
 *
 * A default trust store holds ~150 bundled roots plus the OS store (the same ~150 again, from a
 * bundle and a directory); a request to one server uses one or two of them. Parsing them all up
 * front was most of the first request's extra cost (ARCHITECTURE.md, "Facts measured here":
 * 63-87 ms). A lazy anchor reads only what indexing needs — its DER, SHA-256 fingerprint and
 * subject name (a short walk of the TBSCertificate) — and parses the rest on first access to any
 * other field. TrustStore.issuersOf is where a path meets an anchor, so in practice only the
 * issuers of the chains a process sees are ever parsed.
 */
import { hash } from 'node:crypto';
import { DerReader, TAG } from '../der/index.js';
import { parseCertificate } from '../x509/index.js';
import { readName } from '../x509/name.js';
import { toPem } from '../x509/pem.js';
import type { Certificate } from '../x509/types.js';

// One certificate in a few sources costs one parse. A system store holds ~150-300 roots;
// 4096 entries cover several stores and user bundles, and only bound memory if a caller
// feeds a new bundle per request (entries are dropped oldest first).
const PARSE_CACHE_MAX = 4096;
const parsed = new Map<string, Certificate>();

function sha256Hex(der: Uint8Array): string {
  // One-shot crypto.hash (Node 20.12+): half the cost of a Hash object, 432 times at start-up.
  return hash('sha256', der, 'hex');
}

/** Parses DER, sharing the result with every earlier parse of the same bytes. Throws ParseError. */
export function parseCached(der: Uint8Array, fingerprint = sha256Hex(der)): Certificate {
  const hit = parsed.get(fingerprint);
  if (hit) return hit;
  const cert = parseCertificate(der);
  if (parsed.size >= PARSE_CACHE_MAX) parsed.delete(parsed.keys().next().value as string);
  parsed.set(fingerprint, cert);
  return cert;
}

// Lazy certificates by fingerprint, bounded as the parse cache is. The same root read again (the
// OS store lists Node's bundled roots again, and Debian's bundle file and CA directory hold the
// same ~150: 432 reads, 166 distinct certificates) is the same object, so its subject is read
// once: a TrustStore keeps one certificate per fingerprint anyway (the first source's), so the
// later copies' subjects were read and thrown away.
const lazies = new Map<string, Certificate>();

/** How a lazy certificate's full parse went: not yet, the certificate, or why it failed. */
type State = { cert?: Certificate; error?: unknown };
const lazyState = new WeakMap<object, { state: State; parse: () => Certificate }>();

/**
 * A Certificate whose `der`, `fingerprintSha256`, `subject` and `toPEM()` cost no full parse;
 * any other field parses the whole certificate (once, shared through the parse cache) and
 * throws ParseError if it is malformed. Throws ParseError at once if even the subject cannot
 * be read. The bytes are copied, as parseCertificate copies them. Bytes read before (by this
 * function or parseCached) give back the certificate made then.
 */
export function lazyCertificate(input: Uint8Array): Certificate {
  const fingerprint = sha256Hex(input);
  const hit = parsed.get(fingerprint) ?? lazies.get(fingerprint);
  if (hit) return hit;
  const der = new Uint8Array(input);
  const subject = subjectOf(der);
  const state: State = {};
  const parse = (): Certificate => {
    if (state.cert) return state.cert;
    if (state.error !== undefined) throw state.error;
    try {
      state.cert = parseCached(der, fingerprint);
      return state.cert;
    } catch (err) {
      state.error = err;
      throw err;
    }
  };
  const fast: Record<PropertyKey, unknown> = {
    der,
    fingerprintSha256: fingerprint,
    subject,
    toPEM: () => toPem(der, 'CERTIFICATE'),
  };
  const proxy = new Proxy(fast, {
    get(target, prop) {
      if (Object.hasOwn(target, prop)) return target[prop];
      const cert = parse();
      const value = Reflect.get(cert, prop, cert);
      return typeof value === 'function' ? value.bind(cert) : value;
    },
    has: (target, prop) => Object.hasOwn(target, prop) || prop in parse(),
    ownKeys: () => Reflect.ownKeys(parse()),
    getOwnPropertyDescriptor(target, prop) {
      const own = Object.hasOwn(target, prop);
      const d = Reflect.getOwnPropertyDescriptor(own ? target : parse(), prop);
      // Properties that live on the parsed certificate only must be reported configurable
      // (a Proxy invariant for properties its target does not have).
      return d && !own ? { ...d, configurable: true } : d;
    },
  }) as unknown as Certificate;
  lazyState.set(proxy, { state, parse });
  if (lazies.size >= PARSE_CACHE_MAX) lazies.delete(lazies.keys().next().value as string);
  lazies.set(fingerprint, proxy);
  return proxy;
}

/**
 * False when `cert` is a lazy certificate whose full parse fails (the parse happens now if it
 * has not yet); true for any other certificate. A malformed root in an OS store is then left
 * out where it is used, as the eager loader left it out (with a warning) when it was read.
 */
export function isUsable(cert: Certificate): boolean {
  const lazy = lazyState.get(cert);
  if (!lazy) return true;
  try {
    lazy.parse();
    return true;
  } catch {
    return false;
  }
}

/** The subject Name of a certificate, read without parsing the rest (RFC 5280 §4.1 order). */
function subjectOf(der: Uint8Array): Certificate['subject'] {
  const top = new DerReader(der);
  const certTlv = top.expect(TAG.SEQUENCE, 'Certificate');
  top.end('Certificate');
  const cert = top.enter(certTlv, 'Certificate');
  const tbs = cert.enter(cert.expect(TAG.SEQUENCE, 'tbsCertificate'), 'tbsCertificate');
  tbs.optionalExplicit(0, 'version');
  tbs.expect(TAG.INTEGER, 'serialNumber');
  tbs.expect(TAG.SEQUENCE, 'signature');
  tbs.expect(TAG.SEQUENCE, 'issuer');
  tbs.expect(TAG.SEQUENCE, 'validity');
  return readName(tbs, 'subject');
}
