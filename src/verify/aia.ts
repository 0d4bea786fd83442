/**
 * Fetching missing intermediates from the Authority Information Access extension's caIssuers
 * URLs (RFC 5280 §4.2.2.1), as browsers do when a server forgets to send its chain. One fetcher
 * serves the library (`aia: true`, through the connector) and `certainly check` (diagnose/),
 * which reports every fetch.
 *
 * What is fetched only ever joins the pool of *untrusted* intermediates: a certificate is taken
 * only if its signature proves it issued the certificate below it, and it must still chain to an
 * anchor the user trusts, with every check of the verifier; it is never an anchor. Fetches are
 * bounded in size, time, count and redirects, use http or https only, and never reach a private,
 * loopback or link-local address unless `allowPrivate` says so (a certificate is data from the
 * server: it must not make this process probe its own network). The address checked is the
 * address dialled (the check runs inside the connection's DNS lookup), so a DNS answer cannot
 * change between the check and the connection; every redirect is checked like the first URL.
 *
 * node:http/https directly, not our client: verify/ comes before tls/ and client/ (ARCHITECTURE.md).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { contextTag, DerReader, TAG } from '../der/index.js';
import { ConfigError, type SSLError } from '../errors.js';
import type { TrustAnchors } from '../trust/types.js';
import { parseCertificate, parseIp, parsePem } from '../x509/index.js';
import type { Certificate } from '../x509/types.js';
import { defaultVerifier, type SignatureVerifier } from './crypto.js';
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
// The cache: intermediates live for years, but a CA may replace the file behind a URL; an hour
// bounds how long a stale answer is used. Failures are kept for a minute, so that a burst of
// connections to a misconfigured server does not hammer the CA (or wait for it) each time.
const CACHE_TTL_MS = 3600_000;
const NEGATIVE_TTL_MS = 60_000;
// Distinct AIA URLs remembered; each holds at most AIA_MAX_BYTES of certificates (≤ 6.4 MiB).
const CACHE_MAX = 100;

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

function withDefaults(opt: AiaOptions): ResolvedAia {
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

const NEEDS_ALLOW_PRIVATE =
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

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A dns.lookup for http.request that drops private addresses: the check runs on what is dialled. */
function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) {
        callback(err, '');
        return;
      }
      const usable = allowPrivate ? addresses : addresses.filter((a) => !privateAddressKind(a.address));
      if (usable.length === 0) {
        const e = new Failure(
          'refused',
          `${hostname} is only at private or loopback addresses (${addresses.map((a) => a.address).join(', ') || 'none'}); ${NEEDS_ALLOW_PRIVATE}`,
        );
        callback(e as NodeJS.ErrnoException, '');
        return;
      }
      if (options.all) callback(null, usable);
      else callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
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

// ---------------------------------------------------------------------------------------------
// Fetching one URL

/** What came of one fetch. */
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

/** An Error that knows its outcome. */
class Failure extends Error {
  constructor(
    readonly outcome: AiaOutcome,
    message: string,
    readonly bytes?: number,
  ) {
    super(message);
  }
}

/** The response to one URL: its certificates, or why there are none. */
interface Download {
  outcome: AiaOutcome;
  certificates: Certificate[];
  bytes?: number;
  error?: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** One GET; resolves with the body (status 200) or the redirect target. */
function getOnce(
  url: URL,
  opts: ResolvedAia,
  deadline: number,
): Promise<{ body: Buffer } | { location: string }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      f();
    };
    const fail = (err: Error) => settle(() => reject(err));
    const req = (url.protocol === 'https:' ? https : http).get(url, {
      agent: false,
      lookup: guardedLookup(opts.allowPrivate) as never,
      headers: { accept: 'application/pkix-cert, application/pkcs7-mime, application/x-x509-ca-cert, */*' },
      // The content is checked by its signature, not by the transport (that is why CAs publish
      // over http): an https URL whose server certificate we cannot verify is still worth reading.
      ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
    });
    const timer = setTimeout(
      () => req.destroy(new Failure('timeout', `no complete answer within ${opts.timeout} ms`)),
      Math.max(1, deadline - performance.now()),
    );
    req.on('error', fail);
    req.on('response', (res) => {
      // Errors after the answer is decided (a body abandoned below) must not go unhandled.
      res.on('error', fail);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && location) {
        settle(() => resolve({ location }));
        req.destroy();
        return;
      }
      if (status !== 200) {
        fail(new Failure('http-error', `the server answered HTTP status ${status}`));
        req.destroy();
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > opts.maxBytes) {
        fail(
          new Failure(
            'too-large',
            `the response is ${declared} bytes, more than the ${opts.maxBytes} allowed`,
          ),
        );
        req.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > opts.maxBytes) {
          fail(new Failure('too-large', `the response is larger than the ${opts.maxBytes} bytes allowed`));
          req.destroy();
          return;
        }
        chunks.push(d);
      });
      res.on('end', () => settle(() => resolve({ body: Buffer.concat(chunks) })));
    });
  });
}

/** GET with bounded redirects, each target checked like the first; then the certificates. */
async function download(raw: string, opts: ResolvedAia, deadline: number): Promise<Download> {
  let url = raw;
  try {
    for (let hop = 0; ; hop++) {
      const refused = refuseUrl(url, opts.allowPrivate);
      if (refused) throw new Failure('refused', refused);
      const r = await getOnce(new URL(url), opts, deadline);
      if ('body' in r) {
        try {
          return { outcome: 'found', certificates: certificatesInResponse(r.body), bytes: r.body.length };
        } catch (err) {
          throw new Failure(
            'not-certificate',
            `the response is not a certificate: ${(err as Error).message}`,
            r.body.length,
          );
        }
      }
      if (hop >= AIA_MAX_REDIRECTS)
        throw new Failure('http-error', `more than ${AIA_MAX_REDIRECTS} redirects`);
      url = new URL(r.location, url).toString();
    }
  } catch (err) {
    const f = err instanceof Failure ? err : new Failure('network', (err as Error).message);
    return {
      outcome: f.outcome,
      certificates: [],
      error: f.message,
      ...(f.bytes !== undefined ? { bytes: f.bytes } : {}),
    };
  }
}

interface CacheEntry {
  download: Download;
  expires: number;
}
const cache = new Map<string, CacheEntry>();
const inFlight = new Map<string, Promise<Download>>();

/** Forgets every cached AIA response (tests; a CA that replaced its file). */
export function clearAiaCache(): void {
  cache.clear();
}

/** How many AIA responses are cached (tests). */
export function aiaCacheSize(): number {
  return cache.size;
}

function remember(key: string, d: Download): void {
  cache.delete(key);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(key, {
    download: d,
    expires: Date.now() + (d.outcome === 'found' ? CACHE_TTL_MS : NEGATIVE_TTL_MS),
  });
}

/** The response at `url`, from the cache when fetched recently; concurrent callers share one fetch. */
async function responseAt(
  url: string,
  opts: ResolvedAia,
  deadline: number,
): Promise<Download & { cached?: boolean }> {
  const key = `${opts.allowPrivate} ${opts.maxBytes} ${url}`;
  const hit = cache.get(key);
  if (hit && hit.expires > Date.now()) return { ...hit.download, cached: true };
  let p = inFlight.get(key);
  if (!p) {
    p = download(url, opts, deadline).then((d) => {
      // A timeout says nothing about the URL (the limit is the caller's): the next may try again.
      if (d.outcome !== 'timeout') remember(key, d);
      inFlight.delete(key);
      return d;
    });
    inFlight.set(key, p);
    return p;
  }
  // Joining another caller's fetch: wait no longer than this caller's own limit.
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Download>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          outcome: 'timeout',
          certificates: [],
          error: `no complete answer within ${opts.timeout} ms`,
        }),
      Math.max(1, deadline - performance.now()),
    );
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Fetches `url` (or takes it from the cache) and picks the certificate that issued `child`. */
async function issuerAt(
  url: string,
  child: Certificate,
  opts: ResolvedAia,
  verifier: SignatureVerifier,
  deadline: number,
): Promise<AiaFetch> {
  const started = performance.now();
  const d = await responseAt(url, opts, deadline);
  const base = {
    url,
    for: child.subject.text,
    certificates: d.certificates,
    ms: performance.now() - started,
    ...(d.bytes !== undefined ? { bytes: d.bytes } : {}),
    ...(d.cached ? { cached: true } : {}),
  };
  if (d.outcome !== 'found') {
    const remembered = d.cached ? ' (remembered from a recent attempt)' : '';
    return { ...base, outcome: d.outcome, ok: false, error: `${d.error}${remembered}` };
  }
  const issuer = d.certificates.find(
    (c) => c.subject.key === child.issuer.key && verifier.verifySignedBy(child, c),
  );
  if (issuer) return { ...base, outcome: 'found', ok: true, issuer };
  return {
    ...base,
    outcome: 'no-issuer',
    ok: false,
    error:
      d.certificates.length === 0
        ? 'the response holds no certificate'
        : `the response holds no certificate for "${child.issuer.text}": none of the ${d.certificates.length} certificate(s) in it issued "${child.subject.text}"`,
  };
}

/** Fetches one caIssuers URL and picks the certificate that issued `child`, if any. Never throws. */
export function fetchIssuer(
  url: string,
  child: Certificate,
  options: AiaOptions & { verifier?: SignatureVerifier } = {},
): Promise<AiaFetch> {
  const opts = withDefaults(options);
  return issuerAt(url, child, opts, options.verifier ?? defaultVerifier, performance.now() + opts.timeout);
}

// ---------------------------------------------------------------------------------------------
// Completing a chain

export interface AiaCompletion {
  /** The intermediates fetched, in the order found: candidates to try after the chain sent, never anchors. */
  certs: Certificate[];
  /** Every fetch made, in order. */
  fetches: AiaFetch[];
  /** Why nothing (more) was found, one sentence each (for an error's hint). */
  notes: string[];
}

/**
 * Completes a chain through AIA: from the leaf, follows issuers among the certificates sent
 * (signatures checked); where the next issuer is neither sent nor a trust anchor, tries the
 * caIssuers URLs of the certificate on top, in order, until one serves its issuer; then goes on
 * from that issuer. Never throws: failures are in `fetches` and `notes`.
 */
export async function completeChain(
  chain: readonly Certificate[],
  trust: TrustAnchors,
  options: AiaOptions & { verifier?: SignatureVerifier } = {},
): Promise<AiaCompletion> {
  const out: AiaCompletion = { certs: [], fetches: [], notes: [] };
  let checks = 0;
  const inner = options.verifier ?? defaultVerifier;
  const verifier: SignatureVerifier = {
    verifySignedBy(child, by) {
      if (++checks > AIA_MAX_SIGNATURES) throw new SignatureBudgetSpent();
      return inner.verifySignedBy(child, by);
    },
  };
  try {
    await walk(chain, trust, withDefaults(options), verifier, out);
  } catch (err) {
    if (!(err instanceof SignatureBudgetSpent)) throw err;
    out.notes.push(`AIA completion stopped after ${AIA_MAX_SIGNATURES} signature checks`);
  }
  return out;
}

/** Thrown by completeChain's counting verifier when AIA_MAX_SIGNATURES are spent. */
class SignatureBudgetSpent extends Error {}

async function walk(
  chain: readonly Certificate[],
  trust: TrustAnchors,
  opts: ResolvedAia,
  verifier: SignatureVerifier,
  out: AiaCompletion,
): Promise<void> {
  const deadline = performance.now() + opts.timeout;
  const pool = [...chain];
  const issued = (child: Certificate, by: Certificate) =>
    child.issuer.key === by.subject.key && verifier.verifySignedBy(child, by);
  // Each certificate is on the walk at most once (as the path builder's loop rule): two
  // certificates that certify each other would otherwise be walked round until the step bound.
  const visited = new Set<string>(); // SHA-256 fingerprints
  let top: Certificate | undefined = chain[0];
  for (let step = 0; top && step < chain.length + AIA_MAX_DEPTH; step++) {
    const cur: Certificate = top;
    top = undefined;
    visited.add(cur.fingerprintSha256);
    if (trust.issuersOf(cur).some((a) => verifier.verifySignedBy(cur, a.cert))) break;
    if (cur.selfIssued) break;
    const known = pool.find((c) => !visited.has(c.fingerprintSha256) && issued(cur, c));
    if (known) {
      top = known;
      continue;
    }
    if (out.certs.length >= AIA_MAX_DEPTH) {
      out.notes.push(`more than ${AIA_MAX_DEPTH} missing issuers; AIA fetching stops there`);
      break;
    }
    const urls = cur.authorityInfoAccess?.caIssuers ?? [];
    if (urls.length === 0) {
      out.notes.push(`"${cur.subject.text}" does not say where its issuer can be fetched (no caIssuers URL)`);
      break;
    }
    for (const url of urls.slice(0, AIA_MAX_URLS_PER_CERT)) {
      const f = await issuerAt(url, cur, opts, verifier, deadline);
      out.fetches.push(f);
      if (f.issuer) {
        if (!pool.some((c) => c.fingerprintSha256 === f.issuer!.fingerprintSha256)) {
          pool.push(f.issuer);
          out.certs.push(f.issuer);
        }
        top = f.issuer;
        break;
      }
      out.notes.push(`${url}: ${f.error}`);
      // The time limit is the chain's: once a fetch ran out of it, nothing more is tried.
      if (f.outcome === 'timeout' || performance.now() >= deadline) {
        out.notes.push(`AIA fetching stopped after ${opts.timeout} ms`);
        return;
      }
    }
  }
}
