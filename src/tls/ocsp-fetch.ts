/**
 * Online OCSP (RFC 6960, RFC 5019's lightweight profile): when the server staples nothing and
 * `revocation: { online: true }` is set, the leaf's status is asked of the responder its AIA
 * extension names. The answer is checked by verify/ocsp.ts exactly like a staple; this module only
 * fetches it.
 *
 * Every fetch goes through the one dial (handshake.ts dialPlain, by way of aia.ts connectionFor):
 * the connection's proxy applies, and the responder must be at a public address unless
 * `allowPrivate` (the rule and the code of AIA fetches: a certificate is data from the server and
 * must not make this process probe its own network). Bounded: http only, one POST, no redirect,
 * `maxBytes` (64 KiB by default), `timeout` (2 s under 'soft', 10 s under 'hard', Firefox's).
 * Cached per (issuer, serial) until the response's nextUpdate; a failure is remembered for a
 * minute, so that a dead responder does not hold every new connection for its timeout.
 */
import { NEEDS_ALLOW_PRIVATE, type ResolvedAia, refuseUrl } from '../verify/aia.js';
import { ocspRequestFor } from '../verify/ocsp.js';
import type { OnlineOcsp } from '../verify/revocation.js';
import { parseOcspResponse } from '../x509/ocsp.js';
import type { Certificate } from '../x509/types.js';
import { connectionFor } from './aia.js';
import type { ProxyRoute } from './handshake.js';
import { exchangeOnce } from './http-exchange.js';

/** Failures are remembered this long (aia.ts's NEGATIVE_TTL_MS): a minute. */
const FAILURE_TTL_MS = 60_000;
/**
 * Responses remembered: each at most maxBytes (64 KiB), usually under 2 KB; 256 leaves is more
 * than a process talks to in a while, and bounds the cache to 16 MiB in the worst case.
 */
const CACHE_MAX = 256;
/**
 * A response is cached until its nextUpdate, but not longer than a week (Let's Encrypt's responses
 * live 7 days); one without nextUpdate is not cached (verify/ocsp.ts accepts it for 24 hours).
 */
const CACHE_MAX_TTL_MS = 7 * 24 * 3_600_000;

const OCSP_NEEDS_ALLOW_PRIVATE =
  'OCSP responders are asked at public addresses only (a private or loopback address only with revocation: { online: { allowPrivate: true } })';

interface Entry {
  result: OnlineOcsp;
  expires: number;
}
const cache = new Map<string, Entry>();
const inFlight = new Map<string, Promise<OnlineOcsp>>();
/**
 * The cache key of the last answer for a leaf (by its fingerprint): a connection to a server seen
 * before finds its answer without first building a path to learn the issuer (connector.ts).
 */
const byLeaf = new Map<string, string>();

/** Forgets every cached OCSP response (tests). */
export function clearOcspCache(): void {
  cache.clear();
  byLeaf.clear();
}

/**
 * The cached answer for `leaf`, if one is still current: the response is checked again by the
 * verifier against the issuer of the path it builds, so finding it by the leaf alone is safe.
 */
export function cachedOcsp(leaf: Certificate, opts: ResolvedAia): OnlineOcsp | undefined {
  const key = byLeaf.get(`${opts.allowPrivate} ${leaf.fingerprintSha256}`);
  const hit = key === undefined ? undefined : cache.get(key);
  return hit && hit.expires > Date.now() ? { ...hit.result, cached: true } : undefined;
}

/** How many OCSP answers are cached (tests). */
export function ocspCacheSize(): number {
  return cache.size;
}

/** Why a leaf without an AIA OCSP URL has no online answer. */
export const NO_RESPONDER = 'the certificate names no OCSP responder (no AIA OCSP URL)';

/** The http OCSP URL of `leaf`, or why there is none. */
function responderUrl(leaf: Certificate): { url: string } | { problem: string } {
  const urls = leaf.authorityInfoAccess?.ocsp ?? [];
  if (urls.length === 0) return { problem: NO_RESPONDER };
  const http = urls.find((u) => /^http:\/\//i.test(u));
  if (!http)
    return {
      problem: `its OCSP responder URLs are not http (${urls.slice(0, 3).join(', ')}); only http is asked (RFC 5019 §5)`,
    };
  return { url: http };
}

/**
 * The OCSP response for `leaf` (issued by `issuer`) from its responder, from the cache when one is
 * still current. Never throws: a failure is `problem`, which revocation.ts turns into "unknown".
 */
export async function fetchOcsp(
  leaf: Certificate,
  issuer: Certificate,
  opts: ResolvedAia,
  proxy: ProxyRoute | null,
): Promise<OnlineOcsp> {
  const where = responderUrl(leaf);
  if ('problem' in where) return { problem: where.problem };
  const url = where.url;
  const refused = refuseUrl(url, opts.allowPrivate);
  if (refused) return { url, problem: refused.replace(NEEDS_ALLOW_PRIVATE, OCSP_NEEDS_ALLOW_PRIVATE) };
  const key = `${opts.allowPrivate} ${issuer.fingerprintSha256} ${leaf.serialHex} ${url}`;
  const hit = cache.get(key);
  if (hit && hit.expires > Date.now()) return { ...hit.result, cached: true };
  let p = inFlight.get(key);
  if (!p) {
    p = post(new URL(url), ocspRequestFor(leaf, issuer), opts, proxy).then(
      (response): OnlineOcsp => {
        remember(key, { url, response }, expiryOf(response));
        return { url, response };
      },
      (err: Error) => {
        const result = { url, problem: err.message.replace(NEEDS_ALLOW_PRIVATE, OCSP_NEEDS_ALLOW_PRIVATE) };
        remember(key, result, Date.now() + FAILURE_TTL_MS);
        return result;
      },
    );
    inFlight.set(key, p);
    p.finally(() => inFlight.delete(key));
    const leafKey = `${opts.allowPrivate} ${leaf.fingerprintSha256}`;
    byLeaf.delete(leafKey);
    if (byLeaf.size >= CACHE_MAX) byLeaf.delete(byLeaf.keys().next().value as string);
    byLeaf.set(leafKey, key);
  }
  return p;
}

/** Until when a response may be served from the cache: its nextUpdate, bounded; 0: not at all. */
function expiryOf(der: Uint8Array): number {
  try {
    const res = parseOcspResponse(der);
    const next = res.responses[0]?.nextUpdate?.getTime();
    if (next === undefined) return 0;
    return Math.min(next, Date.now() + CACHE_MAX_TTL_MS);
  } catch {
    return 0; // malformed: verify/ocsp.ts says so; asked again next time
  }
}

function remember(key: string, result: OnlineOcsp, expires: number): void {
  cache.delete(key);
  if (expires <= Date.now()) return;
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(key, { result, expires });
}

/** One POST of `body` (application/ocsp-request, RFC 6960 Appendix A.1); resolves with the response body. */
async function post(
  url: URL,
  body: Uint8Array,
  opts: ResolvedAia,
  proxy: ProxyRoute | null,
): Promise<Uint8Array> {
  const deadline = performance.now() + opts.timeout;
  const answer = await exchangeOnce(
    url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
      body,
    },
    { deadline, timeout: opts.timeout, maxBytes: opts.maxBytes },
    proxy,
    () => connectionFor(url, opts, deadline, proxy),
    (_kind, message) => new Error(message),
  );
  if (answer.body === null) throw new Error(`the responder answered HTTP status ${answer.status}`);
  return new Uint8Array(answer.body);
}
