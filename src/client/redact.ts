/**
 * A Session's options as `console.log(session)` and `JSON.stringify(session)` show them: the
 * settings, without the secrets they hold. Logging a client object to see its configuration is
 * common, and logs end up in error trackers; the secrets are the ones the security notes keep to
 * their origin or proxy (credentials, cookies, a key and its passphrase). Whatever is a file path
 * stays visible: it says where a secret is, not what it is.
 */
import { isHeaders } from './is-headers.js';
import { redactUserinfo } from './proxy.js';

const REDACTED = '[redacted]';

/**
 * Header names whose values are credentials: the three the redirect rules drop, and the usual
 * names of API keys and tokens (X-Api-Key, X-Auth-Token, X-Amz-Security-Token, …).
 */
const SECRET_HEADER = /^(?:authorization|proxy-authorization|cookie)$|token|secret|passw|api[-_]?key|auth/i;

/**
 * Query parameter names whose values are credentials (api_key, access_token, client_secret,
 * password, a presigned URL's X-Amz-Signature and X-Amz-Credential, …).
 */
const SECRET_PARAM = /token|secret|passw|api[-_]?key|auth|signature|credential|^sig$|^key$/i;

/** A URL with its user:password@ and the values of credential-named query parameters hidden. */
function urlView(url: unknown): unknown {
  if (typeof url !== 'string' && !(url instanceof URL)) return url;
  const text = redactUserinfo(String(url));
  const q = text.indexOf('?');
  if (q < 0) return text;
  const hash = text.indexOf('#', q);
  const end = hash < 0 ? text.length : hash;
  const query = text
    .slice(q + 1, end)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {}
      return eq >= 0 && SECRET_PARAM.test(decoded) ? `${name}=${REDACTED}` : part;
    })
    .join('&');
  return `${text.slice(0, q + 1)}${query}${text.slice(end)}`;
}

/**
 * Headers or params in any accepted form (an object, [name, value] pairs, a Map, a Headers, a
 * URLSearchParams), the values of the names `secret` matches hidden; pairs stay pairs.
 */
function pairsView(value: unknown, secret: RegExp): unknown {
  let pairs: unknown[];
  if (value instanceof Map || value instanceof URLSearchParams || isHeaders(value))
    pairs = [...(value as Map<unknown, unknown>).entries()];
  else if (Array.isArray(value)) pairs = value;
  else if (typeof value === 'object' && value !== null) pairs = Object.entries(value);
  else return value;
  const hide = (pair: unknown): unknown => {
    if (!Array.isArray(pair) || typeof pair[0] !== 'string') return pair;
    const [name, v] = pair as [string, unknown];
    return [name, v === null || v === undefined || !secret.test(name) ? v : REDACTED];
  };
  const shown = pairs.map(hide);
  return Array.isArray(value) ? shown : Object.fromEntries(shown as [string, unknown][]);
}

/** Params, a query string included, with the values of credential-named parameters hidden. */
function paramsView(params: unknown): unknown {
  if (typeof params === 'string') return (urlView(`?${params}`) as string).slice(1);
  return pairsView(params, SECRET_PARAM);
}

/** PEM text or bytes (a key itself) hidden; a path shown. */
function keyView(key: unknown): unknown {
  if (typeof key === 'string') return key.includes('-----BEGIN') ? REDACTED : key;
  return key === undefined ? undefined : REDACTED;
}

function certView(cert: unknown): unknown {
  if (typeof cert !== 'object' || cert === null) return cert;
  const c = cert as Record<string, unknown>;
  return {
    ...c,
    ...('key' in c ? { key: keyView(c.key) } : {}),
    ...('pfx' in c ? { pfx: keyView(c.pfx) } : {}),
    ...(c.passphrase !== undefined ? { passphrase: REDACTED } : {}),
  };
}

function proxyView(proxy: unknown): unknown {
  if (typeof proxy === 'string') return redactUserinfo(proxy);
  if (proxy instanceof URL) return redactUserinfo(proxy.href);
  if (typeof proxy !== 'object' || proxy === null) return proxy;
  const p = proxy as Record<string, unknown>;
  return {
    ...p,
    ...('url' in p ? { url: proxyView(p.url) } : {}),
    ...(p.auth !== undefined ? { auth: REDACTED } : {}),
    ...(p.headers !== undefined ? { headers: pairsView(p.headers, SECRET_HEADER) } : {}),
  };
}

/** `options` with every secret replaced by '[redacted]' (a shallow copy; the options are not changed). */
export function redactedOptions(options: object): Record<string, unknown> {
  const o: Record<string, unknown> = { ...options };
  if (o.headers !== undefined) o.headers = pairsView(o.headers, SECRET_HEADER);
  if (o.params !== undefined) o.params = paramsView(o.params);
  // A base URL's credentials become every request's Basic auth.
  if (o.baseUrl !== undefined) o.baseUrl = urlView(o.baseUrl);
  if (o.cert !== undefined) o.cert = certView(o.cert);
  if (o.proxy !== undefined) o.proxy = proxyView(o.proxy);
  // Any form of credentials: a pair, { username, password }, { bearer }, { digest }, a function.
  if (o.auth !== undefined && o.auth !== null && typeof o.auth !== 'function') o.auth = REDACTED;
  if (o.proxyAuth !== undefined && o.proxyAuth !== null) o.proxyAuth = REDACTED;
  // Saved cookies (a list) or a request's own: their values are credentials. A jar or a flag stays.
  if (Array.isArray(o.cookies) || o.cookies instanceof Map) o.cookies = REDACTED;
  return o;
}
