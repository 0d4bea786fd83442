/**
 * TrustStore: a set of trust anchors, de-duplicated by DER, each remembering every source it
 * was found in. Built once per configuration (resolve.ts caches it) and read on every handshake,
 * so lookups are indexed and derived values (key, PEM list) are computed once.
 */
import { createHash } from 'node:crypto';
import type { Certificate } from '../x509/types.js';
import { isUsable } from './lazy.js';
import type { AnchorSource, TrustAnchor, TrustAnchors } from './types.js';

/** Certificates from one source, in the order the source listed them. */
export interface SourceCertificates {
  source: AnchorSource;
  certs: readonly Certificate[];
}

interface MutableAnchor {
  cert: Certificate;
  sources: AnchorSource[];
}

export class TrustStore implements TrustAnchors {
  readonly anchors: readonly TrustAnchor[];
  /**
   * SHA-256 over the sorted anchor fingerprints and nothing else: two configurations that end
   * with the same anchors share one key, hence one connection pool and one TLS context.
   */
  readonly key: string;
  readonly #byFingerprint = new Map<string, TrustAnchor>();
  readonly #bySubject = new Map<string, TrustAnchor[]>();
  #pems: readonly string[] | undefined;

  /** Merges sources in order: the first source that lists a certificate comes first in `sources`. */
  constructor(sources: Iterable<SourceCertificates>) {
    const merged = new Map<string, MutableAnchor>();
    for (const { source, certs } of sources) {
      for (const cert of certs) {
        const fp = cert.fingerprintSha256;
        const seen = merged.get(fp);
        if (!seen) merged.set(fp, { cert, sources: [source] });
        else if (!seen.sources.includes(source)) seen.sources.push(source);
      }
    }
    const anchors: TrustAnchor[] = [];
    for (const [fp, a] of merged) {
      const anchor: TrustAnchor = Object.freeze({ cert: a.cert, sources: Object.freeze(a.sources) });
      anchors.push(anchor);
      this.#byFingerprint.set(fp, anchor);
      const list = this.#bySubject.get(a.cert.subject.key);
      if (list) list.push(anchor);
      else this.#bySubject.set(a.cert.subject.key, [anchor]);
    }
    this.anchors = Object.freeze(anchors);
    this.key = createHash('sha256')
      .update([...merged.keys()].sort().join('\n'))
      .digest('hex');
  }

  /** How many anchors (after de-duplication). */
  get size(): number {
    return this.anchors.length;
  }

  /** Anchors whose subject matches `cert`'s issuer (Name.key, RFC 5280 §7.1 comparison). */
  issuersOf(cert: Certificate): readonly TrustAnchor[] {
    const list = this.#bySubject.get(cert.issuer.key);
    if (!list) return [];
    // Where a lazily read anchor (lazy.ts) is first used: one that does not parse is left out.
    return list.every((a) => isUsable(a.cert)) ? list : list.filter((a) => isUsable(a.cert));
  }

  /** The anchor with exactly this DER, if any. */
  find(cert: Certificate): TrustAnchor | undefined {
    return this.#byFingerprint.get(cert.fingerprintSha256);
  }

  /** The anchor whose SHA-256 fingerprint (hex, any case, colons allowed) is given. */
  findByFingerprint(fingerprint: string): TrustAnchor | undefined {
    return this.#byFingerprint.get(fingerprint.replace(/:/g, '').toLowerCase());
  }

  /** The anchors as PEM strings, for node:tls's `ca` option; built on first use, then shared. */
  pems(): readonly string[] {
    if (!this.#pems) this.#pems = Object.freeze(this.anchors.map((a) => a.cert.toPEM()));
    return this.#pems;
  }

  /**
   * How many anchors each source contributed. An anchor found in two sources counts in both,
   * so the counts can add up to more than `size`.
   */
  bySource(): Map<AnchorSource, number> {
    const counts = new Map<AnchorSource, number>();
    for (const a of this.anchors) for (const s of a.sources) counts.set(s, (counts.get(s) ?? 0) + 1);
    return counts;
  }
}
