/**
 * TLS secure contexts, built once per trust configuration and reused by every connection.
 * Our verifier decides; the context's CA store only feeds OpenSSL's cross-check verdict, which
 * only diagnosis shows (`check`'s "openssl accepts the chain" line). So only a context asked for
 * with `crossCheck` carries the anchors: loading ~170 CA certificates into one costs ~20 ms on
 * the first connection (measured in a fresh process's profile), and OpenSSL would then build its
 * own path on every handshake for a verdict nobody reads.
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

/**
 * The secure context for a client identity; with `crossCheck`, OpenSSL also checks the path
 * against the trust configuration's anchors (null = verify: false: none).
 */
export function contextFor(
  trust: TrustAnchors | null,
  client?: ClientTlsOptions,
  crossCheck = false,
): tls.SecureContext {
  const anchors = crossCheck && trust !== null;
  const key = `${anchors ? trust.key : 'none'}|${clientKey(client)}`;
  let ctx = contexts.get(key);
  if (ctx) return ctx;
  ctx = tls.createSecureContext({
    // An empty list means "no anchors" to OpenSSL, not "the defaults" (ARCHITECTURE.md facts).
    ca: anchors ? trust.anchors.map((a) => a.cert.toPEM()) : [],
    ...(client ?? {}),
  });
  if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value as string);
  contexts.set(key, ctx);
  return ctx;
}
