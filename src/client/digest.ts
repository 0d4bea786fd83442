/**
 * HTTP Digest access authentication (RFC 7616), the client side: read the server's
 * WWW-Authenticate challenges (RFC 9110 §11.6.1), pick the first Digest challenge we can answer,
 * and compute the Authorization header. Algorithms MD5, SHA-256 and SHA-512-256 with their -sess
 * variants; qop=auth (auth-int is not offered: it would need the body hashed before sending);
 * a challenge without qop is answered the RFC 2069 way, as requests and curl do.
 */
import { createHash, randomBytes } from 'node:crypto';

/** One challenge: the scheme (lower-case) and its parameters (names lower-case). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

// RFC 9110 §5.6.2 tchar.
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses WWW-Authenticate (or Proxy-Authenticate) field values into challenges. Lenient: what it
 * cannot read (a token68, stray characters) is skipped, so one odd challenge does not hide a
 * Digest challenge beside it.
 */
export function parseChallenges(value: string | readonly string[] | undefined): Challenge[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(', ') : (value as string);
  const out: Challenge[] = [];
  let current: Challenge | undefined;
  let i = 0;
  const n = text.length;
  const skip = (chars: string) => {
    while (i < n && chars.includes(text[i] as string)) i++;
  };
  const token = () => {
    const start = i;
    while (i < n && TCHAR.test(text[i] as string)) i++;
    return text.slice(start, i);
  };
  while (i < n) {
    skip(' \t,');
    if (i >= n) break;
    const name = token();
    if (name === '') {
      i++; // a character that starts nothing we read
      continue;
    }
    skip(' \t');
    if (text[i] === '=' && current) {
      i++;
      skip(' \t');
      let value = '';
      if (text[i] === '"') {
        i++;
        while (i < n && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < n) i++;
          value += text[i];
          i++;
        }
        i++; // closing quote
      } else {
        value = token();
      }
      current.params[name.toLowerCase()] = value;
    } else {
      current = { scheme: name.toLowerCase(), params: {} };
      out.push(current);
      // A token68 after the scheme (Basic's and Negotiate's form): skip it.
      const save = i;
      const t = token();
      if (t !== '' && /^=*\s*(,|$)/.test(text.slice(i))) {
        skip('=');
      } else i = save;
    }
  }
  return out;
}

const ALGORITHMS: Record<string, string> = {
  md5: 'md5',
  'sha-256': 'sha256',
  'sha-512-256': 'sha512-256',
};

/** A Digest challenge we can answer: its algorithm, whether it is a -sess one, and its qop. */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque: string | undefined;
  /** As the server wrote it ('MD5', 'SHA-256-sess'); undefined when it gave none (MD5). */
  algorithm: string | undefined;
  hash: string;
  sess: boolean;
  /** 'auth', or undefined for a challenge without qop (RFC 2069). */
  qop: 'auth' | undefined;
  stale: boolean;
  userhash: boolean;
}

/** The first Digest challenge (the server's preference, RFC 7616 §3.7) we can answer, or null. */
export function chooseDigest(challenges: readonly Challenge[]): DigestChallenge | null {
  for (const c of challenges) {
    if (c.scheme !== 'digest') continue;
    const { realm, nonce } = c.params;
    if (realm === undefined || nonce === undefined) continue;
    const algorithm = c.params.algorithm;
    let name = (algorithm ?? 'MD5').toLowerCase();
    const sess = name.endsWith('-sess');
    if (sess) name = name.slice(0, -5);
    const hash = ALGORITHMS[name];
    if (hash === undefined) continue;
    let qop: 'auth' | undefined;
    if (c.params.qop !== undefined) {
      const offered = c.params.qop.split(',').map((q) => q.trim().toLowerCase());
      if (!offered.includes('auth')) continue; // auth-int only
      qop = 'auth';
    }
    return {
      realm,
      nonce,
      opaque: c.params.opaque,
      algorithm,
      hash,
      sess,
      qop,
      stale: c.params.stale?.toLowerCase() === 'true',
      userhash: c.params.userhash?.toLowerCase() === 'true',
    };
  }
  return null;
}

/** A quoted-string (RFC 9110 §5.6.4). */
function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

export interface DigestInput {
  username: string;
  password: string;
  method: string;
  /** The request target as sent: path and query. */
  uri: string;
  challenge: DigestChallenge;
  /** The nonce count, from 1. */
  nc?: number;
  /** The client nonce; random when not given (tests give one). */
  cnonce?: string;
}

/** The Authorization header value that answers a Digest challenge (RFC 7616 §3.4). */
export function digestAuthorization(input: DigestInput): string {
  const { username, password, method, uri, challenge: c } = input;
  const H = (s: string) => createHash(c.hash).update(s, 'utf8').digest('hex');
  const nc = (input.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = input.cnonce ?? randomBytes(16).toString('hex');
  let ha1 = H(`${username}:${c.realm}:${password}`);
  if (c.sess) ha1 = H(`${ha1}:${c.nonce}:${cnonce}`);
  const ha2 = H(`${method}:${uri}`);
  const response = c.qop
    ? H(`${ha1}:${c.nonce}:${nc}:${cnonce}:${c.qop}:${ha2}`)
    : H(`${ha1}:${c.nonce}:${ha2}`);
  const parts: string[] = [];
  if (c.userhash) parts.push(`username=${quote(H(`${username}:${c.realm}`))}`);
  else if (/^[\x20-\x7e]*$/.test(username)) parts.push(`username=${quote(username)}`);
  // RFC 7616 §3.4.4: a name outside ASCII goes in username* (RFC 8187 encoding).
  else
    parts.push(
      `username*=UTF-8''${encodeURIComponent(username).replace(/['()*!]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)}`,
    );
  parts.push(`realm=${quote(c.realm)}`, `nonce=${quote(c.nonce)}`, `uri=${quote(uri)}`);
  if (c.algorithm !== undefined) parts.push(`algorithm=${c.algorithm}`);
  parts.push(`response=${quote(response)}`);
  if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`);
  if (c.qop) parts.push(`qop=${c.qop}`, `nc=${nc}`, `cnonce=${quote(cnonce)}`);
  if (c.userhash) parts.push('userhash=true');
  return `Digest ${parts.join(', ')}`;
}
