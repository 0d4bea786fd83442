/**
 * A minimal TrustAnchors over a list of certificates: what verifyChain, the x509-limbo harness
 * and tests use when they have a few PEM anchors rather than a configured TrustStore.
 */
import { createHash } from 'node:crypto';
import { isUsable } from '../trust/lazy.js';
import type { AnchorSource, TrustAnchor, TrustAnchors } from '../trust/types.js';
import type { Certificate } from '../x509/types.js';

type Entry = { cert: Certificate; sources: AnchorSource[] };

function addEntry(into: Map<string, Entry>, cert: Certificate, sources: readonly AnchorSource[]): void {
  const hit = into.get(cert.fingerprintSha256);
  if (hit) {
    for (const s of sources) if (!hit.sources.includes(s)) hit.sources.push(s);
  } else into.set(cert.fingerprintSha256, { cert, sources: [...sources] });
}

function index(entries: Iterable<Entry>, key: string): TrustAnchors {
  const anchors: TrustAnchor[] = [];
  const bySubject = new Map<string, TrustAnchor[]>();
  const byFingerprint = new Map<string, TrustAnchor>();
  for (const e of entries) {
    const a: TrustAnchor = Object.freeze({ cert: e.cert, sources: Object.freeze([...e.sources]) });
    anchors.push(a);
    const list = bySubject.get(a.cert.subject.key);
    if (list) list.push(a);
    else bySubject.set(a.cert.subject.key, [a]);
    byFingerprint.set(a.cert.fingerprintSha256, a);
  }
  return Object.freeze({
    anchors: Object.freeze(anchors),
    key,
    // A lazily read anchor (trust/lazy.ts) that does not parse is left out where it is first used.
    issuersOf: (cert: Certificate): readonly TrustAnchor[] =>
      (bySubject.get(cert.issuer.key) ?? []).filter((a) => isUsable(a.cert)),
    find: (cert: Certificate): TrustAnchor | undefined => byFingerprint.get(cert.fingerprintSha256),
  });
}

/** Anchors indexed by subject key, de-duplicated by DER, all with the one `source`. */
export function anchorsFrom(certs: readonly Certificate[], source: AnchorSource = 'inline'): TrustAnchors {
  const entries = new Map<string, Entry>();
  for (const cert of certs) addEntry(entries, cert, [source]);
  const key = createHash('sha256')
    .update(`${source}\n${[...entries.keys()].join('\n')}`)
    .digest('hex');
  return index(entries.values(), key);
}

/** Several anchor sets as one (for example the bundled roots and an inline CA); sources are merged. */
export function combineAnchors(...sets: readonly TrustAnchors[]): TrustAnchors {
  const entries = new Map<string, Entry>();
  for (const set of sets) for (const a of set.anchors) addEntry(entries, a.cert, a.sources);
  const key = createHash('sha256')
    .update(sets.map((s) => s.key).join('\n'))
    .digest('hex');
  return index(entries.values(), key);
}
