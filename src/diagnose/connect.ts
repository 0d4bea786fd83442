/**
 * One connection for diagnosis: DNS, TCP and TLS timed separately, the chain exactly as sent
 * (wire.ts), node's view of it, and OpenSSL's verdict. It follows the connector's rules
 * (src/tls/connector.ts: SNI = serverName ?? URL host, none for IP literals; ALPN http/1.1;
 * `rejectUnauthorized: false`, Node's name check off; OpenSSL's verdict against the same
 * anchors), but owns its socket, because the connector can say neither how long TCP took nor
 * what exactly the server sent. Nothing is written after the handshake.
 */
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import { ConnectionError, ConnectTimeout, SSLError } from '../errors.js';
import { peerCertificatesDer } from '../tls/connector.js';
import { contextFor } from '../tls/context.js';
import type { TrustAnchors } from '../trust/types.js';
import type { ReferenceName } from '../verify/identity.js';
import { parseCertificate } from '../x509/index.js';
import type { Certificate } from '../x509/types.js';
import { certificatesFromFlight, serverHandshakeSecretOf, TapStream } from './wire.js';

export interface DnsResult {
  host: string;
  /** Every answer of getaddrinfo (dns.lookup with all: true), in the order the system gave them. */
  addresses: { address: string; family: 4 | 6 }[];
  ms: number;
  /** The system's error code when the name did not resolve (ENOTFOUND, EAI_AGAIN, …). */
  error?: string;
}

export interface Wire {
  dns?: DnsResult;
  /** The address and port dialled (what TCP connected to). */
  address?: string;
  tcpMs?: number;
  tlsMs?: number;
  protocol?: string | null;
  cipher?: string | null;
  alpn?: string | null;
  sni: string | null;
  /** The certificates exactly as the server sent them (undefined if they could not be read). */
  sent?: Certificate[];
  /** Position in the chain as sent of each certificate of `sent` (they differ after an unparsable one). */
  sentPositions?: number[];
  /** Certificates of the chain as sent that could not be parsed, by position. */
  unparsed?: { position: number; message: string }[];
  /**
   * The chain as node:tls exposes it (getPeerX509Certificate, in the order received; what the
   * library's connector verifies), up to the first certificate our parser refuses.
   */
  nodeChain?: Certificate[];
  openssl?: { authorized: boolean; error: string | null };
  /** Why the connection failed, when it did. */
  error?: Error;
}

export interface WireOptions {
  /** Host to dial (already stripped of brackets). */
  host: string;
  port: number;
  name: ReferenceName;
  trust: TrustAnchors | null;
  /** TCP + TLS handshake limit, ms. */
  timeout: number;
  alpn?: string[];
}

function formatAddress(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused (nothing listens on that port)',
  ECONNRESET: 'the connection was reset by the server',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  EPIPE: 'the server closed the connection',
  ETIMEDOUT: 'the connection timed out',
};

function connectionError(err: NodeJS.ErrnoException, address: string, tlsStarted: boolean): Error {
  const code = err.code ?? '';
  if (
    tlsStarted &&
    (code.startsWith('ERR_SSL') ||
      code.startsWith('ERR_TLS') ||
      /alert|handshake|SSL routines/i.test(err.message))
  ) {
    return new SSLError(`TLS handshake with ${address} failed: ${err.message}`, {
      code: 'HANDSHAKE_FAILED',
      cause: err,
      hint: /certificate required|alert number 116/i.test(err.message)
        ? 'The server asks for a client certificate: pass cert: { cert, key }.'
        : `Check that ${address} speaks TLS (not plain HTTP) and supports TLS 1.2 or 1.3.`,
    });
  }
  if (tlsStarted && (code === 'ECONNRESET' || code === 'EPIPE' || /socket disconnected/i.test(err.message))) {
    return new SSLError(`TLS handshake with ${address} failed: the server closed the connection`, {
      code: 'HANDSHAKE_FAILED',
      cause: err,
      hint: `Check that ${address} speaks TLS on that port and accepts this SNI name; a server or firewall may drop clients it does not like.`,
    });
  }
  return new ConnectionError(`could not connect to ${address}: ${SOCKET_ERRORS[code] ?? err.message}`, {
    code: code ? `ERR_CONNECTION_${code.replace(/^E/, '')}` : 'ERR_CONNECTION',
    cause: err,
  });
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

/**
 * DNS, then TCP to the first answer (the one node would dial first), then TLS. Never throws:
 * failures are in `error`, with whatever was learnt before them.
 */
export async function connectForDiagnosis(opts: WireOptions): Promise<Wire> {
  const name = opts.name;
  // RFC 6066 §3: no SNI for IP literals.
  const sni = name.kind === 'dns' ? name.value : null;
  const wire: Wire = { sni };
  const deadline = performance.now() + opts.timeout;

  const dns = await resolveHost(opts.host);
  wire.dns = dns;
  const first = dns.addresses[0];
  if (!first) {
    const why =
      dns.error === 'EAI_AGAIN'
        ? 'the host name could not be resolved right now (DNS)'
        : 'the host name could not be resolved (DNS)';
    wire.error = new ConnectionError(`could not connect to ${formatAddress(opts.host, opts.port)}: ${why}`, {
      code: `ERR_CONNECTION_${(dns.error ?? 'NOTFOUND').replace(/^E/, '')}`,
    });
    return wire;
  }
  const address = formatAddress(first.address, opts.port);
  wire.address = address;

  return new Promise<Wire>((resolve) => {
    let done = false;
    let tlsStarted = false;
    let socket: net.Socket | undefined;
    let tap: TapStream | undefined;
    let tlsSocket: tls.TLSSocket | undefined;
    let secret: Buffer | undefined;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) wire.error = err;
      tap?.release();
      for (const s of [tlsSocket, tap, socket]) {
        if (!s) continue;
        s.on('error', () => {}); // late errors of a socket we are done with
        s.destroy();
      }
      resolve(wire);
    };
    const remaining = Math.max(1, deadline - performance.now());
    const timer = setTimeout(() => {
      const phase = tlsStarted ? 'the TLS handshake' : 'the TCP connection';
      finish(
        new ConnectTimeout(
          `connecting to ${address} took longer than ${opts.timeout} ms (${phase} did not finish)`,
          {
            hint: tlsStarted
              ? `Something accepts TCP on ${address} but does not answer TLS: check the port, or a firewall that holds connections.`
              : `Check that ${address} is reachable from here (firewall, VPN, routing).`,
          },
        ),
      );
    }, remaining);

    const tcpStarted = performance.now();
    socket = net.connect({ host: first.address, port: opts.port });
    socket.once('error', (e) => finish(connectionError(e as NodeJS.ErrnoException, address, tlsStarted)));
    socket.once('connect', () => {
      wire.tcpMs = performance.now() - tcpStarted;
      tlsStarted = true;
      const tlsBegan = performance.now();
      tap = new TapStream(socket!);
      tlsSocket = tls.connect({
        socket: tap,
        ...(sni ? { servername: sni } : {}),
        ALPNProtocols: opts.alpn ?? ['http/1.1'],
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
        secureContext: contextFor(opts.trust),
      });
      tlsSocket.on('keylog', (line: Buffer) => {
        secret ??= serverHandshakeSecretOf(line);
      });
      tlsSocket.once('error', (e) => finish(connectionError(e as NodeJS.ErrnoException, address, true)));
      tlsSocket.once('secureConnect', () => {
        const s = tlsSocket!;
        wire.tlsMs = performance.now() - tlsBegan;
        wire.protocol = s.getProtocol();
        const cipher = s.getCipher();
        wire.cipher = cipher?.standardName ?? cipher?.name ?? null;
        wire.alpn = typeof s.alpnProtocol === 'string' ? s.alpnProtocol : null;
        wire.openssl = {
          authorized: s.authorized,
          error: s.authorizationError ? String(s.authorizationError) : null,
        };
        wire.nodeChain = nodeChain(s);
        const ders = certificatesFromFlight({
          bytes: tap!.received(),
          protocol: wire.protocol,
          cipher: wire.cipher,
          ...(secret ? { serverHandshakeSecret: secret } : {}),
        });
        if (ders) {
          const sent: Certificate[] = [];
          const sentPositions: number[] = [];
          const unparsed: { position: number; message: string }[] = [];
          ders.forEach((der, position) => {
            try {
              sent.push(parseCertificate(der));
              sentPositions.push(position);
            } catch (err) {
              unparsed.push({ position, message: err instanceof Error ? err.message : String(err) });
            }
          });
          if (unparsed.length === 0 || unparsed[0]!.position !== 0) {
            wire.sent = sent;
            wire.sentPositions = sentPositions;
          }
          if (unparsed.length > 0) wire.unparsed = unparsed;
        }
        finish();
      });
    });
  });
}

/** The connector's view of the chain (peerCertificatesDer), parsed up to the first refusal. */
function nodeChain(socket: tls.TLSSocket): Certificate[] {
  const out: Certificate[] = [];
  for (const der of peerCertificatesDer(socket)) {
    try {
      out.push(parseCertificate(new Uint8Array(der)));
    } catch {
      break;
    }
  }
  return out;
}
