/**
 * Adapters: our verification for people who keep their HTTP client.
 *
 * - `dispatcher(options)`: an undici Agent whose connections are made by our connector, for
 *   `fetch(url, { dispatcher })` (Node's global fetch and undici's), undici's `request`, and
 *   anything else that takes an undici Dispatcher.
 * - `agent(options)`: a node:https Agent whose `createConnection` runs the same connector, for
 *   node:https, axios (`httpsAgent`), got (`agent: { https }`) and node-fetch (`agent`).
 *
 * Either way the socket reaches the library only after our verifier accepted the server, so a
 * failed check writes no request byte, and the library's error carries our SSLError (as
 * `cause` for fetch, axios and got; itself for undici's request and node:https).
 *
 * Trust is resolved once, when the adapter is made (a bad CA path is a ConfigError there). Each
 * adapter has its own pool: connections of a `verify: false` adapter are never used by another
 * adapter. Options a library passes per request (rejectUnauthorized, ca, servername) are
 * ignored: the adapter's options decide, so a library default cannot weaken them.
 */

import { AsyncResource } from 'node:async_hooks';
import type http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import type { buildConnector } from 'undici';
import { ConfigError, ConnectionError, ProxyError } from '../errors.js';
import { type ConnectorConfig, createConnector } from '../tls/connector.js';
import type { TlsInfo } from '../tls/handshake.js';
import { parseConnectTo } from '../tls/target.js';
import { anchorsOf, resolveTrust } from '../trust/resolve.js';
import { resolveAia } from '../verify/aia.js';
import { resolveRevocation } from '../verify/index.js';
import { hostPinTable, normaliseFingerprints, normalisePins, pinsForHost } from '../verify/pin.js';
import { http2AgentOptions } from './http2.js';
import { checkOptions } from './option-table.js';
import type { AdapterOptions } from './options.js';
import { connectorConfig } from './pool.js';
import { ProxiedAgent, proxyChooser, proxyFromEnv } from './proxy.js';
import { Agent } from './undici.js';

export type { AdapterOptions };

/**
 * agent()'s second argument: node:https's Agent options without node:tls's, which would not reach
 * the TLS connection (certainly's connector makes it; its options are the first argument's).
 */
export type AgentPoolOptions = Omit<
  https.AgentOptions,
  Exclude<keyof tls.ConnectionOptions, keyof http.AgentOptions> | 'maxCachedSessions'
>;

/**
 * dispatcher()'s second argument: undici's Agent options without those undici reads only to build
 * its own connector (certainly's makes the connections; its options are the first argument's).
 */
export type DispatcherPoolOptions = Omit<
  Agent.Options,
  | 'connect'
  | 'connectTimeout'
  | 'socketPath'
  | 'maxCachedSessions'
  | 'autoSelectFamily'
  | 'autoSelectFamilyAttemptTimeout'
>;

// undici's own default connect timeout (and the Session's).
const DEFAULT_CONNECT_TIMEOUT = 10_000;

/** Reads adapter options once into a connector configuration; ConfigError for bad values. */
function adapterConfig(
  options: AdapterOptions,
  what: string,
  /** dispatcher(): agentOptions.allowH2, undici's spelling of http2. */
  allowH2?: boolean,
): { config: ConnectorConfig; proxied: boolean; choose: ReturnType<typeof proxyChooser>; http2: boolean } {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError(`${what}(options): options must be an object`, { code: 'ERR_OPTIONS' });
  }
  // A typo here would silently verify less than asked (e.g. 'verfy'): the table refuses it.
  checkOptions(options, 'adapter', `${what}(options): `);
  const trustEnv = options.trustEnv ?? true;
  const resolved = resolveTrust({
    ...(options.verify === undefined ? {} : { verify: options.verify }),
    trustEnv,
  });
  const connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
  if (typeof connectTimeout !== 'number' || !Number.isFinite(connectTimeout) || connectTimeout <= 0) {
    throw new ConfigError(
      `${what}(options): connectTimeout must be a positive number of milliseconds, not ${String(connectTimeout)}`,
      { code: 'ERR_TIMEOUT_OPTION' },
    );
  }
  const allPins = options.pin === undefined ? undefined : normalisePins(options.pin, 'pin');
  const hostPins =
    options.pins === undefined
      ? new Map<string, string[]>()
      : hostPinTable(options.pins, `${what}(options): pins`);
  const fingerprints =
    options.fingerprint === undefined ? [] : normaliseFingerprints(options.fingerprint, 'fingerprint');
  // Pins for the name verified: `pin` for every server, else that host's `pins`; fingerprints for all.
  const pinsFor = (name: string) => {
    const spki = allPins ?? pinsForHost(hostPins, name) ?? [];
    return spki.length > 0 || fingerprints.length > 0 ? { spki, fingerprints } : undefined;
  };
  const aia = resolveAia(options.aia);
  const { mode: revocation, online: ocspOnline } = resolveRevocation(options.revocation);
  const choose = proxyChooser(
    {
      ...(options.proxy === undefined ? {} : { proxy: options.proxy }),
      ...(options.proxyVerify === undefined ? {} : { proxyVerify: options.proxyVerify }),
      ...(options.proxyAuth === undefined ? {} : { proxyAuth: options.proxyAuth }),
      ...(options.noProxy === undefined ? {} : { noProxy: options.noProxy }),
      trustEnv,
    },
    { eager: true },
  );
  const proxied =
    options.proxy !== undefined
      ? options.proxy !== false && options.proxy !== null
      : trustEnv && (proxyFromEnv('https:') !== undefined || proxyFromEnv('http:') !== undefined);
  const onConnection = options.onConnection;
  if (onConnection !== undefined && typeof onConnection !== 'function') {
    throw new ConfigError(`${what}(options): onConnection must be a function`, { code: 'ERR_OPTIONS' });
  }
  if (options.http2 !== undefined && allowH2 !== undefined && options.http2 !== allowH2) {
    throw new ConfigError(
      `${what}(): http2: ${String(options.http2)} and agentOptions.allowH2: ${String(allowH2)} contradict each other; give one`,
      { code: 'ERR_OPTIONS' },
    );
  }
  const http2 = options.http2 ?? allowH2 === true;
  const config = connectorConfig({
    trust: anchorsOf(resolved),
    connectTimeout,
    ...(options.serverName !== undefined ? { serverName: options.serverName } : {}),
    ...(options.connectTo !== undefined ? { connectTo: parseConnectTo(options.connectTo) } : {}),
    ...(options.family ? { family: options.family } : {}),
    ...(options.cert !== undefined ? { cert: options.cert } : {}),
    ...(allPins || hostPins.size > 0 || fingerprints.length > 0 ? { pins: pinsFor } : {}),
    ...(aia ? { aia } : {}),
    ...(revocation !== 'soft' ? { revocation } : {}),
    ...(ocspOnline ? { ocspOnline } : {}),
    ...(onConnection ? { onConnection: (origin: string, info: TlsInfo) => onConnection(info, origin) } : {}),
    ...(proxied ? { proxyFor: choose } : {}),
    ...(http2 ? { http2: true } : {}),
  });
  return { config, proxied, choose, http2 };
}

/**
 * What node:tls and node:net options mean here, for a second argument that carries one. node:https
 * hands its Agent's options to createConnection, which here is certainly's connector: it takes
 * only the host, the port and localAddress, so each of these would be silently ignored (a client
 * certificate given as agent({}, { cert, key }) was never sent). Each says what to use instead.
 */
const CONNECTION_OPTIONS: Readonly<Record<string, string>> = {
  ca: "verify: 'ca.pem' (or verify: { ca, bundled: true, system: true } to add it to the defaults)",
  cert: 'cert: { cert, key, passphrase }',
  key: 'cert: { cert, key, passphrase }',
  pfx: 'cert: { pfx, passphrase }',
  passphrase: 'cert: { cert, key, passphrase } or { pfx, passphrase }',
  rejectUnauthorized: 'verify: false (warned once per host)',
  servername: 'serverName',
  checkServerIdentity: 'pin, fingerprint or onConnection',
  family: 'family: 4 or 6',
  lookup: "connectTo: 'host:port' to dial another address",
  hints: 'family: 4 or 6',
  socket: 'connectTo, or proxy',
  // undici's Client takes these for the connector it builds, and ignores them given a connector.
  connectTimeout: 'connectTimeout',
  autoSelectFamily: 'family: 4 or 6',
  autoSelectFamilyAttemptTimeout: 'family: 4 or 6',
  // Node 24's https.Agent proxy support (HTTPS_PROXY read by the Agent itself) happens in its own
  // createConnection, which certainly's replaces: requests went direct, past the proxy asked for.
  proxyEnv:
    "proxy: 'http://host:port' (or trustEnv: true, the default, which reads HTTPS_PROXY and NO_PROXY)",
};
// The rest of node:tls's connection options: certainly makes the TLS connection itself (TLS 1.2
// and 1.3, its own settings), so it has no equivalent for these.
const TLS_ONLY = [
  'ALPNProtocols',
  'ciphers',
  'clientCertEngine',
  'crl',
  'dhparam',
  'ecdhCurve',
  'enableTrace',
  'honorCipherOrder',
  'maxVersion',
  'minDHSize',
  'minVersion',
  'privateKeyEngine',
  'privateKeyIdentifier',
  'pskCallback',
  'requestOCSP',
  'secureContext',
  'secureOptions',
  'secureProtocol',
  'session',
  'sigalgs',
  // A TLS session cache (certainly resumes no session: each connection is verified in full), and
  // undici's Unix socket path.
  'maxCachedSessions',
  'socketPath',
];

/** A ConfigError for a TLS or socket option in an adapter's second (pool) argument. */
function refuseConnectionOptions(agentOptions: object, call: string): void {
  for (const key of Object.keys(agentOptions)) {
    const instead = Object.hasOwn(CONNECTION_OPTIONS, key) ? CONNECTION_OPTIONS[key] : undefined;
    if (instead === undefined && !TLS_ONLY.includes(key)) continue;
    if ((agentOptions as Record<string, unknown>)[key] === undefined) continue;
    throw new ConfigError(
      `${call}: '${key}' in the second argument would be ignored: certainly's connector makes the TLS connection, ` +
        (instead !== undefined
          ? `from the first argument's options; use ${instead} there`
          : 'with its own TLS settings, and has no option for this'),
      {
        code: 'ERR_UNKNOWN_OPTION',
        hint: "The second argument takes the pool's settings only (maxSockets, keepAlive, connections, …).",
      },
    );
  }
}

/**
 * A connection failure with the operating system's code (ECONNREFUSED, ECONNRESET, ENOTFOUND,
 * ETIMEDOUT, …) as its `code`, where certainly's own is ERR_CONNECTION_<the same>: the message,
 * hint, phase and cause stay certainly's. Under an adapter the library, not certainly, decides
 * what to do with the error, and it reads Node's codes: got retries ECONNREFUSED, ECONNRESET,
 * ENOTFOUND, ETIMEDOUT… by default (it stopped retrying through agent()), axios users test
 * `err.code === 'ECONNREFUSED'`, fetch users `err.cause.code`. Anything else passes unchanged.
 */
function withSystemCode(err: Error): Error {
  if (!(err instanceof ConnectionError) || err instanceof ProxyError) return err;
  const system = (err.cause as { code?: unknown } | undefined)?.code;
  if (typeof system !== 'string' || !/^E[A-Z0-9_]+$/.test(system)) return err;
  if (err.code !== `ERR_CONNECTION_${system.slice(1)}`) return err;
  return new ConnectionError(err.message, {
    code: system,
    cause: err.cause,
    phase: err.phase,
    ...(err.hint !== undefined ? { hint: err.hint } : {}),
  });
}

/** certainly's connector, its connection failures carrying the system's code (withSystemCode). */
function adapterConnector(config: ConnectorConfig): buildConnector.connector {
  const connect = createConnector(config);
  return (opts, callback) =>
    connect(opts, (err, socket) => {
      if (err) callback(withSystemCode(err), null);
      else callback(null, socket);
    });
}

/**
 * An undici Agent that verifies with certainly: `fetch(url, { dispatcher: dispatcher(opts) })`,
 * `request(url, { dispatcher })`, `setGlobalDispatcher(dispatcher(opts))`. `agentOptions` go to
 * undici's Agent (connections, keepAliveTimeout, …). Close it when done: `await d.close()`.
 */
export function dispatcher(options: AdapterOptions = {}, agentOptions: DispatcherPoolOptions = {}): Agent {
  // undici's own allowH2 means "offer h2": our connector makes the offer, so it becomes http2.
  if (typeof agentOptions !== 'object' || agentOptions === null) {
    throw new ConfigError('dispatcher(options, agentOptions): agentOptions must be an object', {
      code: 'ERR_OPTIONS',
    });
  }
  if ((agentOptions as { connect?: unknown }).connect !== undefined) {
    throw new ConfigError(
      "dispatcher(options, agentOptions): 'connect' would be ignored: certainly's connector makes every connection; " +
        'give verify, serverName, cert, pin… in the first argument',
      { code: 'ERR_UNKNOWN_OPTION' },
    );
  }
  refuseConnectionOptions(agentOptions, 'dispatcher(options, agentOptions)');
  const allowH2 = (agentOptions as { allowH2?: unknown }).allowH2;
  if (allowH2 !== undefined && typeof allowH2 !== 'boolean') {
    throw new ConfigError(
      `dispatcher(): agentOptions.allowH2 must be true or false, not ${String(allowH2)}`,
      {
        code: 'ERR_OPTIONS',
      },
    );
  }
  const { config, proxied, choose, http2 } = adapterConfig(options, 'dispatcher', allowH2);
  const undiciOptions: Agent.Options = {
    ...(http2 ? http2AgentOptions() : {}),
    ...agentOptions,
    connect: adapterConnector(config),
  };
  return proxied ? new ProxiedAgent(undiciOptions, choose) : new Agent(undiciOptions);
}

/**
 * The checkServerIdentity the agent's options carry. Our createConnection ignores it; it only
 * runs when a library copies `agent.options` into a TLS connection it makes itself, skipping
 * createConnection and so our verifier (axios does when it applies a proxy, its option or
 * HTTPS_PROXY: it tunnels with its own agent and lets Node verify the target against Node's
 * default roots). Such a connection is refused, rather than silently verified another way.
 */
function refuseBypass(hostname: string): Error {
  return new ConfigError(
    `certainly agent(): the TLS connection to ${hostname} was made by another agent from this agent's options, ` +
      "so certainly's verification (verify, pins, serverName, client certificate) would not run; refused. " +
      'axios does this when it applies a proxy itself: pass proxy: false to axios and give the proxy to agent({ proxy }).',
    { code: 'ERR_AGENT_BYPASSED' },
  );
}

type AddRequest = (this: https.Agent, req: http.ClientRequest, options: http.ClientRequestArgs) => void;
type CreateSocket = (
  this: https.Agent,
  req: http.ClientRequest,
  options: http.ClientRequestArgs,
  cb: (err: Error | null, socket?: Duplex) => void,
) => void;

/** node:https's Agent with our connector in createConnection. */
class VerifyingAgent extends https.Agent {
  readonly #connect: buildConnector.connector;
  readonly #config: ConnectorConfig;
  /**
   * Connectors for a request's own `family` (axios' `family`, got's `dnsLookupIpVersion`,
   * node:https's `family`: node:http hands it to createConnection and names the pool by it), made
   * when first asked for. The agent's `family` is the default; a request's own wins, as a
   * request's options win over a Session's.
   */
  readonly #byFamily = new Map<4 | 6, buildConnector.connector>();
  /**
   * Connections being made, per pool name. node:http counts a socket in `sockets` only once
   * createConnection has called back, which ours does after the handshake and verification: a
   * burst of requests all saw an empty pool and each got a connection of its own, whatever
   * maxSockets said (10 connections for 10 requests with maxSockets: 2). addRequest counts these
   * too, and a request past the limit waits here until one of them is made or fails; then it is
   * given to node:http's addRequest again, in its own async context (node:http's own queue keeps
   * an AsyncResource per request for the same reason: a queued request's callbacks must not run
   * in the context of the request that freed the socket).
   */
  readonly #pending = new Map<string, number>();
  readonly #waiting = new Map<string, Waiting[]>();
  constructor(config: ConnectorConfig, agentOptions: https.AgentOptions) {
    // rejectUnauthorized: true so that Node acts on refuseBypass's error (node:tls otherwise only
    // records it); our own connections ignore both options.
    super({ ...agentOptions, rejectUnauthorized: true, checkServerIdentity: refuseBypass });
    this.#config = config;
    this.#connect = adapterConnector(config);
  }

  #connectorFor(family: unknown): buildConnector.connector {
    if ((family !== 4 && family !== 6) || family === this.#config.family) return this.#connect;
    let connect = this.#byFamily.get(family);
    if (!connect) {
      connect = adapterConnector({ ...this.#config, family });
      this.#byFamily.set(family, connect);
    }
    return connect;
  }

  /** The pool name node:http's addRequest computes (its options merge, servername, getName). */
  #nameFor(req: http.ClientRequest, options: http.ClientRequestArgs): string {
    const o: Record<string, unknown> = { ...options, ...(this as unknown as { options: object }).options };
    if (o.socketPath) o.path = o.socketPath;
    if (!o.servername && o.servername !== '') {
      // node:http's calculateServerName: the Host header's name, else the host; never an IP.
      const header = req.getHeader('host');
      let name = typeof header === 'string' ? header : String(o.host ?? '');
      if (typeof header === 'string') {
        name = header.startsWith('[')
          ? header.slice(1, header.indexOf(']'))
          : (header.split(':', 1)[0] ?? '');
      }
      o.servername = net.isIP(name) ? '' : name;
    }
    return this.getName(o as https.AgentOptions & http.ClientRequestArgs);
  }

  // node:http's Agent#addRequest (not in @types/node): overridden, and called as node:http's below.
  addRequest(req: http.ClientRequest, options: http.ClientRequestArgs): void {
    if (
      this.maxSockets !== Number.POSITIVE_INFINITY &&
      this.#pending.size > 0 &&
      typeof options === 'object'
    ) {
      const name = this.#nameFor(req, options);
      const pending = this.#pending.get(name) ?? 0;
      const free = (this.freeSockets[name] ?? []).some((s) => !s.destroyed);
      const busy = this.sockets[name]?.length ?? 0;
      if (pending > 0 && !free && busy + pending >= this.maxSockets) {
        this.#wait(name, req, options);
        return;
      }
    }
    (https.Agent.prototype as unknown as { addRequest: AddRequest }).addRequest.call(this, req, options);
  }

  /**
   * node:http's Agent#createSocket (not in @types/node), for one request. node:http gives a request
   * its socket when createConnection calls back, ours after the handshake: `req.destroy()` before
   * that (an AbortSignal: node:https's and node-fetch's abort) only recorded the error, and the
   * request failed when the connection was made or timed out (a ConnectTimeout 10 s later, not the
   * AbortError). Now a request destroyed while its connection is being made fails at once, as
   * node:http fails one without a socket; the connection, when it comes, goes back to the pool
   * (node:http's 'free': a waiting request gets it, else it is closed), and its failure is dropped.
   */
  createSocket(
    req: http.ClientRequest,
    options: http.ClientRequestArgs,
    cb: (err: Error | null, socket?: Duplex) => void,
  ): void {
    let assigned = false;
    let failedEarly = false;
    const destroy = req.destroy;
    const requests = this.requests as unknown as Record<string, http.ClientRequest[] | undefined>;
    const destroyEarly = function destroyEarly(this: http.ClientRequest, err?: Error): http.ClientRequest {
      const first = !this.destroyed;
      const result = destroy.call(this, err);
      if (first && !assigned && !this.socket) {
        failedEarly = true;
        // node:http makes a connection for the first request it queued when a socket closes: out
        // of the queue, so that the socket freed for it is not handed to it again (a second error).
        for (const [name, queue] of Object.entries(requests)) {
          const i = queue ? queue.indexOf(this) : -1;
          if (queue && i >= 0) queue.splice(i, 1);
          if (queue && queue.length === 0) delete requests[name];
        }
        // node:http's own path for a request that has no socket: 'error' (err, or "socket hang
        // up"), then 'close'.
        (this as unknown as { onSocket(s: undefined, e?: Error): void }).onSocket(undefined, err);
      }
      return result;
    };
    req.destroy = destroyEarly;
    (https.Agent.prototype as unknown as { createSocket: CreateSocket }).createSocket.call(
      this,
      req,
      options,
      (err, socket) => {
        assigned = true;
        if (req.destroy === destroyEarly) req.destroy = destroy;
        if (!failedEarly) {
          cb(err, socket);
          return;
        }
        if (!err) socket?.emit('free');
      },
    );
  }

  /**
   * Holds a request past maxSockets until a connection being made to its pool settles. Aborted
   * while it waits (req.destroy(): an AbortSignal, a timeout), it fails at once, as a request
   * without a socket fails in node:http, and leaves the queue.
   */
  #wait(name: string, req: http.ClientRequest, options: http.ClientRequestArgs): void {
    const destroy = req.destroy;
    const entry: Waiting = {
      req,
      options,
      resource: new AsyncResource('certainly.QueuedRequest'),
      unwrap: () => {
        if (req.destroy === destroyWaiting) req.destroy = destroy;
      },
    };
    const queue = this.#waiting.get(name) ?? [];
    queue.push(entry);
    this.#waiting.set(name, queue);
    const waiting = this.#waiting;
    const destroyWaiting = function destroyWaiting(
      this: http.ClientRequest,
      err?: Error,
    ): http.ClientRequest {
      const first = !this.destroyed;
      const result = destroy.call(this, err);
      const list = waiting.get(name);
      const i = list ? list.indexOf(entry) : -1;
      if (first && list && i >= 0) {
        list.splice(i, 1);
        if (list.length === 0) waiting.delete(name);
        entry.unwrap();
        // node:http's own path for a request that has no socket: 'error' (err, or "socket hang
        // up"), then 'close'.
        (this as unknown as { onSocket(s: undefined, e?: Error): void }).onSocket(undefined, err);
      }
      return result;
    };
    req.destroy = destroyWaiting;
  }

  /**
   * A connection to `name` was made or failed: the requests waiting for it go to addRequest again,
   * each in its own async context; there node:http gives them a free socket, makes a connection,
   * or queues them in its own queue (served when a socket is freed or closed).
   */
  #release(name: string): void {
    const queue = this.#waiting.get(name);
    if (!queue) return;
    this.#waiting.delete(name);
    for (const { req, options, resource, unwrap } of queue) {
      unwrap();
      if (!req.destroyed) resource.runInAsyncScope(() => this.addRequest(req, options));
      // Destroyed some other way while it waited: it fails as node:http fails one without a socket.
      else
        resource.runInAsyncScope(() =>
          (req as unknown as { onSocket(s: undefined): void }).onSocket(undefined),
        );
      resource.emitDestroy();
    }
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    if (typeof callback !== 'function') {
      // node:http always passes one (http.Agent#createSocket); a caller that wants a socket
      // back synchronously cannot have a verified one.
      throw new ConfigError(
        'certainly agent: createConnection needs a callback; the connection is verified asynchronously',
        {
          code: 'ERR_OPTIONS',
        },
      );
    }
    const hostname = String(options.hostname ?? options.host ?? 'localhost').replace(/^\[|\]$/g, '');
    const port = Number(options.port) || 443;
    // node:http's createSocket names the pool in _agentKey.
    const name = (options as { _agentKey?: unknown })._agentKey;
    const key = typeof name === 'string' ? name : undefined;
    if (key !== undefined) this.#pending.set(key, (this.#pending.get(key) ?? 0) + 1);
    this.#connectorFor(options.family)(
      {
        hostname,
        host: hostname.includes(':') ? `[${hostname}]:${port}` : `${hostname}:${port}`,
        protocol: 'https:',
        port: String(port),
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      },
      (err, socket) => {
        if (key !== undefined) {
          const left = (this.#pending.get(key) ?? 1) - 1;
          if (left > 0) this.#pending.set(key, left);
          else this.#pending.delete(key);
        }
        if (err) {
          callback(err, undefined as unknown as Duplex);
          // A request waiting behind this connection gets its own attempt, as after a close.
          if (key !== undefined) this.#release(key);
          return;
        }
        // The Agent's `timeout` (an idle timeout): node:http leaves it to createConnection, as
        // net.connect({ timeout }) sets it, and only sets a request's own when it differs.
        const timeout = Number(options.timeout);
        if (timeout > 0) (socket as net.Socket).setTimeout(timeout);
        callback(null, socket as Duplex);
        // Handed over and counted in `sockets` now: the requests waiting for it are added again.
        if (key !== undefined) this.#release(key);
      },
    );
    return undefined;
  }
}

/**
 * A node:https Agent that verifies with certainly: `https.get(url, { agent: agent(opts) })`,
 * axios `{ httpsAgent: agent(opts) }`, got `{ agent: { https: agent(opts) } }`, node-fetch
 * `{ agent: agent(opts) }`. `agentOptions` go to https.Agent (keepAlive defaults to true,
 * maxSockets, …). For https URLs only; proxies apply to https targets (CONNECT).
 */
export function agent(
  // node:https speaks HTTP/1.1 only: `http2: true` is a compile error here, and a ConfigError below.
  options: AdapterOptions & { http2?: false | undefined } = {},
  agentOptions: AgentPoolOptions = {},
): https.Agent {
  if (options !== null && typeof options === 'object' && (options as AdapterOptions).http2 === true) {
    throw new ConfigError(
      'agent(options): http2 is not available here: node:https (and axios, got or node-fetch through this agent) speak HTTP/1.1 only. ' +
        'For HTTP/2 use dispatcher({ http2: true }) with fetch or undici, or a Session with http2: true.',
      { code: 'ERR_OPTIONS' },
    );
  }
  const { config } = adapterConfig(options, 'agent');
  if (typeof agentOptions !== 'object' || agentOptions === null) {
    throw new ConfigError('agent(options, agentOptions): agentOptions must be an object', {
      code: 'ERR_OPTIONS',
    });
  }
  refuseConnectionOptions(agentOptions, 'agent(options, agentOptions)');
  return new VerifyingAgent(config, { keepAlive: true, ...agentOptions });
}

/** A request held by VerifyingAgent past maxSockets, with the async context it came in. */
interface Waiting {
  req: http.ClientRequest;
  options: http.ClientRequestArgs;
  resource: AsyncResource;
  /** Puts back the request's own destroy. */
  unwrap: () => void;
}
