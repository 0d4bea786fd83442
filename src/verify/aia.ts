/**
 * Missing intermediates from the Authority Information Access extension's caIssuers URLs
 * (RFC 5280 §4.2.2.1), the pure part: the `aia` option and its bounds, which failures AIA can
 * help, which URLs and addresses may be fetched, and what a response holds. The fetching itself
 * (through the one dial, so a proxy applies) is tls/aia.ts; verify/ does no I/O.
 *
 * What is fetched only ever joins the pool of *untrusted* intermediates: a certificate is taken
 * only if its signature proves it issued the certificate below it, and it must still chain to an
 * anchor the user trusts, with every check of the verifier; it is never an anchor.
 */
import { contextTag, DerReader, TAG } from '../der/index.js';
import { ConfigError, type SSLError } from '../errors.js';
import { parseCertificate, parseIp, parsePem } from '../x509/index.js';
import type { Certificate } from '../x509/types.js';
import { DEFAULT_BUDGET } from './path/budget.js';

// ---------------------------------------------------------------------------------------------
// Bounds and options

/** Chromium's cert_issuer_source_aia.cc kMaxResponseBytes: 64 KiB per response (a certificate is 1-2 KB). */
export const AIA_MAX_BYTES = 64 * 1024;
/** Chromium's cert_issuer_source_aia.cc kTimeoutMilliseconds: 10 s, here for all the fetches of one chain. */
export const AIA_TIMEOUT_MS = 10_000;
/** Chromium's cert_issuer_source_aia.cc kMaxFetchesPerCert: 5 caIssuers URLs tried per certificate. */
export const AIA_MAX_URLS_PER_CERT = 5;
/**
 * Missing issuers fetched in a row at most: Web PKI paths have 1-3 intermediates (the path
 * builder's DEFAULT_MAX_DEPTH note), so a chain that needs more is not one to complete.
 */
export const AIA_MAX_DEPTH = 3;
/** Redirects followed per URL (http -> https, a moved CA site), each target checked again. Ours. */
export const AIA_MAX_REDIRECTS = 3;
/**
 * Signature checks one completion may make while it looks for issuers among the certificates
 * sent and fetched: the path builder's own budget (DEFAULT_BUDGET.signatures, Go's and
 * rustls-webpki's 100), so that a server sending many same-named certificates cannot make the
 * walk cost more than the search that follows it.
 */
export const AIA_MAX_SIGNATURES = DEFAULT_BUDGET.signatures;

export interface AiaOptions {
  /** Also fetch from private, loopback and link-local addresses (an intranet CA, tests). Default false. */
  allowPrivate?: boolean;
  /** Time limit for all the fetches of one chain, ms. Default 10 000. */
  timeout?: number;
  /** Largest response accepted, bytes. Default 64 KiB. */
  maxBytes?: number;
}

/** `aia: true` for the defaults, or the options. */
export type AiaOption = boolean | AiaOptions;

export type ResolvedAia = Required<AiaOptions>;

export const AIA_DEFAULTS: ResolvedAia = {
  allowPrivate: false,
  timeout: AIA_TIMEOUT_MS,
  maxBytes: AIA_MAX_BYTES,
};

/** Validates the `aia` option; undefined when AIA is off. ConfigError ERR_AIA_OPTION otherwise. */
export function resolveAia(opt: AiaOption | undefined): ResolvedAia | undefined {
  if (opt === undefined || opt === false) return undefined;
  if (opt === true) return AIA_DEFAULTS;
  const bad = (why: string) =>
    new ConfigError(`aia ${why}`, {
      code: 'ERR_AIA_OPTION',
      hint: 'Use aia: true, or aia: { allowPrivate, timeout (ms), maxBytes }.',
    });
  if (typeof opt !== 'object' || opt === null)
    throw bad(`must be true, false or an object, not ${String(opt)}`);
  for (const k of Object.keys(opt)) {
    if (k !== 'allowPrivate' && k !== 'timeout' && k !== 'maxBytes') throw bad(`has an unknown key "${k}"`);
  }
  if (opt.allowPrivate !== undefined && typeof opt.allowPrivate !== 'boolean') {
    throw bad('.allowPrivate must be true or false');
  }
  for (const k of ['timeout', 'maxBytes'] as const) {
    const v = opt[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) {
      throw bad(`.${k} must be a positive number, not ${String(v)}`);
    }
  }
  return withDefaults(opt);
}

export function withDefaults(opt: AiaOptions): ResolvedAia {
  return {
    allowPrivate: opt.allowPrivate ?? AIA_DEFAULTS.allowPrivate,
    timeout: opt.timeout ?? AIA_DEFAULTS.timeout,
    maxBytes: opt.maxBytes ?? AIA_DEFAULTS.maxBytes,
  };
}

/** The codes after which fetching a missing issuer can help. */
export function aiaCanHelp(err: SSLError): boolean {
  return err.code === 'INCOMPLETE_CHAIN' || err.code === 'UNKNOWN_ISSUER';
}

// ---------------------------------------------------------------------------------------------
// Addresses

/**
 * [prefix bytes, prefix bits, what] for addresses that are not on the public Internet: the
 * special-purpose ranges of RFC 6890 (IANA's registries) that are not globally reachable.
 */
const PRIVATE_V4: [number[], number, string][] = [
  [[0], 8, '"this network" (RFC 1122)'],
  [[10], 8, 'private (RFC 1918)'],
  [[100, 64], 10, 'shared address space (RFC 6598)'],
  [[127], 8, 'loopback (RFC 1122)'],
  [[169, 254], 16, 'link-local (RFC 3927)'],
  [[172, 16], 12, 'private (RFC 1918)'],
  [[192, 0, 0], 24, 'IETF protocol assignment (RFC 6890)'],
  [[192, 168], 16, 'private (RFC 1918)'],
  [[198, 18], 15, 'benchmarking (RFC 2544)'],
  [[224], 4, 'multicast (RFC 5771)'],
  [[240], 4, 'reserved (RFC 1112)'],
];
const PRIVATE_V6: [number[], number, string][] = [
  [[], 127, 'loopback or unspecified (RFC 4291)'],
  [[], 96, 'IPv4-compatible, deprecated (RFC 4291 §2.5.5.1)'],
  [[0x01, 0x00], 64, 'discard-only (RFC 6666)'],
  [[0xfc], 7, 'unique local (RFC 4193)'],
  [[0xfe, 0x80], 10, 'link-local (RFC 4291)'],
  [[0xff], 8, 'multicast (RFC 4291)'],
];
// Addresses that reach the IPv4 address in their last 32 bits: IPv4-mapped (RFC 4291 §2.5.5.2)
// and the NAT64 well-known prefix (RFC 6052 §2.1). They are judged by that IPv4 address.
const EMBEDS_V4: [number[], number][] = [
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 96],
  [[0, 0x64, 0xff, 0x9b], 96],
];

function matchesPrefix(bytes: Uint8Array, prefix: number[], bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const mask = 0x80 >> (i & 7);
    if ((bytes[i >> 3]! & mask) !== ((prefix[i >> 3] ?? 0) & mask)) return false;
  }
  return true;
}

/** Why `address` is not a public address ('loopback (RFC 1122)', …); undefined for a public one or a non-address. */
export function privateAddressKind(address: string): string | undefined {
  const bytes = parseIp(address);
  if (!bytes) return undefined;
  if (bytes.length === 16) {
    if (EMBEDS_V4.some(([p, b]) => matchesPrefix(bytes, p, b))) {
      return privateAddressKind(Array.from(bytes.subarray(12)).join('.'));
    }
    return PRIVATE_V6.find(([p, b]) => matchesPrefix(bytes, p, b))?.[2];
  }
  return PRIVATE_V4.find(([p, b]) => matchesPrefix(bytes, p, b))?.[2];
}

export const NEEDS_ALLOW_PRIVATE =
  'AIA fetches go to public addresses only (a private or loopback address is fetched only with allowPrivate: true)';

/** Checks a URL before it is fetched; returns why it is refused, or undefined. */
export function refuseUrl(raw: string, allowPrivate: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `'${raw}' is not a URL`;
  }
  // RFC 5280 §4.2.2.1 also allows ldap; we fetch over http(s) only, as browsers do.
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `${url.protocol} URLs are not fetched (http and https only)`;
  if (url.username || url.password) return 'URLs with credentials are not fetched';
  if (allowPrivate) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const kind = privateAddressKind(host);
  if (kind) return `${host} is a ${kind} address; ${NEEDS_ALLOW_PRIVATE}`;
  // RFC 6761 §6.3: localhost names are loopback, whatever a resolver says.
  if (/^localhost\.?$|\.localhost\.?$/i.test(host))
    return `${host} is only at private or loopback addresses; ${NEEDS_ALLOW_PRIVATE}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// What a caIssuers URL serves

const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';

/** The `certificates` of a DER PKCS#7 / CMS SignedData "certs-only" bundle (RFC 5652 §5.1). */
function pkcs7Certificates(der: Uint8Array): Uint8Array[] {
  const info = new DerReader(der).sequence('PKCS#7 ContentInfo');
  const type = info.oid('PKCS#7 contentType');
  if (type !== OID_SIGNED_DATA) throw new Error(`a PKCS#7 bundle of type ${type}, not SignedData`);
  const content = info.optionalExplicit(0, 'PKCS#7 content');
  if (!content) return [];
  const sd = content.sequence('SignedData');
  sd.integer('SignedData version');
  sd.set('SignedData digestAlgorithms');
  sd.sequence('SignedData encapContentInfo');
  const certsTlv = sd.optional(contextTag(0, true), 'SignedData certificates');
  if (!certsTlv) return [];
  const certs = sd.enter(certsTlv, 'SignedData certificates');
  const out: Uint8Array[] = [];
  while (!certs.atEnd()) {
    const tlv = certs.next('SignedData certificate');
    // CertificateChoices: only plain certificates (a SEQUENCE); attribute certificates are skipped.
    if (tlv.tag === TAG.SEQUENCE) out.push(tlv.der);
  }
  return out;
}

/**
 * The certificates in an AIA response: one DER certificate (application/pkix-cert, the RFC 5280
 * form), a certs-only PKCS#7 (application/pkcs7-mime, .p7c), or PEM (which some CAs serve).
 * Throws an Error with a sentence when it is none of these.
 */
export function certificatesInResponse(body: Uint8Array): Certificate[] {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
  if (text.includes('-----BEGIN ')) {
    return [...parsePem(text, 'CERTIFICATE'), ...parsePem(text, 'PKCS7').flatMap(pkcs7Certificates)].map(
      (d) => parseCertificate(d),
    );
  }
  if (body[0] !== TAG.SEQUENCE) throw new Error('the response is neither DER, PKCS#7 nor PEM');
  // A Certificate starts with a SEQUENCE (tbsCertificate); a PKCS#7 ContentInfo with an OID.
  const first = new DerReader(body).sequence('AIA response').peekTag();
  if (first === TAG.SEQUENCE) return [parseCertificate(body)];
  return pkcs7Certificates(body).map((d) => parseCertificate(d));
}

export type AiaOutcome =
  /** A certificate in the response issued the certificate below (its signature verified). */
  | 'found'
  /** The response holds certificates, none of which issued it. */
  | 'no-issuer'
  /** Not fetched: not http(s), credentials in the URL, or a private address without allowPrivate. */
  | 'refused'
  /** An HTTP status other than 200, or too many redirects. */
  | 'http-error'
  /** Larger than maxBytes (declared or read). */
  | 'too-large'
  /** No complete answer within the time limit. */
  | 'timeout'
  /** The body is not a certificate (DER, PEM or PKCS#7). */
  | 'not-certificate'
  /** DNS, connection refused, reset. */
  | 'network';

/** One fetch and what came of it. */
export interface AiaFetch {
  /** The caIssuers URL, as the certificate names it. */
  url: string;
  /** Subject of the certificate whose issuer was looked for. */
  for: string;
  outcome: AiaOutcome;
  /** outcome === 'found'. */
  ok: boolean;
  /** Certificates in the response. */
  certificates: Certificate[];
  /** The one that issued `for` (its signature verified), when found. */
  issuer?: Certificate;
  /** Time taken, ms (about 0 from the cache). */
  ms: number;
  /** Size of the response body, when one was read. */
  bytes?: number;
  /** Why the fetch failed or gave nothing usable: a sentence without the URL. */
  error?: string;
  /** The response (or the failure) was remembered from a recent fetch. */
  cached?: boolean;
}
