/**
 * One connection for diagnosis, made by the one handshake (tls/handshake.ts) with a tap: DNS,
 * TCP and TLS timed separately, the chain exactly as sent (wire.ts reads it from the tapped
 * bytes), node's view of it, and OpenSSL's verdict. The same Target, proxy, client certificate
 * and error mapping as a request: `check` and `get` name the same fault the same way. Nothing is
 * written after the handshake.
 *
 * A client certificate is sent only to a server whose chain passed the caller's verification
 * (`beforeClientFlight`, the gate a request has: tls/gate.ts); when it fails, the diagnosis is
 * made on a second connection that offers no certificate. A server that asks for a certificate
 * under TLS 1.3 says whether it accepts it only after the client's handshake is done, so when
 * asked (`clientVerdict`) the connection waits a moment for that answer (an alert or a close).
 */
import type tls from 'node:tls';
import { SSLError } from '../errors.js';
import type { IpFamily } from '../tls/family.js';
import {
  type ClientTlsOptions,
  type DnsResult,
  type Handshake,
  type HandshakeTap,
  handshake,
  mapSocketError,
  type ProxyRoute,
} from '../tls/handshake.js';
import type { Target } from '../tls/target.js';
import type { TrustAnchors } from '../trust/types.js';
import { parseCertificate } from '../x509/index.js';
import type { Certificate } from '../x509/types.js';
import { readServerFlight } from './wire.js';

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
  /** What the server did about client certificates, when its flight could be read. */
  clientAuth?: ClientAuth;
  /**
   * The client certificate was kept back: the server's chain failed the caller's verification
   * (this error) before the client's second flight. The rest of this Wire is from a second
   * connection that offered no certificate.
   */
  clientCertKeptBack?: Error;
}

/** The server's side of client authentication, as far as one connection shows it. */
export interface ClientAuth {
  /** It sent a CertificateRequest. */
  requested: boolean;
  /** A client certificate was configured (and so sent, when asked). */
  offered: boolean;
  /**
   * TLS 1.2: 'accepted' (the server finished its handshake after reading the client's
   * certificate, or its absence) or 'refused' (it ended the handshake after its own flight:
   * `error`). TLS 1.3: 'refused' (an alert or a close within `waitedMs` of the handshake,
   * nothing having been sent) or 'no-refusal' (neither came in that time).
   */
  verdict?: 'accepted' | 'refused' | 'no-refusal';
  /** TLS 1.3: how long the connection waited for the server's verdict, ms. */
  waitedMs?: number;
  /** The refusal: the alert, mapped as a request maps it (undefined for a bare close). */
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
  /** Resolve names to this address family only (curl's -4 / -6; tls/family.ts). */
  family?: IpFamily;
  /** A client certificate to present when the server asks. */
  clientCert?: ClientTlsOptions;
  /** Ask for a stapled OCSP response (RFC 6066 status_request). */
  requestOCSP?: boolean;
  /**
   * With a client certificate: the verification its sending waits for (as a request's gate). A
   * rejection keeps the certificate back and the diagnosis goes on without it.
   */
  beforeClientFlight?: (early: Handshake) => Promise<void>;
  /** Under TLS 1.3, when the server asks for a client certificate, wait for its verdict. */
  clientVerdict?: boolean;
}

/** Bounds of the wait for a TLS 1.3 server's verdict on the client: twice the handshake, in ms. */
const VERDICT_MIN_MS = 250;
const VERDICT_MAX_MS = 2000;

/**
 * DNS, then TCP to the first answer (the one node would dial first) or to the proxy, then TLS.
 * Never throws: failures are in `error`, with whatever was learnt before them.
 */
export async function connectForDiagnosis(opts: WireOptions): Promise<Wire> {
  const started = performance.now();
  const wire: Wire = { sni: opts.target.sni };
  const tap: HandshakeTap = {};
  let h: Awaited<ReturnType<typeof handshake>> | undefined;
  // The gate's verdict, decided once: by the gate mid-handshake (TLS 1.2), or, under TLS 1.3,
  // whichever asks first of the gate and the wait below (the handshake is over before it decides).
  const gate = opts.clientCert ? opts.beforeClientFlight : undefined;
  let keptBack: Error | undefined;
  let decision: Promise<void> | undefined;
  const decide = (early: Handshake): Promise<void> =>
    (decision ??= gate!(early).catch((err: unknown) => {
      keptBack = err as Error;
      throw err;
    }));
  try {
    h = await handshake(opts.target, {
      trust: opts.trust,
      timeout: opts.timeout,
      tap,
      ...(opts.alpn ? { alpn: opts.alpn } : {}),
      ...(opts.proxy ? { proxy: opts.proxy } : {}),
      ...(opts.family ? { family: opts.family } : {}),
      ...(opts.clientCert ? { clientCert: opts.clientCert } : {}),
      ...(opts.requestOCSP ? { requestOCSP: true } : {}),
      ...(gate ? { beforeClientFlight: decide } : {}),
    });
  } catch (err) {
    wire.error = err as Error;
  }
  if (h && gate) await decide(h).catch(() => {});
  if (keptBack) {
    // Diagnose the refused server on a connection that offers no certificate.
    h?.socket.on('error', () => {});
    h?.socket.destroy();
    const { clientCert: _c, beforeClientFlight: _g, ...rest } = opts;
    const again = await connectForDiagnosis(rest);
    again.clientCertKeptBack = keptBack;
    return again;
  }
  if (tap.dns) wire.dns = tap.dns;
  if (tap.address !== undefined) wire.address = tap.address;
  if (tap.tcpMs !== undefined) wire.tcpMs = tap.tcpMs;
  if (!h) {
    if (tap.received) refusedInHandshake(wire, tap.received, opts.clientCert !== undefined);
    return wire;
  }
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
    const flight = readServerFlight({
      bytes: tap.received ?? Buffer.alloc(0),
      protocol: wire.protocol,
      cipher: wire.cipher,
      ...(tap.serverHandshakeSecret ? { serverHandshakeSecret: tap.serverHandshakeSecret } : {}),
    });
    const ders = flight.certificates;
    if (flight.certificateRequest !== undefined) {
      const auth: ClientAuth = {
        requested: flight.certificateRequest,
        offered: opts.clientCert !== undefined,
      };
      if (auth.requested && wire.protocol !== 'TLSv1.3') auth.verdict = 'accepted';
      else if (auth.requested && opts.clientVerdict) {
        const left = opts.timeout - (performance.now() - started);
        const wait = Math.max(
          0,
          Math.min(left, Math.max(VERDICT_MIN_MS, Math.min(VERDICT_MAX_MS, 2 * (tap.tlsMs ?? 0)))),
        );
        const seen = await refusalWithin(s, wait);
        auth.waitedMs = Math.round(wait);
        auth.verdict = seen.closed ? 'refused' : 'no-refusal';
        if (seen.error) {
          auth.error = mapSocketError(
            seen.error,
            wire.address ?? opts.target.address,
            opts.target.sni,
            auth.offered,
            true,
          );
        }
      }
      wire.clientAuth = auth;
    }
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

/**
 * TLS 1.2: a server that asks for a client certificate refuses it (or its absence) inside the
 * handshake, after its own flight, which came in the clear: the chain it sent is known and can
 * be verified. When the handshake failed that way, the Wire says so (clientAuth refused, the
 * chain as sent) instead of carrying only the error, so that check verifies the chain and names
 * the refusal as it does under TLS 1.3.
 */
function refusedInHandshake(wire: Wire, bytes: Buffer, offered: boolean): void {
  const err = wire.error;
  if (!(err instanceof SSLError) || err.code !== 'HANDSHAKE_FAILED') return;
  const flight = readServerFlight({ bytes, protocol: 'TLSv1.2', cipher: null });
  if (!flight.certificates || flight.certificateRequest !== true) return;
  const chain: Certificate[] = [];
  try {
    for (const der of flight.certificates) chain.push(parseCertificate(der));
  } catch {
    return; // a chain we cannot read: the error stands
  }
  wire.protocol = 'TLSv1.2';
  wire.sent = chain;
  wire.sentPositions = chain.map((_, i) => i);
  wire.nodeChain = chain;
  wire.clientAuth = { requested: true, offered, verdict: 'refused', error: err };
  delete wire.error;
}

/**
 * Reads (and discards) what the server sends for up to `ms`, nothing being written: an alert or
 * a close is its refusal of the client. Application data is not expected before a request.
 */
function refusalWithin(
  s: tls.TLSSocket,
  ms: number,
): Promise<{ closed: boolean; error?: NodeJS.ErrnoException }> {
  s.on('error', () => {});
  if (s.destroyed) {
    const error = s.errored as NodeJS.ErrnoException | null;
    return Promise.resolve(error ? { closed: true, error } : { closed: true });
  }
  return new Promise((resolve) => {
    const done = (r: { closed: boolean; error?: NodeJS.ErrnoException }) => {
      clearTimeout(timer);
      s.removeListener('error', onError);
      s.removeListener('end', onClose);
      s.removeListener('close', onClose);
      s.removeListener('data', discard);
      resolve(r);
    };
    const onError = (error: NodeJS.ErrnoException) => done({ closed: true, error });
    const onClose = () => done({ closed: true });
    const discard = () => {};
    const timer = setTimeout(() => done({ closed: false }), ms);
    s.on('error', onError);
    s.on('end', onClose);
    s.on('close', onClose);
    s.on('data', discard);
  });
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
