/**
 * Which connection carried a response. undici gives a response no handle on its socket, and an
 * origin's pool holds several connections, each verified on its own: behind a balancer their
 * certificates (and so `Response.tls`: chain, anchor, revocation) may differ. So every undici
 * Client the Session makes is a ServedClient: it keeps the TlsInfo of the socket the connector
 * gave it (HTTP/1.1: one socket at a time; HTTP/2: one session), and marks each request it takes
 * with itself. Once the response has arrived, `servedTls(opts)` is the TlsInfo of the connection
 * that carried it. The cost per request is one property set on the request's own options object.
 */
import type { buildConnector, Dispatcher, Agent as UndiciAgent, Client as UndiciClient } from 'undici';
import { tlsInfoOf } from '../tls/connector.js';
import type { TlsInfo } from '../tls/handshake.js';
import { Client, Pool } from './undici.js';

const kServedBy = Symbol('certainly.servedBy');

export class ServedClient extends Client {
  /** The TlsInfo of this client's current connection (undefined before one, and for http). */
  tls: TlsInfo | undefined;

  constructor(origin: string | URL, opts: UndiciClient.Options) {
    const connect = opts.connect as buildConnector.connector;
    super(origin, {
      ...opts,
      connect: (co: buildConnector.Options, callback: buildConnector.Callback) =>
        connect(co, (err: Error | null, socket: unknown) => {
          this.tls = socket ? tlsInfoOf(socket as object) : undefined;
          (callback as (e: Error | null, s: unknown) => void)(err, socket);
        }),
    });
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    (opts as unknown as Record<symbol, unknown>)[kServedBy] = this;
    return super.dispatch(opts, handler);
  }
}

/** The TlsInfo of the connection that took the request sent with these options, if known. */
export function servedTls(opts: object): TlsInfo | undefined {
  return (opts as Record<symbol, ServedClient | undefined>)[kServedBy]?.tls;
}

/** Agent options whose pools are made of ServedClients (undici's own factory shapes otherwise). */
export function servedAgentOptions(): Pick<UndiciAgent.Options, 'factory'> {
  return {
    factory: (origin, opts) =>
      (opts as { connections?: number | null }).connections === 1
        ? new ServedClient(origin, opts as UndiciClient.Options)
        : new Pool(origin, {
            ...opts,
            factory: (o: string | URL, co: object) => new ServedClient(o, co as UndiciClient.Options),
          }),
  };
}
