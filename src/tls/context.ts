/**
 * TLS secure contexts, built once per trust configuration and reused by every connection
 * (building one with a few hundred CA certificates costs milliseconds; ARCHITECTURE.md measured
 * it). The context's CA store only feeds OpenSSL's cross-check verdict: our verifier decides.
 */
import { createHash } from 'node:crypto';
import tls from 'node:tls';
import type { TrustAnchors } from '../trust/types.js';

type ClientTlsOptions = Pick<tls.ConnectionOptions, 'cert' | 'key' | 'passphrase' | 'pfx'>;

const contexts = new Map<string, tls.SecureContext>();
// Distinct trust configurations x client identities in one process: a handful in practice;
// the bound only protects against a caller that builds a new configuration per request.
const MAX_CONTEXTS = 64;

function clientKey(opts: ClientTlsOptions | undefined): string {
  if (!opts) return '';
  const h = createHash('sha256');
  for (const k of ['cert', 'key', 'passphrase', 'pfx'] as const) {
    const v = opts[k];
    h.update(`${k}:`);
    if (v !== undefined) h.update(typeof v === 'string' || Buffer.isBuffer(v) ? v : JSON.stringify(v));
  }
  return h.digest('base64');
}

/** The secure context for a trust configuration (null = verify: false) and client identity. */
export function contextFor(trust: TrustAnchors | null, client?: ClientTlsOptions): tls.SecureContext {
  const key = `${trust ? trust.key : 'insecure'}|${clientKey(client)}`;
  let ctx = contexts.get(key);
  if (ctx) return ctx;
  ctx = tls.createSecureContext({
    // An empty list means "no anchors" to OpenSSL, not "the defaults" (ARCHITECTURE.md facts).
    ca: trust ? trust.anchors.map((a) => a.cert.toPEM()) : [],
    ...(client ?? {}),
  });
  if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value as string);
  contexts.set(key, ctx);
  return ctx;
}
