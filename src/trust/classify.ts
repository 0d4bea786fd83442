/**
 * What kind of anchor verified a chain: a public root (in Node's bundled Mozilla list), a root
 * only the operating system trusts (typically a corporate root or a TLS-inspecting proxy), or a
 * CA the user configured. Results and errors say so, because "trusted on my machine but not by
 * my client" is the most common TLS failure users meet.
 */
import { BUNDLED_SOURCE, bundledFingerprints, bundledNodeVersion } from './bundled.js';
import { isSystemSource } from './source.js';
import type { TrustAnchor } from './types.js';

export type AnchorClass = 'bundled' | 'system-only' | 'user';

/**
 * 'bundled' when the certificate is one of Node's bundled roots (whatever other source also
 * listed it); else 'system-only' when an OS store listed it; else 'user' (file, dir, env, inline).
 */
export function classifyAnchor(anchor: TrustAnchor): AnchorClass {
  if (anchor.sources.includes(BUNDLED_SOURCE) || bundledFingerprints().has(anchor.cert.fingerprintSha256)) {
    return 'bundled';
  }
  if (anchor.sources.some(isSystemSource)) return 'system-only';
  return 'user';
}

/** A phrase for results and errors: where the anchor came from and what that suggests. */
export function describeAnchor(anchor: TrustAnchor): string {
  const name = anchor.cert.subject.commonName ?? anchor.cert.subject.text;
  const from = anchor.sources.join(', ');
  switch (classifyAnchor(anchor)) {
    case 'bundled':
      return `${name}, a public root in Mozilla's list (bundled with Node ${bundledNodeVersion()}; from ${from})`;
    case 'system-only':
      return (
        `${name}, trusted by the operating system (${from}) but not a public root in Mozilla's list: ` +
        'typically a corporate root or a proxy that inspects TLS'
      );
    case 'user':
      return `${name}, a CA you configured (${from})`;
  }
}
