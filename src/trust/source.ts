/**
 * Where a trust anchor came from, as one structured value, and its string form, made and read
 * here only. Anchors keep the string (`TrustAnchor.sources`, `r.tls.anchor.sources`, the CLI and
 * the JSON reports show it); code that needs to know what a source *is* parses it here instead
 * of testing prefixes of its own.
 *
 *   bundled                      Node's bundled Mozilla roots
 *   system:<path or store>       an operating-system store (a file, a directory, a keychain, Cert:\…)
 *   file:<absolute path>         a CA file the user named (verify: 'ca.pem', { ca })
 *   dir:<absolute path>          a c_rehash directory the user named
 *   env:<VARIABLE>:<path>        a file or directory named by an environment variable
 *   inline                       PEM text or bytes given in code
 */

export type AnchorSourceKind = 'bundled' | 'system' | 'file' | 'dir' | 'env' | 'inline';

export interface AnchorSourceInfo {
  kind: AnchorSourceKind;
  /** file, dir, env: the absolute path; system: the path or store name. */
  path?: string;
  /** env: the variable that named the path (REQUESTS_CA_BUNDLE, SSL_CERT_FILE, …). */
  variable?: string;
}

/** The string form of a source: what anchors carry and what users see. */
export function renderSource(s: AnchorSourceInfo): string {
  switch (s.kind) {
    case 'bundled':
    case 'inline':
      return s.kind;
    case 'env':
      return `env:${s.variable ?? ''}:${s.path ?? ''}`;
    default:
      return `${s.kind}:${s.path ?? ''}`;
  }
}

const cache = new Map<string, AnchorSourceInfo>();

/** The structured form of a source string made by renderSource; TypeError for any other string. */
export function parseSource(text: string): AnchorSourceInfo {
  const hit = cache.get(text);
  if (hit) return { ...hit };
  let info: AnchorSourceInfo;
  if (text === 'bundled' || text === 'inline') info = { kind: text };
  else {
    const colon = text.indexOf(':');
    const kind = colon < 0 ? '' : text.slice(0, colon);
    const rest = text.slice(colon + 1);
    if (kind === 'file' || kind === 'dir' || kind === 'system') info = { kind, path: rest };
    else if (kind === 'env') {
      // A variable name holds no ':'; the path after it may (C:\…).
      const next = rest.indexOf(':');
      if (next <= 0) throw new TypeError(`'${text}' is not an anchor source (env:<VARIABLE>:<path>)`);
      info = { kind: 'env', variable: rest.slice(0, next), path: rest.slice(next + 1) };
    } else throw new TypeError(`'${text}' is not an anchor source`);
  }
  // Sources are few (one per configured file or store): the cache stays small.
  if (cache.size < 1024) cache.set(text, info);
  return { ...info };
}

/** The kind of a source string, or undefined for a string of no known kind. */
function kindOf(text: string): AnchorSourceKind | undefined {
  try {
    return parseSource(text).kind;
  } catch {
    return undefined;
  }
}

/** A file or directory the user configured (file, dir, env): the anchors whose profile is relaxed. */
export function isUserFileSource(text: string): boolean {
  const kind = kindOf(text);
  return kind === 'file' || kind === 'dir' || kind === 'env';
}

/** An operating-system store. */
export function isSystemSource(text: string): boolean {
  return kindOf(text) === 'system';
}
