/**
 * The one function that sets up every TLS connection (STYLE.md, after urllib3's ssl_.py):
 * TCP to `connectTo ?? URL host`, TLS with SNI = `serverName ??` URL host (none for IP
 * literals), node:tls doing the handshake with `rejectUnauthorized: false`, then *our* verifier
 * deciding — before the socket is handed to undici, so no request byte is written to a server
 * whose certificate failed. On any failure the socket is destroyed.
 */

import type { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { buildConnector } from 'undici';
import { ConfigError, ConnectionError, ConnectTimeout, INSECURE_WARNING, SSLError } from '../errors.js';
import { type AnchorClass, classifyAnchor, describeAnchor } from '../trust/classify.js';
import type { TrustAnchor, TrustAnchors } from '../trust/types.js';
import { aiaCanHelp } from '../verify/aia.js';
import { parseReferenceName, type ReferenceName } from '../verify/identity.js';
import { type VerifiedPath, verifyServer } from '../verify/index.js';
import { parseCertificate } from '../x509/index.js';
import type { Certificate, CertificateSummary } from '../x509/types.js';
import { contextFor } from './context.js';

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
  /** host:port dialled. */
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
  /** OpenSSL's own verdict against the same anchors, kept as a cross-check. */
  openssl: { authorized: boolean; error: string | null };
  /** Intermediates fetched from the certificates' AIA URLs (the `aia` option), not sent by the server. */
  fetched?: CertificateSummary[];
}

export interface ConnectTarget {
  host: string;
  port?: number;
}

export interface ConnectorConfig {
  /** The anchors to verify against, or null for verify: false. */
  trust: TrustAnchors | null;
  /** The name to verify (and send as SNI) instead of the URL host. */
  serverName?: string;
  /** Where to dial instead of the URL host; the URL host (or serverName) is still verified. */
  connectTo?: ConnectTarget;
  /** TCP + TLS handshake time limit, ms. */
  connectTimeout?: number;
  /** ALPN protocols to offer; default ['http/1.1']. */
  alpn?: string[];
  /** Verification time (tests); default now. */
  time?: Date;
  /** Extra node:tls options for the client side (client certificates). */
  tlsOptions?: Pick<tls.ConnectionOptions, 'cert' | 'key' | 'passphrase' | 'pfx'>;
  /** Checks run after path validation and identity (pins). Throw SSLError to refuse. */
  afterVerify?: (chain: Certificate[], info: TlsInfo) => void;
  /**
   * When the path fails for want of an issuer (INCOMPLETE_CHAIN, UNKNOWN_ISSUER): more candidate
   * intermediates (AIA fetching, verify/aia.ts). They are tried after the certificates the server
   * sent, never as anchors; `notes` say why nothing helped. Must not throw.
   */
  completeChain?: (
    chain: readonly Certificate[],
    trust: TrustAnchors,
  ) => Promise<{ certs: Certificate[]; notes: string[] }>;
  /** Called with every successful connection's info. */
  onConnection?: (origin: string, info: TlsInfo) => void;
  /**
   * Opens the byte stream instead of dialling TCP (a proxy): for https, a tunnel to host:port
   * (CONNECT) over which the TLS handshake with the *target* runs, so our verifier checks the
   * target; for http, a connection to a forwarding proxy. Returns null to dial directly.
   */
  dial?: (req: DialRequest) => Promise<net.Socket> | null;
}

/** What a dial hook is asked for. */
export interface DialRequest {
  protocol: 'https:' | 'http:';
  /** The URL host, without brackets, and the URL port (for NO_PROXY decisions). */
  urlHost: string;
  urlPort: number;
  /** Where the connection must lead: connectTo ?? the URL host (no brackets), and its port. */
  host: string;
  port: number;
  /** Time left for the whole connect (TCP, tunnel and TLS), ms. */
  timeout: number;
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

/** Parses 'host', 'host:port', '[v6]:port' into a ConnectTarget; ConfigError otherwise. */
export function parseConnectTo(value: string): ConnectTarget {
  const bad = (why: string) =>
    new ConfigError(`connectTo '${value}' is not valid: ${why}. Use 'host:port', e.g. '10.0.0.6:8443'.`, {
      code: 'ERR_CONNECT_TO',
    });
  if (typeof value !== 'string' || value.trim() === '') throw bad('it is empty');
  let host: string;
  let portText: string | undefined;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) throw bad('a bracketed IPv6 address has no closing ]');
    host = value.slice(1, end);
    const rest = value.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw bad('expected :port after ]');
      portText = rest.slice(1);
    }
    if (net.isIPv6(host) === false) throw bad(`${host} is not an IPv6 address`);
  } else {
    const colons = value.split(':').length - 1;
    if (colons > 1) {
      if (!net.isIPv6(value)) throw bad('an IPv6 address must be in brackets when a port follows');
      host = value;
    } else if (colons === 1) {
      [host, portText] = value.split(':') as [string, string];
    } else {
      host = value;
    }
  }
  if (host === '') throw bad('the host is empty');
  if (!/^[A-Za-z0-9.\-_:%]+$/.test(host)) throw bad(`'${host}' is not a host name or IP address`);
  if (portText === undefined || portText === '') return { host };
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw bad(`'${portText}' is not a port (1-65535)`);
  return { host, port };
}

/**
 * Certificates taken from one handshake at most. Web PKI chains have 2-4; servers that send a
 * whole bundle send a few dozen. The bound keeps a hostile server from making us parse thousands.
 */
export const MAX_PEER_CERTIFICATES = 64;

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

/** The DER of each certificate the server sent, in the order sent (see peerChain), unparsed. */
export function peerCertificatesDer(socket: tls.TLSSocket): Buffer[] {
  const out: Buffer[] = [];
  let c: X509Certificate | undefined = socket.getPeerX509Certificate();
  while (c !== undefined && out.length < MAX_PEER_CERTIFICATES) {
    out.push(c.raw);
    const next: X509Certificate | undefined = c.issuerCertificate;
    if (next === c) break;
    c = next;
  }
  return out;
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

/** OpenSSL's SSL_MAX_CERT_LIST_DEFAULT (ssl.h: 1024 * 100 bytes), in KiB, for messages. */
const MAX_CERT_LIST_KIB = 100;

function mapSocketError(
  err: NodeJS.ErrnoException,
  address: string,
  sni: string | null,
  clientCert = false,
  afterHandshake = false,
): Error {
  if (err instanceof SSLError || err instanceof ConnectionError || err instanceof ConnectTimeout) return err;
  const code = err.code ?? '';
  const alert = /_ALERT_([A-Z0-9_]+)$/.exec(code)?.[1];
  if (alert) {
    const name = alert.toLowerCase().replace(/_/g, ' ');
    const certHint = clientCertHint(code, clientCert);
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
  if (
    code.startsWith('ERR_SSL') ||
    code.startsWith('ERR_TLS') ||
    /alert|handshake|SSL routines/i.test(err.message)
  ) {
    return new SSLError(`TLS handshake with ${address} failed: ${err.message}`, {
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

function formatAddress(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** One TLS handshake, before any verification: the socket, what was sent, what was negotiated. */
export interface Handshake {
  socket: tls.TLSSocket;
  /** The certificates the server sent, leaf first (see peerChain). */
  chain: Certificate[];
  info: TlsInfo;
  name: ReferenceName;
}

export interface HandshakeTarget {
  /** The URL host (brackets allowed for IPv6). */
  host: string;
  port: number;
  localAddress?: string | null;
}

/**
 * Connects and completes the TLS handshake with `rejectUnauthorized: false`; verifies nothing.
 * Rejects with ConnectionError, ConnectTimeout or SSLError (HANDSHAKE_FAILED); the socket is
 * destroyed on any failure.
 */
export function handshake(target: HandshakeTarget, config: ConnectorConfig): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const urlHost = stripBrackets(target.host);
    const port = config.connectTo?.port ?? target.port;
    const dialHost = config.connectTo?.host ?? urlHost;
    const address = formatAddress(dialHost, port);
    const timeoutMs = config.connectTimeout ?? 10_000; // undici's default connect timeout
    let name: ReferenceName;
    try {
      name =
        config.serverName === undefined ? parseReferenceName(urlHost) : parseReferenceName(config.serverName);
    } catch (err) {
      reject(err);
      return;
    }
    // SNI is never an IP literal (RFC 6066 §3); a trailing dot is not sent.
    const sni = name.kind === 'dns' ? name.value : null;
    const trust = config.trust;
    let tlsSocket: tls.TLSSocket | undefined;
    let raw: net.Socket | undefined;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const s of [tlsSocket, raw]) {
        if (!s) continue;
        s.removeListener('error', onError);
        s.on('error', () => {}); // late errors of a socket we already gave up on
        s.destroy();
      }
      reject(err);
    };
    const timer = setTimeout(
      () =>
        fail(
          new ConnectTimeout(
            `connecting to ${address} (TCP and TLS handshake) took longer than ${timeoutMs} ms`,
            {
              hint: 'Check that the server is reachable and speaks TLS on that port, or raise timeout.connect.',
            },
          ),
        ),
      timeoutMs,
    );
    const onError = (e: Error) =>
      fail(mapSocketError(e as NodeJS.ErrnoException, address, sni, config.tlsOptions !== undefined));
    const onSecure = (socket: tls.TLSSocket) => {
      const info: TlsInfo = {
        protocol: socket.getProtocol(),
        cipher: socket.getCipher()?.name ?? null,
        alpn: typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : null,
        sni,
        verifiedName: name.kind === 'dns' ? name.value : name.text,
        address,
        chain: [],
        verified: false,
        openssl: {
          authorized: socket.authorized,
          error: socket.authorizationError ? String(socket.authorizationError) : null,
        },
      };
      let chain: Certificate[];
      try {
        chain = peerChain(socket);
        // Inside the try: this runs in an event handler, where a throw would be uncaught.
        info.chain = chain.map((c) => c.summary());
      } catch (err) {
        fail(err instanceof SSLError ? err : badEncoding(err, address));
        return;
      }
      settled = true;
      clearTimeout(timer);
      socket.removeListener('error', onError);
      if (raw) {
        // From now on the tunnel's errors belong to the TLS socket undici owns.
        const r = raw;
        r.removeListener('error', onError);
        r.on('error', (e) => socket.destroy(e));
      }
      resolve({ socket, chain, info, name });
    };
    const startTls = (over?: net.Socket) => {
      const s = tls.connect({
        ...(over ? { socket: over } : { host: dialHost, port }),
        ...(sni ? { servername: sni } : {}),
        ALPNProtocols: config.alpn ?? ['http/1.1'],
        rejectUnauthorized: false,
        // OpenSSL's verdict (socket.authorized) is computed against our anchors, as a cross-check;
        // Node's own name check is switched off: identity is ours.
        checkServerIdentity: () => undefined,
        secureContext: contextFor(trust, config.tlsOptions),
        ...(target.localAddress && !over ? { localAddress: target.localAddress } : {}),
      });
      tlsSocket = s;
      s.on('error', onError);
      s.once('secureConnect', () => onSecure(s));
      // A tunnel lives as long as the TLS socket on top of it.
      if (over) s.once('close', () => over.destroy());
    };
    let dialled: Promise<net.Socket> | null | undefined;
    try {
      dialled = config.dial?.({
        protocol: 'https:',
        urlHost,
        urlPort: target.port,
        host: dialHost,
        port,
        timeout: timeoutMs,
      });
    } catch (err) {
      fail(err as Error);
      return;
    }
    if (dialled) {
      dialled.then(
        (s) => {
          if (settled) {
            s.destroy();
            return;
          }
          raw = s;
          s.on('error', onError);
          startTls(s);
        },
        (err: Error) => fail(err),
      );
    } else {
      startTls();
    }
  });
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
export function verifyHandshake(h: Handshake, config: ConnectorConfig): VerifiedPath | undefined {
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
      name: h.name,
      trust,
      ...(config.time ? { time: config.time } : {}),
    });
    h.info.verified = true;
    h.info.anchor = anchorInfo(verified.anchor);
    config.afterVerify?.(h.chain, h.info);
    return verified;
  } catch (err) {
    if (err instanceof SSLError) {
      if (err.chain === undefined) err.chain = h.info.chain;
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

/**
 * Builds an undici `connect` function for one configuration. The same function serves every
 * origin of an Agent; `serverName`/`connectTo` are meant for Agents used with one origin.
 */
export function createConnector(config: ConnectorConfig): buildConnector.connector {
  const timeoutMs = config.connectTimeout ?? 10_000; // undici's default connect timeout
  if (config.serverName !== undefined) parseReferenceName(config.serverName); // fail early
  return function connect(opts, callback) {
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
    if (opts.protocol !== 'https:') {
      const host = config.connectTo?.host ?? stripBrackets(opts.hostname);
      const dialPort = config.connectTo?.port ?? port;
      let dialled: Promise<net.Socket> | null | undefined;
      try {
        dialled = config.dial?.({
          protocol: 'http:',
          urlHost: stripBrackets(opts.hostname),
          urlPort: port,
          host,
          port: dialPort,
          timeout: timeoutMs,
        });
      } catch (err) {
        callback(err as Error, null);
        return;
      }
      if (dialled) {
        // The dial hook enforces the connect timeout itself (DialRequest.timeout).
        dialled.then(
          (s) => callback(null, s),
          (err: Error) => callback(err, null),
        );
        return;
      }
      plainConnect(host, dialPort, timeoutMs, callback);
      return;
    }
    const origin = `${opts.protocol}//${opts.host}`;
    handshake(
      { host: opts.hostname, port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) },
      config,
    ).then(
      (h) => {
        const refuse = (err: unknown) => {
          h.socket.on('error', () => {});
          h.socket.destroy();
          callback(err as Error, null);
        };
        const accept = () => {
          // Under TLS 1.3 a server refuses a client certificate only after the client's handshake
          // is done: its alert arrives as the first read. undici would report it as "other side
          // closed"; turning it into our SSLError here keeps the reason (and the hint).
          const clientCert = config.tlsOptions !== undefined;
          const onLateAlert = (e: NodeJS.ErrnoException) => {
            if (e instanceof SSLError || !/_ALERT_/.test(e.code ?? '')) return;
            h.socket.removeListener('error', onLateAlert);
            h.socket.destroy(mapSocketError(e, h.info.address, h.info.sni, clientCert, true));
          };
          try {
            // A callback that throws refuses the connection (and must not become an unhandled
            // rejection of this promise chain, with the socket left open and undici waiting).
            config.onConnection?.(origin, h.info);
          } catch (err) {
            refuse(err);
            return;
          }
          h.socket.on('error', onLateAlert);
          callback(null, h.socket);
        };
        try {
          if (config.trust === null) warnInsecure(h.info.verifiedName);
          verifyHandshake(h, config);
        } catch (err) {
          if (!(err instanceof SSLError) || !config.completeChain || config.trust === null)
            return refuse(err);
          if (!aiaCanHelp(err)) return refuse(err);
          completeAndVerify(h, config, config.completeChain, config.trust, err).then(accept, refuse);
          return;
        }
        accept();
      },
      (err: Error) => callback(err, null),
    );
  };
}

/**
 * The AIA path: fetch the missing issuers, then verify again with them after the sent chain.
 * The socket waits meanwhile; an error or close on it ends the attempt as a ConnectionError.
 */
async function completeAndVerify(
  h: Handshake,
  config: ConnectorConfig,
  complete: NonNullable<ConnectorConfig['completeChain']>,
  trust: TrustAnchors,
  first: SSLError,
): Promise<void> {
  let lost: Error | undefined;
  const onError = (e: Error) => {
    lost ??= e;
  };
  const onClose = () => {
    lost ??= new Error('the server closed the connection');
  };
  h.socket.on('error', onError);
  h.socket.once('close', onClose);
  let extra: { certs: Certificate[]; notes: string[] };
  try {
    extra = await complete(h.chain, trust);
  } finally {
    h.socket.removeListener('error', onError);
    h.socket.removeListener('close', onClose);
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
    verifyHandshake({ ...h, chain: [...h.chain, ...extra.certs] }, config);
  } catch (err) {
    if (err instanceof SSLError) note(err);
    throw err;
  }
  if (lost || h.socket.destroyed) {
    throw new ConnectionError(
      `the connection to ${h.info.address} was lost while fetching a missing intermediate certificate: ${(lost ?? new Error('closed')).message}`,
      { code: 'ERR_CONNECTION_CLOSED', ...(lost ? { cause: lost } : {}) },
    );
  }
}

function plainConnect(
  host: string,
  port: number,
  timeoutMs: number,
  callback: buildConnector.Callback,
): void {
  const address = formatAddress(host, port);
  const socket = net.connect({ host, port });
  let settled = false;
  const finish = (err: Error | null) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (err) {
      socket.on('error', () => {});
      socket.destroy();
      callback(err, null);
    } else {
      callback(null, socket);
    }
  };
  const timer = setTimeout(
    () => finish(new ConnectTimeout(`connecting to ${address} took longer than ${timeoutMs} ms`)),
    timeoutMs,
  );
  socket.once('connect', () => finish(null));
  socket.once('error', (e) => finish(mapSocketError(e, address, null)));
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
