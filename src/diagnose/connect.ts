/**
 * One connection for diagnosis, made by the one handshake (tls/handshake.ts) with a tap: DNS,
 * TCP and TLS timed separately, the chain exactly as sent (wire.ts reads it from the tapped
 * bytes), node's view of it, and OpenSSL's verdict. The same Target, proxy, client certificate
 * and error mapping as a request: `check` and `get` name the same fault the same way. Nothing is
 * written after the handshake.
 */
import {
  type ClientTlsOptions,
  type DnsResult,
  type HandshakeTap,
  handshake,
  type ProxyRoute,
} from '../tls/handshake.js';
import type { Target } from '../tls/target.js';
import type { TrustAnchors } from '../trust/types.js';
import { parseCertificate } from '../x509/index.js';
import type { Certificate } from '../x509/types.js';
import { certificatesFromFlight } from './wire.js';

export type { DnsResult };

export interface Wire {
  dns?: DnsResult;
  /** The address and port dialled (what TCP connected to: the target's IP, or the proxy). */
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
  /** The OCSP response the server stapled; null when asked for and none came (undefined: not asked). */
  staple?: Buffer | null;
  /** Why the connection failed, when it did. */
  error?: Error;
}

export interface WireOptions {
  target: Target;
  trust: TrustAnchors | null;
  /** DNS + TCP + proxy + TLS handshake limit, ms. */
  timeout: number;
  alpn?: string[];
  /** The proxy to go through (http, https or SOCKS5), or none. */
  proxy?: ProxyRoute | null;
  /** A client certificate to present when the server asks. */
  clientCert?: ClientTlsOptions;
  /** Ask for a stapled OCSP response (RFC 6066 status_request). */
  requestOCSP?: boolean;
}

/**
 * DNS, then TCP to the first answer (the one node would dial first) or to the proxy, then TLS.
 * Never throws: failures are in `error`, with whatever was learnt before them.
 */
export async function connectForDiagnosis(opts: WireOptions): Promise<Wire> {
  const wire: Wire = { sni: opts.target.sni };
  const tap: HandshakeTap = {};
  let h: Awaited<ReturnType<typeof handshake>> | undefined;
  try {
    h = await handshake(opts.target, {
      trust: opts.trust,
      timeout: opts.timeout,
      tap,
      ...(opts.alpn ? { alpn: opts.alpn } : {}),
      ...(opts.proxy ? { proxy: opts.proxy } : {}),
      ...(opts.clientCert ? { clientCert: opts.clientCert } : {}),
      ...(opts.requestOCSP ? { requestOCSP: true } : {}),
    });
  } catch (err) {
    wire.error = err as Error;
  }
  if (tap.dns) wire.dns = tap.dns;
  if (tap.address !== undefined) wire.address = tap.address;
  if (tap.tcpMs !== undefined) wire.tcpMs = tap.tcpMs;
  if (!h) return wire;
  try {
    const s = h.socket;
    wire.tlsMs = tap.tlsMs;
    wire.protocol = s.getProtocol();
    const cipher = s.getCipher();
    wire.cipher = cipher?.standardName ?? cipher?.name ?? null;
    wire.alpn = h.info.alpn;
    wire.openssl = h.info.openssl;
    if (h.staple !== undefined) wire.staple = h.staple;
    wire.nodeChain = nodeChain(h.ders);
    const ders = certificatesFromFlight({
      bytes: tap.received ?? Buffer.alloc(0),
      protocol: wire.protocol,
      cipher: wire.cipher,
      ...(tap.serverHandshakeSecret ? { serverHandshakeSecret: tap.serverHandshakeSecret } : {}),
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
  } finally {
    h.socket.on('error', () => {});
    h.socket.destroy();
  }
  return wire;
}

/** The connector's view of the chain (peerCertificatesDer), parsed up to the first refusal. */
function nodeChain(ders: Buffer[]): Certificate[] {
  const out: Certificate[] = [];
  for (const der of ders) {
    try {
      out.push(parseCertificate(new Uint8Array(der)));
    } catch {
      break;
    }
  }
  return out;
}
