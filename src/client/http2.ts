/**
 * HTTP/2 pools (the `http2` option). The connector offers ALPN `h2, http/1.1` in the one
 * handshake (tls/handshake.ts) and hands the socket over only after our verifier accepted the
 * server, so the HTTP/2 connection preface, like any request byte, follows verification. undici
 * then speaks HTTP/2 on a socket whose `alpnProtocol` is 'h2' (its Client reads exactly that; its
 * own `allowH2` only changes the ALPN list of undici's built-in connector, which we replace).
 *
 * What this module adds is the pool shape. undici's Pool opens a new connection for every
 * request that finds the others busy, and a connection still handshaking is busy as soon as one
 * request waits on it: N concurrent first requests to an origin would open N connections (and
 * run N verifications), where HTTP/2 wants one. So while an origin's protocol is not known, its
 * first connection takes every request (the pool's kGetDispatcher is overridden for that). Once
 * it has connected, an HTTP/2 connection carries up to H2_STREAMS requests at once (past that the
 * pool opens another); an HTTP/1.1 one goes back to one request at a time (no pipelining), the
 * origin is remembered as HTTP/1.1, and its next connections are made as without http2. The cost:
 * the first burst to an HTTP/1.1-only origin runs on that one connection, in turn.
 */
import type { TLSSocket } from 'node:tls';
import type { buildConnector, Dispatcher, Client as UndiciClient, Pool as UndiciPool } from 'undici';
import { ServedClient } from './served-by.js';
import { type Agent, kGetDispatcher, Pool } from './undici.js';

/** Requests one connection carries at once: undici's and Node's default peer limit of concurrent streams. */
export const H2_STREAMS = 100;

/** ALPN offered with http2: h2 preferred, HTTP/1.1 accepted (a server without h2 still works). */
export const H2_ALPN: readonly string[] = ['h2', 'http/1.1'];

/** Agent options for an HTTP/2-capable pool: the factory below (the connector is the caller's). */
export function http2AgentOptions(): Pick<Agent.Options, 'factory'> {
  return { factory: (origin, opts) => originPool(origin, opts as UndiciPool.Options) };
}

/** undici's Pool method, called on a Pool (it is not in undici's types). */
type PickClient = (this: UndiciPool) => Dispatcher | undefined;
const pickClient = (Pool.prototype as unknown as Record<symbol, PickClient>)[kGetDispatcher] as PickClient;

/** One origin's pool: each client learns its protocol on connect and sets its concurrency by it. */
function originPool(origin: string | URL, opts: UndiciPool.Options): Dispatcher {
  const plain = new URL(String(origin)).protocol === 'http:';
  // What this origin's last connection negotiated; null until one has connected.
  let known: 'h2' | 'http/1.1' | null = plain ? 'http/1.1' : null;
  // The connection that will tell, while known is null.
  let first: UndiciClient | undefined;
  class OriginPool extends Pool {
    [kGetDispatcher](): Dispatcher | undefined {
      if (known === null && first && !first.destroyed && !first.closed) return first;
      return pickClient.call(this);
    }
  }
  return new OriginPool(origin, {
    ...opts,
    factory: (url, clientOpts) => {
      const o = clientOpts as UndiciClient.Options & { connect: buildConnector.connector };
      const connect = o.connect;
      let alpn: string | null = null;
      const client: UndiciClient = new ServedClient(url, {
        ...o,
        pipelining: known === 'http/1.1' ? 1 : H2_STREAMS,
        connect: (co: buildConnector.Options, callback: buildConnector.Callback) =>
          connect(co, (err: Error | null, socket: unknown) => {
            const negotiated = err ? null : (socket as TLSSocket | null)?.alpnProtocol;
            alpn = typeof negotiated === 'string' ? negotiated : null;
            (callback as (e: Error | null, s: unknown) => void)(err, socket);
          }),
      });
      // undici emits 'connect' after it chose h1 or h2 for the socket and before it sends anything.
      client.on('connect', () => {
        known = alpn === 'h2' ? 'h2' : 'http/1.1';
        if (known === 'http/1.1' && client.pipelining !== 1) client.pipelining = 1;
      });
      if (known === null && (!first || first.destroyed || first.closed)) first = client;
      return client;
    },
  });
}
