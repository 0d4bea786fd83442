/**
 * One connection attempt that reports instead of throwing: what the server sent and what our
 * verifier made of it. For `certainly ca explain`; it runs the one handshake (handshake.ts) and
 * sends nothing over the socket.
 */
import { SSLError } from '../errors.js';
import type { VerifiedPath } from '../verify/index.js';
import type { Certificate } from '../x509/types.js';
import type { IpFamily } from './family.js';
import {
  type ClientTlsOptions,
  type Handshake,
  handshake,
  type ProxyRoute,
  type TlsInfo,
  type VerifyConfig,
  verifyHandshake,
} from './handshake.js';
import { resolveTarget, type TargetOptions } from './target.js';

export interface ProbeResult {
  /** Present when the handshake completed. */
  info?: TlsInfo;
  chain: Certificate[];
  /** Present when verification succeeded (absent for verify: false). */
  verified?: VerifiedPath;
  /** Why the connection or verification failed. */
  error?: Error;
  /** Milliseconds for TCP + TLS. */
  handshakeMs?: number;
}

export interface ProbeConfig extends VerifyConfig, TargetOptions {
  /** TCP + TLS limit, ms; default 10 000. */
  connectTimeout?: number;
  /** The proxy to go through, as a request would (client/proxy.ts chooses it). */
  proxy?: ProxyRoute | null;
  /** Resolve names to this address family only (curl's -4 / -6; tls/family.ts). */
  family?: IpFamily;
  /** A client certificate to present when the server asks. */
  clientCert?: ClientTlsOptions;
}

export async function probe(url: URL, config: ProbeConfig): Promise<ProbeResult> {
  const port = Number(url.port) || 443;
  const started = performance.now();
  let h: Handshake;
  // As a request: a client certificate leaves only once the server passes (tls/gate.ts). When it
  // does not, the server is probed again without one, for its chain and the reason.
  let keptBack = false;
  try {
    const target = resolveTarget(url.hostname, port, config);
    h = await handshake(target, {
      trust: config.trust,
      timeout: config.connectTimeout ?? 10_000,
      ...(config.proxy ? { proxy: config.proxy } : {}),
      ...(config.family ? { family: config.family } : {}),
      ...(config.clientCert
        ? {
            clientCert: config.clientCert,
            beforeClientFlight: async (early: Handshake) => {
              try {
                verifyHandshake(early, config);
              } catch (err) {
                keptBack = true;
                throw err;
              }
            },
          }
        : {}),
    });
  } catch (err) {
    if (keptBack) return probe(url, { ...config, clientCert: undefined });
    return { chain: [], error: err as Error };
  }
  const handshakeMs = performance.now() - started;
  try {
    const verified = verifyHandshake(h, config);
    return { info: h.info, chain: h.chain, handshakeMs, ...(verified ? { verified } : {}) };
  } catch (err) {
    if (config.clientCert) {
      // TLS 1.3: the handshake ended before the gate's verdict, which is this refusal; the
      // certificate stays in the gate (destroyed below). Probe again without it, as above.
      h.socket.destroy();
      return probe(url, { ...config, clientCert: undefined });
    }
    return {
      info: h.info,
      chain: h.chain,
      handshakeMs,
      error: err instanceof Error ? err : new SSLError(String(err), { code: 'HANDSHAKE_FAILED' }),
    };
  } finally {
    h.socket.destroy();
  }
}
