/**
 * Anchor sets from a few certificates, for verifyChain, the x509-limbo harness and tests. There
 * is one trust-anchor type, trust/store.ts TrustStore (indexed by subject and fingerprint, each
 * anchor with every source it was found in); these build one.
 */
import { INLINE_SOURCE } from '../trust/inline.js';
import { type SourceCertificates, TrustStore } from '../trust/store.js';
import type { AnchorSource, TrustAnchors } from '../trust/types.js';
import type { Certificate } from '../x509/types.js';

/** Anchors de-duplicated by DER, all with the one `source` (default 'inline'). */
export function anchorsFrom(certs: readonly Certificate[], source: AnchorSource = INLINE_SOURCE): TrustStore {
  return new TrustStore([{ source, certs }]);
}

/** Several anchor sets as one (for example the bundled roots and an inline CA); sources are merged. */
export function combineAnchors(...sets: readonly TrustAnchors[]): TrustStore {
  const parts: SourceCertificates[] = [];
  for (const set of sets) {
    for (const a of set.anchors) for (const source of a.sources) parts.push({ source, certs: [a.cert] });
  }
  return new TrustStore(parts);
}
