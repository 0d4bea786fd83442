/**
 * The `auth` option: HTTP Basic (RFC 7617), Bearer (RFC 6750), Digest (RFC 7616, digest.ts) and
 * a function of the request that returns headers to add. The Session sends credentials to the
 * origin of the URL asked for and drops them, like any Authorization header, when a redirect
 * leaves that origin (requests' rebuild_auth).
 */
import { ConfigError } from '../errors.js';

/** What an auth function is shown of the request about to be sent (one hop of it). */
export interface AuthRequest {
  readonly method: string;
  readonly url: string;
  /** The headers as they stand, lower-case names (cookies from the jar are added later). */
  readonly headers: Readonly<Record<string, string>>;
}

/** Headers an auth function returns: a record, a Headers object or [name, value] pairs. */
export type AuthHeaders =
  | Record<string, string | readonly string[] | undefined>
  | Headers
  | readonly (readonly [string, string])[];

/**
 * A function that authenticates a request (requests' AuthBase, axios' request interceptor for
 * auth): called before each hop to the origin of the URL asked for, it returns headers to add
 * (or nothing). It may be async, e.g. to refresh a token.
 */
export type AuthFunction = (
  request: AuthRequest,
) => AuthHeaders | undefined | null | Promise<AuthHeaders | undefined | null>;

type Credentials =
  | readonly [user: string, password: string]
  | { readonly username: string; readonly password: string };

/**
 * `['user', 'password']` or `{ username, password }` for Basic, `{ bearer: 'token' }`,
 * `{ digest: ['user', 'password'] }` (or `{ digest: { username, password } }`) for Digest, or a
 * function of the request that returns headers to add.
 */
export type AuthOption =
  | Credentials
  | { readonly bearer: string }
  | { readonly digest: Credentials }
  | AuthFunction;

/** An auth option checked and reduced to what a request does with it. */
export type ResolvedAuth =
  | { readonly kind: 'header'; readonly value: string }
  | { readonly kind: 'digest'; readonly username: string; readonly password: string }
  | { readonly kind: 'function'; readonly fn: AuthFunction };

// Header values cannot hold CR, LF or NUL (RFC 9110 §5.5); any control character in a credential
// is a mistake (a pasted newline) that would otherwise surface as an obscure undici error.
const CONTROL = /[\x00-\x1f\x7f]/;

const AUTH_HINT =
  "Use auth: ['user', 'password'] or { username, password } for Basic, { bearer: 'token' }, " +
  "{ digest: ['user', 'password'] } for Digest, or a function (request) => headers.";

function authError(message: string): ConfigError {
  return new ConfigError(message, { code: 'ERR_AUTH_OPTION', hint: AUTH_HINT });
}

/** [user, password] from either credentials form; ConfigError when malformed. */
function credentials(value: unknown, what: string): [string, string] {
  if (Array.isArray(value)) {
    if (value.length !== 2 || typeof value[0] !== 'string' || typeof value[1] !== 'string') {
      throw authError(`${what} must be a pair of strings [user, password]`);
    }
    return [value[0], value[1]];
  }
  if (typeof value === 'object' && value !== null && 'username' in value) {
    const { username, password } = value as { username: unknown; password?: unknown };
    if (typeof username !== 'string' || typeof password !== 'string') {
      throw authError(`${what} must be { username, password } with both strings`);
    }
    return [username, password];
  }
  throw authError(`${what} must be [user, password] or { username, password }`);
}

function noControl(user: string, password: string, what: string): void {
  if (CONTROL.test(user) || CONTROL.test(password)) {
    throw authError(`${what}: the user name or password contains a control character (a stray newline?)`);
  }
}

/** The Basic Authorization header value for a user and password (RFC 7617). */
export function basicHeader(user: string, password: string, what = 'auth'): string {
  // RFC 7617 §2: the user-id cannot contain a colon (the first colon separates it from the password).
  if (user.includes(':'))
    throw authError(`${what}: the user name '${user}' contains ':', which Basic auth cannot carry`);
  noControl(user, password, what);
  // RFC 7617 §2.1: UTF-8 is the charset servers that declare one expect.
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** Checks an auth option and says what it does; ConfigError when it is malformed. */
export function resolveAuth(auth: AuthOption): ResolvedAuth {
  if (typeof auth === 'function') return { kind: 'function', fn: auth };
  if (Array.isArray(auth) || (typeof auth === 'object' && auth !== null && 'username' in auth)) {
    const [user, password] = credentials(auth, 'auth');
    return { kind: 'header', value: basicHeader(user, password) };
  }
  if (typeof auth === 'object' && auth !== null && 'bearer' in auth) {
    const token = (auth as { bearer: unknown }).bearer;
    if (typeof token !== 'string' || token === '') throw authError('auth.bearer must be a non-empty string');
    // RFC 6750 §2.1: b64token has no spaces; tokens in the wild go beyond its alphabet, so only
    // whitespace and control characters are refused.
    if (/\s/.test(token) || CONTROL.test(token)) {
      throw authError(
        'auth.bearer contains whitespace or a control character; pass the token alone, without "Bearer "',
      );
    }
    return { kind: 'header', value: `Bearer ${token}` };
  }
  if (typeof auth === 'object' && auth !== null && 'digest' in auth) {
    const [username, password] = credentials((auth as { digest: unknown }).digest, 'auth.digest');
    noControl(username, password, 'auth.digest');
    return { kind: 'digest', username, password };
  }
  throw authError(
    `auth must be [user, password], { username, password }, { bearer }, { digest } or a function, not ${
      auth === null
        ? 'null'
        : Array.isArray(auth)
          ? 'that array'
          : typeof auth === 'object'
            ? 'that object'
            : typeof auth
    }`,
  );
}

/** The Authorization header value for a Basic or Bearer auth option; ConfigError otherwise. */
export function authorizationHeader(auth: AuthOption): string {
  const resolved = resolveAuth(auth);
  if (resolved.kind !== 'header') throw authError(`auth of kind '${resolved.kind}' has no fixed header`);
  return resolved.value;
}

/**
 * Takes user:password out of a URL (requests, curl and axios send them as Basic auth): returns
 * them percent-decoded, and clears them from the URL so that neither the request line nor r.url
 * carries them. undefined when the URL has none.
 */
export function takeUrlCredentials(url: URL): [string, string] | undefined {
  if (url.username === '' && url.password === '') return undefined;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s; // a stray '%' is itself (as requests' unquote leaves it)
    }
  };
  const pair: [string, string] = [decode(url.username), decode(url.password)];
  url.username = '';
  url.password = '';
  return pair;
}
