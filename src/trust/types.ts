/**
 * The trust contract: what the verifier and the connector need from a set of anchors.
 * Implemented by TrustStore in store.ts.
 */
import type { Certificate } from '../x509/types.js';

/**
 * Where an anchor came from, in its string form: 'bundled' (Node's Mozilla roots),
 * 'system:<path or store>', 'file:<path>', 'dir:<path>', 'env:<NAME>:<path>', 'inline' (a PEM
 * string or Buffer in code). Made and read only by trust/source.ts (renderSource, parseSource:
 * the structured { kind, path?, variable? }).
 */
export type AnchorSource = string;

export interface TrustAnchor {
  readonly cert: Certificate;
  /** Every source this anchor was found in, first one first (de-duplicated by DER). */
  readonly sources: readonly AnchorSource[];
}

export interface TrustAnchors {
  /** All anchors, de-duplicated by DER. */
  readonly anchors: readonly TrustAnchor[];
  /**
   * A stable key for this set of anchors (a hash of the configuration and content), so that
   * connection pools and TLS contexts can be shared between equal configurations.
   */
  readonly key: string;
  /** Anchors whose subject matches `cert`'s issuer (RFC 5280 name comparison). Fast: indexed. */
  issuersOf(cert: Certificate): readonly TrustAnchor[];
  /** The anchor with exactly this DER, if any. */
  find(cert: Certificate): TrustAnchor | undefined;
}
