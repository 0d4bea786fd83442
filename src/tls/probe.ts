/**
 * One connection attempt that reports instead of throwing: what the server sent and what our
 * verifier made of it. For `certainly ca explain` and diagnosis; nothing is sent over the socket.
 */
import { SSLError } from '../errors.js';
import type { VerifiedPath } from '../verify/index.js';
import type { Certificate } from '../x509/types.js';
import { type ConnectorConfig, handshake, type TlsInfo, verifyHandshake } from './connector.js';

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

export async function probe(url: URL, config: ConnectorConfig): Promise<ProbeResult> {
  const port = Number(url.port) || 443;
  const started = performance.now();
  let h: Awaited<ReturnType<typeof handshake>>;
  try {
    h = await handshake({ host: url.hostname, port }, config);
  } catch (err) {
    return { chain: [], error: err as Error };
  }
  const handshakeMs = performance.now() - started;
  try {
    const verified = verifyHandshake(h, config);
    return { info: h.info, chain: h.chain, handshakeMs, ...(verified ? { verified } : {}) };
  } catch (err) {
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
