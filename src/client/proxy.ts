/**
 * Proxies: which proxy a URL goes through, and the proxy leg itself.
 *
 * - Choice: the `proxy` option (a URL, or { url, auth, headers, verify }; `false` for none), else
 *   with trustEnv `https_proxy`/`HTTPS_PROXY` for https URLs, `http_proxy`/`HTTP_PROXY` for http
 *   URLs, then `all_proxy`/`ALL_PROXY`; `noProxy` (or `no_proxy`/`NO_PROXY`) lists the hosts that
 *   go direct, with curl's and requests' rules (see bypassesProxy).
 * - https targets go through a CONNECT tunnel (RFC 9110 §9.3.6); the TLS handshake with the
 *   target runs inside it, so our verifier checks the *target*, never the proxy's word for it.
 * - http targets are sent to the proxy in absolute form (RFC 9112 §3.2.2), as curl and requests do
 *   (many proxies allow CONNECT to port 443 only).
 * - An https:// proxy is itself verified, with its own trust (`proxy.verify`, else `proxyVerify`,
 *   else the defaults), as curl's --proxy-cacert / --proxy-insecure; unverified, it warns once.
 * - Proxy credentials (user:pass in the proxy URL, `auth`, or a Proxy-Authorization header) go
 *   to the proxy only: in the CONNECT request, never inside the tunnel.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { domainToASCII } from 'node:url';
import type { Dispatcher } from 'undici';
import { ConfigError } from '../errors.js';
import type { ProxyRoute } from '../tls/handshake.js';
import { anchorsOf, resolveTrust, type VerifyOption } from '../trust/resolve.js';
import type { TrustAnchors } from '../trust/types.js';
import { isHeaders } from './is-headers.js';
import { verificationKey } from './pool.js';
import { editDistance } from './suggest.js';
import { Agent } from './undici.js';

/** A proxy: its URL ('http://user:pass@proxy:3128', 'https://proxy:443'), or the object form. */
export type ProxyOption = string | URL | ProxyObject;

export interface ProxyObject {
  /** The proxy's URL; credentials in it are sent as Basic Proxy-Authorization. */
  url: string | URL;
  /** 'user:pass', ['user', 'pass'] or { username, password }; replaces credentials in the URL. */
  auth?: ProxyAuth;
  /** Headers for the proxy only (CONNECT and forwarded http requests), e.g. a Proxy-Authorization. */
  headers?: Record<string, string> | Map<string, string> | Headers;
  /** Trust for an https:// proxy's own certificate; default `proxyVerify`, else the defaults. */
  verify?: VerifyOption;
}

/** The options that decide the proxy of a request (CommonOptions carries them). */
export interface ProxySettings {
  /** A proxy for every URL; `false` (or null): no proxy, whatever the environment says. */
  proxy?: ProxyOption | false | null;
  /** Trust for https:// proxies (env proxies included); default: the default trust. */
  proxyVerify?: VerifyOption;
  /** Credentials for the proxy chosen (env proxies included), unless `proxy: { auth }` gives some. */
  proxyAuth?: ProxyAuth;
  /** Hosts that go direct: 'example.com, .corp, 10.0.0.0/8, [::1]:8080, *'. Replaces NO_PROXY. */
  noProxy?: string | readonly string[];
  /** Read *_PROXY and NO_PROXY from the environment when `proxy` is unset. Default true. */
  trustEnv?: boolean;
  /** The environment to read. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** A proxy ready to use (tls/handshake.ts dials it). */
export interface ResolvedProxy extends ProxyRoute {
  /** The proxy's URL without credentials, for messages ('http://127.0.0.1:3128'). */
  display: string;
  /** Host without brackets. */
  host: string;
  port: number;
  /** Sent to the proxy only (Proxy-Authorization among them), lower-case names. */
  headers: Record<string, string>;
  /** Anchors for an https:// proxy (null: unverified); undefined for an http:// proxy. */
  trust: TrustAnchors | null | undefined;
  /** Where it came from: 'the proxy option' or 'HTTPS_PROXY'. */
  source: string;
  /** Separates connection pools: URL, credentials (hashed) and proxy trust. */
  key: string;
}

const PROXY_OPTION_HINT =
  "Use proxy: 'http://host:port' (or https://, socks5://, socks5h://; user:pass@ for credentials), " +
  '{ url, auth, headers, verify }, or false for no proxy.';

function optionError(message: string, cause?: unknown): ConfigError {
  return new ConfigError(`${message}. ${PROXY_OPTION_HINT}`, {
    code: 'ERR_PROXY_OPTION',
    hint: PROXY_OPTION_HINT,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Header names and values must not smuggle a line break into the CONNECT request. */
function checkHeader(name: string, value: string, what: string): void {
  // RFC 9110 §5.1 token characters for names; no CR, LF or NUL in values (§5.5).
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
    throw optionError(`${what}: '${name}' is not a header name`);
  if (/[\r\n\0]/.test(value)) throw optionError(`${what}: the value of '${name}' contains a line break`);
}

/**
 * A proxy setting as error messages show it: 'user:password@' becomes '…@' (messages end up in
 * logs and error trackers). Up to the last '@' before the path, as URL parsing splits it.
 */
export function redactUserinfo(text: string): string {
  return text.replace(
    /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?[^/?#]*@/,
    (_m, scheme: string | undefined) => `${scheme ?? ''}…@`,
  );
}

/**
 * The proxy kinds: HTTP CONNECT over TCP or TLS, and SOCKS5 (RFC 1928), where socks5:// resolves
 * the target's name here and socks5h:// lets the proxy resolve it (curl's and requests' schemes).
 */
const PROXY_SCHEMES = new Set(['http:', 'https:', 'socks5:', 'socks5h:']);

/** Parses a proxy URL; a missing scheme means http:// (as curl and requests assume). */
export function parseProxyUrl(input: string | URL, what: string): URL {
  if (input instanceof URL) input = input.href;
  if (typeof input !== 'string' || input.trim() === '') throw optionError(`${what} is empty`);
  const raw = input.trim();
  const text = redactUserinfo(raw);
  let url: URL;
  try {
    url = new URL(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(raw) ? raw : `http://${raw}`);
  } catch {
    // Not the TypeError as cause: its `input` holds the password.
    throw optionError(`${what} '${text}' is not a valid URL`);
  }
  if (!PROXY_SCHEMES.has(url.protocol)) {
    throw optionError(
      url.protocol.startsWith('socks')
        ? `${what} '${url.protocol}//${url.host}' is a ${url.protocol.slice(0, -1).toUpperCase()} proxy; only SOCKS5 is supported (socks5:// or socks5h://)`
        : `${what} '${text}' has the scheme '${url.protocol}'; only http://, https://, socks5:// and socks5h:// proxies work`,
    );
  }
  if (url.hostname === '') throw optionError(`${what} '${text}' has no host`);
  return url;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function hostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Credentials for a proxy in every form we take them. */
export type ProxyAuth =
  | string
  | readonly [user: string, password: string]
  | { username: string; password: string };

/** 'user:password' from a proxy auth option; ConfigError when malformed. */
function proxyCredentials(value: unknown, what: string): string {
  let user: string;
  let password: string;
  if (typeof value === 'string') {
    const colon = value.indexOf(':');
    if (colon < 0) throw optionError(`${what} must be 'user:password'`);
    user = value.slice(0, colon);
    password = value.slice(colon + 1);
  } else if (
    Array.isArray(value) &&
    value.length === 2 &&
    typeof value[0] === 'string' &&
    typeof value[1] === 'string'
  ) {
    // ['user', 'password'], as the request's own auth option takes it.
    [user, password] = value as [string, string];
  } else if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { username?: unknown }).username === 'string' &&
    typeof (value as { password?: unknown }).password === 'string'
  ) {
    ({ username: user, password } = value as { username: string; password: string });
  } else {
    throw optionError(`${what} must be 'user:password', ['user', 'password'] or { username, password }`);
  }
  if (user.includes(':')) throw optionError(`${what}: the proxy user name contains ':'`);
  if (/[\x00-\x1f\x7f]/.test(user + password)) {
    throw optionError(`${what}: the proxy user name or password contains a control character`);
  }
  return `${user}:${password}`;
}

/**
 * What a Session checks of its proxy settings when it is made, as a request would (a scheme we do
 * not speak, a misspelt key, bad credentials or headers; the option table checks their kinds), without
 * reading an https:// proxy's trust files: that waits for the first request through it.
 */
export function checkProxySettings(settings: ProxySettings): void {
  const { proxy, proxyAuth } = settings;
  if (proxy !== undefined && proxy !== false && proxy !== null) {
    resolveProxy(proxy, 'the proxy option', settings, { readTrust: false });
  } else if (proxyAuth !== undefined) {
    proxyCredentials(proxyAuth, 'proxyAuth');
  }
}

/** The keys of the object form of a proxy option. */
const PROXY_KEYS = ['url', 'auth', 'headers', 'verify'];

/** Turns a proxy option (or an env value) into a ResolvedProxy. ConfigError if malformed. */
export function resolveProxy(
  option: ProxyOption,
  source: string,
  settings: Pick<ProxySettings, 'proxyVerify' | 'proxyAuth' | 'trustEnv' | 'env'> = {},
  { readTrust = true }: { readTrust?: boolean } = {},
): ResolvedProxy {
  const object: ProxyObject =
    typeof option === 'string' || option instanceof URL
      ? { url: option }
      : typeof option === 'object' && option !== null && 'url' in option
        ? option
        : (() => {
            throw optionError(`${source} must be a URL string or { url, … }, not ${typeof option}`);
          })();
  if (object === option) {
    // A misspelt key ({ url, auht }) would silently send no credentials, or trust another CA.
    for (const key of Object.keys(object)) {
      if (PROXY_KEYS.includes(key)) continue;
      const near = PROXY_KEYS.find((k) => editDistance(k, key.toLowerCase()) <= 2);
      throw optionError(
        `${source} has no '${key}'${near ? `; did you mean '${near}'?` : ''} (it takes url, auth, headers and verify)`,
      );
    }
  }
  const url = parseProxyUrl(object.url, source);
  const protocol = url.protocol as ResolvedProxy['protocol'];
  const socks = protocol === 'socks5:' || protocol === 'socks5h:';
  const host = stripBrackets(url.hostname);
  // No port: the scheme's own (requests and urllib3 do this; curl alone assumes 1080 for HTTP);
  // SOCKS: 1080 (RFC 1928 §3).
  const port = url.port ? Number(url.port) : socks ? 1080 : protocol === 'https:' ? 443 : 80;
  const headers: Record<string, string> = {};
  let credentials: string | undefined;
  if (url.username || url.password) credentials = `${decode(url.username)}:${decode(url.password)}`;
  // proxy: { auth } for this proxy, else the proxyAuth option for whichever proxy is chosen (an
  // env proxy too); either replaces credentials in the URL.
  const given = object.auth ?? settings.proxyAuth;
  if (given !== undefined)
    credentials = proxyCredentials(given, object.auth !== undefined ? `${source}: auth` : 'proxyAuth');
  let auth: { username: string; password: string } | undefined;
  if (credentials !== undefined && socks) {
    // RFC 1929 username/password, in the SOCKS5 sub-negotiation (never an HTTP header).
    const colon = credentials.indexOf(':');
    auth = { username: credentials.slice(0, colon), password: credentials.slice(colon + 1) };
  } else if (credentials !== undefined) {
    headers['proxy-authorization'] = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
  }
  if (object.headers !== undefined && socks) {
    throw optionError(`${source}: headers are for HTTP proxies; a SOCKS5 proxy takes none`);
  }
  if (object.headers !== undefined) {
    if (typeof object.headers !== 'object' || object.headers === null) {
      throw optionError(`${source}: headers must be an object of strings`);
    }
    // A Map or a WHATWG Headers is read as its entries (Object.entries of either is empty, which
    // silently dropped them); anything else iterable or not plain is refused.
    const given = object.headers as unknown;
    let entries: [string, unknown][];
    if (given instanceof Map || isHeaders(given)) entries = [...(given as Map<string, unknown>).entries()];
    else if (Object.getPrototypeOf(given) === Object.prototype || Object.getPrototypeOf(given) === null)
      entries = Object.entries(given as Record<string, unknown>);
    else throw optionError(`${source}: headers must be an object of strings, a Map or a Headers`);
    for (const [k, v] of entries) {
      if (typeof v !== 'string' && typeof v !== 'number')
        throw optionError(`${source}: headers: the value of '${k}' must be a string, not ${typeof v}`);
      checkHeader(k, String(v), `${source}: headers`);
      headers[k.toLowerCase()] = String(v);
    }
  }
  let trust: TrustAnchors | null | undefined;
  let trustKey = '';
  if (protocol === 'https:' && readTrust) {
    const verify = object.verify ?? settings.proxyVerify;
    const resolved = resolveTrust({
      ...(verify === undefined ? {} : { verify }),
      trustEnv: settings.trustEnv ?? true,
      ...(settings.env ? { env: settings.env } : {}),
    });
    trust = anchorsOf(resolved);
    trustKey = verificationKey(trust);
  }
  const display = `${protocol}//${hostPort(host, port)}`;
  const headerKey =
    Object.keys(headers).length || auth
      ? createHash('sha256')
          .update(JSON.stringify([Object.entries(headers).sort(), auth ?? null]))
          .digest('base64')
      : '';
  return {
    display,
    protocol,
    host,
    port,
    headers,
    trust,
    source,
    ...(auth ? { auth } : {}),
    key: `${display}|${headerKey}|${trustKey}`,
  };
}

/** The proxy variables for a URL scheme, in the order they are consulted. */
function envNames(protocol: string, env: NodeJS.ProcessEnv): string[] {
  if (protocol === 'https:') return ['https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'];
  // Under CGI, HTTP_PROXY can be set by a client's "Proxy:" request header (httpoxy,
  // CVE-2016-5385): ignore the upper-case form there, as curl and Python's urllib do.
  const cgi = env.REQUEST_METHOD !== undefined;
  return ['http_proxy', ...(cgi ? [] : ['HTTP_PROXY']), 'all_proxy', 'ALL_PROXY'];
}

/** The proxy the environment names for a URL scheme (lower case first, as curl and urllib). */
export function proxyFromEnv(
  protocol: string,
  env: NodeJS.ProcessEnv = process.env,
): { name: string; value: string } | undefined {
  for (const name of envNames(protocol, env)) {
    const value = env[name];
    // An empty variable means "no proxy" (curl), not "unset": it stops the search.
    if (value !== undefined) return value.trim() === '' ? undefined : { name, value };
  }
  return undefined;
}

/** The NO_PROXY list from the environment (lower case first). */
export function noProxyFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.no_proxy ?? env.NO_PROXY;
}

/**
 * Whether `host` (a URL hostname) at `port` goes direct, after curl's and requests' NO_PROXY:
 * entries separated by commas or white space; '*' alone matches everything; a name matches
 * itself and its subdomains ('example.com' and '.example.com' both match example.com and
 * a.example.com; a leading '*.' is read the same way); IP addresses match exactly and CIDR
 * blocks by prefix (IPv4 and IPv6); 'host:port' or '[v6]:port' only on that port. Case and a
 * trailing dot do not matter.
 */
export function bypassesProxy(noProxy: string | readonly string[], host: string, port: number): boolean {
  const h = stripBrackets(host).toLowerCase().replace(/\.$/, '');
  const hostFamily = net.isIPv4(h) ? 'ipv4' : net.isIPv6(h) ? 'ipv6' : null;
  const entries = (typeof noProxy === 'string' ? [noProxy] : [...noProxy]).flatMap((s) =>
    String(s).split(/[\s,]+/),
  );
  for (const raw of entries) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    let entryPort: number | undefined;
    if (entry.startsWith('[')) {
      const end = entry.indexOf(']');
      if (end < 0) continue;
      const rest = entry.slice(end + 1);
      if (rest.startsWith(':')) entryPort = Number(rest.slice(1));
      entry = entry.slice(1, end);
    } else if (entry.split(':').length === 2) {
      const [name, p] = entry.split(':') as [string, string];
      entry = name;
      entryPort = Number(p);
    }
    if (entryPort !== undefined && (!Number.isInteger(entryPort) || entryPort !== port)) continue;
    const slash = entry.indexOf('/');
    if (slash >= 0) {
      const network = entry.slice(0, slash);
      const prefix = Number(entry.slice(slash + 1));
      const family = net.isIPv4(network) ? 'ipv4' : net.isIPv6(network) ? 'ipv6' : null;
      if (family === null || family !== hostFamily || !Number.isInteger(prefix)) continue;
      if (prefix < 0 || prefix > (family === 'ipv4' ? 32 : 128)) continue;
      const list = new net.BlockList();
      list.addSubnet(network, prefix, family);
      if (list.check(h, family)) return true;
      continue;
    }
    if (net.isIP(entry)) {
      if (hostFamily === null) continue;
      const family = net.isIPv4(entry) ? 'ipv4' : 'ipv6';
      if (family !== hostFamily) continue;
      const list = new net.BlockList();
      list.addAddress(entry, family); // compares parsed addresses: '::1' equals '0:0::1'
      if (list.check(h, family)) return true;
      continue;
    }
    // URL hosts come as A-labels (WHATWG URL): an entry written in Unicode ('bücher.de') too.
    const unicode = entry.replace(/^\*?\./, '').replace(/\.$/, '');
    const name = domainToASCII(unicode) || unicode;
    if (name === '' || hostFamily !== null) continue;
    if (h === name || h.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** Default port of a URL scheme. */
function portOf(url: { protocol: string; port: string }): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/**
 * The proxy for one URL, or null for a direct connection. Precedence: `proxy` in code (false:
 * none), else the environment when trustEnv. `noProxy` in code replaces NO_PROXY, and applies to
 * both; NO_PROXY from the environment applies to environment proxies only (as in requests).
 */
export function selectProxy(
  url: { protocol: string; hostname: string; port: string },
  settings: ProxySettings,
): ResolvedProxy | null {
  return proxyChooser(settings)(url);
}

/**
 * Reads the settings once (parsing the proxy URL, resolving the proxy's trust) and returns the
 * per-URL choice. ConfigError for a malformed setting. The environment is read per URL scheme
 * on first use (each variable read costs ~0.2 µs, so a Session, which makes a chooser per
 * request, reads only what the URL needs); `eager` reads it all now, so that adapters report a
 * bad variable when they are made.
 */
export function proxyChooser(
  settings: ProxySettings,
  { eager = false }: { eager?: boolean } = {},
): (url: { protocol: string; hostname: string; port: string }) => ResolvedProxy | null {
  const none = () => null;
  if (settings.proxy === false || settings.proxy === null) return none;
  const noProxyOption = settings.noProxy;
  if (noProxyOption !== undefined && typeof noProxyOption !== 'string' && !Array.isArray(noProxyOption)) {
    throw optionError('noProxy must be a string or a list of strings');
  }
  if (settings.proxy !== undefined) {
    const proxy = resolveProxy(settings.proxy, 'the proxy option', settings);
    return (url) =>
      noProxyOption !== undefined && bypassesProxy(noProxyOption, url.hostname, portOf(url)) ? null : proxy;
  }
  if (settings.trustEnv === false) return none;
  const env = settings.env ?? process.env;
  const byScheme = new Map<string, ResolvedProxy | null>();
  const forScheme = (protocol: string): ResolvedProxy | null => {
    let proxy = byScheme.get(protocol);
    if (proxy === undefined) {
      const found = proxyFromEnv(protocol, env);
      proxy = found ? resolveProxy(found.value, found.name, settings) : null;
      byScheme.set(protocol, proxy);
    }
    return proxy;
  };
  let noProxy: string | readonly string[] | undefined | null = null; // null: not read yet
  const noProxyList = () => {
    if (noProxy === null) noProxy = noProxyOption ?? noProxyFromEnv(env);
    return noProxy;
  };
  if (eager) {
    forScheme('https:');
    forScheme('http:');
    noProxyList();
  }
  return (url) => {
    const proxy = forScheme(url.protocol);
    if (proxy === null) return null;
    const list = noProxyList();
    return list !== undefined && bypassesProxy(list, url.hostname, portOf(url)) ? null : proxy;
  };
}

/**
 * Does this proxy forward http:// requests in absolute form (an HTTP proxy)? Through a SOCKS5
 * proxy an http:// request goes through a tunnel, as an https:// one does.
 */
export function forwardsHttp(proxy: ResolvedProxy): boolean {
  return proxy.protocol === 'http:' || proxy.protocol === 'https:';
}

/** Adds headers to undici dispatch headers, whatever shape they come in. */
function addHeaders(
  headers: Dispatcher.DispatchOptions['headers'],
  extra: Record<string, string>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const put = (k: string, v: unknown) => {
    if (v === undefined || v === null) return;
    const key = k.toLowerCase();
    const value = Array.isArray(v) ? v.map(String) : String(v);
    const prev = out[key];
    out[key] = prev === undefined ? value : ([] as string[]).concat(prev, value);
  };
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const [k, v] of headers as unknown as [string, string][]) put(k, v);
    } else {
      for (let i = 0; i + 1 < headers.length; i += 2) put(String(headers[i]), headers[i + 1]);
    }
  } else if (headers && typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [k, v] of headers as Iterable<[string, string]>) put(k, v);
  } else if (headers) {
    for (const [k, v] of Object.entries(headers as Record<string, unknown>)) put(k, v);
  }
  for (const [k, v] of Object.entries(extra)) {
    if (!(k in out)) out[k] = v;
  }
  return out;
}

/**
 * The refusal of a Proxy-Authorization *request* header on a request that goes through a CONNECT
 * tunnel: the header would travel inside the tunnel to the target, not to the proxy (requests'
 * CVE-2023-32681 leaked proxy credentials this way). undici's ProxyAgent refuses it the same way.
 */
export function proxyAuthHeaderError(proxy: ResolvedProxy, target: string): ConfigError {
  return new ConfigError(
    `a Proxy-Authorization request header would be sent inside the tunnel to ${target}, not to the proxy ${proxy.display}`,
    {
      code: 'ERR_PROXY_AUTH_HEADER',
      hint:
        'Give the proxy its credentials in its URL (http://user:password@host:port) or as proxy: { url, auth } ' +
        '(or proxy: { url, headers }); they go in the CONNECT request, to the proxy only.',
    },
  );
}

/** Does a dispatch carry a header named `name` (lower case), whatever shape the headers come in? */
function hasHeader(headers: Dispatcher.DispatchOptions['headers'], name: string): boolean {
  if (!headers) return false;
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0]))
      return (headers as unknown as [string, unknown][]).some(([k]) => String(k).toLowerCase() === name);
    for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return true;
    return false;
  }
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [k] of headers as Iterable<[string, unknown]>)
      if (String(k).toLowerCase() === name) return true;
    return false;
  }
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

/**
 * An undici Agent that sends http:// requests in absolute form to their proxy (with the proxy's
 * headers); https:// requests need nothing here, their connector opens the tunnel, but one that
 * carries a Proxy-Authorization header of its own is refused (proxyAuthHeaderError).
 */
export class ProxiedAgent extends Agent {
  readonly #choose: (url: URL) => ResolvedProxy | null;
  constructor(options: Agent.Options, choose: (url: URL) => ResolvedProxy | null) {
    super(options);
    this.#choose = choose;
  }
  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = opts.origin;
    if (origin !== undefined && typeof opts.path === 'string' && opts.path.startsWith('/')) {
      let url: URL | undefined;
      try {
        url = new URL(String(origin));
      } catch {
        url = undefined; // undici reports the bad origin itself
      }
      if (url?.protocol === 'https:' && hasHeader(opts.headers, 'proxy-authorization')) {
        const proxy = this.#choose(url);
        if (proxy) throw proxyAuthHeaderError(proxy, url.host);
      }
      if (url?.protocol === 'http:') {
        const proxy = this.#choose(url);
        if (proxy && forwardsHttp(proxy)) {
          opts = {
            ...opts,
            path: `${url.origin}${opts.path}`,
            headers: addHeaders(opts.headers, proxy.headers),
          };
        }
      }
    }
    return super.dispatch(opts, handler);
  }
}
