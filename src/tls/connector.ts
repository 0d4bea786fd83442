/**
 * The undici `connect` function (undici lib/core/connect.js is the hook): for each new
 * connection of a pool, the Target (tls/target.ts), the proxy chosen for the URL, then the one
 * handshake (tls/handshake.ts), our verifier, pins, and AIA completion, before the socket is
 * handed to undici; so no request byte is written to a server whose certificate failed. Nothing
 * here runs per request: a keep-alive request reuses the verified socket.
 */

import type { buildConnector } from 'undici';
import { ConnectionError, INSECURE_WARNING, SSLError } from '../errors.js';
import type { TrustAnchors } from '../trust/types.js';
import { aiaCanHelp, type ResolvedAia } from '../verify/aia.js';
import { parseReferenceName } from '../verify/identity.js';
import type { OnlineOcsp, VerifiedPath } from '../verify/index.js';
import type { Certificate } from '../x509/types.js';
import { completeChain } from './aia.js';
import type { IpFamily } from './family.js';
import {
  type ClientTlsOptions,
  dialPlain,
  type Handshake,
  handshake,
  mapSocketError,
  type ProxyRoute,
  type TlsInfo,
  type VerifyConfig,
  verifyHandshake,
} from './handshake.js';
import { cachedOcsp, fetchOcsp, NO_RESPONDER } from './ocsp-fetch.js';
import { handOverSocket } from './parser-tiering.js';
import { type ConnectTarget, resolveTarget, stripBrackets, type Target } from './target.js';

export interface ConnectorConfig extends VerifyConfig {
  /** The name to verify (and send as SNI) instead of the URL host. */
  serverName?: string;
  /** Where to dial instead of the URL host; the URL host (or serverName) is still verified. */
  connectTo?: ConnectTarget;
  /** TCP + proxy + TLS handshake time limit, ms. */
  connectTimeout?: number;
  /**
   * Resolve names to this address family only (curl's -4 / -6): the host dialled, or the proxy's,
   * or a target sent to a socks5:// proxy as an address; an IP literal of the other is refused.
   */
  family?: IpFamily;
  /** ALPN protocols to offer; default ['http/1.1']. */
  alpn?: string[];
  /** The client certificate, as node:tls takes it (read and checked by tls/client-cert.ts). */
  tlsOptions?: ClientTlsOptions;
  /**
   * AIA: when the path fails for want of an issuer (INCOMPLETE_CHAIN, UNKNOWN_ISSUER), fetch it
   * from the caIssuers URLs (tls/aia.ts), through this connection's proxy; fetched certificates
   * are tried after those the server sent, never as anchors.
   */
  aia?: ResolvedAia;
  /**
   * Online OCSP (`revocation: { online }`): when the server staples nothing, ask the leaf's OCSP
   * responder (tls/ocsp-fetch.ts), through this connection's proxy; off when undefined.
   */
  ocspOnline?: ResolvedAia;
  /** Called with every successful connection's info. */
  onConnection?: (origin: string, info: TlsInfo) => void;
  /**
   * The proxy for a URL (client/proxy.ts chooses: option, environment, NO_PROXY), or null to
   * dial directly. https targets get a tunnel (CONNECT or SOCKS5) with the TLS handshake with the
   * *target* inside it; http targets a connection to the proxy, which forwards the request.
   */
  proxyFor?: (url: { protocol: string; hostname: string; port: string }) => ProxyRoute | null;
}

/** What each socket this module handed to undici was verified as (client/served-by.ts reads it). */
const infoBySocket = new WeakMap<object, TlsInfo>();

/** The TlsInfo of a TLS socket made by a connector of this module, once it was handed over. */
export function tlsInfoOf(socket: object): TlsInfo | undefined {
  return infoBySocket.get(socket);
}

const warnedInsecureHosts = new Set<string>();
// Hosts remembered for the once-per-host warning. Past this the record starts over (a host may
// then be warned about again): a process that talks to thousands of unverified hosts must not
// grow without bound for the sake of a warning.
const MAX_WARNED_HOSTS = 1024;

/** Emits InsecureRequestWarning once per host (users can silence it with process listeners). */
function warnInsecure(host: string): void {
  if (warnedInsecureHosts.has(host)) return;
  if (warnedInsecureHosts.size >= MAX_WARNED_HOSTS) warnedInsecureHosts.clear();
  warnedInsecureHosts.add(host);
  process.emitWarning(
    `Unverified HTTPS request to ${host}: certificate verification is off (verify: false). ` +
      `Anyone on the network path can read and change this traffic. Trust the server's CA ` +
      `instead (verify: 'ca.pem'), or verify a name it does carry (serverName).`,
    INSECURE_WARNING,
  );
}

/**
 * Builds an undici `connect` function for one configuration. The same function serves every
 * origin of an Agent; `serverName`/`connectTo` are meant for Agents used with one origin.
 */
export function createConnector(config: ConnectorConfig): buildConnector.connector {
  const timeoutMs = config.connectTimeout ?? 10_000; // undici's default connect timeout
  if (config.serverName !== undefined) parseReferenceName(config.serverName); // fail early
  const handshakeOptions = {
    trust: config.trust,
    timeout: timeoutMs,
    ...(config.family ? { family: config.family } : {}),
    ...(config.alpn ? { alpn: config.alpn } : {}),
    ...(config.tlsOptions ? { clientCert: config.tlsOptions } : {}),
    // The stapled OCSP response is asked for whenever revocation is on (verify/revocation.ts).
    ...(config.trust !== null && config.revocation !== 'off' ? { requestOCSP: true } : {}),
  };
  return function connect(opts, callback) {
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
    let proxy: ProxyRoute | null = null;
    let target: Target;
    try {
      proxy =
        config.proxyFor?.({
          protocol: opts.protocol,
          hostname: stripBrackets(opts.hostname),
          port: String(port),
        }) ?? null;
      target = resolveTarget(opts.hostname, port, {
        ...(config.serverName !== undefined ? { serverName: config.serverName } : {}),
        ...(config.connectTo ? { connectTo: config.connectTo } : {}),
      });
    } catch (err) {
      callback(err as Error, null);
      return;
    }
    if (opts.protocol !== 'https:') {
      dialPlain(target.dialHost, target.dialPort, {
        timeout: timeoutMs,
        proxy,
        ...(config.family ? { family: config.family } : {}),
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      }).then(
        (s) => handOverSocket(s, callback),
        (err: Error) => callback(err, null),
      );
      return;
    }
    const origin = `${opts.protocol}//${opts.host}`;
    // AIA is fetched once per connection, though a client certificate verifies twice (below).
    const memo: AiaMemo = {};
    const verifyOrComplete = async (h: Handshake): Promise<void> => {
      try {
        await verifyWithOnline(h, config, proxy, memo);
      } catch (err) {
        if (!(err instanceof SSLError) || !config.aia || config.trust === null || !aiaCanHelp(err)) throw err;
        await completeAndVerify(h, config, config.aia, config.trust, err, proxy, memo);
      }
    };
    handshake(target, {
      ...handshakeOptions,
      proxy,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      // A client certificate leaves only once the server's chain has passed our verifier
      // (tls/gate.ts); the verification after the handshake then repeats it (cached signatures).
      ...(config.tlsOptions ? { beforeClientFlight: verifyOrComplete } : {}),
    }).then(
      (h) => {
        const refuse = (err: unknown) => {
          h.socket.on('error', () => {});
          h.socket.destroy();
          callback(err as Error, null);
        };
        const accept = () => {
          // Under TLS 1.3 a server refuses a client certificate only after the client's handshake
          // is done: its alert arrives as the first read, an 'error' node:tls emits itself.
          // undici would report it as "other side closed", node:http as OpenSSL's text; it is
          // replaced by our SSLError (the reason, the hint) inside that one emit, so every
          // listener sees one error, ours. (Destroying the socket with a second error made
          // node:http emit 'error' twice on the request, the second to nobody: an uncaught
          // exception under axios and got.)
          const clientCert = config.tlsOptions !== undefined;
          type Emit = (this: typeof h.socket, event: string | symbol, ...args: unknown[]) => boolean;
          const emit = h.socket.emit as Emit;
          h.socket.emit = function emitLateAlert(
            this: typeof h.socket,
            event: string | symbol,
            ...args: unknown[]
          ) {
            const e = args[0] as NodeJS.ErrnoException | undefined;
            if (event !== 'error' || !e || e instanceof SSLError || !/_ALERT_/.test(e.code ?? '')) {
              return emit.call(this, event, ...args);
            }
            const emitted = emit.call(
              this,
              'error',
              mapSocketError(e, h.info.address, h.info.sni, clientCert, true),
            );
            this.destroy();
            return emitted;
          } as typeof h.socket.emit;
          try {
            // A callback that throws refuses the connection (and must not become an unhandled
            // rejection of this promise chain, with the socket left open and undici waiting).
            config.onConnection?.(origin, h.info);
          } catch (err) {
            refuse(err);
            return;
          }
          infoBySocket.set(h.socket, h.info);
          handOverSocket(h.socket, callback);
        };
        if (config.trust === null) warnInsecure(h.info.verifiedName);
        verifyOrComplete(h).then(accept, refuse);
      },
      (err: Error) => callback(err, null),
    );
  };
}

/** One connection's AIA and OCSP fetches, shared by its two verifications (see beforeClientFlight). */
interface AiaMemo {
  fetched?: Promise<{ certs: Certificate[]; notes: string[] }>;
  ocsp?: Promise<OnlineOcsp>;
}

/**
 * Verifies, asking the leaf's OCSP responder first when online OCSP is on and the server stapled
 * nothing. The issuer the request names is known only once a path is built, so the path is built
 * once under 'soft' without pins (its result is kept only for the issuer); when it leaves the leaf
 * unchecked, the response is fetched and the real verification runs with it. A must-staple leaf
 * is not helped by an online answer (RFC 7633: the staple is required), so nothing is fetched.
 */
async function verifyWithOnline(
  h: Handshake,
  config: ConnectorConfig,
  proxy: ProxyRoute | null,
  memo: AiaMemo,
): Promise<void> {
  const online = config.ocspOnline;
  if (!online || config.trust === null || config.revocation === 'off' || h.staple) {
    verifyHandshake(h, config);
    return;
  }
  // A server seen before: its current answer, without a first path build to learn the issuer.
  // A leaf that names no responder (Let's Encrypt's since 2025) has nothing to ask either.
  const cached = h.chain[0] ? cachedOcsp(h.chain[0], online) : undefined;
  if (cached || (h.chain[0] && (h.chain[0].authorityInfoAccess?.ocsp ?? []).length === 0)) {
    verifyHandshake({ ...h, online: cached ?? { problem: NO_RESPONDER } }, config);
    return;
  }
  let first: VerifiedPath | undefined;
  try {
    const { afterVerify: _pins, ...soft } = config;
    first = verifyHandshake({ ...h, info: { ...h.info } }, { ...soft, revocation: 'soft' });
  } catch {
    // It fails whatever OCSP would say: the real verification gives the error.
  }
  const leaf = first?.revocation.certificates[0];
  if (!first || first.revocation.mustStaple || leaf?.status !== 'unchecked') {
    verifyHandshake(h, config);
    return;
  }
  const issuer = first.path[1] ?? first.anchor.cert;
  memo.ocsp ??= fetchOcsp(first.path[0]!, issuer, online, proxy);
  const answer = await whileSocketWaits(h, memo.ocsp, 'asking the OCSP responder');
  verifyHandshake({ ...h, online: answer }, config);
}

/**
 * Awaits `p` while the verified-to-be socket waits; a close or error on it meanwhile ends the
 * attempt as a ConnectionError (AIA and OCSP fetches).
 */
async function whileSocketWaits<T>(h: Handshake, p: Promise<T>, doing: string): Promise<T> {
  const watch = watchLoss(h);
  let out: T;
  try {
    out = await p;
  } finally {
    watch.release();
  }
  watch.check(doing);
  return out;
}

/**
 * Records an error or close on the waiting socket until released; `check` then throws the
 * ConnectionError (ERR_CONNECTION_CLOSED) if the socket was lost meanwhile or is gone now.
 */
function watchLoss(h: Handshake): { release(): void; check(doing: string): void } {
  let lost: Error | undefined;
  const onError = (e: Error) => {
    lost ??= e;
  };
  const onClose = () => {
    lost ??= new Error('the server closed the connection');
  };
  h.socket.on('error', onError);
  h.socket.once('close', onClose);
  return {
    release: () => {
      h.socket.removeListener('error', onError);
      h.socket.removeListener('close', onClose);
    },
    check: (doing) => {
      if (lost || h.socket.destroyed) {
        throw new ConnectionError(
          `the connection to ${h.info.address} was lost while ${doing}: ${(lost ?? new Error('closed')).message}`,
          { code: 'ERR_CONNECTION_CLOSED', ...(lost ? { cause: lost } : {}) },
        );
      }
    },
  };
}

/**
 * The AIA path: fetch the missing issuers, then verify again with them after the sent chain.
 * The socket waits meanwhile; an error or close on it ends the attempt as a ConnectionError.
 */
async function completeAndVerify(
  h: Handshake,
  config: ConnectorConfig,
  aia: ResolvedAia,
  trust: TrustAnchors,
  first: SSLError,
  proxy: ProxyRoute | null,
  memo: AiaMemo,
): Promise<void> {
  const watch = watchLoss(h);
  let extra: { certs: Certificate[]; notes: string[] };
  try {
    memo.fetched ??= completeChain(h.chain, trust, { ...aia, proxy });
    extra = await memo.fetched;
  } finally {
    watch.release();
  }
  const note = (err: SSLError) => {
    if (extra.notes.length === 0) return;
    err.hint = `${err.hint ? `${err.hint} ` : ''}Fetching the missing issuer (aia) did not help: ${extra.notes.join('; ')}.`;
  };
  if (extra.certs.length === 0) {
    note(first);
    throw first;
  }
  h.info.fetched = extra.certs.map((c) => c.summary());
  try {
    await verifyWithOnline({ ...h, chain: [...h.chain, ...extra.certs] }, config, proxy, memo);
  } catch (err) {
    if (err instanceof SSLError) note(err);
    throw err;
  }
  watch.check('fetching a missing intermediate certificate');
}
