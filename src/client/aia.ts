/**
 * AIA chasing in the library (`aia: true`): when a server forgets to send its intermediate
 * certificate, fetch it from the URL the certificate itself names (Authority Information Access,
 * caIssuers; RFC 5280 §4.2.2.1), as browsers do, and try the path again.
 *
 * What is fetched is only ever a candidate intermediate: it is added after the certificates the
 * server sent and goes through the same path validation; it is never a trust anchor. Fetches are
 * bounded in size, time and number, go over http or https only, and never to a private, loopback
 * or link-local address unless `allowPrivate` is set (a certificate must not be able to make
 * this process probe its own network). The address checked is the address connected to, so a DNS
 * answer cannot change between the check and the connection.
 *
 * Another module (src/diagnose/aia.ts, for `certainly check`) fetches AIA for reports; the two
 * should become one.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { Agent } from 'undici';
import { contextTag, DerReader, TAG } from '../der/index.js';
import { ConfigError, type SSLError } from '../errors.js';
import { type ConnectorConfig, createConnector } from '../tls/connector.js';
import type { TrustAnchors } from '../trust/types.js';
import { parseCertificate, parsePem } from '../x509/index.js';
import type { Certificate } from '../x509/types.js';

export interface AiaOptions {
  /** Also fetch from private, loopback and link-local addresses (an intranet CA, tests). Default false. */
  allowPrivate?: boolean;
  /** Time limit for all the fetches of one connection, ms. Default 10 000. */
  timeout?: number;
  /** Largest response accepted, bytes. Default 64 KiB. */
  maxBytes?: number;
}

/** `aia: true` for the defaults, or the options. */
export type AiaOption = boolean | AiaOptions;

export interface ResolvedAia {
  allowPrivate: boolean;
  timeout: number;
  maxBytes: number;
}

// Chromium's cert_issuer_source_aia.cc: kTimeoutMilliseconds = 10000, kMaxResponseBytes = 65536,
// kMaxFetchesPerCert = 5. A certs-only PKCS#7 with a couple of intermediates is a few KiB; 64 KiB
// leaves room for large certificates while bounding what a hostile URL can make us read.
export const AIA_DEFAULTS: ResolvedAia = { allowPrivate: false, timeout: 10_000, maxBytes: 64 * 1024 };
const MAX_URLS_PER_CERT = 5;
// Missing issuers chased per connection: Web PKI paths have at most 2–3 intermediates (the
// path builder's DEFAULT_MAX_DEPTH comment), so a chain that needs more is not one to complete.
const MAX_MISSING_ISSUERS = 3;
// An AIA URL that redirects (http -> https, a moved CA site) is followed this many times, each
// hop checked like the first. Chromium follows redirects too; the number is ours.
const MAX_REDIRECTS = 3;
// The cache: intermediates live for years, but a CA may replace the file behind a URL; an hour
// bounds how long a stale answer is used. Failures are kept for a minute, so that a burst of
// connections to a misconfigured server does not hammer the CA (or wait for it) each time.
const CACHE_TTL_MS = 3600_000;
const NEGATIVE_TTL_MS = 60_000;
// Distinct AIA URLs remembered; each holds at most maxBytes of certificates (≤ 6.4 MiB at 64 KiB).
const CACHE_MAX = 100;

/** Validates the `aia` option; undefined when AIA is off. */
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
  return {
    allowPrivate: opt.allowPrivate ?? AIA_DEFAULTS.allowPrivate,
    timeout: opt.timeout ?? AIA_DEFAULTS.timeout,
    maxBytes: opt.maxBytes ?? AIA_DEFAULTS.maxBytes,
  };
}

// ---------------------------------------------------------------------------------------------
// Addresses

// Addresses a certificate must not make us connect to: RFC 6890 special-purpose ranges that are
// not globally reachable (private, loopback, link-local, CGNAT, benchmarking, multicast, reserved).
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

/** Is this IP address private, loopback, link-local or otherwise not on the public Internet? */
export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return PRIVATE.check(ip, 'ipv4');
  if (family !== 6) return true; // not an address: never connect
  const lower = ip.toLowerCase();
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses reach the IPv4 address inside.
  const mapped = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hexMapped) {
    const hi = Number.parseInt(hexMapped[1]!, 16);
    const lo = Number.parseInt(hexMapped[2]!, 16);
    return PRIVATE.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, 'ipv4');
  }
  return PRIVATE.check(ip, 'ipv6');
}

/** The address to connect to for `host`: the first public one (any one with allowPrivate). */
async function pickAddress(host: string, allowPrivate: boolean): Promise<string> {
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  const addresses = isIP(literal)
    ? [literal]
    : (await lookup(literal, { all: true, verbatim: true })).map((a) => a.address);
  const usable = allowPrivate ? addresses : addresses.filter((a) => !isPrivateAddress(a));
  if (usable.length === 0) {
    throw new Error(
      `${host} is ${isIP(literal) ? 'a' : 'only at'} private or loopback address${addresses.length > 1 ? 'es' : ''} (${addresses.join(', ')}), which AIA fetching does not reach unless aia: { allowPrivate: true }`,
    );
  }
  return usable[0]!;
}

// ---------------------------------------------------------------------------------------------
// Parsing what a caIssuers URL serves

const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';

/** The certificates of a certs-only PKCS#7 / CMS SignedData (RFC 5652 §5.1), DER. */
export function certificatesFromPkcs7(der: Uint8Array): Certificate[] {
  const r = new DerReader(der);
  const info = r.sequence('PKCS#7 ContentInfo');
  const type = info.oid('PKCS#7 contentType');
  if (type !== OID_SIGNED_DATA) throw new Error(`PKCS#7 content is ${type}, not signedData`);
  const content = info.optionalExplicit(0, 'PKCS#7 content');
  if (!content) return [];
  const sd = content.sequence('SignedData');
  sd.integer('SignedData version');
  sd.set('SignedData digestAlgorithms');
  sd.sequence('SignedData encapContentInfo');
  const certs = sd.optional(contextTag(0, true), 'SignedData certificates');
  if (!certs) return [];
  const list = sd.enter(certs, 'SignedData certificates');
  const out: Certificate[] = [];
  while (!list.atEnd()) {
    const tlv = list.next('SignedData certificate');
    // CertificateChoices: only plain certificates (a SEQUENCE); attribute certificates are skipped.
    if (tlv.tag === TAG.SEQUENCE) out.push(parseCertificate(tlv.der));
  }
  return out;
}

/**
 * The certificates in an AIA response: one DER certificate (application/pkix-cert, the RFC 5280
 * form), a certs-only PKCS#7 (application/pkcs7-mime, .p7c), or PEM (which some CAs serve).
 */
export function parseIssuerResponse(body: Uint8Array): Certificate[] {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
  if (text.includes('-----BEGIN ')) {
    const certs = parsePem(text, 'CERTIFICATE').map((d) => parseCertificate(d));
    for (const p7 of parsePem(text, 'PKCS7')) certs.push(...certificatesFromPkcs7(p7));
    return certs;
  }
  if (body[0] !== 0x30) throw new Error('the response is neither DER, PKCS#7 nor PEM');
  try {
    return [parseCertificate(body)];
  } catch (asCert) {
    try {
      return certificatesFromPkcs7(body);
    } catch {
      throw asCert;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Fetching, with a cache

interface CacheEntry {
  certs?: Certificate[];
  error?: string;
  expires: number;
}
const cache = new Map<string, CacheEntry>();
const inFlight = new Map<string, Promise<Certificate[]>>();

/** Forgets every cached AIA response (tests; a CA that replaced its file). */
export function clearAiaCache(): void {
  cache.clear();
}

/** How many AIA responses are cached (tests). */
export function aiaCacheSize(): number {
  return cache.size;
}

function remember(key: string, entry: CacheEntry): void {
  cache.delete(key);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(key, entry);
}

async function readLimited(body: AsyncIterable<Uint8Array>, maxBytes: number, url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      throw new Error(`${url} sent more than ${maxBytes} bytes, more than an issuer certificate needs`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** One GET, to a checked address; returns the body or the redirect target. */
async function getOnce(
  url: URL,
  opts: ResolvedAia,
  trust: TrustAnchors | null,
  signal: AbortSignal,
): Promise<{ body: Buffer } | { location: string }> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`${url.href} is not an http(s) URL`);
  }
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  const address = await pickAddress(url.hostname, opts.allowPrivate);
  const config: ConnectorConfig = {
    // https AIA URLs are verified against the same anchors (but without AIA: no recursion).
    trust: url.protocol === 'https:' ? trust : null,
    connectTo: { host: address, port },
    connectTimeout: opts.timeout,
  };
  if (url.protocol === 'https:' && trust === null) {
    throw new Error(`${url.href} is https and verification is off; not fetched`);
  }
  const agent = new Agent({ connect: createConnector(config) });
  try {
    const res = await agent.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: 'GET',
      headers: { accept: 'application/pkix-cert, application/pkcs7-mime, */*' },
      headersTimeout: opts.timeout,
      bodyTimeout: opts.timeout,
      signal,
    });
    // The body may be abandoned (too large, a redirect) and the agent destroyed under it: its late
    // abort error must not become an uncaught exception. Reading still sees every error.
    res.body.on('error', () => {});
    if ([301, 302, 303, 307, 308].includes(res.statusCode)) {
      await res.body.dump();
      const location = res.headers.location;
      if (typeof location !== 'string') throw new Error(`${url.href} redirected without a Location`);
      return { location };
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`${url.href} answered HTTP ${res.statusCode}`);
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > opts.maxBytes) {
      res.body.destroy();
      throw new Error(`${url.href} would send ${declared} bytes, more than the ${opts.maxBytes} allowed`);
    }
    return { body: await readLimited(res.body, opts.maxBytes, url.href) };
  } finally {
    agent.destroy().catch(() => {});
  }
}

async function fetchUncached(
  href: string,
  opts: ResolvedAia,
  trust: TrustAnchors | null,
  signal: AbortSignal,
): Promise<Certificate[]> {
  let url = new URL(href);
  for (let hop = 0; ; hop++) {
    const r = await getOnce(url, opts, trust, signal);
    if ('body' in r) {
      try {
        return parseIssuerResponse(r.body);
      } catch (err) {
        throw new Error(`${url.href} did not serve a certificate: ${(err as Error).message}`);
      }
    }
    if (hop >= MAX_REDIRECTS) throw new Error(`${href} redirected more than ${MAX_REDIRECTS} times`);
    url = new URL(r.location, url);
  }
}

/** The certificates served at an AIA URL, from the cache when fetched recently. Throws Error with a sentence. */
export async function fetchIssuers(
  href: string,
  opts: ResolvedAia,
  trust: TrustAnchors | null,
  signal: AbortSignal,
): Promise<Certificate[]> {
  // The anchors take part in the key only for https (they decide whether the fetch succeeds).
  const key = `${href.startsWith('https:') && trust ? trust.key : ''} ${opts.allowPrivate} ${opts.maxBytes} ${href}`;
  const hit = cache.get(key);
  if (hit && hit.expires > Date.now()) {
    if (hit.error !== undefined) throw new Error(`${hit.error} (remembered from a recent attempt)`);
    return hit.certs!;
  }
  let p = inFlight.get(key);
  if (!p) {
    p = fetchUncached(href, opts, trust, signal).then(
      (certs) => {
        remember(key, { certs, expires: Date.now() + CACHE_TTL_MS });
        return certs;
      },
      (err: Error) => {
        // An abort says nothing about the URL: the next connection may try again.
        if (!signal.aborted) remember(key, { error: err.message, expires: Date.now() + NEGATIVE_TTL_MS });
        throw err;
      },
    );
    inFlight.set(key, p);
    void p.then(
      () => inFlight.delete(key),
      () => inFlight.delete(key),
    );
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Completing a chain

export interface CompletedChain {
  /** Certificates fetched, to be tried after the ones the server sent. */
  certs: Certificate[];
  /** What was tried and why it did not help, one sentence each. */
  notes: string[];
}

function httpUrls(cert: Certificate): string[] {
  return (cert.authorityInfoAccess?.caIssuers ?? []).filter((u) => /^https?:\/\//i.test(u));
}

/**
 * Fetches the missing issuers of a chain: for each certificate whose issuer is neither among the
 * certificates at hand nor a trust anchor (leaf first), its caIssuers URLs are tried in order
 * until one serves a certificate with the right subject; then the same for that certificate.
 * Never throws: failures become notes.
 */
export async function completeChain(
  chain: readonly Certificate[],
  trust: TrustAnchors,
  opts: ResolvedAia,
): Promise<CompletedChain> {
  const known = [...chain];
  const fetched: Certificate[] = [];
  const notes: string[] = [];
  const done = new Set<Certificate>();
  const signal = AbortSignal.timeout(opts.timeout);
  const hasIssuer = (c: Certificate) => known.some((k) => k !== c && k.subject.key === c.issuer.key);
  for (let round = 0; round < MAX_MISSING_ISSUERS; round++) {
    const target = known.find(
      (c) => !done.has(c) && !c.selfIssued && !hasIssuer(c) && trust.issuersOf(c).length === 0,
    );
    if (!target) break;
    done.add(target);
    const urls = httpUrls(target).slice(0, MAX_URLS_PER_CERT);
    if (urls.length === 0) {
      const other = target.authorityInfoAccess?.caIssuers ?? [];
      notes.push(
        other.length > 0
          ? `"${target.subject.text}" names its issuer only at ${other.join(', ')}; AIA fetching uses http and https only`
          : `"${target.subject.text}" does not say where its issuer can be fetched (no caIssuers URL)`,
      );
      continue;
    }
    for (const url of urls) {
      if (signal.aborted) {
        notes.push(`AIA fetching stopped after ${opts.timeout} ms`);
        return { certs: fetched, notes };
      }
      try {
        const certs = await fetchIssuers(url, opts, trust, signal);
        const useful = certs.filter(
          (c) =>
            c.subject.key === target.issuer.key &&
            !known.some((k) => k.fingerprintSha256 === c.fingerprintSha256),
        );
        if (useful.length === 0) {
          notes.push(`${url} holds no certificate for "${target.issuer.text}"`);
          continue;
        }
        known.push(...useful);
        fetched.push(...useful);
        break;
      } catch (err) {
        const e = err as Error;
        notes.push(
          signal.aborted && (e.name === 'TimeoutError' || e.name === 'AbortError')
            ? `fetching ${url} took longer than ${opts.timeout} ms`
            : e.message.startsWith(url)
              ? e.message
              : `fetching ${url} failed: ${e.message}`,
        );
      }
    }
  }
  return { certs: fetched, notes };
}

/** The codes after which fetching a missing issuer can help. */
export function aiaCanHelp(err: SSLError): boolean {
  return err.code === 'INCOMPLETE_CHAIN' || err.code === 'UNKNOWN_ISSUER';
}
