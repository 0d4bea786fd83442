/**
 * THE one place that opens a connection for a TLS target (STYLE.md, after urllib3's ssl_.py):
 * every request, adapter, `check`, `ca explain` and intermediate (AIA) fetch comes through here.
 *
 *   direct:      TCP to target.dialHost:dialPort, then TLS;
 *   HTTP proxy:  TCP (http://) or verified TLS (https://) to the proxy, CONNECT host:port
 *                (RFC 9110 §9.3.6), then TLS with the *target* inside the tunnel;
 *   SOCKS5:      TCP to the proxy, RFC 1928 CONNECT (socks5h: the proxy resolves the name), then
 *                TLS with the target inside.
 *
 * TLS runs with SNI from the Target (none for IP literals), node:tls doing the handshake with
 * `rejectUnauthorized: false` and Node's name check off; *our* verifier decides (verifyHandshake),
 * before the socket is handed to anyone, so no application byte reaches a server whose
 * certificate failed. On any failure every socket is destroyed. Socket and proxy errors are
 * mapped to typed errors here, once, so `get` and `check` say the same thing about the same fault.
 *
 * A tap (HandshakeTap) lets diagnosis read what only the connection knows: DNS answers and
 * timings, TCP and TLS times, the bytes the server sent and the TLS 1.3 handshake secret (to read
 * the Certificate message as sent). diagnose/ reads a handshake's result; it opens no socket.
 */

import type { X509Certificate } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import {
  ConnectionError,
  ConnectTimeout,
  INSECURE_WARNING,
  ProxyError,
  SSLError,
  secondsNote,
} from '../errors.js';
import { type AnchorClass, classifyAnchor, describeAnchor } from '../trust/classify.js';
import type { TrustAnchor, TrustAnchors } from '../trust/types.js';
import {
  type OnlineOcsp,
  type RevocationMode,
  type RevocationReport,
  selfSignedHint,
  type VerifiedPath,
  verifyServer,
} from '../verify/index.js';
import { parseCertificate } from '../x509/index.js';
import type { Certificate, CertificateSummary } from '../x509/types.js';
import { contextFor } from './context.js';
import { checkLiteralFamily, familyLookup, type IpFamily, noAddressError } from './family.js';
import { ClientFlightGate } from './gate.js';
import { TapStream } from './tap.js';
import { formatAddress, resolveTarget, type Target } from './target.js';
import { openConnectTunnel, openSocks5Tunnel, type ProxyRoute } from './tunnel.js';

export type { ProxyRoute };

/** Client certificate options as node:tls takes them (read and checked by tls/client-cert.ts). */
export type ClientTlsOptions = Pick<tls.ConnectionOptions, 'cert' | 'key' | 'passphrase' | 'pfx'>;

/** What a connection proved about the server, for Response.tls and diagnosis. */
export interface TlsInfo {
  /** 'TLSv1.3', 'TLSv1.2', … */
  protocol: string | null;
  cipher: string | null;
  alpn: string | null;
  /** The SNI sent, or null (IP literals get none). */
  sni: string | null;
  /** The name that was verified. */
  verifiedName: string;
  /**
   * The IP address and port TCP connected to ('127.0.0.1:8443', '[::1]:443'); through a proxy,
   * which dials for us, the host:port it was asked to reach.
   */
  address: string;
  /** The chain as the server sent it (as far as node:tls exposes it), leaf first. */
  chain: CertificateSummary[];
  /**
   * The trust anchor that ended the verified path; absent when verify is off. `kind`: a public
   * root ('bundled'), a root only the OS trusts ('system-only': a corporate root or a
   * TLS-inspecting proxy, which `note` then says), or a CA you configured ('user').
   */
  anchor?: { subject: string; sources: string[]; kind: AnchorClass; note?: string };
  /** False only for verify: false. */
  verified: boolean;
  /**
   * OpenSSL's own verdict against the same anchors, a cross-check that diagnosis (`check`,
   * `diagnose()`) asks for; absent on ordinary requests, where OpenSSL is given no anchors.
   */
  openssl?: { authorized: boolean; error: string | null };
  /** Intermediates fetched from the certificates' AIA URLs (the `aia` option), not sent by the server. */
  fetched?: CertificateSummary[];
  /** What was checked for revocation, and how (stapled OCSP, CRLs); absent when verify is off. */
  revocation?: RevocationReport;
}

/**
 * Certificates accepted from one handshake at most. Web PKI chains have 2-4; servers that send a
 * whole bundle send a few dozen. The bound keeps a hostile server from making us parse hundreds
 * (OpenSSL's own cap is on bytes: 100 KB of Certificate message, a few hundred small certificates).
 * A chain over it is refused with CHAIN_TOO_LONG, not cut: a cut chain fails later with a message
 * about a missing issuer that points the wrong way.
 */
export const MAX_PEER_CERTIFICATES = 64;
/** How far past the limit the chain is counted for the message (OpenSSL's byte cap ends it sooner). */
const COUNT_CAP = 4096;

/**
 * The certificates the server sent, leaf first, in the order sent, extras and duplicates kept.
 *
 * getPeerX509Certificate() walks OpenSSL's peer chain as received. We do not use
 * getPeerCertificate(true): it links each certificate to its issuer and stops early when the
 * issuer it finds is the last one left, so [leaf, I1, I2] with I2 the leaf's issuer comes back
 * as [leaf, I2] (measured on Node 20.20 and 24.22) and the path cannot be built.
 */
export function peerChain(socket: tls.TLSSocket): Certificate[] {
  return peerCertificatesDer(socket).map(parseCached);
}

/**
 * The DER of each certificate the server sent, in the order sent (see peerChain), unparsed.
 * Throws SSLError CHAIN_TOO_LONG when the server sent more than MAX_PEER_CERTIFICATES.
 */
export function peerCertificatesDer(socket: tls.TLSSocket): Buffer[] {
  const out: Buffer[] = [];
  let count = 0;
  let c: X509Certificate | undefined = socket.getPeerX509Certificate();
  while (c !== undefined && count < COUNT_CAP) {
    count++;
    if (out.length < MAX_PEER_CERTIFICATES) out.push(c.raw);
    const next: X509Certificate | undefined = c.issuerCertificate;
    if (next === c) break;
    c = next;
  }
  if (count > MAX_PEER_CERTIFICATES) throw chainTooLong(count);
  return out;
}

function chainTooLong(count: number): SSLError {
  const n = count >= COUNT_CAP ? `at least ${count}` : `${count}`;
  return new SSLError(
    `the server sent ${n} certificates; certainly accepts at most ${MAX_PEER_CERTIFICATES} in one chain`,
    {
      code: 'CHAIN_TOO_LONG',
      hint: `The server operator should send only the server certificate and its intermediates (a web PKI chain has 2 to 4), not a whole CA bundle.`,
    },
  );
}

/** Parsed certificates by DER, so a warm pool does not parse the same chain again. */
const parsedCache = new Map<string, Certificate>();
const PARSED_CACHE_MAX = 512; // a few hundred distinct server chains per process; bounded memory
function parseCached(der: Buffer): Certificate {
  const key = der.toString('base64');
  const hit = parsedCache.get(key);
  if (hit) return hit;
  const cert = parseCertificate(new Uint8Array(der.buffer, der.byteOffset, der.byteLength));
  if (parsedCache.size >= PARSED_CACHE_MAX) parsedCache.delete(parsedCache.keys().next().value as string);
  parsedCache.set(key, cert);
  return cert;
}

// TLS alerts a server sends about the client's certificate (RFC 8446 §6.2, RFC 5246 §7.2.2):
// certificate_required (116), bad_certificate (42), unsupported_certificate (43),
// certificate_revoked (44), certificate_expired (45), certificate_unknown (46), unknown_ca (48),
// access_denied (49). OpenSSL names a received alert ERR_SSL_<version>_ALERT_<NAME>.
const CLIENT_CERT_ALERT =
  /_ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNSUPPORTED_CERTIFICATE|CERTIFICATE_REVOKED|CERTIFICATE_EXPIRED|CERTIFICATE_UNKNOWN|UNKNOWN_CA|ACCESS_DENIED)$/;

/** The hint for an alert about the client certificate, or undefined for other alerts. */
function clientCertHint(code: string, clientCert: boolean): string | undefined {
  const m = CLIENT_CERT_ALERT.exec(code);
  if (!m) {
    if (!clientCert && code.endsWith('_ALERT_HANDSHAKE_FAILURE')) {
      return 'The server refused the handshake. It may require a client certificate (pass cert: { cert, key } or { pfx }), or accept no TLS version or cipher this client offers.';
    }
    return undefined;
  }
  if (!clientCert) return 'The server requires a client certificate: pass cert: { cert, key } (or { pfx }).';
  switch (m[1]) {
    case 'UNKNOWN_CA':
      return 'The server does not trust the issuer of the client certificate: use a certificate from the CA the server expects, and put its intermediates in the cert file after it.';
    case 'CERTIFICATE_EXPIRED':
      return 'The server says the client certificate has expired: renew it.';
    case 'CERTIFICATE_REVOKED':
      return 'The server says the client certificate has been revoked: get a new one.';
    case 'CERTIFICATE_REQUIRED':
      return 'The server wanted a client certificate it can accept and got none: check that cert is issued by one of the CAs the server accepts.';
    default:
      return 'The server refused the client certificate: check that it is the one the server expects, issued by a CA it trusts, within its validity, and allowed for client authentication (extended key usage clientAuth).';
  }
}

/** The hint for an alert about what the two sides could not agree on (versions, ALPN). */
function protocolHint(alert: string, alpn: readonly string[] | undefined): string | undefined {
  if (alert === 'PROTOCOL_VERSION') {
    // What was offered is the process's range (the command line's --tlsv1.3 / --tls-max narrow it).
    const min = tls.DEFAULT_MIN_VERSION;
    const max = tls.DEFAULT_MAX_VERSION;
    if (min === 'TLSv1.3' || max === 'TLSv1.2') {
      const offered = min === max ? min.replace('TLSv', 'TLS ') : `TLS ${min.slice(4)} to ${max.slice(4)}`;
      return `The server accepts none of the TLS versions offered (${offered}, narrowed for this process): offer the versions the server speaks (TLS 1.2 and 1.3 by default).`;
    }
    return 'The server accepts no TLS version this client offers (1.2 and 1.3): it speaks only TLS 1.0 or 1.1, retired by RFC 8996 and refused by browsers since 2020. Its operator must enable TLS 1.2 or 1.3; certainly does not offer the old versions.';
  }
  if (alert === 'NO_APPLICATION_PROTOCOL') {
    const offered = alpn ?? ['http/1.1'];
    return offered.includes('h2')
      ? `The server accepts none of the protocols offered (ALPN: ${offered.join(', ')}): it serves something other than HTTP on that port.`
      : `The server refused HTTP/1.1 (ALPN): it most likely speaks only HTTP/2. Pass http2: true.`;
  }
  return undefined;
}

/** OpenSSL's SSL_MAX_CERT_LIST_DEFAULT (ssl.h: 1024 * 100 bytes), in KiB, for messages. */
const MAX_CERT_LIST_KIB = 100;

export function mapSocketError(
  err: NodeJS.ErrnoException,
  address: string,
  sni: string | null,
  clientCert = false,
  afterHandshake = false,
  alpn?: readonly string[],
): Error {
  if (err instanceof SSLError || err instanceof ConnectionError || err instanceof ConnectTimeout) return err;
  const code = err.code ?? '';
  const alert = /_ALERT_([A-Z0-9_]+)$/.exec(code)?.[1];
  if (alert) {
    const name = alert.toLowerCase().replace(/_/g, ' ');
    const certHint = clientCertHint(code, clientCert) ?? protocolHint(alert, alpn);
    const about = CLIENT_CERT_ALERT.test(code)
      ? clientCert
        ? ', refusing the client certificate'
        : ', asking for a client certificate'
      : '';
    return new SSLError(
      `${afterHandshake ? 'after the TLS handshake, ' : 'TLS handshake failed: '}the server at ${address} sent the alert "${name}"${about}`,
      {
        code: 'HANDSHAKE_FAILED',
        cause: err,
        hint:
          certHint ??
          `The server and this client could not agree on TLS${sni ? ` for ${sni}` : ''}; check that ${address} speaks TLS (not plain HTTP) and supports TLS 1.2 or 1.3.`,
      },
    );
  }
  if (clientCert && code === 'ECONNRESET' && /before secure TLS connection/i.test(err.message)) {
    // With a client certificate offered, a reset in the middle of the handshake is how many
    // servers (Node's among them) refuse a certificate they do not accept: say so.
    return new SSLError(
      `TLS handshake failed: the server at ${address} closed the connection during the handshake, after a client certificate was offered`,
      {
        code: 'HANDSHAKE_FAILED',
        cause: err,
        hint: 'Servers do this when they refuse a client certificate without saying why: check that cert is the one the server expects, issued by a CA it trusts and within its validity.',
      },
    );
  }
  if (code === 'ERR_SSL_EXCESSIVE_MESSAGE_SIZE' || /excessive message size/i.test(err.message)) {
    // OpenSSL caps the server's Certificate (and CertificateRequest) message at max_cert_list,
    // SSL_MAX_CERT_LIST_DEFAULT = 100 KiB (ssl.h; statem_clnt.c), which Node gives no option to
    // raise; its other messages have fixed caps a working server never reaches.
    return new SSLError(
      `TLS handshake with ${address} failed: the server's certificate chain is larger than OpenSSL accepts ` +
        `(excessive message size: over ${MAX_CERT_LIST_KIB} KiB in one handshake message)`,
      {
        code: 'HANDSHAKE_FAILED',
        cause: err,
        hint:
          `The server must send a smaller certificate chain (under ${MAX_CERT_LIST_KIB} KiB, the limit of every ` +
          'OpenSSL-based client: Node, curl, Python): fewer subjectAltName entries per certificate (split the names ' +
          'over several certificates, chosen by SNI), no large extensions, and no extra or duplicate certificates.',
      },
    );
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/i.test(err.message)) {
    // What a port that speaks plain HTTP (or anything but TLS) makes OpenSSL say: the first bytes
    // back are not a TLS record. The commonest cause is https:// to an http port.
    return new SSLError(
      `TLS handshake with ${address} failed: the server did not answer in TLS (OpenSSL: wrong version number); it most likely speaks plain HTTP on that port`,
      {
        code: 'HANDSHAKE_FAILED',
        cause: err,
        hint: `Use the port where the server speaks TLS (443 unless told otherwise). If ${address} serves only plain HTTP, an http:// URL reaches it, with nothing verified or encrypted.`,
      },
    );
  }
  if (
    code.startsWith('ERR_SSL') ||
    code.startsWith('ERR_TLS') ||
    /alert|handshake|SSL routines/i.test(err.message)
  ) {
    return new SSLError(`TLS handshake with ${address} failed: ${opensslReason(err.message)}`, {
      code: 'HANDSHAKE_FAILED',
      cause: err,
      hint: /certificate required|alert number 116/i.test(err.message)
        ? 'The server asks for a client certificate: pass cert: { cert, key }.'
        : `The server and this client could not agree on TLS${sni ? ` for ${sni}` : ''}; check that ${address} speaks TLS (not plain HTTP) and supports TLS 1.2 or 1.3.`,
    });
  }
  const why: Record<string, string> = {
    ECONNREFUSED: 'the connection was refused (nothing listens on that port)',
    ECONNRESET: 'the connection was reset by the server',
    ENOTFOUND: 'the host name could not be resolved (DNS)',
    EAI_AGAIN: 'the host name could not be resolved right now (DNS)',
    EHOSTUNREACH: 'the host is unreachable',
    ENETUNREACH: 'the network is unreachable',
    EPIPE: 'the server closed the connection',
  };
  return new ConnectionError(`could not connect to ${address}: ${why[code] ?? err.message}`, {
    code: code ? `ERR_CONNECTION_${code.replace(/^E/, '')}` : 'ERR_CONNECTION',
    cause: err,
  });
}

/**
 * OpenSSL's error line ('80BC…:error:0A00010B:SSL routines:ssl3_get_record:wrong version
 * number:../ssl/record/ssl3_record.c:350:\n') reduced to its reason ('wrong version number');
 * any other message as it is, without a trailing newline.
 */
function opensslReason(message: string): string {
  const m = /SSL routines:[^:]*:([^:]+)/.exec(message);
  return m ? `${m[1]!.trim()} (OpenSSL)` : message.trim();
}

function badEncoding(err: unknown, address: string): SSLError {
  return new SSLError(
    `the server at ${address} sent a certificate that cannot be parsed: ${(err as Error).message}`,
    {
      code: 'BAD_ENCODING',
      cause: err,
      hint: 'The server is misconfigured: its certificate file is corrupt or not X.509.',
    },
  );
}

/**
 * Verifies a completed handshake: path, identity, then pins (config.afterVerify). Throws
 * SSLError; returns the verified path. For verify: false only the pins are checked (as curl
 * checks --pinnedpubkey with -k): a pin the user gave is never silently ignored.
 */
export function verifyHandshake(h: Handshake, config: VerifyConfig): VerifiedPath | undefined {
  const trust = config.trust;
  if (trust === null) {
    try {
      // Even with no certificate at all: a pin must then fail, not be skipped.
      config.afterVerify?.(h.chain, h.info);
    } catch (err) {
      if (err instanceof SSLError && err.chain === undefined) err.chain = h.info.chain;
      throw err;
    }
    return undefined;
  }
  try {
    if (h.chain.length === 0) {
      throw new SSLError(`the server at ${h.info.address} sent no certificate`, {
        code: 'NO_CERTIFICATE',
        expected: h.info.verifiedName,
        hint: 'The server is misconfigured: it must present a certificate.',
      });
    }
    const verified = verifyServer({
      chain: h.chain,
      name: h.target.name,
      trust,
      ...(config.time ? { time: config.time } : {}),
      ...(config.revocation ? { revocation: config.revocation } : {}),
      ...(h.staple !== undefined ? { staple: h.staple } : {}),
      ...(h.online ? { online: h.online } : {}),
    });
    h.info.verified = true;
    h.info.anchor = anchorInfo(verified.anchor);
    h.info.revocation = verified.revocation;
    config.afterVerify?.(h.chain, h.info);
    return verified;
  } catch (err) {
    if (err instanceof SSLError) {
      if (err.chain === undefined) err.chain = h.info.chain;
      if (err.code === 'SELF_SIGNED' && err.position === 0)
        err.hint = selfSignedHint(formatAddress(h.target.host, h.target.port), reachFlags(h.target));
      if (INTERCEPTION_HINT_CODES.has(err.code)) noteInterception(err, h, trust, config.time);
    }
    throw err;
  }
}

/** The anchor as Response.tls shows it: where it came from, and what kind of root it is. */
function anchorInfo(anchor: TrustAnchor): NonNullable<TlsInfo['anchor']> {
  const kind = classifyAnchor(anchor);
  return {
    subject: anchor.cert.subject.text,
    sources: [...anchor.sources],
    kind,
    ...(kind === 'system-only' ? { note: describeAnchor(anchor) } : {}),
  };
}

// Failures that come after a path was found: the anchor it reached may explain them.
const INTERCEPTION_HINT_CODES = new Set(['HOSTNAME_MISMATCH', 'NO_SUBJECT_ALT_NAME', 'PIN_MISMATCH']);

/**
 * When the name (or pin) fails on a chain that does reach an anchor only the operating system
 * trusts, say so: a TLS-inspecting proxy mints certificates from such a root, and a wrong name or
 * key is then its doing, not the server's (issue 4: "corporate interception, recognised").
 */
function noteInterception(err: SSLError, h: Handshake, trust: TrustAnchors, time: Date | undefined): void {
  let anchor: TrustAnchor;
  try {
    anchor = verifyServer({ chain: h.chain, trust, ...(time ? { time } : {}) }).anchor;
  } catch {
    return;
  }
  if (classifyAnchor(anchor) !== 'system-only') return;
  const note = `The chain ends at ${describeAnchor(anchor)}.`;
  err.hint = err.hint ? `${err.hint} ${note}` : note;
}

/** What verifyHandshake checks a handshake against. */
export interface VerifyConfig {
  /** The anchors, or null for verify: false (then only afterVerify runs). */
  trust: TrustAnchors | null;
  /** Verification time (tests); default now. */
  time?: Date;
  /** Checks run after path validation and identity (pins). Throw SSLError to refuse. */
  afterVerify?: (chain: Certificate[], info: TlsInfo) => void;
  /** 'off' | 'soft' (default) | 'hard' (verify/revocation.ts). */
  revocation?: RevocationMode;
}

/** One TLS handshake, before any verification: the socket, what was sent, what was negotiated. */
export interface Handshake {
  socket: tls.TLSSocket;
  /** The certificates the server sent, leaf first (see peerChain). */
  chain: Certificate[];
  /** Their DER, as sent (unparsed: diagnosis reports one our parser refuses). */
  ders: Buffer[];
  info: TlsInfo;
  target: Target;
  /** The OCSP response the server stapled; null when asked for and none came; undefined: not asked. */
  staple?: Buffer | null;
  /** Online OCSP for the leaf (tls/ocsp-fetch.ts), when it was asked; checked like a staple. */
  online?: OnlineOcsp;
}

/** What diagnosis learns from a connection; filled as the connection goes, kept on failure. */
export interface HandshakeTap {
  /** Direct connections: the DNS answers for the host dialled (every one, in the system's order). */
  dns?: DnsResult;
  /** The address TCP connected to: an IP and port (direct), or the proxy's. */
  address?: string;
  /** TCP connect time (to the target, or to the proxy and through its tunnel), ms. */
  tcpMs?: number;
  /** TLS handshake time, ms. */
  tlsMs?: number;
  /** The bytes the server sent up to the end of the handshake (bounded; see TapStream). */
  received?: Buffer;
  /** TLS 1.3: the server handshake traffic secret from the key log, to read the Certificate message. */
  serverHandshakeSecret?: Buffer;
}

export interface DnsResult {
  host: string;
  /** Every answer of getaddrinfo (dns.lookup with all: true), in the order the system gave them. */
  addresses: { address: string; family: 4 | 6 }[];
  ms: number;
  /** The system's error code when the name did not resolve (ENOTFOUND, EAI_AGAIN, …). */
  error?: string;
}

export interface HandshakeOptions {
  /** The anchors OpenSSL's cross-check uses (null: verify: false). */
  trust: TrustAnchors | null;
  /** Time for everything (DNS, TCP, proxy, TLS), ms. */
  timeout: number;
  /** ALPN protocols to offer; default ['http/1.1']. */
  alpn?: string[];
  /** The client certificate (node:tls options), sent when the server asks. */
  clientCert?: ClientTlsOptions;
  localAddress?: string;
  /**
   * Resolve names to this address family only (curl's -4 / -6): the target's host, or the
   * proxy's, or a target a socks5:// proxy is sent as an address (tls/family.ts).
   */
  family?: IpFamily;
  /** The proxy to go through, or none. */
  proxy?: ProxyRoute | null;
  /** Diagnosis: record timings and bytes (see HandshakeTap). */
  tap?: HandshakeTap;
  /** Ask for a stapled OCSP response (RFC 6066 status_request, node's requestOCSP). */
  requestOCSP?: boolean;
  /**
   * With a client certificate: runs on the server's chain as soon as OpenSSL has read it, before
   * the client's second flight (which carries the client's Certificate) leaves (tls/gate.ts).
   * A rejection ends the connection with that error and the flight is never sent.
   */
  beforeClientFlight?: (early: Handshake) => Promise<void>;
}

/** Resolves `host` (all answers), timed; never throws. */
export async function resolveHost(host: string): Promise<DnsResult> {
  const started = performance.now();
  if (net.isIP(host)) {
    return { host, addresses: [{ address: host, family: net.isIPv6(host) ? 6 : 4 }], ms: 0 };
  }
  try {
    const all = await lookup(host, { all: true });
    return {
      host,
      addresses: all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 })),
      ms: performance.now() - started,
    };
  } catch (err) {
    return {
      host,
      addresses: [],
      ms: performance.now() - started,
      error: (err as NodeJS.ErrnoException).code ?? 'ERROR',
    };
  }
}

/** Guards one connection attempt: one deadline, one settle, every socket destroyed on failure. */
class Attempt {
  readonly #sockets: { on(e: 'error', f: () => void): unknown; destroy(): unknown }[] = [];
  readonly #deadline: number;
  #settled = false;
  constructor(timeoutMs: number) {
    this.#deadline = Date.now() + timeoutMs;
  }
  get settled(): boolean {
    return this.#settled;
  }
  remaining(): number {
    return Math.max(1, this.#deadline - Date.now());
  }
  own<S extends { on(e: 'error', f: () => void): unknown; destroy(): unknown }>(s: S): S {
    this.#sockets.push(s);
    return s;
  }
  /** Ends the attempt in failure: every socket it owns is destroyed. */
  fail(): void {
    if (this.#settled) return;
    this.#settled = true;
    for (const s of this.#sockets) {
      s.on('error', () => {}); // late errors of a socket we gave up on
      s.destroy();
    }
  }
  succeed(): void {
    this.#settled = true;
  }
}

/** Runs `work` against a deadline; ConnectTimeout (from `timeoutError`) when it passes first. */
function withDeadline<T>(attempt: Attempt, work: Promise<T>, timeoutError: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      attempt.fail();
      reject(timeoutError());
    }, attempt.remaining());
    work.then(
      (v) => {
        clearTimeout(timer);
        if (attempt.settled) return;
        resolve(v);
      },
      (err: Error) => {
        clearTimeout(timer);
        attempt.fail();
        reject(err);
      },
    );
  });
}

/**
 * A TCP connection; rejects with the socket error as node gave it (mapped by the caller), or a
 * ConnectionError when `family` rules the host out (tls/family.ts).
 */
function tcp(
  attempt: Attempt,
  host: string,
  port: number,
  localAddress?: string,
  family?: IpFamily,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = attempt.own(
      net.connect({
        host,
        port,
        ...(localAddress ? { localAddress } : {}),
        ...familyOptions(host, port, family),
      }),
    );
    const onError = (e: Error) => reject(e);
    s.once('error', onError);
    s.once('connect', () => {
      s.removeListener('error', onError);
      resolve(s);
    });
  });
}

/**
 * net.connect's options for `family`: the family, and a lookup that says which family was asked
 * for when a name has no such address. Throws (ConnectionError) for an IP literal of the other.
 */
function familyOptions(host: string, port: number, family: IpFamily | undefined) {
  if (family === undefined) return {};
  const address = formatAddress(host, port);
  checkLiteralFamily(host, family, address);
  return { family, lookup: familyLookup(family, address) };
}

/**
 * A TLS client; resolves on secureConnect with the certificates the server sent, read there:
 * node frees the peer chain once the secureConnect handlers have run (measured on Node 20.20,
 * TLS 1.3: getPeerX509Certificate() is undefined a microtask later).
 */
function tlsClient(
  attempt: Attempt,
  opts: tls.ConnectionOptions,
  onSocket?: (s: tls.TLSSocket) => void,
  onChain?: (ders: Buffer[]) => void,
): Promise<{ socket: tls.TLSSocket; ders: Buffer[] }> {
  return new Promise((resolve, reject) => {
    const s = attempt.own(tls.connect(opts));
    onSocket?.(s);
    const onError = (e: Error) => reject(e);
    s.on('error', onError);
    s.once('secureConnect', () => {
      s.removeListener('error', onError);
      try {
        const ders = peerCertificatesDer(s);
        onChain?.(ders);
        resolve({ socket: s, ders });
      } catch (err) {
        s.destroy();
        reject(err);
      }
    });
  });
}

const warnedInsecureProxies = new Set<string>();

/** InsecureRequestWarning, once per proxy, for an https:// proxy whose certificate is not checked. */
function warnInsecureProxy(proxy: ProxyRoute): void {
  if (warnedInsecureProxies.has(proxy.display)) return;
  if (warnedInsecureProxies.size >= 1024) warnedInsecureProxies.clear(); // bounded, as warnInsecure
  warnedInsecureProxies.add(proxy.display);
  process.emitWarning(
    `Unverified HTTPS proxy ${proxy.display} (from ${proxy.source}): the proxy's certificate is not checked ` +
      `(proxyVerify: false), so anyone on the path to the proxy can read the proxy credentials and the ` +
      `target host names. Targets are still verified through the tunnel. Trust the proxy's CA instead ` +
      `(proxyVerify: 'proxy-ca.pem').`,
    INSECURE_WARNING,
  );
}

/** Socket errors in words, for the proxy leg (the target's are worded by mapSocketError). */
const PROXY_SOCKET_REASONS: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused (nothing listens on that port)',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'the host name could not be resolved (DNS)',
  EAI_AGAIN: 'the host name could not be resolved right now (DNS)',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
};

/** Why a connection to the proxy itself failed, as a ProxyError (SSLErrors stay SSLErrors). */
function proxyLegError(proxy: ProxyRoute, err: unknown): Error {
  if (err instanceof ProxyError || err instanceof ConnectTimeout) return err as Error;
  if (err instanceof SSLError) {
    err.message = `HTTPS proxy ${proxy.display}: ${err.message}`;
    err.hint = `This is the proxy's own certificate (the proxy from ${proxy.source}). ${
      err.hint ?? ''
    } To trust the proxy's CA, pass proxyVerify: 'proxy-ca.pem'.`.trim();
    return err;
  }
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const message =
    (errno && PROXY_SOCKET_REASONS[errno]) ??
    (err instanceof Error ? err.message.replace(/^could not connect to \S+: /, '') : String(err));
  return new ProxyError(`could not connect to the proxy ${proxy.display}: ${message}`, {
    code: 'ERR_PROXY_CONNECT',
    proxy: proxy.display,
    cause: err,
    hint: `Check the proxy address and that the proxy is running (it comes from ${proxy.source}); pass proxy: false to go direct.`,
  });
}

/** A TCP (http://, socks5://) or verified TLS (https://) connection to the proxy itself. */
async function connectToProxy(attempt: Attempt, proxy: ProxyRoute, family?: IpFamily): Promise<net.Socket> {
  if (proxy.protocol === 'https:') {
    const trust = proxy.trust ?? null;
    let h: Handshake;
    try {
      h = await handshake(resolveTarget(proxy.host, proxy.port), {
        trust,
        timeout: attempt.remaining(),
        ...(family ? { family } : {}),
      });
    } catch (err) {
      throw proxyLegError(proxy, err);
    }
    attempt.own(h.socket);
    if (trust === null) warnInsecureProxy(proxy);
    try {
      verifyHandshake(h, { trust });
    } catch (err) {
      throw proxyLegError(proxy, err);
    }
    return h.socket;
  }
  try {
    return await tcp(attempt, proxy.host, proxy.port, undefined, family);
  } catch (err) {
    throw proxyLegError(proxy, err);
  }
}

/**
 * The byte stream to the target's TLS port: through the proxy's tunnel, or TCP to the address
 * chosen (`dialHost`: the target's, or a resolved IP for diagnosis). ConnectionError, ProxyError
 * or SSLError (an https proxy's certificate) on failure; the attempt owns every socket.
 */
async function openStream(
  attempt: Attempt,
  target: Target,
  dialHost: string,
  opts: Pick<HandshakeOptions, 'proxy' | 'localAddress' | 'family'>,
): Promise<net.Socket> {
  const proxy = opts.proxy;
  if (!proxy) {
    try {
      return await tcp(attempt, dialHost, target.dialPort, opts.localAddress, opts.family);
    } catch (err) {
      throw mapSocketError(err as NodeJS.ErrnoException, target.address, target.sni);
    }
  }
  // An address of the other family is refused through a proxy too (nothing resolves a literal).
  checkLiteralFamily(target.dialHost, opts.family, target.address);
  const socket = await connectToProxy(attempt, proxy, opts.family);
  if (proxy.protocol === 'socks5:' || proxy.protocol === 'socks5h:') {
    return openSocks5Tunnel(socket, proxy, target.dialHost, target.dialPort, opts.family);
  }
  return openConnectTunnel(socket, proxy, target.dialHost, target.dialPort);
}

function timeoutError(
  target: Target,
  timeoutMs: number,
  phase: string,
  proxy: ProxyRoute | null | undefined,
): ConnectTimeout {
  const p = phase;
  return new ConnectTimeout(
    p === 'proxy' && proxy
      ? `the proxy ${proxy.display} did not open a connection to ${target.address} within ${timeoutMs} ms`
      : `connecting to ${target.address} (${p === 'TLS handshake' ? 'TCP and TLS handshake' : p}) took longer than ${timeoutMs} ms`,
    {
      hint:
        (p === 'TLS handshake'
          ? `Something accepts TCP on ${target.address} but does not answer TLS: check the port, or a firewall that holds connections; or raise timeout.connect.`
          : p === 'proxy'
            ? `The proxy (from ${proxy?.source ?? 'the proxy option'}) is stalled or slow; check it, or raise timeout.connect.`
            : `Check that ${target.address} is reachable from here (firewall, VPN, routing), or raise timeout.connect.`) +
        secondsNote(timeoutMs),
    },
  );
}

/**
 * Connects and completes the TLS handshake with `rejectUnauthorized: false`; verifies nothing
 * (verifyHandshake does). Rejects with ConnectionError, ConnectTimeout, ProxyError or SSLError
 * (HANDSHAKE_FAILED); every socket is destroyed on any failure.
 */
export async function handshake(target: Target, opts: HandshakeOptions): Promise<Handshake> {
  const attempt = new Attempt(opts.timeout);
  const tap = opts.tap;
  let phase = opts.proxy ? 'proxy' : 'TCP connection';
  const work = async (): Promise<Handshake> => {
    let dialHost = target.dialHost;
    if (tap && !opts.proxy) {
      // Diagnosis reports every DNS answer and dials the first, as node would.
      checkLiteralFamily(dialHost, opts.family, target.address);
      const dns = await resolveHost(dialHost);
      tap.dns = dns;
      const first = dns.addresses.find((a) => opts.family === undefined || a.family === opts.family);
      if (!first && opts.family !== undefined && dns.addresses.length > 0) {
        throw noAddressError(
          dialHost,
          opts.family,
          target.address,
          dns.addresses.map((a) => a.address),
          undefined,
        );
      }
      if (!first) {
        const why =
          dns.error === 'EAI_AGAIN'
            ? 'the host name could not be resolved right now (DNS)'
            : 'the host name could not be resolved (DNS)';
        throw new ConnectionError(`could not connect to ${target.address}: ${why}`, {
          code: `ERR_CONNECTION_${(dns.error ?? 'NOTFOUND').replace(/^E/, '')}`,
        });
      }
      dialHost = first.address;
      tap.address = formatAddress(first.address, target.dialPort);
    } else if (tap && opts.proxy) {
      tap.address = formatAddress(opts.proxy.host, opts.proxy.port);
    }
    // Direct and untapped: node:tls dials itself (its own TCP socket, the fastest path). Else TLS
    // runs over the stream opened first: a proxy's tunnel, or TCP through diagnosis's tap.
    const tcpStarted = performance.now();
    const gated = opts.beforeClientFlight !== undefined;
    const raw = tap || opts.proxy || gated ? await openStream(attempt, target, dialHost, opts) : undefined;
    if (tap) tap.tcpMs = performance.now() - tcpStarted;
    phase = 'TLS handshake';
    const tlsStarted = performance.now();
    const tapStream = tap && raw ? attempt.own(new TapStream(raw)) : undefined;
    let socket: tls.TLSSocket;
    let ders: Buffer[];
    let staple: Buffer | null = null;
    const before = opts.beforeClientFlight;
    // The chain read mid-handshake by the gate; read once (see ClientFlightGate).
    let earlyDers: Buffer[] | undefined;
    // The chain read on secureConnect. Under TLS 1.3 the client's handshake ends when it has
    // written its second flight, so the gate may decide after secureConnect, when node has
    // already freed the peer chain (tlsClient): it must then use this one, never take the
    // empty chain for "not known yet" and let the flight go.
    let finishedDers: Buffer[] | undefined;
    const gate =
      before && raw
        ? attempt.own(
            new ClientFlightGate(tapStream ?? raw, async (s) => {
              if (!earlyDers) {
                if (finishedDers) earlyDers = finishedDers;
                else {
                  const d = peerCertificatesDer(s);
                  if (d.length === 0) return false;
                  earlyDers = d;
                }
              }
              const early = handshakeOf(s, earlyDers, target, !!tap, dialledBy(raw, opts.proxy));
              await before({ ...early, ...(opts.requestOCSP ? { staple } : {}) });
              return true;
            }),
          )
        : undefined;
    try {
      ({ socket, ders } = await tlsClient(
        attempt,
        {
          ...(gate || tapStream || raw
            ? { socket: gate ?? tapStream ?? raw }
            : {
                host: target.dialHost,
                port: target.dialPort,
                ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
                ...familyOptions(target.dialHost, target.dialPort, opts.family),
              }),
          ...(target.sni ? { servername: target.sni } : {}),
          ALPNProtocols: opts.alpn ?? ['http/1.1'],
          rejectUnauthorized: false,
          // Node's own name check is switched off: identity is ours. Under diagnosis (a tap),
          // OpenSSL's verdict (socket.authorized) is computed against our anchors, as a
          // cross-check that `check` shows; elsewhere nobody reads it (context.ts).
          checkServerIdentity: () => undefined,
          secureContext: contextFor(opts.trust, opts.clientCert, tap !== undefined),
          ...(opts.requestOCSP ? { requestOCSP: true } : {}),
        },
        (s) => {
          gate?.attach(s);
          // Emitted during the handshake, before 'secureConnect', when the server answers the
          // status_request (an empty response when it has nothing to staple).
          if (opts.requestOCSP)
            s.once('OCSPResponse', (r: Buffer) => {
              staple = r && r.length > 0 ? r : null;
            });
          // The stream below (a tunnel, a tap) lives as long as the TLS socket on top of it,
          // and its errors are the TLS socket's.
          if (!raw) return;
          if (gate || tapStream) followRef(s, raw);
          s.once('close', () => raw.destroy());
          raw.on('error', (e) => s.destroy(e));
          if (tap) {
            s.on('keylog', (line: Buffer) => {
              tap.serverHandshakeSecret ??= serverHandshakeSecretOf(line);
            });
          }
        },
        gate
          ? (d) => {
              finishedDers = d;
            }
          : undefined,
      ));
    } catch (err) {
      // Diagnosis reads a TLS 1.2 server's flight even when the server then refused the client.
      if (tap && tapStream) tap.received = tapStream.received();
      if (gate?.refusal) throw gate.refusal;
      throw mapSocketError(
        err as NodeJS.ErrnoException,
        target.address,
        target.sni,
        opts.clientCert !== undefined,
        false,
        opts.alpn ?? ['http/1.1'],
      );
    }
    if (tap) {
      tap.tlsMs = performance.now() - tlsStarted;
      tap.received = tapStream!.received();
      tapStream!.release();
    }
    return {
      ...handshakeOf(socket, earlyDers ?? ders, target, !!tap, dialledBy(raw ?? socket, opts.proxy)),
      ...(opts.requestOCSP ? { staple } : {}),
    };
  };
  const h = await withDeadline(attempt, work(), () => timeoutError(target, opts.timeout, phase, opts.proxy));
  attempt.succeed();
  return h;
}

/**
 * TLS over a JS stream (the gate, diagnosis's tap) has no handle of its own to unref, so the
 * socket's ref()/unref() are passed on to the TCP socket under the stream. undici and node:http
 * unref a kept-alive socket while it is idle so that a process can exit when its work is done;
 * without this, a process that used a client certificate waited for the server to close the idle
 * connection (75 s with nginx's default keepalive_timeout, never with some servers).
 */
function followRef(socket: tls.TLSSocket, under: net.Socket): void {
  const ref = socket.ref;
  const unref = socket.unref;
  socket.ref = function followedRef(this: tls.TLSSocket) {
    under.ref();
    return ref.call(this);
  };
  socket.unref = function followedUnref(this: tls.TLSSocket) {
    under.unref();
    return unref.call(this);
  };
}

/**
 * What a handshake showed: the socket's parameters and the certificates sent, parsed. Throws
 * SSLError BAD_ENCODING for one that does not parse, unless `lenient` (diagnosis, which reads the
 * certificates itself and reports the one that does not parse, and gets OpenSSL's verdict).
 */
function handshakeOf(
  socket: tls.TLSSocket,
  ders: Buffer[],
  target: Target,
  lenient: boolean,
  dialled?: string,
): Handshake {
  const info: TlsInfo = {
    protocol: socket.getProtocol(),
    cipher: socket.getCipher()?.name ?? null,
    alpn: typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : null,
    sni: target.sni,
    verifiedName: target.verifiedName,
    address: dialled ?? target.address,
    chain: [],
    verified: false,
    ...(lenient
      ? {
          openssl: {
            authorized: socket.authorized,
            error: socket.authorizationError ? String(socket.authorizationError) : null,
          },
        }
      : {}),
  };
  let chain: Certificate[] = [];
  try {
    chain = ders.map(parseCached);
    info.chain = chain.map((c) => c.summary());
  } catch (err) {
    if (!lenient) throw err instanceof SSLError ? err : badEncoding(err, target.address);
  }
  return { socket, ders, chain, info, target };
}

/**
 * The flags that reach `target` as it was reached (the --server-name and --connect-to in effect),
 * for a command a hint gives: ' --server-name N --connect-to H:P', or ''.
 */
function reachFlags(target: Target): string {
  const urlHost = target.host.toLowerCase();
  const name = target.verifiedName !== urlHost ? ` --server-name ${target.verifiedName}` : '';
  const dialled =
    target.dialHost !== urlHost.replace(/^\[|\]$/g, '') || target.dialPort !== target.port
      ? ` --connect-to ${target.address}`
      : '';
  return name + dialled;
}

/** The IP:port a direct connection reached (undefined through a proxy, which dialled for us). */
function dialledBy(socket: net.Socket | undefined, proxy: ProxyRoute | null | undefined): string | undefined {
  if (proxy || !socket?.remoteAddress || socket.remotePort === undefined) return undefined;
  return formatAddress(socket.remoteAddress, socket.remotePort);
}

/** The SERVER_HANDSHAKE_TRAFFIC_SECRET from one key log line, if that is what the line holds. */
export function serverHandshakeSecretOf(line: Buffer | string): Buffer | undefined {
  const m = /^SERVER_HANDSHAKE_TRAFFIC_SECRET [0-9a-fA-F]+ ([0-9a-fA-F]+)\s*$/.exec(String(line));
  return m ? Buffer.from(m[1]!, 'hex') : undefined;
}

/**
 * A connection for a plain http:// target: TCP to the host, or to the proxy (which the request
 * then addresses in absolute form). ConnectionError, ConnectTimeout or ProxyError.
 */
export async function dialPlain(
  host: string,
  port: number,
  opts: { timeout: number; proxy?: ProxyRoute | null; localAddress?: string; family?: IpFamily },
): Promise<net.Socket> {
  const attempt = new Attempt(opts.timeout);
  const address = formatAddress(host, port);
  const proxy = opts.proxy;
  // An address of the other family is refused through a proxy too (nothing resolves a literal).
  if (proxy) checkLiteralFamily(host, opts.family, address);
  const work = proxy
    ? connectToProxy(attempt, proxy, opts.family).then((s) =>
        // An HTTP proxy takes the request itself (absolute form); SOCKS5 opens a tunnel to it.
        proxy.protocol === 'socks5:' || proxy.protocol === 'socks5h:'
          ? openSocks5Tunnel(s, proxy, host, port, opts.family)
          : s,
      )
    : tcp(attempt, host, port, opts.localAddress, opts.family).catch((err: NodeJS.ErrnoException) => {
        throw mapSocketError(err, address, null);
      });
  const s = await withDeadline(attempt, work, () =>
    proxy
      ? new ConnectTimeout(`connecting to the proxy ${proxy.display} took longer than ${opts.timeout} ms`, {
          hint: `Check that the proxy (from ${proxy.source}) is reachable, or raise timeout.connect.`,
        })
      : new ConnectTimeout(`connecting to ${address} took longer than ${opts.timeout} ms`),
  );
  attempt.succeed();
  return s;
}
