/**
 * Request and Session options, their validation, and the merge rule:
 * request option > Session option > environment (trust/resolve.ts) > defaults.
 */
import { ConfigError } from '../errors.js';
import type { ClientCertOption } from '../tls/client-cert.js';
import type { TlsInfo } from '../tls/handshake.js';
import type { VerifyOption } from '../trust/resolve.js';
import type { AiaOption } from '../verify/aia.js';
import type { RevocationMode } from '../verify/revocation.js';
import type { AuthOption } from './auth.js';
import type { DataOption, FilesOption } from './body.js';
import type { CookieStore } from './cookies.js';
import { ACCEPT_ENCODING, type DownloadProgress } from './decode.js';
import type { ProxyOption } from './proxy.js';
import type { RetryOption } from './retry.js';
import { VERSION } from './version.js';

export type ParamValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly (string | number | boolean)[];
export type Params = Record<string, ParamValue> | URLSearchParams | readonly (readonly [string, string])[];
export type HeaderInit =
  | Record<string, string | readonly string[] | undefined>
  | Headers
  | readonly (readonly [string, string])[];

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
   * Credentials for the origin of the URL: ['user', 'password'] or { username, password } (Basic),
   * { bearer: 'token' }, { digest: ['user', 'password'] } (Digest, on a 401 challenge), or a
   * function (request) => headers, called before each hop to that origin.
   */
  auth?: AuthOption;
  /**
   * Retries after a connection error, for idempotent methods only (never after an SSLError):
   * a number, or { total, backoff } with backoff in ms before the first retry (it doubles).
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
   * under 'soft' and 'hard' (SSLError CERT_REVOKED).
   */
  revocation?: RevocationMode;
  /**
   * A proxy for every URL ('http://user:pass@proxy:3128', or { url, auth, headers, verify }),
   * or false for none. Unset: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY when trustEnv (client/proxy.ts).
   */
  proxy?: ProxyOption | false | null;
  /** Trust for an https:// proxy's own certificate (as `verify`); default: the default trust. */
  proxyVerify?: VerifyOption;
  /** Hosts that go direct ('example.com, .corp, 10.0.0.0/8, *'); replaces NO_PROXY. */
  noProxy?: string | readonly string[];
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
  /** Pins per host, applied to every request of the Session to that host. */
  pins?: Record<string, string | readonly string[]>;
  /**
   * The cookie jar: true (default) for a new CookieJar kept by the Session, a jar of your own
   * (any object with cookieHeader and setCookies), or false to keep cookies only across the
   * redirects of one request (what the module functions get() & co. do).
   */
  cookies?: boolean | CookieStore;
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

/**
 * The headers every request sends unless overridden (or removed with undefined): like curl's and
 * requests', naming the client, accepting anything, and listing exactly the codings we decode.
 */
export const DEFAULT_HEADERS: Readonly<HeaderRecord> = Object.freeze({
  'user-agent': `certainly/${VERSION}`,
  accept: '*/*',
  'accept-encoding': ACCEPT_ENCODING,
});

export interface Timeouts {
  connect: number;
  read: number;
  /** undefined: no total deadline. */
  total?: number;
}

export function resolveTimeouts(t: TimeoutOption | undefined): Timeouts {
  if (t === undefined) return { connect: DEFAULTS.connectTimeout, read: DEFAULTS.readTimeout };
  const check = (v: unknown, what: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new ConfigError(`timeout${what} must be a positive number of milliseconds, not ${String(v)}`, {
        code: 'ERR_TIMEOUT_OPTION',
      });
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
      throw new ConfigError(`timeout has no '${k}'; it takes connect, read and total (milliseconds)`, {
        code: 'ERR_TIMEOUT_OPTION',
      });
    }
  }
  const out: Timeouts = {
    connect: t.connect === undefined ? DEFAULTS.connectTimeout : check(t.connect, '.connect'),
    read: t.read === undefined ? DEFAULTS.readTimeout : check(t.read, '.read'),
  };
  if (t.total !== undefined) out.total = check(t.total, '.total');
  return out;
}

/** Request headers as sent: lower-case names, repeated values joined with ', ' (RFC 9110 §5.3). */
export type HeaderRecord = Record<string, string>;

// RFC 9110 §5.1 token and §5.5 field value (no CR, LF or NUL): checked here so that a bad header
// is a ConfigError naming it, before anything is sent.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE_BAD = /[\r\n\0]/;

function headerError(what: string): ConfigError {
  return new ConfigError(what, {
    code: 'ERR_HEADER',
    hint: 'Header names are tokens; values cannot hold CR, LF or NUL.',
  });
}

/**
 * A Headers object (Node's global one or undici's): by its WebIDL class string, because reading
 * the global `Headers` loads Node's own bundled copy of undici, tens of milliseconds at start-up.
 */
function isHeaders(value: unknown): value is Headers {
  return Object.prototype.toString.call(value) === '[object Headers]';
}

/**
 * Merges headers left to right into a record (later wins, case-insensitively; `undefined`
 * removes). A plain record, not a Headers object: the hot path builds one per request.
 */
export function mergeHeaders(...inits: (HeaderInit | undefined)[]): HeaderRecord {
  const out: HeaderRecord = {};
  for (const init of inits) {
    if (!init) continue;
    const entries: Iterable<readonly [string, string | readonly string[] | undefined]> = isHeaders(init)
      ? init.entries()
      : Array.isArray(init)
        ? (init as [string, string][])
        : Object.entries(init as Record<string, string | string[] | undefined>);
    let replaced: Set<string> | undefined;
    for (const [k, v] of entries) {
      const lower = k.toLowerCase();
      if (!HEADER_NAME.test(k)) throw headerError(`'${k}' is not a valid header name`);
      if (v === undefined) {
        delete out[lower];
        continue;
      }
      const values = Array.isArray(v) ? v.map(String) : [String(v)];
      for (const value of values) {
        if (HEADER_VALUE_BAD.test(value))
          throw headerError(`the value of header '${k}' contains CR, LF or NUL`);
      }
      const joined = values.join(', ');
      // Within one init a repeated name adds (a list of pairs); across inits the later replaces.
      replaced ??= new Set();
      if (replaced.has(lower) && out[lower] !== undefined) out[lower] = `${out[lower]}, ${joined}`;
      else {
        out[lower] = joined;
        replaced.add(lower);
      }
    }
  }
  return out;
}

/** A Headers object for users (Response.request.headers), built from a record. */
export function headersOf(record: Readonly<Record<string, string | readonly string[] | undefined>>): Headers {
  const h = new Headers();
  for (const k in record) {
    const v = record[k];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) h.append(k, item);
    else h.append(k, v as string);
  }
  return h;
}

/** Appends params to a URL's query string, as requests does (None values dropped, lists repeated). */
export function applyParams(url: URL, params: Params | undefined): void {
  if (!params) return;
  const pairs: [string, string][] = [];
  if (params instanceof URLSearchParams) pairs.push(...params.entries());
  else if (Array.isArray(params))
    for (const [k, v] of params as [string, string][]) pairs.push([k, String(v)]);
  else {
    for (const [k, v] of Object.entries(params as Record<string, ParamValue>)) {
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) for (const item of v) pairs.push([k, String(item)]);
      else pairs.push([k, String(v)]);
    }
  }
  for (const [k, v] of pairs) url.searchParams.append(k, v);
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
  /** 'soft' (default) | 'hard' | 'off': see RequestOptions.revocation. */
  revocation?: RevocationMode;
  /** TCP + proxy + TLS handshake time limit, ms. Default 10 000 (undici's). */
  connectTimeout?: number;
  /** A proxy, or false for none; unset: HTTPS_PROXY & co. when trustEnv (see client/proxy.ts). */
  proxy?: ProxyOption | false | null;
  /** Trust for an https:// proxy's own certificate. */
  proxyVerify?: VerifyOption;
  /** Hosts that go direct; replaces NO_PROXY. */
  noProxy?: string | readonly string[];
  /**
   * Called with what each new connection proved (chain, anchor, protocol), and its origin, before
   * the library may use it. A throw refuses that connection: the library gets the error.
   */
  onConnection?: (info: TlsInfo, origin: string) => void;
}
