/**
 * Fetching missing intermediates from caIssuers URLs (RFC 5280 §4.2.2.1), as browsers do when a
 * server forgets to send its chain. One fetcher serves the library (`aia: true`, through the
 * connector) and `certainly check` (diagnose/), which reports every fetch. The rules (what may be
 * fetched, bounds, what a response holds) are verify/aia.ts, pure; this module does the I/O.
 *
 * Every fetch goes through the one dial (handshake.ts): a proxy that applies to the connection
 * applies to its AIA fetches too. Fetches are bounded in size, time, count and redirects, use
 * http or https only, and never reach a private, loopback or link-local address unless
 * `allowPrivate` says so (a certificate is data from the server: it must not make this process
 * probe its own network). Direct, the address checked is the address dialled (resolved here,
 * then dialled by IP), so a DNS answer cannot change between the check and the connection; every
 * redirect is checked like the first URL. Through a proxy the proxy resolves the name: the URL's
 * host is checked, the proxy's network is the proxy's.
 */
import type net from 'node:net';
import type { TrustAnchors } from '../trust/types.js';
import {
  AIA_MAX_DEPTH,
  AIA_MAX_REDIRECTS,
  AIA_MAX_SIGNATURES,
  AIA_MAX_URLS_PER_CERT,
  type AiaFetch,
  type AiaOptions,
  type AiaOutcome,
  certificatesInResponse,
  NEEDS_ALLOW_PRIVATE,
  privateAddressKind,
  type ResolvedAia,
  refuseUrl,
  withDefaults,
} from '../verify/aia.js';
import { defaultVerifier, type SignatureVerifier } from '../verify/crypto.js';
import type { Certificate } from '../x509/types.js';
import { dialPlain, handshake, type ProxyRoute, resolveHost } from './handshake.js';
import { exchangeOnce } from './http-exchange.js';
import { resolveTarget } from './target.js';

// The cache: intermediates live for years, but a CA may replace the file behind a URL; an hour
// bounds how long a stale answer is used. Failures are kept for a minute, so that a burst of
// connections to a misconfigured server does not hammer the CA (or wait for it) each time.
const CACHE_TTL_MS = 3600_000;
const NEGATIVE_TTL_MS = 60_000;
// Distinct AIA URLs remembered; each holds at most AIA_MAX_BYTES of certificates (≤ 6.4 MiB).
const CACHE_MAX = 100;

// ---------------------------------------------------------------------------------------------
// Fetching one URL

/** What came of one fetch. */
/** How fetches are made: the signature verifier (tests), and the proxy they go through. */
export interface AiaFetchOptions extends AiaOptions {
  verifier?: SignatureVerifier;
  /** The proxy the connection being completed goes through; AIA fetches take it too. */
  proxy?: ProxyRoute | null;
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

/**
 * The connection for one GET, made by the one dial: through the proxy, or direct to an address
 * the rules allow (resolved here, then dialled by IP, so the address checked is the one used).
 */
export async function connectionFor(
  url: URL,
  opts: ResolvedAia,
  deadline: number,
  proxy: ProxyRoute | null,
): Promise<net.Socket> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  const timeout = Math.max(1, deadline - performance.now());
  let dialHost = host;
  if (!proxy) {
    const dns = await resolveHost(host);
    if (dns.addresses.length === 0) {
      throw new Failure('network', `${host} could not be resolved (DNS: ${dns.error ?? 'no address'})`);
    }
    const usable = opts.allowPrivate
      ? dns.addresses
      : dns.addresses.filter((a) => !privateAddressKind(a.address));
    if (usable.length === 0) {
      throw new Failure(
        'refused',
        `${host} is only at private or loopback addresses (${dns.addresses.map((a) => a.address).join(', ')}); ${NEEDS_ALLOW_PRIVATE}`,
      );
    }
    dialHost = usable[0]!.address;
  }
  if (url.protocol === 'http:') return dialPlain(dialHost, port, { timeout, proxy });
  // The content is checked by its signature, not by the transport (that is why CAs publish over
  // http): an https URL whose server certificate we cannot verify is still worth reading.
  const target = resolveTarget(host, port, { connectTo: { host: dialHost } });
  return (await handshake(target, { trust: null, timeout, proxy })).socket;
}

/** One GET; resolves with the body (status 200) or the redirect target. */
async function getOnce(
  url: URL,
  opts: ResolvedAia,
  deadline: number,
  proxy: ProxyRoute | null,
): Promise<{ body: Buffer } | { location: string }> {
  const answer = await exchangeOnce(
    url,
    {
      method: 'GET',
      headers: { accept: 'application/pkix-cert, application/pkcs7-mime, application/x-x509-ca-cert, */*' },
    },
    { deadline, timeout: opts.timeout, maxBytes: opts.maxBytes },
    proxy,
    () => connectionFor(url, opts, deadline, proxy),
    (kind, message) => new Failure(kind, message),
  );
  if (answer.body !== null) return { body: answer.body };
  if (REDIRECTS.has(answer.status) && answer.location) return { location: answer.location };
  throw new Failure('http-error', `the server answered HTTP status ${answer.status}`);
}

/** GET with bounded redirects, each target checked like the first; then the certificates. */
async function download(
  raw: string,
  opts: ResolvedAia,
  deadline: number,
  proxy: ProxyRoute | null,
): Promise<Download> {
  let url = raw;
  try {
    for (let hop = 0; ; hop++) {
      const refused = refuseUrl(url, opts.allowPrivate);
      if (refused) throw new Failure('refused', refused);
      const r = await getOnce(new URL(url), opts, deadline, proxy);
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
  proxy: ProxyRoute | null,
): Promise<Download & { cached?: boolean }> {
  const key = `${opts.allowPrivate} ${opts.maxBytes} ${url}`;
  const hit = cache.get(key);
  if (hit && hit.expires > Date.now()) return { ...hit.download, cached: true };
  let p = inFlight.get(key);
  if (!p) {
    p = download(url, opts, deadline, proxy).then((d) => {
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
  proxy: ProxyRoute | null,
): Promise<AiaFetch> {
  const started = performance.now();
  const d = await responseAt(url, opts, deadline, proxy);
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
  options: AiaFetchOptions = {},
): Promise<AiaFetch> {
  const opts = withDefaults(options);
  return issuerAt(
    url,
    child,
    opts,
    options.verifier ?? defaultVerifier,
    performance.now() + opts.timeout,
    options.proxy ?? null,
  );
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
  options: AiaFetchOptions = {},
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
    await walk(chain, trust, withDefaults(options), verifier, out, options.proxy ?? null);
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
  proxy: ProxyRoute | null,
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
      const f = await issuerAt(url, cur, opts, verifier, deadline, proxy);
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
