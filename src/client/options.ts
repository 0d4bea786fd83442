/**
 * Request and Session options, their validation, and the merge rule:
 * request option > Session option > environment (trust/resolve.ts) > defaults.
 */
import { ConfigError } from '../errors.js';
import type { ClientCertOption } from '../tls/client-cert.js';
import type { TlsInfo } from '../tls/handshake.js';
import type { VerifyOption } from '../trust/resolve.js';
import type { AiaOption } from '../verify/aia.js';
import type { RevocationOption } from '../verify/index.js';
import type { AuthOption } from './auth.js';
import type { DataOption, FilesOption } from './body.js';
import type { Cookie, CookieStore, RequestCookies } from './cookies.js';
import { ACCEPT_ENCODING, type DownloadProgress } from './decode.js';
import type { HooksOption } from './hooks.js';
import { isHeaders } from './is-headers.js';
import type { ProxyAuth, ProxyOption } from './proxy.js';
import type { RetryOption } from './retry.js';
import { nearest } from './suggest.js';
import { VERSION } from './version.js';

/** A query parameter's value: text, a number or boolean, a list (repeated), or null/undefined (dropped). */
export type ParamValue =
  | string
  | number
  | boolean
  | bigint
  | null
  | undefined
  | readonly (string | number | boolean | bigint | null | undefined)[];
export type Params =
  | Record<string, ParamValue>
  | URLSearchParams
  | ReadonlyMap<string, ParamValue>
  | readonly (readonly [string, ParamValue])[];
/** A header's value: text, a number, a list (one header line each), or null/undefined (removed). */
export type HeaderValue = string | number | bigint | readonly (string | number | bigint)[] | null | undefined;
export type HeaderInit =
  | Record<string, HeaderValue>
  | ReadonlyMap<string, HeaderValue>
  | Headers
  | readonly (readonly [string, string | number | bigint])[];

/**
 * `timeout` in ms: one number for connect and read, or each on its own. `read` is the longest
 * wait for the server (for the headers, and between body chunks while the reader wants more);
 * `total` bounds the whole exchange: connecting, redirects, retries and reading the body.
 */
export type TimeoutOption = number | { connect?: number; read?: number; total?: number };

export type { ClientCertOption };

/** Options every request takes; a Session takes the same as defaults. */
export interface CommonOptions {
  /**
   * true (default): verify against the default anchors (or the env variables' CA, when trustEnv);
   * false: no verification (warns once per host); 'path': a CA file or c_rehash directory that
   * replaces the defaults; PEM text; { ca, system, bundled } to choose sources explicitly.
   */
  verify?: VerifyOption;
  /** Read REQUESTS_CA_BUNDLE & co. and *_PROXY / NO_PROXY from the environment. Default true. */
  trustEnv?: boolean;
  /** Verify this name (and send it as SNI) instead of the URL host: the fix for https://10.0.0.6/. */
  serverName?: string;
  /** Dial this 'host:port' instead of the URL's; the URL host (or serverName) is still verified. */
  connectTo?: string;
  /**
   * Resolve host names to IPv4 (4) or IPv6 (6) addresses only, as curl's -4 / -6: the URL host
   * (or connectTo's), a proxy's host, a target sent to a socks5:// proxy. A name without such an
   * address, or an IP literal of the other family, is a ConnectionError. 0 or unset: either.
   */
  family?: 0 | 4 | 6;
  headers?: HeaderInit;
  params?: Params;
  timeout?: TimeoutOption;
  allowRedirects?: boolean;
  maxRedirects?: number;
  /** Client certificate (mutual TLS). */
  cert?: ClientCertOption;
  /** SPKI pins in curl's 'sha256//BASE64' form; any one may match. Checked after path validation. */
  pin?: string | readonly string[];
  /**
   * SHA-256 fingerprints of the server's certificate (hex, colons optional; urllib3's
   * assert_fingerprint); any one may match. Checked after path validation, like `pin`.
   */
  fingerprint?: string | readonly string[];
  /**
   * Hooks: { request: [fn], response: [fn] }. Request hooks get { method, url, headers } once,
   * before anything is sent, and may change them; response hooks get the final response and may
   * return one that replaces it. A Session's run before a request's. A throw is a HookError.
   */
  hooks?: HooksOption;
  /**
   * Credentials for the origin of the URL: ['user', 'password'] or { username, password } (Basic),
   * { bearer: 'token' }, { digest: ['user', 'password'] } (Digest, on a 401 challenge), or a
   * function (request) => headers, called before each hop to that origin.
   */
  auth?: AuthOption;
  /**
   * urllib3's Retry: a number (connection errors and the statuses 413, 429, 503), or { total,
   * connect, read, status, statusForcelist, backoff, backoffMax, jitter, respectRetryAfter,
   * allowedMethods, maxTime }. Idempotent methods only by default; never after an SSLError. Each retry is
   * recorded on r.retries (client/retry.ts).
   */
  retries?: RetryOption;
  /**
   * Fetch an intermediate the server did not send from the URL in its certificate (AIA), as
   * browsers do: true, or { allowPrivate, timeout, maxBytes }. Fetched certificates are only
   * candidate intermediates; never anchors. Default false.
   */
  aia?: AiaOption;
  /**
   * Revocation: 'soft' (default: a stapled OCSP response and must-staple are checked; a status
   * that cannot be established is recorded in r.tls.revocation), 'hard' (the server certificate's
   * status is required: a good stapled OCSP response), or 'off'. A revoked certificate fails
   * under 'soft' and 'hard' (SSLError CERT_REVOKED). `{ mode, online: true }` also asks the
   * certificate's OCSP responder when the server staples nothing (soft-fail unless mode 'hard';
   * online: { allowPrivate, timeout, maxBytes } as for aia).
   */
  revocation?: RevocationOption;
  /**
   * A proxy for every URL ('http://user:pass@proxy:3128', or { url, auth, headers, verify }),
   * or false for none. Unset: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY when trustEnv (client/proxy.ts).
   */
  proxy?: ProxyOption | false | null;
  /** Trust for an https:// proxy's own certificate (as `verify`); default: the default trust. */
  proxyVerify?: VerifyOption;
  /**
   * Credentials for the proxy ('user:password', ['user', 'password'] or { username, password }),
   * whichever proxy is used (HTTPS_PROXY & co. too); `proxy: { url, auth }` wins over it.
   */
  proxyAuth?: ProxyAuth;
  /** Hosts that go direct ('example.com, .corp, 10.0.0.0/8, *'); replaces NO_PROXY. */
  noProxy?: string | readonly string[];
  /**
   * Offer HTTP/2 (ALPN `h2, http/1.1`, in the same verified handshake): a server that accepts
   * gets HTTP/2, with concurrent requests to it multiplexed on one connection; any other gets
   * HTTP/1.1. `r.httpVersion` says which. Default false.
   */
  http2?: boolean;
  /**
   * Undo the response's Content-Encoding (gzip, deflate, br, zstd where Node has it) when it is
   * read. Default true; false gives the bytes as sent (so does `r.rawStream()`).
   */
  decompress?: boolean;
  /**
   * Abort a response body past this many bytes (decoded bytes: a decompression bomb stops here)
   * with ResponseTooLarge. Default: unlimited.
   */
  maxResponseSize?: number;
}

export interface RequestOptions extends CommonOptions {
  /**
   * Cookies for this request only ({ name: value } or [name, value] pairs), sent with the jar's
   * (a name here replaces the jar's) to the origin asked for, never to another; not stored.
   */
  cookies?: RequestCookies;
  /** A JSON body (Content-Type: application/json). */
  json?: unknown;
  /**
   * The body: a string, bytes (Buffer, any TypedArray, ArrayBuffer, DataView), a Blob/File,
   * URLSearchParams or a plain object / [key, value] pairs (form-encoded), FormData (multipart),
   * a Node Readable, a ReadableStream or an (async) iterable of bytes (streamed, chunked);
   * null for none. With `files`: form fields beside the files.
   */
  data?: DataOption;
  /**
   * Files for a multipart/form-data body, as requests' files: { field: content } or
   * { field: [filename, content, contentType?, headers?] }; content is text, bytes, a Blob,
   * a stream or an opened FileHandle, streamed as it is sent.
   */
  files?: FilesOption;
  signal?: AbortSignal;
  /** Called as the request body is handed to the connection: { loaded, total } (total when known). */
  onUploadProgress?: (progress: UploadProgress) => void;
  /**
   * Called as the response body is read: { loaded, total } in decoded bytes, and rawLoaded /
   * rawTotal as sent (they differ under Content-Encoding).
   */
  onDownloadProgress?: (progress: DownloadProgress) => void;
}

/** Progress of an upload: bytes handed to the connection, and the body's length when known. */
export interface UploadProgress {
  loaded: number;
  total: number | undefined;
}

export interface SessionOptions extends CommonOptions {
  /**
   * A base URL for relative request URLs, joined by the WHATWG URL rules (never by string
   * concatenation): end it with '/' so that 'users' goes under it ('https://h/api/' + 'users' is
   * 'https://h/api/users'; without the '/' it is 'https://h/users'); '/users' is from the host's
   * root; an absolute URL is used as it is.
   */
  baseUrl?: string | URL;
  /** Pins per host, applied to every request of the Session to that host. */
  pins?: Record<string, string | readonly string[]>;
  /**
   * The cookie jar: true (default) for a new CookieJar kept by the Session, a jar of your own
   * (any object with cookieHeader and setCookies), cookies saved with
   * JSON.stringify(session.cookies) and parsed back, or false to keep cookies only across the
   * redirects of one request (what the module functions get() & co. do).
   */
  cookies?: boolean | CookieStore | readonly (Cookie | Record<string, unknown>)[];
}

/** Defaults, the same as requests where it has one. */
export const DEFAULTS = {
  // requests' Session.max_redirects
  maxRedirects: 30,
  // undici's own connect timeout
  connectTimeout: 10_000,
  // undici's headersTimeout/bodyTimeout
  readTimeout: 300_000,
} as const;

const USER_AGENT = `certainly/${VERSION}`;
/**
 * The headers every request sends unless overridden (or removed with undefined): like curl's and
 * requests', naming the client, accepting anything, and listing exactly the codings we decode.
 */
export const DEFAULT_HEADERS: Readonly<HeaderRecord> = Object.freeze(defaultHeaders());

/** A new, writable copy of DEFAULT_HEADERS (an object literal: faster than spreading the frozen one). */
export function defaultHeaders(): HeaderRecord {
  return { 'user-agent': USER_AGENT, accept: '*/*', 'accept-encoding': ACCEPT_ENCODING };
}

export interface Timeouts {
  connect: number;
  read: number;
  /** undefined: no total deadline. */
  total?: number;
}

/** The longest a Node timer waits: 2^31 - 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A request's timeout over the Session's, key by key: a request that sets only `read` (or a
 * number, which is connect and read) keeps the Session's `total` and whatever else it set.
 */
export function mergeTimeouts(session: TimeoutOption, request: TimeoutOption): TimeoutOption {
  resolveTimeouts(request); // its own mistakes are reported as its own
  const parts = (t: TimeoutOption) =>
    typeof t === 'number'
      ? { connect: t, read: t }
      : (t as { connect?: number; read?: number; total?: number });
  const out: { connect?: number; read?: number; total?: number } = { ...parts(session) };
  for (const [k, v] of Object.entries(parts(request))) if (v !== undefined) out[k as 'connect'] = v;
  return out;
}

export function resolveTimeouts(t: TimeoutOption | undefined): Timeouts {
  if (t === undefined) return { connect: DEFAULTS.connectTimeout, read: DEFAULTS.readTimeout };
  const check = (v: unknown, what: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new ConfigError(`timeout${what} must be a positive number of milliseconds, not ${String(v)}`, {
        code: 'ERR_TIMEOUT_OPTION',
      });
    }
    // Node's timers hold a 32-bit signed count of ms: a longer one fires after 1 ms (with a
    // TimeoutOverflowWarning), which would end the request at once and blame the network.
    if (v > MAX_TIMER_MS) {
      throw new ConfigError(
        `timeout${what} is ${v} ms, more than the ${MAX_TIMER_MS} ms (24.8 days) a timer can wait`,
        {
          code: 'ERR_TIMEOUT_OPTION',
          hint: `Use at most ${MAX_TIMER_MS}; for a request without a total deadline leave timeout.total out.`,
        },
      );
    }
    return v;
  };
  if (typeof t === 'number') {
    const v = check(t, '');
    return { connect: v, read: v };
  }
  if (typeof t !== 'object' || t === null) return resolveTimeouts(check(t, '') as number);
  for (const k of Object.keys(t)) {
    if (k !== 'connect' && k !== 'read' && k !== 'total') {
      const near = nearest(k, ['connect', 'read', 'total']);
      throw new ConfigError(
        `timeout has no '${k}'${near ? `; did you mean '${near}'?` : ''} It takes connect, read and total (milliseconds)`,
        { code: 'ERR_TIMEOUT_OPTION' },
      );
    }
  }
  const out: Timeouts = {
    connect: t.connect === undefined ? DEFAULTS.connectTimeout : check(t.connect, '.connect'),
    read: t.read === undefined ? DEFAULTS.readTimeout : check(t.read, '.read'),
  };
  if (t.total !== undefined) out.total = check(t.total, '.total');
  return out;
}

/**
 * Request headers as sent: lower-case names; a list is sent as one header line per value (as curl
 * and undici send repeated headers), except Cookie, whose values are joined with '; ' (RFC 6265
 * §5.4: one Cookie line).
 */
export type HeaderRecord = Record<string, string | string[]>;

// RFC 9110 §5.1 token; a field value is visible ASCII, Latin-1 (obs-text), space and tab (§5.5),
// as undici checks it: here so that a bad header is a ConfigError naming it, before anything is sent.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE_BAD = /[^\t\x20-\x7e\x80-\xff]/;

function headerError(what: string): ConfigError {
  return new ConfigError(what, {
    code: 'ERR_HEADER',
    hint: 'A header name is a token; a value is a string or a number (a list repeats the header, null removes it), without CR, LF or other control characters.',
  });
}

/** What a value is, for messages: 'an object', 'a Date', 'a boolean'. */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') {
    const name = (v as object).constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  return `a ${typeof v}`;
}

/** One value of header `name` as text, checked. */
function headerText(name: string, v: unknown): string {
  let text: string;
  if (typeof v === 'string') text = v;
  else if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'bigint') text = String(v);
  else
    throw headerError(
      `header '${name}' has ${kindOf(v)} for a value; a header value is a string or a number (a list repeats the header, null removes it)`,
    );
  if (HEADER_VALUE_BAD.test(text))
    throw headerError(
      `the value of header '${name}' contains CR, LF, NUL or another character that cannot be sent (control characters, or beyond Latin-1: encode it first)`,
    );
  return text;
}

/**
 * A header's value as sent: a string, or one string per line for a list; undefined to remove it
 * (null, undefined, an empty list).
 */
function headerValue(name: string, lower: string, v: unknown): string | string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) return headerText(name, v);
  if (v.length === 0) return undefined;
  const values = v.map((item) => headerText(name, item));
  if (lower === 'cookie') return values.join('; ');
  return values.length === 1 ? values[0] : values;
}

/** `a` then `b`, as one value of a header (Cookie joined with '; ', others as lines). */
function addValue(lower: string, a: string | string[], b: string | string[]): string | string[] {
  if (lower === 'cookie') return `${a}; ${b}`;
  return [...(Array.isArray(a) ? a : [a]), ...(Array.isArray(b) ? b : [b])];
}

/** A plain object (or one without a prototype): its own fields are its entries, none is none. */
function isRecordLike(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Merges headers left to right into a record (later wins, case-insensitively; null or undefined
 * removes, so a request can take away a Session default or a default header such as User-Agent).
 * A plain record, not a Headers object: the hot path builds one per request.
 */
export function mergeHeaders(...inits: (HeaderInit | undefined)[]): HeaderRecord {
  const out: HeaderRecord = {};
  for (const init of inits) {
    if (init === undefined) continue;
    if (typeof init !== 'object' || init === null) {
      throw headerError(
        `headers must be an object, a Map, a Headers object or a list of [name, value] pairs, not ${kindOf(init)}`,
      );
    }
    let isList = Array.isArray(init);
    let entries: Iterable<readonly [string, unknown]>;
    if (isList) entries = init as readonly (readonly [string, unknown])[];
    else if (init instanceof Map || isHeaders(init)) entries = init.entries();
    else {
      entries = Object.entries(init);
      // An object of another class with no fields of its own (a Set, a Date): its headers, if it
      // is an iterable of pairs, else an error rather than no headers at all.
      if ((entries as unknown[]).length === 0 && !isRecordLike(init)) {
        if (typeof (init as Iterable<unknown>)[Symbol.iterator] !== 'function') {
          throw headerError(
            `headers must be an object, a Map, a Headers object or a list of [name, value] pairs, not ${kindOf(init)}`,
          );
        }
        entries = init as Iterable<readonly [string, unknown]>;
        isList = true;
      }
    }
    // Within one list of pairs a repeated name adds a line; across inits the later replaces.
    let seen: Set<string> | undefined;
    for (const entry of entries) {
      if (isList && (!Array.isArray(entry) || entry.length !== 2)) {
        throw headerError(
          `a list of headers holds [name, value] pairs; ${JSON.stringify(entry) ?? String(entry)} is not one`,
        );
      }
      const [k, v] = entry;
      if (typeof k !== 'string' || !HEADER_NAME.test(k))
        throw headerError(`'${String(k)}' is not a valid header name`);
      const lower = k.toLowerCase();
      const value = headerValue(k, lower, v);
      if (value === undefined) {
        delete out[lower];
        continue;
      }
      if (isList && seen?.has(lower) && out[lower] !== undefined)
        out[lower] = addValue(lower, out[lower], value);
      else {
        out[lower] = value;
        if (isList) {
          seen ??= new Set();
          seen.add(lower);
        }
      }
    }
  }
  return out;
}

/** The headers as one string each (a list joined with ', '): for code that shows or hashes them. */
export function headerView(record: Readonly<HeaderRecord>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in record) {
    const v = record[k]!;
    out[k] = typeof v === 'string' ? v : v.join(', ');
  }
  return out;
}

function paramsError(what: string): ConfigError {
  return new ConfigError(what, {
    code: 'ERR_PARAMS',
    hint: 'Query parameters are flat: a value is a string, number or boolean, a list of them (the name repeats), or null/undefined (left out). Encode a structure yourself (e.g. JSON.stringify).',
  });
}

/** One value of parameter `name` as text; null for null/undefined (left out). */
function paramText(name: string, v: unknown): string | null {
  if (v === undefined || v === null) return null;
  const t = typeof v;
  if (t === 'string') return v as string;
  if (t === 'number' || t === 'boolean' || t === 'bigint') return String(v);
  throw paramsError(
    `params: '${name}' has ${kindOf(v)} for a value; nested objects are not sent as query parameters`,
  );
}

/**
 * The parameters as [name, value] pairs; a value of null marks a name given as null/undefined
 * (left out, and it removes a Session default of that name).
 */
export function paramPairs(params: Params): [string, string | null][] {
  const out: [string, string | null][] = [];
  const add = (k: unknown, v: unknown) => {
    if (typeof k !== 'string') throw paramsError(`params: a name must be a string, not ${kindOf(k)}`);
    if (Array.isArray(v)) {
      let any = false;
      for (const item of v) {
        const text = paramText(k, item);
        if (text !== null) {
          out.push([k, text]);
          any = true;
        }
      }
      if (!any) out.push([k, null]);
    } else out.push([k, paramText(k, v)]);
  };
  if (typeof params !== 'object' || params === null) {
    throw paramsError(
      `params must be an object, URLSearchParams, a Map or a list of [name, value] pairs, not ${kindOf(params)}`,
    );
  }
  if (params instanceof URLSearchParams) for (const [k, v] of params) out.push([k, v]);
  else if (params instanceof Map) for (const [k, v] of params) add(k, v);
  else if (Array.isArray(params)) {
    for (const pair of params) {
      if (!Array.isArray(pair) || pair.length !== 2)
        throw paramsError(
          `params: a list holds [name, value] pairs; ${JSON.stringify(pair) ?? String(pair)} is not one`,
        );
      add(pair[0], pair[1]);
    }
  } else for (const k of Object.keys(params)) add(k, (params as Record<string, unknown>)[k]);
  return out;
}

/**
 * Appends the Session's and the request's params to a URL's query string, as requests does: None
 * values dropped, lists repeated, and a name the request gives (even as null) replaces the
 * Session's. The URL's own query is kept as written.
 */
export function applyParams(url: URL, base: Params | undefined, over?: Params): void {
  if (base === undefined && over === undefined) return;
  let pairs = base === undefined ? [] : paramPairs(base);
  if (over !== undefined && over !== base) {
    const mine = paramPairs(over);
    if (pairs.length > 0) {
      const names = new Set(mine.map(([k]) => k));
      pairs = pairs.filter(([k]) => !names.has(k));
    }
    pairs.push(...mine);
  }
  const query = new URLSearchParams();
  for (const [k, v] of pairs) if (v !== null) query.append(k, v);
  const extra = query.toString();
  if (extra === '') return;
  url.search = url.search.length > 1 ? `${url.search}&${extra}` : extra;
}

/** Options of dispatcher() and agent(): the connection-level subset of the request options. */
export interface AdapterOptions {
  /** As the request option: true (default), false, a CA path or PEM, or { ca, bundled, system }. */
  verify?: VerifyOption;
  /** Read REQUESTS_CA_BUNDLE & co. and *_PROXY / NO_PROXY from the environment. Default true. */
  trustEnv?: boolean;
  /** Verify this name (and send it as SNI) instead of the URL host, for every origin. */
  serverName?: string;
  /** Dial this 'host:port' instead of the URL's, for every origin; the URL host is still verified. */
  connectTo?: string;
  /** Resolve host names to IPv4 (4) or IPv6 (6) addresses only (curl's -4 / -6); 0 or unset: either. */
  family?: 0 | 4 | 6;
  /** Client certificate (mutual TLS). */
  cert?: ClientCertOption;
  /** SPKI pins ('sha256//BASE64') that every server's key must match (any one of them). */
  pin?: string | readonly string[];
  /** SPKI pins per host name (the name verified). */
  pins?: Record<string, string | readonly string[]>;
  /** SHA-256 fingerprints of the server certificate (urllib3's assert_fingerprint), for every server. */
  fingerprint?: string | readonly string[];
  /** Fetch intermediates a server did not send (AIA): true, or { allowPrivate, timeout, maxBytes }. */
  aia?: AiaOption;
  /** 'soft' (default) | 'hard' | 'off', or { mode, online }: see RequestOptions.revocation. */
  revocation?: RevocationOption;
  /** TCP + proxy + TLS handshake time limit, ms. Default 10 000 (undici's). */
  connectTimeout?: number;
  /** A proxy, or false for none; unset: HTTPS_PROXY & co. when trustEnv (see client/proxy.ts). */
  proxy?: ProxyOption | false | null;
  /** Trust for an https:// proxy's own certificate. */
  proxyVerify?: VerifyOption;
  /** Credentials for the proxy used; `proxy: { url, auth }` wins. */
  proxyAuth?: ProxyAuth;
  /** Hosts that go direct; replaces NO_PROXY. */
  noProxy?: string | readonly string[];
  /**
   * Called with what each new connection proved (chain, anchor, protocol), and its origin, before
   * the library may use it. A throw refuses that connection: the library gets the error.
   */
  onConnection?: (info: TlsInfo, origin: string) => void;
  /**
   * dispatcher() only: offer HTTP/2 (ALPN h2, http/1.1) and multiplex an origin's requests on one
   * verified connection (undici's `allowH2: true` in agentOptions means the same). agent() refuses
   * it: node:https speaks HTTP/1.1 only.
   */
  http2?: boolean;
}
