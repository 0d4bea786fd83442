/**
 * Session: defaults for many requests, and the connection pools they share.
 *
 * Pools are keyed by everything that changes what a connection has proved: the trust key (or
 * 'insecure'), serverName, connectTo, client certificate, pins and proxy. So a connection made with
 * verify: false is never reused by a verified request (requests' CVE-2024-35195), and a
 * connection verified for serverName A never serves a request that asked for B.
 */
import type { Dispatcher } from 'undici';
import {
  CertainlyError,
  ConfigError,
  InvalidURL,
  SessionClosed,
  secondsNote,
  TotalTimeout,
} from '../errors.js';
import { createConnector } from '../tls/connector.js';
import type { IpFamily } from '../tls/family.js';
import { type ConnectTarget, parseConnectTo } from '../tls/target.js';
import { anchorsOf, resolveTrust } from '../trust/resolve.js';
import type { TrustAnchors } from '../trust/types.js';
import { type ResolvedAia, resolveAia } from '../verify/aia.js';
import { parseReferenceName } from '../verify/identity.js';
import { type ResolvedRevocation, resolveRevocation } from '../verify/index.js';
import {
  hostPinTable,
  normaliseFingerprints,
  normalisePins,
  type PinSet,
  pinsForHost,
} from '../verify/pin.js';
import type { RevocationMode } from '../verify/revocation.js';
import { takeUrlCredentials } from './auth.js';
import { type DigestCache, RequestAuth } from './authenticate.js';
import { encodeBody, releaseBody, withUploadProgress } from './body.js';
import {
  type Cookie,
  CookieJar,
  type CookieStore,
  requestCookiePairs,
  withRequestCookies,
} from './cookies.js';
import { planFor } from './decode.js';
import {
  checkBaseUrl,
  checkHooks,
  type HookRequest,
  hookMovedCredentials,
  hooksFor,
  joinBaseUrl,
  runRequestHooks,
  runResponseHooks,
} from './hooks.js';
import { http2AgentOptions } from './http2.js';
import { checkOptions } from './option-table.js';
import {
  applyParams,
  type ClientCertOption,
  DEFAULT_HEADERS,
  DEFAULTS,
  defaultHeaders,
  type HeaderRecord,
  mergeHeaders,
  mergeTimeouts,
  paramPairs,
  type RequestOptions,
  resolveTimeouts,
  type SessionOptions,
  type Timeouts,
} from './options.js';
import { connectorConfig, poolKey } from './pool.js';
import {
  checkProxySettings,
  forwardsHttp,
  ProxiedAgent,
  proxyAuthHeaderError,
  proxyChooser,
  type ResolvedProxy,
} from './proxy.js';
import { withReadTimer } from './read-timer.js';
import { redactedOptions } from './redact.js';
import { type Hop, isRedirect, nextHop } from './redirect.js';
import { type BodySource, dropBody, Response, SentRequest } from './response.js';
import { type RetryRecord, type RetryState, resolveRetries, retryState, sleep } from './retry.js';
import { servedAgentOptions, servedTls } from './served-by.js';
import { Agent } from './undici.js';

import { mapUndiciError } from './undici-errors.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS' | (string & {});

interface PoolEntry {
  agent: Agent;
  /** The agent with the read-timer interceptor (read-timer.ts): what requests go through. */
  dispatcher: Dispatcher;
}

/** Per-connection settings that decide which pool a request may use. */
export interface ConnectionSettings {
  trust: TrustAnchors | null;
  serverName?: string;
  connectTo?: ConnectTarget;
  /** IPv4 or IPv6 only (the family option); every hop, as curl's -4 / -6. */
  family?: IpFamily;
  connectTimeout: number;
  cert?: ClientCertOption;
  pins?: PinSet;
  /** AIA fetching for missing intermediates (the aia option). */
  aia?: ResolvedAia;
  /** The proxy this URL goes through (its key separates pools). */
  proxy?: ResolvedProxy;
  /** 'off' | 'hard'; undefined is 'soft'. */
  revocation?: RevocationMode;
  /** HTTP/2 offered (client/http2.ts). */
  http2?: boolean;
  /** Online OCSP (revocation: { online }). */
  ocspOnline?: ResolvedAia;
}

/**
 * What a request decided once, before its first hop, and every hop uses: the merged options and
 * what was validated from them. The retry budgets count down across all hops of the request.
 */
interface RequestPlan {
  /** The request's options over the Session's. */
  o: RequestOptions & SessionOptions;
  /** The caller's signal, joined with the timeout.total deadline when there is one. */
  signal: AbortSignal | undefined;
  timeouts: Timeouts;
  /** Undo Content-Encoding when the body is read (decompress option). */
  decompress: boolean;
  maxResponseSize: number | undefined;
  allowRedirects: boolean;
  maxRedirects: number;
  /** The origin of the URL asked for: serverName, connectTo and the request's pins apply to it only. */
  firstOrigin: string;
  trust: TrustAnchors | null;
  connectTo: ConnectTarget | undefined;
  requestPins: string[] | undefined;
  requestFingerprints: string[] | undefined;
  pinTable: Map<string, string[]> | undefined;
  aia: ResolvedAia | undefined;
  /** 'off' | 'soft' | 'hard' (verify/revocation.ts), and online OCSP's settings, checked. */
  revocation: ResolvedRevocation;
  /** Retry budgets left and the retries made (r.retries), across all hops. */
  retry: RetryState;
  /** Offer HTTP/2 (the http2 option, checked). */
  http2: boolean;
  cookieStore: CookieStore;
  /** The request's `cookies` option, checked: sent to the first origin with the jar's. */
  requestCookies: [string, string][] | undefined;
  chooseProxy: (url: URL) => ResolvedProxy | null;
}

// How many pools one Session keeps at most; each distinct (trust, serverName, connectTo, cert,
// pins) costs one undici Agent. Past this the oldest is closed.
const MAX_POOLS = 32;

export class Session {
  readonly defaults: SessionOptions;
  #pools = new Map<string, PoolEntry>();
  #closed = false;
  /** The Session's cookie store; null with cookies: false (each request then has its own). */
  #cookieStore: CookieStore | null;
  /** The last Digest challenge per origin and user, answered up front next time (authenticate.ts). */
  #digestCache: DigestCache = new Map();
  /** The baseUrl option, checked (hooks.ts). */
  #baseUrl: URL | undefined;
  // What #plan resolves from options that are usually the same primitive on every request (most
  // often undefined): reused while the input is identical. Objects are resolved again each time,
  // as before, so that a Session's option object changed in place still counts.
  #timeouts = new LastOf(resolveTimeouts);
  #revocation = new LastOf(resolveRevocation);
  #serverName = new LastOf(parseReferenceName);
  /** resolveTrust's argument for the last (verify, trustEnv): the same object while they are the same. */
  #lastTrustArgs:
    | { verify: unknown; trustEnv: boolean; args: Parameters<typeof resolveTrust>[0] }
    | undefined;
  /**
   * The pool of the last request that needed nothing but trust and a connect timeout (the usual
   * case): found again without building its key. Cleared when that pool is closed.
   */
  #lastPlain:
    | { trust: TrustAnchors | null; connectTimeout: number; http2: boolean; entry: PoolEntry }
    | undefined;

  /**
   * `console.log(session)` and `util.inspect`: the Session's options without their secrets
   * (credentials, cookies, a key and its passphrase, a proxy's password; client/redact.ts).
   */
  [Symbol.for('nodejs.util.inspect.custom')](
    _depth: number,
    options: object,
    inspect: (value: unknown, options: object) => string,
  ): string {
    return `Session ${inspect({ defaults: redactedOptions(this.defaults) }, options)}`;
  }

  /** `JSON.stringify(session)`: the same view as inspect, without secrets. */
  toJSON(): { defaults: Record<string, unknown> } {
    return { defaults: redactedOptions(this.defaults) };
  }

  constructor(options: SessionOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigError('Session options must be an object', { code: 'ERR_OPTIONS' });
    }
    checkOptions(options, 'session', 'new Session(options): ');
    // Headers and params are checked now (each request merges them again, so later edits count).
    if (options.headers !== undefined) mergeHeaders(options.headers);
    if (options.params !== undefined) paramPairs(options.params);
    checkProxySettings(options);
    this.defaults = { ...options };
    this.#baseUrl = options.baseUrl === undefined ? undefined : checkBaseUrl(options.baseUrl);
    if (options.hooks !== undefined) checkHooks(options.hooks, 'new Session(options): ');
    const c = options.cookies;
    if (c === undefined || c === true) this.#cookieStore = new CookieJar();
    else if (c === false) this.#cookieStore = null;
    // Cookies saved with JSON.stringify(session.cookies), parsed back.
    else if (Array.isArray(c)) this.#cookieStore = CookieJar.fromJSON(c as Record<string, unknown>[]);
    else if (
      typeof c === 'object' &&
      c !== null &&
      typeof (c as CookieStore).cookieHeader === 'function' &&
      typeof (c as CookieStore).setCookies === 'function'
    ) {
      this.#cookieStore = c as CookieStore;
    } else {
      throw new ConfigError(
        'cookies must be true, false, a jar with cookieHeader() and setCookies(), or saved cookies (a list)',
        {
          code: 'ERR_OPTIONS',
          hint: "A cookie kept by a Session needs the host it belongs to: after new Session(), call session.cookies.set('name', 'value', { domain: 'api.example.com' }); or pass cookies: { name: 'value' } on a request (sent to its origin only).",
        },
      );
    }
  }

  /** The Session's cookie jar (requests' session.cookies); undefined with cookies: false or a jar of another kind. */
  get cookies(): CookieJar | undefined {
    return this.#cookieStore instanceof CookieJar ? this.#cookieStore : undefined;
  }

  get(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request('GET', url, options);
  }
  post(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request('POST', url, options);
  }
  put(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request('PUT', url, options);
  }
  patch(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request('PATCH', url, options);
  }
  delete(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request('DELETE', url, options);
  }
  head(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request('HEAD', url, options);
  }
  options(url: string | URL, options?: RequestOptions): Promise<Response> {
    return this.request('OPTIONS', url, options);
  }

  /**
   * Sends one request, following redirects unless allowRedirects is false: the plan (what stays
   * fixed across hops) is made once, then the hop step (#sendHop: one request and its response
   * on one URL) and the redirect step (nextHop in redirect.ts: follow or not, and where) alternate.
   */
  async request(method: Method, url: string | URL, options: RequestOptions = NO_OPTIONS): Promise<Response> {
    if (this.#closed) throw sessionClosed('this Session is closed: it cannot send requests any more');
    if (typeof options !== 'object' || options === null) {
      throw new ConfigError(`request options must be an object, not ${String(options)}`, {
        code: 'ERR_OPTIONS',
      });
    }
    // The deadline of timeout.total, once armed.
    let total: ReturnType<typeof totalDeadline> | undefined;
    try {
      // Unknown keys (a typo such as verfy) and values of the wrong kind are ConfigErrors.
      checkOptions(options, 'request');
      const plan = this.#plan(options);
      const d = this.defaults;
      let first = parseUrl(this.#baseUrl ? joinBaseUrl(this.#baseUrl, url) : url);
      let urlCredentials = takeUrlCredentials(first);
      applyParams(first, d.params, options.params);
      plan.firstOrigin = first.origin;
      let headers: HeaderRecord =
        d.headers === undefined && options.headers === undefined
          ? defaultHeaders()
          : mergeHeaders(DEFAULT_HEADERS, d.headers, options.headers);
      const body = encodeBody(plan.o);
      // A file that cannot be opened fails here, before anything is sent.
      if (body?.ready) await body.ready();
      if (body) {
        if (body.contentType !== undefined) headers['content-type'] ??= body.contentType;
        if (body.length !== undefined) headers['content-length'] ??= String(body.length);
      }
      const hooks = hooksFor(d.hooks, options.hooks);
      if (hooks && hooks.request.length > 0) {
        // Before auth: a hook that logs the request never sees the credentials.
        const asked = first.origin;
        const req: HookRequest = { method: method.toUpperCase(), url: first, headers };
        await runRequestHooks(hooks.request, req);
        method = String(req.method);
        first = parseUrl(req.url);
        const given = takeUrlCredentials(first);
        if (first.origin !== asked) {
          // Credentials are bound to the origin they were given for, as on a redirect; a hook that
          // routes the request elsewhere must not carry them there unseen (an http:// mirror would
          // get them in clear). The hook's own new URL credentials are its explicit choice.
          const carried = [
            plan.o.auth !== undefined ? 'auth' : '',
            urlCredentials ? 'the user:password of the URL' : '',
            plan.requestCookies ? 'cookies of the request' : '',
          ].filter(Boolean);
          if (carried.length > 0) throw hookMovedCredentials(asked, first.origin, carried);
        }
        urlCredentials = given ?? urlCredentials;
        plan.firstOrigin = first.origin;
        headers = mergeHeaders(req.headers);
      }
      // Like any Authorization header, the one from `auth` (or the URL's user:password) goes to
      // the first origin only (nextHop); an auth function and Digest act per hop (authenticate.ts).
      const auth = RequestAuth.plan(
        plan.o.auth,
        urlCredentials,
        headers,
        plan.firstOrigin,
        this.#digestCache,
      );

      let hop: Hop | null = { url: first, method: method.toUpperCase(), headers, body };
      const history: Response[] = [];
      // timeout.total: one deadline for the whole exchange, through the signal undici already
      // takes (so it also ends a body being read after request() has returned).
      total =
        plan.timeouts.total === undefined
          ? undefined
          : totalDeadline(plan.timeouts.total, first, plan.signal);
      if (total) plan.signal = total.signal;
      for (;;) {
        let sent = auth ? await auth.before(hop) : hop;
        let response = await this.#sendHop(plan, sent, history);
        for (
          let again = auth && (await auth.after(sent, response));
          again;
          again = auth && (await auth.after(sent, response))
        ) {
          sent = again;
          response = await this.#sendHop(plan, sent, history);
        }
        // The usual final answer is known without nextHop's await.
        hop = isRedirect(response, plan.allowRedirects)
          ? await nextHop(hop, response, history, plan.allowRedirects, plan.maxRedirects)
          : null;
        if (hop === null) {
          // The deadline stays armed until this body is read or dropped.
          if (total) response.onBodyClosed(total.clear);
          return hooks && hooks.response.length > 0
            ? await runResponseHooks(hooks.response, response)
            : response;
        }
      }
    } catch (err) {
      total?.clear();
      // The streams it was given are closed, sent or not (body.ts).
      releaseBody(options);
      throw err;
    }
  }

  /** Merges and validates the options of one request into what every hop of it uses. */
  #plan(options: RequestOptions): RequestPlan {
    const d = this.defaults;
    // Request options over the Session's; an unset (undefined) request option keeps the Session's.
    const o = (hasDefined(options) ? withDefined(d, options) : d) as RequestOptions & SessionOptions;
    // Timeouts merge key by key (a request's read keeps the Session's total); equal values skip it.
    const timeouts =
      options.timeout !== undefined && d.timeout !== undefined && options.timeout !== d.timeout
        ? resolveTimeouts(mergeTimeouts(d.timeout, options.timeout))
        : this.#timeouts.get(o.timeout);
    const maxRedirects = o.maxRedirects ?? d.maxRedirects ?? DEFAULTS.maxRedirects;
    if (!Number.isInteger(maxRedirects) || maxRedirects < 0) {
      throw new ConfigError(`maxRedirects must be a whole number >= 0, not ${String(maxRedirects)}`, {
        code: 'ERR_OPTIONS',
      });
    }
    // Trust is resolved once per request (cached inside resolveTrust by configuration, which
    // also reads CERTAINLY_SYSTEM_ROOT when trustEnv is on).
    const resolved = resolveTrust(this.#trustArgs(o.verify, o.trustEnv ?? true));
    const trust = anchorsOf(resolved);
    if (o.serverName !== undefined) this.#serverName.get(o.serverName); // validates early: InvalidURL
    const retry = resolveRetries(o.retries);
    const maxResponseSize = o.maxResponseSize;
    if (maxResponseSize !== undefined && !(Number.isSafeInteger(maxResponseSize) && maxResponseSize >= 0)) {
      throw new ConfigError(
        `maxResponseSize must be a whole number of bytes >= 0, not ${String(maxResponseSize)}`,
        {
          code: 'ERR_OPTIONS',
        },
      );
    }
    // Its kind is checked by the option table.
    const http2 = o.http2 === true;
    return {
      o,
      http2,
      signal: options.signal,
      timeouts,
      decompress: o.decompress ?? true,
      maxResponseSize,
      allowRedirects: o.allowRedirects ?? true,
      maxRedirects,
      firstOrigin: '',
      trust,
      connectTo: o.connectTo === undefined ? undefined : parseConnectTo(o.connectTo),
      requestPins: o.pin === undefined ? undefined : normalisePins(o.pin, 'pin'),
      requestFingerprints:
        o.fingerprint === undefined ? undefined : normaliseFingerprints(o.fingerprint, 'fingerprint'),
      pinTable: d.pins ? hostPinTable(d.pins) : undefined,
      aia: resolveAia(o.aia),
      revocation: this.#revocation.get(o.revocation),
      retry: retryState(retry),
      // Without a Session jar, cookies still live across the redirects of this one request.
      cookieStore: this.#cookieStore ?? new CookieJar(),
      requestCookies: options.cookies === undefined ? undefined : requestCookiePairs(options.cookies),
      // trustEnv: false and no proxy options: no proxy (what proxyChooser returns), without the
      // settings object built to ask it.
      chooseProxy:
        o.trustEnv === false && o.proxy === undefined && o.noProxy === undefined
          ? noProxy
          : proxyChooser({
              ...(o.proxy === undefined ? {} : { proxy: o.proxy }),
              ...(o.proxyVerify === undefined ? {} : { proxyVerify: o.proxyVerify }),
              ...(o.proxyAuth === undefined ? {} : { proxyAuth: o.proxyAuth }),
              ...(o.noProxy === undefined ? {} : { noProxy: o.noProxy }),
              trustEnv: o.trustEnv ?? true,
            }),
    };
  }

  /**
   * The options object resolveTrust reads (it keeps no reference to it and writes nothing on
   * it): one per distinct (verify, trustEnv) in a row, instead of one spread per request. verify
   * is compared by identity, and resolveTrust reads an object's fields on every call.
   */
  #trustArgs(verify: SessionOptions['verify'], trustEnv: boolean): Parameters<typeof resolveTrust>[0] {
    const last = this.#lastTrustArgs;
    if (last !== undefined && last.verify === verify && last.trustEnv === trustEnv) return last.args;
    const args = verify === undefined ? { trustEnv } : { verify, trustEnv };
    this.#lastTrustArgs = { verify, trustEnv, args };
    return args;
  }

  /**
   * The hop step: sends `hop` on the pool its URL and the plan choose (retrying failures and
   * statuses as plan.retry allows), and returns its response with the jar updated from it.
   */
  async #sendHop(plan: RequestPlan, hop: Hop, history: readonly Response[]): Promise<Response> {
    const { o, trust, timeouts, signal } = plan;
    const current = hop.url;
    // URL#origin builds a new string on every read: read once per hop.
    const origin = current.origin;
    const sameOrigin = origin === plan.firstOrigin;
    // serverName, connectTo and the per-request pin describe the origin of the URL asked for;
    // a redirect elsewhere is verified normally (the decision is recorded in ARCHITECTURE.md).
    // A Session's host pins follow the name verified (serverName, on its origin), else the URL
    // host: a connection that proves a pinned name is held to that name's pins.
    const verifiedHost = sameOrigin && o.serverName !== undefined ? o.serverName : current.hostname;
    const pinTable = plan.pinTable;
    const hostPins = pinTable
      ? (pinsForHost(pinTable, verifiedHost) ?? pinsForHost(pinTable, current.hostname))
      : undefined;
    const spki = sameOrigin && plan.requestPins ? plan.requestPins : hostPins;
    const fingerprints = sameOrigin ? plan.requestFingerprints : undefined;
    const pins: PinSet | undefined =
      spki || fingerprints ? { spki: spki ?? [], fingerprints: fingerprints ?? [] } : undefined;
    // Only the settings that apply are present (poolKey and the connector read presence); set one
    // by one rather than spread from conditional objects, which allocates for each on every hop.
    const settings: ConnectionSettings = { trust, connectTimeout: timeouts.connect };
    if (sameOrigin && o.serverName !== undefined) settings.serverName = o.serverName;
    if (sameOrigin && plan.connectTo) settings.connectTo = plan.connectTo;
    if (o.cert) settings.cert = o.cert;
    if (pins) settings.pins = pins;
    if (plan.aia && trust) settings.aia = plan.aia;
    if (plan.revocation.mode !== 'soft') settings.revocation = plan.revocation.mode;
    if (plan.revocation.online && trust) settings.ocspOnline = plan.revocation.online;
    if (plan.http2) settings.http2 = true;
    if (o.family) settings.family = o.family;
    const proxy = plan.chooseProxy(current);
    if (proxy) settings.proxy = proxy;
    const pool = this.#pool(settings);
    // The jar's cookies for this URL, unless the caller set a Cookie header of their own
    // (requests does the same); that header is dropped when a redirect leaves the origin.
    let sent = hop.headers;
    // For the jar, a connection verify: false left unverified is no more secure than http:
    // Secure cookies are neither sent over it nor taken from it (RFC 6265bis §5.7, §5.8.3).
    const jarUrl = trust === null && current.protocol === 'https:' ? insecureView(current) : current;
    if (sent.cookie === undefined) {
      let cookie = plan.cookieStore.cookieHeader(jarUrl);
      // The request's own cookies go to the origin asked for only, over the jar's of that name.
      if (plan.requestCookies && sameOrigin) cookie = withRequestCookies(cookie, plan.requestCookies);
      if (cookie) sent = { ...sent, cookie };
    }
    // Proxy-Authorization is for a proxy: one that forwards an http:// request reads it. Through
    // a tunnel it would reach the target (refused, as undici's ProxyAgent does); on a direct
    // connection there is no proxy to read it, so the origin does not get it either.
    if (
      sent['proxy-authorization'] !== undefined &&
      !(proxy && current.protocol === 'http:' && forwardsHttp(proxy))
    ) {
      if (proxy) throw proxyAuthHeaderError(proxy, current.host);
      sent = { ...sent };
      delete sent['proxy-authorization'];
    }
    const hasCert = settings.cert !== undefined;
    const started = performance.now();
    let data: Dispatcher.ResponseData;
    // The options of the attempt that was answered: the client that took it marks them (served-by.ts).
    let requestOptions: Dispatcher.RequestOptions;
    const retry = plan.retry;
    // A stream body is spent after one attempt: only strings, bytes and Blobs are sent again.
    const replayable = hop.body?.replayable ?? true;
    for (;;) {
      try {
        // An aborted signal sends nothing: undici would still open (and verify) a connection.
        signal?.throwIfAborted();
        const sending = hop.body ? hop.body.open() : null;
        const onUpload = o.onUploadProgress;
        requestOptions = {
          origin,
          path: current.pathname + current.search,
          method: hop.method as Dispatcher.HttpMethod,
          headers: sent,
          // undici sends (async) iterables too; its types list only the other kinds.
          body: (sending !== null && onUpload
            ? withUploadProgress(sending, hop.body?.length, onUpload)
            : sending) as Dispatcher.RequestOptions['body'],
          // Our own timer keeps the read timeout on time (read-timer.ts); undici's, which may
          // fire up to half a second late, stay a second behind as a backstop.
          readTimeout: timeouts.read,
          headersTimeout: timeouts.read + 1000,
          bodyTimeout: timeouts.read + 1000,
          ...(signal ? { signal } : {}),
        } as Dispatcher.RequestOptions;
        data = await untilAborted(pool.dispatcher.request(requestOptions), signal);
      } catch (err) {
        const mapped = mapUndiciError(err, current, timeouts, hasCert);
        const wait = retry.afterError(mapped, hop.method, replayable, current.href);
        if (wait === undefined) throw withRetries(mapped, retry.log);
        await sleep(wait, signal);
        continue;
      }
      const wait = retry.afterStatus(
        data.statusCode,
        data.headers['retry-after'],
        hop.method,
        replayable,
        current.href,
      );
      if (wait === undefined) break;
      // This answer is not the one: its body is read off (a small one keeps the connection).
      await drain(data.body);
      await sleep(wait, signal);
    }
    let planned: ReturnType<typeof planFor>;
    try {
      planned = planFor({
        method: hop.method,
        status: data.statusCode,
        headers: data.headers,
        url: current.href,
        decompress: plan.decompress,
        maxSize: plan.maxResponseSize,
        onProgress: o.onDownloadProgress,
      });
    } catch (err) {
      dropBody(data.body);
      throw err;
    }
    // Every client of the Session's pools is a ServedClient (http2.ts, served-by.ts).
    const tls = current.protocol === 'https:' ? servedTls(requestOptions!) : undefined;
    const setCookie = data.headers['set-cookie'];
    const cookies = setCookie === undefined ? undefined : storeCookies(plan.cookieStore, setCookie, jarUrl);
    const response = new Response({
      cookies,
      mapError: (e) => mapUndiciError(e, current, timeouts, hasCert),
      status: data.statusCode,
      rawHeaders: data.headers,
      url: current.href,
      body: data.body as unknown as BodySource,
      history: history.length === 0 ? [] : history.slice(),
      tls,
      // What the origin's connection negotiated: h2 is only ever offered, and chosen, by ALPN.
      httpVersion: tls?.alpn === 'h2' ? '2' : '1.1',
      request: new SentRequest(hop.method, current.href, sent),
      elapsed: performance.now() - started,
      retries: retry.log.length === 0 ? NO_RECORDS : retry.log.slice(),
      ...planned,
    });
    return response;
  }

  /**
   * Closes every pooled connection; the Session cannot be used afterwards. Resolves promptly
   * whatever is still open: a response body left unread (or being read) is aborted, its reader
   * gets a SessionClosed error, and so does a request still in flight (requests' Session.close()
   * closes its connections the same way). Calling it again does nothing.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#lastPlain = undefined;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    if (pools.length === 0) return;
    // undici's close() would wait for every unread body: destroy() ends them with our error.
    const reason = sessionClosed(
      'the Session was closed while this request or its response body was still open',
    );
    await Promise.all(pools.map((p) => p.agent.destroy(reason)));
  }

  /** The pool for these connection settings, created on first use. */
  #pool(s: ConnectionSettings): PoolEntry {
    // A request that was waiting (trust, retry back-off) while close() ran opens no new pool.
    if (this.#closed) throw sessionClosed('this Session was closed while the request was being prepared');
    const plain =
      s.serverName === undefined &&
      s.connectTo === undefined &&
      s.cert === undefined &&
      s.pins === undefined &&
      s.aia === undefined &&
      s.proxy === undefined &&
      s.revocation === undefined &&
      s.ocspOnline === undefined &&
      s.family === undefined;
    const last = this.#lastPlain;
    if (
      plain &&
      last !== undefined &&
      last.trust === s.trust &&
      last.connectTimeout === s.connectTimeout &&
      last.http2 === (s.http2 === true)
    ) {
      return last.entry;
    }
    const entry = this.#poolByKey(s);
    if (plain) {
      this.#lastPlain = { trust: s.trust, connectTimeout: s.connectTimeout, http2: s.http2 === true, entry };
    }
    return entry;
  }

  #poolByKey(s: ConnectionSettings): PoolEntry {
    const key = poolKey(s);
    const hit = this.#pools.get(key);
    if (hit) return hit;
    const proxy = s.proxy;
    const agentOptions: Agent.Options = {
      connect: createConnector(
        connectorConfig({
          ...s,
          ...(proxy ? { proxyFor: () => proxy } : {}),
        }),
      ),
      ...(s.http2 ? http2AgentOptions() : servedAgentOptions()),
    };
    const agent = proxy ? new ProxiedAgent(agentOptions, () => proxy) : new Agent(agentOptions);
    const entry = { agent, dispatcher: withReadTimer(agent) };
    if (this.#pools.size >= MAX_POOLS) {
      const [oldKey, old] = this.#pools.entries().next().value as [string, PoolEntry];
      this.#pools.delete(oldKey);
      if (this.#lastPlain?.entry === old) this.#lastPlain = undefined;
      void old.agent.close();
    }
    this.#pools.set(key, entry);
    return entry;
  }
}

/** The URL as the cookie jar sees an unverified https connection: as http. */
function insecureView(url: URL): URL {
  const view = new URL(url.href);
  view.protocol = 'http:';
  return view;
}

/**
 * The request's promise, or the signal's reason as soon as it aborts. undici reports an abort
 * only once a connection in progress is made or has failed, so a server stalling its handshake
 * (or a slow AIA fetch) held an aborted request until the connect timeout. undici still aborts
 * the request itself when the connection is ready (nothing is sent); a response that won the
 * race after the abort has its body destroyed, so its connection is not left busy.
 */
function untilAborted(
  pending: Promise<Dispatcher.ResponseData>,
  signal: AbortSignal | undefined,
): Promise<Dispatcher.ResponseData> {
  if (!signal) return pending;
  return new Promise((resolve, reject) => {
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (data) => {
        signal.removeEventListener('abort', onAbort);
        if (aborted) data.body.destroy();
        else resolve(data);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err); // ignored by the settled promise when the abort came first
      },
    );
  });
}

const noProxy = (): null => null;

/** A request's options when none are given: read only, never written (one object, not one per call). */
const NO_OPTIONS: RequestOptions = Object.freeze({});

/**
 * A pure function's last result, reused while it is called with the same primitive input (an
 * object input is resolved again each time: it may have been changed in place).
 */
class LastOf<I, O> {
  readonly #f: (input: I) => O;
  #has = false;
  #input: I | undefined;
  #output: O | undefined;
  constructor(f: (input: I) => O) {
    this.#f = f;
  }
  get(input: I): O {
    if (this.#has && input === this.#input) return this.#output as O;
    const output = this.#f(input);
    if (input === null || (typeof input !== 'object' && typeof input !== 'function')) {
      this.#has = true;
      this.#input = input;
      // Shared by the requests that reuse it, which only read it.
      this.#output = output;
    }
    return output;
  }
}

function hasDefined(o: object): boolean {
  for (const k in o) if ((o as Record<string, unknown>)[k] !== undefined) return true;
  return false;
}

/** `base` with every defined field of `over` on top (undefined fields of `over` do not erase). */
function withDefined<T extends object>(base: T, over: object): T {
  const out = { ...base } as Record<string, unknown>;
  for (const k in over) {
    const v = (over as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out as T;
}

/** Parses and checks a request URL: absolute, http or https, with a host. */
export function parseUrl(input: string | URL): URL {
  let url: URL;
  const shown = () => String(input).replace(/\/\/[^/?#]*@/, '//…@');
  // 'api.example.com/v1' or 'localhost:8443/api': no scheme (the second parses as scheme 'localhost:').
  const noScheme =
    typeof input === 'string' &&
    !/^[a-z][a-z0-9+.-]*:\/\//i.test(input) &&
    /^[\w.-]+(:\d+)?(\/|$)/.test(input);
  try {
    url = new URL(typeof input === 'string' ? input : input.href);
  } catch (err) {
    throw new InvalidURL(
      noScheme
        ? `'${shown()}' has no scheme; did you mean https://${shown()} ?`
        : `'${shown()}' is not a valid URL; an absolute URL like https://example.com/ is needed`,
      { cause: err },
    );
  }
  if (noScheme) throw new InvalidURL(`'${shown()}' has no scheme; did you mean https://${shown()} ?`);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidURL(
      `unsupported URL scheme '${url.protocol}' in ${url.protocol}//${url.host}${url.pathname}; use https:// (or http://)`,
    );
  }
  if (url.hostname === '') throw new InvalidURL(`the URL ${url.href} has no host`);
  // Port 0 names no service; treated as unset it would dial the default port, another service.
  if (url.port === '0') throw new InvalidURL(`the URL ${url.href} has port 0, which no server listens on`);
  // user:password in the URL is taken out by request() (takeUrlCredentials) and sent as Basic auth.
  return url;
}

/** timeout.total: a signal that aborts with TotalTimeout (joined with the caller's), and its clear(). */
function totalDeadline(
  ms: number,
  url: URL,
  callerSignal: AbortSignal | undefined,
): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(
      new TotalTimeout(`the request to ${url.href} did not complete within the total timeout of ${ms} ms`, {
        hint: `The server (or the body) is slow; raise timeout.total if that is expected.${secondsNote(ms)}`,
      }),
    );
  }, ms);
  // An unread body does not keep the process alive for its deadline's sake.
  timer.unref();
  return {
    signal: callerSignal ? AbortSignal.any([callerSignal, controller.signal]) : controller.signal,
    clear: () => clearTimeout(timer),
  };
}

function sessionClosed(message: string): SessionClosed {
  return new SessionClosed(message, {
    hint: 'Make a new Session (or call get() & co. again after closeDefaultSession()).',
  });
}

const NO_RECORDS: readonly RetryRecord[] = Object.freeze([]);

/** The error thrown after retries, with them on `retries` (what each attempt met). */
function withRetries(err: unknown, log: readonly RetryRecord[]): unknown {
  if (log.length > 0 && err instanceof CertainlyError) err.retries = log.slice();
  return err;
}

// The most of a retried response's body read off to keep its connection; past it, the connection
// is closed instead (as discardBody does for redirects).
const DRAIN_MAX = 64 * 1024;

/** Reads off (up to DRAIN_MAX) and drops the body of a response that is retried. */
async function drain(body: Dispatcher.ResponseData['body']): Promise<void> {
  try {
    await (body as unknown as { dump(o: { limit: number }): Promise<void> }).dump({ limit: DRAIN_MAX });
  } catch {
    dropBody(body);
  }
}

/**
 * Stores a response's Set-Cookie lines in the store; returns those stored (for r.cookies). A
 * store of another kind is asked to store them, and what it keeps is not known: r.cookies then
 * lists what a CookieJar would have accepted.
 */
function storeCookies(store: CookieStore, header: string | string[], url: URL): Cookie[] {
  const lines = Array.isArray(header) ? header : [header];
  if (store instanceof CookieJar) return store.setCookies(lines, url);
  store.setCookies(lines, url);
  return new CookieJar().setCookies(lines, url);
}
