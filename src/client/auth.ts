/**
 * The `auth` option: HTTP Basic (RFC 7617) and Bearer (RFC 6750) credentials, turned into an
 * Authorization header. The Session sends it to the origin of the URL asked for and drops it,
 * like any Authorization header, when a redirect leaves that origin (requests' rebuild_auth).
 */
import { ConfigError } from '../errors.js';

/** `['user', 'password']` for Basic, `{ bearer: 'token' }` for a bearer token. */
export type AuthOption = readonly [user: string, password: string] | { readonly bearer: string };

// Header values cannot hold CR, LF or NUL (RFC 9110 §5.5); any control character in a credential
// is a mistake (a pasted newline) that would otherwise surface as an obscure undici error.
const CONTROL = /[\x00-\x1f\x7f]/;

function authError(message: string): ConfigError {
  return new ConfigError(message, {
    code: 'ERR_AUTH_OPTION',
    hint: "Use auth: ['user', 'password'] for Basic, or auth: { bearer: 'token' }.",
  });
}

/** The Authorization header value for an auth option; ConfigError when it is malformed. */
export function authorizationHeader(auth: AuthOption): string {
  if (Array.isArray(auth)) {
    if (auth.length !== 2 || typeof auth[0] !== 'string' || typeof auth[1] !== 'string') {
      throw authError('auth must be a pair of strings [user, password]');
    }
    const [user, password] = auth as [string, string];
    // RFC 7617 §2: the user-id cannot contain a colon (the first colon separates it from the password).
    if (user.includes(':'))
      throw authError(`auth: the user name '${user}' contains ':', which Basic auth cannot carry`);
    if (CONTROL.test(user) || CONTROL.test(password)) {
      throw authError('auth: the user name or password contains a control character (a stray newline?)');
    }
    // RFC 7617 §2.1: UTF-8 is the charset servers that declare one expect.
    return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
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
    return `Bearer ${token}`;
  }
  throw authError(`auth must be [user, password] or { bearer }, not ${auth === null ? 'null' : typeof auth}`);
}
