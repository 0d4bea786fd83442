/**
 * Every option of `request`/`get`/`post`/…, `new Session()` and the adapters (`dispatcher()`,
 * `agent()`), declared once: where it applies, a cheap check of its kind, and a one-line doc.
 *
 * What the table gives:
 * - a key no row has is a ConfigError (ERR_UNKNOWN_OPTION) with the nearest valid name, so a typo
 *   such as `verfy: false` can never silently change a request;
 * - a key that applies elsewhere (a Session option on a request, a request option on an adapter)
 *   is the same error, saying where it belongs;
 * - a value of the wrong kind (`timeout: 'x'`) is a ConfigError naming the option and what it
 *   takes. The checks here are shallow (the kind); the resolvers (resolveTimeouts, resolveRetries,
 *   resolveAia, mergeHeaders, …) check the contents with their own codes.
 *
 * The interfaces in options.ts are checked against the rows at type level (`satisfies` below): an
 * option added to RequestOptions, SessionOptions or AdapterOptions without a row here, or a row
 * whose `where` leaves out an interface that has it, fails `npm run typecheck`.
 *
 * Cost on the hot path: one `for…in` over the keys the caller passed, a Set lookup and one check
 * each; no allocation unless there is an error.
 */
import { ConfigError } from '../errors.js';
import type { AdapterOptions, RequestOptions, SessionOptions } from './options.js';
import { editDistance } from './suggest.js';

export { editDistance };

/** Where an option is taken: a Session's defaults, one request, the adapters. */
export type Scope = 'session' | 'request' | 'adapter';

export interface OptionRow {
  readonly where: readonly Scope[];
  /** What it takes, for the error message: "a number of milliseconds or { connect, read, total }". */
  readonly takes: string;
  /** The kind check (undefined values are never checked: they mean "unset"). */
  readonly check: (value: unknown) => boolean;
  /** The code of the error for a value of the wrong kind (the code the option's resolver uses). */
  readonly code?: string;
  /** The hint of that error, where a value of the wrong kind is usually another library's form. */
  readonly hint?: string;
  readonly doc: string;
}

// Kind checks, shared by the rows.
const isBool = (v: unknown) => typeof v === 'boolean';
const isString = (v: unknown) => typeof v === 'string';
const isNumber = (v: unknown) => typeof v === 'number';
const isFunction = (v: unknown) => typeof v === 'function';
const isObject = (v: unknown) => typeof v === 'object' && v !== null;
const isStringOrList = (v: unknown) => typeof v === 'string' || Array.isArray(v);
const isNumberOrObject = (v: unknown) => typeof v === 'number' || isObject(v);
const isVerify = (v: unknown) => typeof v === 'boolean' || typeof v === 'string' || isObject(v);
const isProxy = (v: unknown) => v === false || v === null || typeof v === 'string' || isObject(v);
const isSignal = (v: unknown) =>
  isObject(v) &&
  typeof (v as AbortSignal).aborted === 'boolean' &&
  typeof (v as AbortSignal).addEventListener === 'function';
const any = () => true;

const SRA = ['session', 'request', 'adapter'] as const;
const SR = ['session', 'request'] as const;
const R = ['request'] as const;
const S = ['session'] as const;
const SA = ['session', 'adapter'] as const;
const A = ['adapter'] as const;

/**
 * The table. Keep rows in the order of the README's options table; `where` is one of the
 * constants above (SRA: Session, request and adapters; SR: Session and request; R, S, A: one).
 */
export const OPTIONS = {
  // Trust and verification
  verify: {
    where: SRA,
    takes: 'true, false, a CA path or PEM text, bytes, or { ca, bundled, system }',
    check: isVerify,
    doc: 'what to verify the server against (default: the bundled and system roots)',
  },
  trustEnv: {
    where: SRA,
    takes: 'true or false',
    check: isBool,
    doc: 'read REQUESTS_CA_BUNDLE & co. and *_PROXY / NO_PROXY from the environment (default true)',
  },
  serverName: {
    where: SRA,
    takes: 'a host name or IP address (string)',
    check: isString,
    doc: 'verify this name (and send it as SNI) instead of the URL host',
  },
  connectTo: {
    where: SRA,
    takes: "a 'host:port' string",
    check: isString,
    doc: "dial this 'host:port' instead of the URL's; the URL host is still verified",
  },
  family: {
    where: SRA,
    takes: '4 (IPv4 only), 6 (IPv6 only) or 0 (either, the default)',
    check: (v) => v === 0 || v === 4 || v === 6,
    doc: "resolve host names (the URL's, connectTo's, a proxy's) to this address family only (curl's -4 / -6)",
  },
  cert: {
    where: SRA,
    takes: '{ cert, key, passphrase? } or { pfx, passphrase? }',
    check: (v) => isObject(v) && !Array.isArray(v),
    code: 'ERR_CLIENT_CERT',
    hint: "requests' cert=('client.pem', 'key.pem') is cert: { cert: 'client.pem', key: 'key.pem' } here, and cert='both.pem' (certificate and key in one file) is cert: { cert: 'both.pem', key: 'both.pem' }; each may be a path or PEM text.",
    doc: 'client certificate (mutual TLS), sent only after the server is verified',
  },
  pin: {
    where: SRA,
    takes: "a 'sha256//BASE64' pin or a list of them",
    check: isStringOrList,
    code: 'ERR_PIN_FORMAT',
    doc: "SPKI pins, curl's form; any one may match",
  },
  pins: {
    where: SA,
    takes: "{ host: 'sha256//…' | ['sha256//…', …] }",
    check: isObject,
    code: 'ERR_PIN_FORMAT',
    doc: 'SPKI pins per host name (the name verified)',
  },
  fingerprint: {
    where: SRA,
    takes: 'a SHA-256 certificate fingerprint (hex) or a list of them',
    check: isStringOrList,
    code: 'ERR_FINGERPRINT_FORMAT',
    doc: "SHA-256 fingerprints of the server certificate (urllib3's assert_fingerprint)",
  },
  aia: {
    where: SRA,
    takes: 'true, false or { allowPrivate, timeout, maxBytes }',
    check: (v) => typeof v === 'boolean' || isObject(v),
    code: 'ERR_AIA_OPTION',
    doc: 'fetch an intermediate the server did not send (default false)',
  },
  revocation: {
    where: SRA,
    takes:
      "'soft', 'hard', 'off' or { mode: 'soft' | 'hard', online: true | { allowPrivate, timeout, maxBytes } }",
    check: (v) => v === 'soft' || v === 'hard' || v === 'off' || isObject(v),
    code: 'ERR_REVOCATION_OPTION',
    doc: "revocation checking (default 'soft': stapled OCSP and must-staple checked; online: ask the OCSP responder when nothing is stapled)",
  },
  // Proxies
  proxy: {
    where: SRA,
    takes: 'a proxy URL, { url, auth, headers, verify }, or false / null for none',
    check: isProxy,
    code: 'ERR_PROXY_OPTION',
    doc: 'a proxy for every URL (unset: HTTPS_PROXY & co. when trustEnv)',
  },
  proxyAuth: {
    where: SRA,
    takes: "'user:password', ['user', 'password'] or { username, password }",
    check: (v) => typeof v === 'string' || isObject(v),
    code: 'ERR_PROXY_OPTION',
    doc: 'credentials for the proxy used (HTTPS_PROXY & co. too); proxy: { url, auth } wins',
  },
  proxyVerify: {
    where: SRA,
    takes: 'true, false, a CA path or PEM text, bytes, or { ca, bundled, system }',
    check: isVerify,
    doc: "trust for an https:// proxy's own certificate",
  },
  noProxy: {
    where: SRA,
    takes: "a comma-separated string or a list of hosts ('example.com', '.corp', '10.0.0.0/8', '*')",
    check: isStringOrList,
    code: 'ERR_PROXY_OPTION',
    doc: 'hosts that go direct (replaces NO_PROXY)',
  },
  // The request
  headers: {
    where: SR,
    takes: 'a { name: value } object, a Map, a Headers object, or a list of [name, value] pairs',
    check: isObject,
    code: 'ERR_HEADER',
    doc: 'request headers; null/undefined removes a Session default, arrays repeat',
  },
  params: {
    where: SR,
    takes: 'a { name: value } object, URLSearchParams, or a list of [name, value] pairs',
    check: isObject,
    code: 'ERR_PARAMS',
    doc: 'query parameters appended to the URL; null/undefined dropped, arrays repeat',
  },
  auth: {
    where: SR,
    takes:
      "['user', 'password'], { username, password }, { bearer }, { digest: ['user', 'password'] }, or a function",
    check: any, // auth.ts checks the forms, naming them
    doc: 'credentials for the origin of the URL (Basic, Bearer, Digest, or a function returning headers)',
  },
  hooks: {
    where: SR,
    takes: '{ request: [fn], response: [fn] }',
    check: isObject,
    code: 'ERR_HOOKS_OPTION',
    doc: "functions that change a request before it is sent, or inspect / replace its response (a Session's run first)",
  },
  json: {
    where: R,
    takes: 'any JSON value',
    check: any,
    doc: 'a JSON body (Content-Type: application/json)',
  },
  data: {
    where: R,
    takes: 'a string, bytes, a Blob, URLSearchParams, FormData, a plain object, a stream, or null',
    check: any, // body.ts names the kind it refuses (ERR_BODY_TYPE)
    doc: 'the body: text, bytes, form fields, multipart or a stream',
  },
  files: {
    where: R,
    takes: '{ field: content } or { field: [filename, content, contentType?, headers?] }',
    check: any, // body.ts checks the forms, naming them (ERR_BODY_TYPE)
    doc: "files for a multipart/form-data body (requests' files)",
  },
  signal: {
    where: R,
    takes: 'an AbortSignal',
    check: isSignal,
    doc: 'aborts the request and its body',
  },
  // Time, redirects, retries, the response
  timeout: {
    where: SR,
    takes: 'a number of milliseconds or { connect, read, total }',
    check: isNumberOrObject,
    code: 'ERR_TIMEOUT_OPTION',
    doc: 'connect and read timeouts (one number: both); total bounds the whole exchange',
  },
  connectTimeout: {
    where: A,
    takes: 'a number of milliseconds',
    check: isNumber,
    code: 'ERR_TIMEOUT_OPTION',
    doc: 'TCP + proxy + TLS handshake time limit (default 10 000)',
  },
  allowRedirects: {
    where: SR,
    takes: 'true or false',
    check: isBool,
    doc: 'follow redirects (default true)',
  },
  maxRedirects: {
    where: SR,
    takes: 'a whole number >= 0',
    check: isNumber,
    doc: "redirects followed at most (default 30, requests')",
  },
  retries: {
    where: SR,
    takes:
      'a number of retries or { total, connect, read, status, statusForcelist, backoff, backoffMax, jitter, respectRetryAfter, allowedMethods, maxTime }',
    check: isNumberOrObject,
    code: 'ERR_RETRIES_OPTION',
    doc: "urllib3's Retry: connections that could not be made, statuses 413/429/503 (Retry-After honoured), read errors (a connection lost after the request was sent too) if asked; recorded on r.retries (default none)",
  },
  decompress: {
    where: SR,
    takes: 'true or false',
    check: isBool,
    doc: 'undo Content-Encoding when the body is read (default true)',
  },
  maxResponseSize: {
    where: SR,
    takes: 'a whole number of bytes >= 0',
    check: isNumber,
    doc: 'abort a body past this many decoded bytes with ResponseTooLarge (default unlimited)',
  },
  onUploadProgress: {
    where: R,
    takes: 'a function ({ loaded, total }) => void',
    check: isFunction,
    doc: 'called as the request body is sent',
  },
  onDownloadProgress: {
    where: R,
    takes: 'a function ({ loaded, total, rawLoaded, rawTotal }) => void',
    check: isFunction,
    doc: 'called as the response body is read',
  },
  // Protocol
  http2: {
    where: SRA,
    takes: 'true or false',
    check: isBool,
    doc: 'offer HTTP/2 (ALPN h2, http/1.1; default false); r.httpVersion says which was used',
  },
  // Session only
  baseUrl: {
    where: S,
    takes: "an absolute URL ('https://api.example.com/v1/')",
    check: (v) => typeof v === 'string' || v instanceof URL,
    code: 'ERR_BASE_URL',
    doc: 'relative request URLs are joined to it by the URL rules (end it with /)',
  },
  cookies: {
    where: SR,
    takes:
      'on a Session: true, false, a jar with cookieHeader() and setCookies(), or saved cookies; on a request: { name: value }, a Map or [name, value] pairs',
    check: (v) => typeof v === 'boolean' || isObject(v),
    doc: "the Session's cookie jar (default: a new CookieJar); on a request, cookies for that request only",
  },
  // Adapters only
  onConnection: {
    where: A,
    takes: 'a function (info, origin) => void',
    check: isFunction,
    doc: 'called with what each new connection proved; a throw refuses it',
  },
} as const satisfies Record<keyof RequestOptions | keyof SessionOptions | keyof AdapterOptions, OptionRow>;

export type OptionName = keyof typeof OPTIONS;

// Type-level: every option of an interface has that scope in its row's `where`.
type ScopeOf<K extends OptionName> = (typeof OPTIONS)[K]['where'][number];
type Covers<I, W extends Scope> = {
  [K in keyof I]-?: K extends OptionName ? (W extends ScopeOf<K> ? true : false) : false;
}[keyof I];
type MustBeTrue<T extends true> = T;
export type OptionTableChecks = [
  MustBeTrue<Covers<RequestOptions, 'request'>>,
  MustBeTrue<Covers<SessionOptions, 'session'>>,
  MustBeTrue<Covers<AdapterOptions, 'adapter'>>,
];

// The rows by scope, computed once: the per-request check is a Set lookup.
const ROWS: ReadonlyMap<string, OptionRow> = new Map(Object.entries(OPTIONS));
const BY_SCOPE: Record<Scope, ReadonlySet<string>> = {
  session: new Set(),
  request: new Set(),
  adapter: new Set(),
};
for (const [name, row] of ROWS) for (const w of row.where) (BY_SCOPE[w] as Set<string>).add(name);

/**
 * Names of other libraries' options (requests, axios, got, fetch, node:https) that users bring
 * along, and ours for them. Keys are normalised (lower case, no '_' or '-').
 */
const ALIASES: Readonly<Record<string, string>> = {
  body: 'data',
  form: 'data',
  formdata: 'data',
  query: 'params',
  searchparams: 'params',
  qs: 'params',
  ca: 'verify',
  cafile: 'verify',
  rejectunauthorized: 'verify',
  verifyssl: 'verify',
  https: 'verify',
  proxies: 'proxy',
  noproxies: 'noProxy',
  followredirects: 'allowRedirects',
  redirect: 'allowRedirects',
  follow: 'allowRedirects',
  maxretries: 'retries',
  retry: 'retries',
  retries: 'retries',
  servername: 'serverName',
  sni: 'serverName',
  key: 'cert',
  pfx: 'cert',
  clientcert: 'cert',
  decompressresponse: 'decompress',
  maxcontentlength: 'maxResponseSize',
  maxresponsebytes: 'maxResponseSize',
  abortsignal: 'signal',
  baseurl: 'baseUrl',
  prefixurl: 'baseUrl',
  interceptors: 'hooks',
  fingerprints: 'fingerprint',
  pinnedpubkey: 'pin',
};

/**
 * Other libraries' options that have no one option here, and what to do instead (keys
 * normalised as in ALIASES): said in the error, after "unknown option".
 */
const INSTEAD: Readonly<Record<string, string>> = {
  stream: 'responses are always streamed: read r.stream() (or r.text(), r.json(), r.bytes())',
  responsetype: 'read the body as you need it: r.json(), r.text(), r.bytes() or r.stream()',
  validatestatus: 'a status never throws; call r.raiseForStatus() to throw HTTPError on 4xx/5xx',
  raiseforstatus: 'a status never throws; call r.raiseForStatus() to throw HTTPError on 4xx/5xx',
  httpsagent:
    'certainly makes its own verified connections; to keep axios, pass httpsAgent: agent({ … }) to axios',
  agent: 'certainly makes its own verified connections; to keep your client, see agent() and dispatcher()',
  dispatcher: 'certainly makes its own verified connections; to keep undici or fetch, see dispatcher()',
  method: "the method is the function: post(url, …), or request('PATCH', url, …)",
  url: 'the URL is the first argument: get(url, { … })',
  maxbodylength: 'the request body is sent as given; maxResponseSize bounds the response',
  insecure:
    'verify: false turns verification off (warned once per host); `certainly check URL` names the fix that keeps it on',
};

function normalise(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}

/**
 * The valid name a mistyped or foreign one most likely means, among `names`: the same name but
 * for case and '_'/'-' (allow_redirects), another library's name for it (body, rejectUnauthorized),
 * else the nearest by edit distance when it is close (at most 2 edits, and fewer than a third of
 * the name's letters for short names).
 */
export function suggest(name: string, names: Iterable<string>): string | undefined {
  const n = normalise(name);
  const list = [...names];
  for (const c of list) if (normalise(c) === n) return c;
  // Own keys only: 'constructor' is on every object's prototype.
  const alias = Object.hasOwn(ALIASES, n) ? ALIASES[n] : undefined;
  if (alias !== undefined && list.includes(alias)) return alias;
  let best: string | undefined;
  let bestD = Math.min(3, Math.max(1, Math.ceil(n.length / 3)) + 1);
  for (const c of list) {
    const d = editDistance(n, normalise(c));
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

const PLACE: Record<Scope, string> = {
  session: 'a Session',
  request: 'a request',
  adapter: 'dispatcher() / agent()',
};

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  const t = typeof v;
  if (t === 'string') {
    const s = v as string;
    return `a string (${JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s)})`;
  }
  if (t === 'number' || t === 'boolean' || t === 'bigint') return `${t} ${String(v)}`;
  if (t === 'object') {
    const name = (v as object).constructor?.name;
    return name && name !== 'Object' ? `a ${name}` : 'an object';
  }
  return `a ${t}`;
}

/** Pool settings of node:https's Agent and undici's Agent: the adapters take them as a second argument. */
const POOL_SETTINGS: ReadonlySet<string> = new Set([
  'keepAlive',
  'keepAliveMsecs',
  'maxSockets',
  'maxTotalSockets',
  'maxFreeSockets',
  'scheduling',
  'connections',
  'pipelining',
  'keepAliveTimeout',
  'keepAliveMaxTimeout',
  'bodyTimeout',
  'headersTimeout',
  'maxHeaderSize',
]);

/** The ConfigError for a key that `scope` does not take. */
export function unknownOptionError(key: string, scope: Scope, prefix = ''): ConfigError {
  const row = ROWS.get(key);
  if (row !== undefined) {
    // Valid elsewhere: say where, and what to use here when there is a near equivalent.
    const places = row.where.map((w) => PLACE[w]).join(' and ');
    const near = suggest(
      key,
      [...BY_SCOPE[scope]].filter((k) => k !== key),
    );
    const instead =
      scope === 'adapter'
        ? '; with an adapter, request options (headers, timeouts, redirects, bodies) belong to the library you use'
        : near !== undefined
          ? `; did you mean '${near}'?`
          : '';
    return new ConfigError(
      `${prefix}option '${key}' applies to ${places}, not to ${PLACE[scope]}${instead}`,
      {
        code: 'ERR_UNKNOWN_OPTION',
        hint: `Options of ${PLACE[scope]}: ${[...BY_SCOPE[scope]].join(', ')}.`,
      },
    );
  }
  if (scope === 'adapter' && POOL_SETTINGS.has(key)) {
    return new ConfigError(
      `${prefix}'${key}' is a setting of the connection pool, which goes in the second argument: agent(options, { ${key}: … }) for node:https's Agent, dispatcher(options, { ${key}: … }) for undici's`,
      {
        code: 'ERR_UNKNOWN_OPTION',
        hint: `The first argument takes certainly's options (${[...BY_SCOPE[scope]].join(', ')}); the second, the pool's (https.AgentOptions or undici's Agent.Options).`,
      },
    );
  }
  const near = suggest(key, BY_SCOPE[scope]);
  const k = normalise(key);
  // A name (or another library's name) for an option this scope does not take: say where it goes
  // (axios' baseURL on a request is the Session's baseUrl).
  const elsewhere = near === undefined ? suggest(key, ROWS.keys()) : undefined;
  const instead =
    near !== undefined
      ? undefined
      : elsewhere !== undefined
        ? `'${elsewhere}' is an option of ${ROWS.get(elsewhere)!
            .where.map((w) => PLACE[w])
            .join(' and ')}, not of ${PLACE[scope]}`
        : Object.hasOwn(INSTEAD, k)
          ? INSTEAD[k]
          : undefined;
  const tail = near !== undefined ? `; did you mean '${near}'?` : instead !== undefined ? `; ${instead}` : '';
  return new ConfigError(`${prefix}unknown option '${key}'${tail}`, {
    code: 'ERR_UNKNOWN_OPTION',
    hint: `Options of ${PLACE[scope]}: ${[...BY_SCOPE[scope]].join(', ')}. An unknown option is an error so that a typo never silently changes a request.`,
  });
}

/**
 * Checks the keys and the kinds of values of an options object for `scope`: ConfigError
 * ERR_UNKNOWN_OPTION for a key the scope does not take, the row's code (default
 * ERR_OPTION_TYPE) for a value of the wrong kind. `prefix` starts messages ('dispatcher(options): ').
 */
export function checkOptions(options: object, scope: Scope, prefix = ''): void {
  const known = BY_SCOPE[scope];
  for (const key in options) {
    if (!known.has(key)) throw unknownOptionError(key, scope, prefix);
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const row = ROWS.get(key)!;
    if (!row.check(value)) {
      throw new ConfigError(`${prefix}option '${key}' takes ${row.takes}, not ${describeValue(value)}`, {
        code: row.code ?? 'ERR_OPTION_TYPE',
        ...(row.hint ? { hint: row.hint } : {}),
      });
    }
  }
}

/** Rows for docs and tests: [name, row] in table order. */
export function optionRows(): [OptionName, OptionRow][] {
  return Object.entries(OPTIONS) as [OptionName, OptionRow][];
}
