/**
 * Loopback servers for tests: a TLS server that serves a chosen certificate chain and counts
 * what reaches it, a plain HTTP server, and a raw server that misbehaves on purpose.
 *
 * The TLS server is a tls.Server whose secure sockets are handed to an http.Server with
 * `emit('connection')`, so that every application byte can be counted at the TLS socket and a
 * test can assert that *no* request byte arrived when verification failed.
 *
 * All servers listen on loopback only and pick a free port. close() destroys open connections,
 * so it never waits for kept-alive sockets.
 */

import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  createServer as createNetServer,
  type Server as NetServer,
  connect as netConnect,
  type Socket,
} from 'node:net';
import {
  createSecureContext,
  createServer as createTlsServer,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';
import { type Issued, pemOf } from './pki.js';

export type LoopbackHost = '127.0.0.1' | '::1' | 'localhost';
export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface TestServerOptions {
  /** The leaf, with its key. */
  cert: Issued;
  /** Sent after the leaf, in this order (may be empty, reversed, with extras). */
  chain?: Issued[];
  /** Default '127.0.0.1'. 'localhost' listens on 127.0.0.1 and, where available, on ::1 at the same port. */
  host?: LoopbackHost;
  /** Ask for a client certificate. */
  requestCert?: boolean;
  /**
   * PEM of the CAs a client certificate must chain to; when set, unauthorised clients are refused.
   * Caveat: with an empty `chain`, OpenSSL completes the server's chain from this store
   * ("auto chain", which Node cannot turn off), so keep the client CA separate from the server's
   * CAs when a test needs the server to send the leaf alone.
   */
  clientCa?: string;
  /** Default: defaultHandler (see there). */
  handler?: Handler;
  /** ALPN protocols the server offers (none by default, which means HTTP/1.1). */
  alpn?: string[];
  /** Lowest / highest TLS version, e.g. to force TLS 1.2. */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  /**
   * The OCSP response to staple when a client asks for one (RFC 6066 status_request, node's
   * 'OCSPRequest' event); undefined: none is stapled.
   */
  staple?: Buffer;
  /** Other certificates to serve by SNI name (exact, case-insensitive); `cert` serves the rest and no-SNI. */
  sni?: Record<string, { cert: Issued; chain?: Issued[] }>;
}

export interface TestServer {
  host: string;
  port: number;
  /** 'https://127.0.0.1:PORT', 'https://[::1]:PORT' or 'https://localhost:PORT'. */
  origin: string;
  url(path?: string): string;
  /** Application bytes received after the TLS handshake, over all connections (0 = no request seen). */
  readonly bytesReceived: number;
  readonly requests: number;
  /** TCP connections accepted. */
  readonly connections: number;
  /**
   * TLS handshakes completed on the server's side. Under TLS 1.3 that happens after the client's
   * 'secureConnect'; a client that destroy()s at once may drop its Finished, and the server then
   * counts a handshake error instead.
   */
  readonly handshakes: number;
  /**
   * The last {@link RECENT_RECORDS} handshakes that failed on the server side (client alert,
   * reset, …), oldest first; `handshakeErrorCount` counts them all.
   */
  readonly handshakeErrors: readonly Error[];
  /** Handshakes that failed on the server side, over the server's life. */
  readonly handshakeErrorCount: number;
  /** Connections open right now (TCP). */
  readonly openConnections: number;
  /** The PEM the server was configured with: the leaf then the chain, in order. */
  readonly certChainPem: string;
  /**
   * The SNI names of the last {@link RECENT_RECORDS} completed handshakes, oldest first; false
   * where the client sent none. (`handshakes` counts them all.)
   */
  readonly serverNames: readonly (string | false)[];
  close(): Promise<void>;
}

/**
 * How many handshake errors and SNI names a server keeps (the latest ones; the counts cover all).
 * Tests look at the last few; keeping every one grew the soak test's heap from 27 to 94 MB over
 * 100,000 requests (commit 837dac1), which hid what the client itself keeps.
 */
export const RECENT_RECORDS = 100;

/** Appends `item`, dropping the oldest entry once `list` holds {@link RECENT_RECORDS}. */
function keepRecent<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > RECENT_RECORDS) list.shift();
}

const formatHost = (host: string) => (host.includes(':') ? `[${host}]` : host);
const normalisePath = (path = '/') => (path.startsWith('/') ? path : `/${path}`);

/**
 * The default handler. Routes (for client tests):
 *   /status/<code>           that status, JSON echo body
 *   /redirect/<code>?to=<u>  a redirect to <u> (code 301/302/303/307/308)
 *   /delay/<ms>              the echo after <ms> milliseconds
 *   /stall                   headers never sent (until close())
 *   anything else            200, JSON: { message: 'hello', method, url, headers, body, tls }
 * `tls` has protocol, alpn and the client certificate's subject CN (or null).
 */
export function defaultHandler(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://x');
    const sock = req.socket as Partial<TLSSocket>;
    const peer = typeof sock.getPeerCertificate === 'function' ? sock.getPeerCertificate() : undefined;
    const echo = {
      message: 'hello',
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      tls: sock.encrypted
        ? {
            protocol: sock.getProtocol?.() ?? null,
            alpn: sock.alpnProtocol || null,
            clientCert: peer && Object.keys(peer).length > 0 ? (peer.subject?.CN ?? '') : null,
          }
        : null,
    };
    const send = (status: number, extra: Record<string, string> = {}) => {
      const body = JSON.stringify(echo);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        ...extra,
      });
      res.end(body);
    };
    const parts = url.pathname.split('/');
    if (parts[1] === 'status' && /^\d{3}$/.test(parts[2] ?? '')) return send(Number(parts[2]));
    if (parts[1] === 'redirect' && /^\d{3}$/.test(parts[2] ?? '')) {
      return send(Number(parts[2]), { location: url.searchParams.get('to') ?? '/' });
    }
    if (parts[1] === 'delay' && /^\d+$/.test(parts[2] ?? '')) {
      const timer = setTimeout(() => send(200), Number(parts[2]));
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (parts[1] === 'stall') return;
    send(200);
  });
}

/** Tracks sockets so close() can destroy them; returns a close function. */
function socketTracker() {
  const sockets = new Set<Socket>();
  return {
    sockets,
    add(s: Socket) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      // A client that resets is normal in these tests; never let it become an uncaught error.
      s.on('error', () => {});
    },
    destroyAll() {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
  };
}

function listen(server: NetServer, host: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

function closeServer(server: NetServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/**
 * Listens with `server` on the loopback address for `host`. For 'localhost' it also accepts on
 * ::1 (when the machine has it) at the same port, feeding those connections to `server`.
 */
async function listenLoopback(
  server: NetServer,
  host: LoopbackHost,
): Promise<{ port: number; extra?: NetServer; address: string }> {
  if (host !== 'localhost') return { port: await listen(server, host), address: host };
  // Retry a few times: the free port picked on 127.0.0.1 may be taken on ::1.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await listen(server, '127.0.0.1');
    const v6 = createNetServer((s) => server.emit('connection', s));
    try {
      await listen(v6, '::1', port);
      return { port, extra: v6, address: 'localhost' };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') return { port, address: 'localhost' };
      await closeServer(server);
    }
  }
  throw new Error('could not find a port free on both 127.0.0.1 and ::1 for localhost');
}

/** A TLS server on loopback serving `cert` and `chain`, counting connections, handshakes and bytes. */
export async function startTlsServer(opts: TestServerOptions): Promise<TestServer> {
  const host = opts.host ?? '127.0.0.1';
  const certChainPem = pemOf(opts.cert, ...(opts.chain ?? []));
  const sniContexts = new Map<string, SecureContext>();
  for (const [name, entry] of Object.entries(opts.sni ?? {})) {
    const cert = pemOf(entry.cert, ...(entry.chain ?? []));
    sniContexts.set(name.toLowerCase(), createSecureContext({ key: entry.cert.keyPem, cert }));
  }
  const tlsServer = createTlsServer({
    key: opts.cert.keyPem,
    cert: certChainPem,
    ...(opts.sni
      ? {
          SNICallback: (name: string, cb: (err: Error | null, ctx?: SecureContext) => void) =>
            cb(null, sniContexts.get(name.toLowerCase())),
        }
      : {}),
    ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
    ...(opts.requestCert ? { requestCert: true, rejectUnauthorized: opts.clientCa !== undefined } : {}),
    ...(opts.clientCa !== undefined ? { ca: opts.clientCa } : {}),
    ...(opts.minVersion ? { minVersion: opts.minVersion } : {}),
    ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
  });
  const staple = opts.staple;
  if (staple)
    tlsServer.on('OCSPRequest', (_c: Buffer, _i: Buffer, cb: (e: Error | null, r?: Buffer) => void) =>
      cb(null, staple),
    );
  const httpServer = createHttpServer(opts.handler ?? defaultHandler);
  const tracker = socketTracker();
  const counts = { bytes: 0, requests: 0, connections: 0, handshakes: 0, handshakeErrors: 0 };
  const handshakeErrors: Error[] = [];
  const serverNames: (string | false)[] = [];

  tlsServer.on('connection', (raw: Socket) => {
    counts.connections++;
    tracker.add(raw);
  });
  tlsServer.on('tlsClientError', (err: Error) => {
    counts.handshakeErrors++;
    keepRecent(handshakeErrors, err);
  });
  tlsServer.on('secureConnection', (s: TLSSocket) => {
    counts.handshakes++;
    keepRecent(serverNames, (s as TLSSocket & { servername?: string | false }).servername || false);
    tracker.add(s);
    httpServer.emit('connection', s);
    // Added after the HTTP server took the socket: a 'data' listener makes it read through JS
    // (the server un-consumes the handle), so this sees every byte the parser sees.
    s.on('data', (chunk: Buffer) => {
      counts.bytes += chunk.length;
    });
  });
  httpServer.on('request', () => {
    counts.requests++;
  });

  const { port, extra, address } = await listenLoopback(tlsServer, host);
  const origin = `https://${formatHost(address)}:${port}`;
  return {
    host: address,
    port,
    origin,
    url: (path?: string) => origin + normalisePath(path),
    get bytesReceived() {
      return counts.bytes;
    },
    get requests() {
      return counts.requests;
    },
    get connections() {
      return counts.connections;
    },
    get handshakes() {
      return counts.handshakes;
    },
    handshakeErrors,
    get handshakeErrorCount() {
      return counts.handshakeErrors;
    },
    serverNames,
    get openConnections() {
      return [...tracker.sockets].filter((s) => !('encrypted' in s)).length;
    },
    certChainPem,
    async close() {
      tracker.destroyAll();
      await Promise.all([closeServer(tlsServer), extra ? closeServer(extra) : undefined]);
    },
  };
}

export interface PlainServer {
  host: string;
  port: number;
  /** 'http://127.0.0.1:PORT' */
  origin: string;
  url(path?: string): string;
  readonly requests: number;
  close(): Promise<void>;
}

/** A plain HTTP server on 127.0.0.1 (redirect targets, AIA caIssuers downloads). Default handler as for TLS. */
export async function startHttpServer(
  handler?: Handler,
  opts: { host?: LoopbackHost } = {},
): Promise<PlainServer> {
  const server = createHttpServer(handler ?? defaultHandler);
  const tracker = socketTracker();
  let requests = 0;
  server.on('connection', (s: Socket) => tracker.add(s));
  server.on('request', () => {
    requests++;
  });
  const { port, extra, address } = await listenLoopback(server, opts.host ?? '127.0.0.1');
  const origin = `http://${formatHost(address)}:${port}`;
  return {
    host: address,
    port,
    origin,
    url: (path?: string) => origin + normalisePath(path),
    get requests() {
      return requests;
    },
    async close() {
      tracker.destroyAll();
      server.closeAllConnections();
      await Promise.all([closeServer(server), extra ? closeServer(extra) : undefined]);
    },
  };
}

/**
 * How a raw server misbehaves:
 *   'stall'                accept TCP, never answer (connect/handshake timeouts)
 *   'close'                close (FIN) as soon as the ClientHello arrives
 *   'reset'                reset (RST) as soon as the ClientHello arrives
 *   'garbage'              answer the ClientHello with plain-text HTTP (not TLS), then close
 *   'stallAfterHandshake'  complete the TLS handshake, then never answer (read timeouts); needs cert
 *   'closeAfterHandshake'  complete the handshake, then close cleanly; needs cert
 *   'resetAfterHandshake'  complete the handshake, then reset (RST) when the request arrives; needs cert
 */
export type RawServerMode =
  | 'stall'
  | 'close'
  | 'reset'
  | 'garbage'
  | 'stallAfterHandshake'
  | 'closeAfterHandshake'
  | 'resetAfterHandshake';

export interface RawServerOptions {
  mode: RawServerMode;
  /** Needed by the *AfterHandshake modes. */
  cert?: Issued;
  chain?: Issued[];
  host?: LoopbackHost;
}

export interface RawServer {
  host: string;
  port: number;
  origin: string;
  url(path?: string): string;
  readonly connections: number;
  /** Bytes received: raw TCP bytes for the pre-handshake modes, application bytes after it otherwise. */
  readonly bytesReceived: number;
  close(): Promise<void>;
}

/** A server that misbehaves in one of the ways listed at RawServerMode, for fault tests. */
export async function startRawTlsServer(opts: RawServerOptions): Promise<RawServer> {
  const tracker = socketTracker();
  const counts = { connections: 0, bytes: 0 };
  const afterHandshake = opts.mode.endsWith('AfterHandshake');
  let server: NetServer;
  if (afterHandshake) {
    if (!opts.cert) throw new TypeError(`startRawTlsServer(): mode '${opts.mode}' needs cert`);
    const tlsServer = createTlsServer({
      key: opts.cert.keyPem,
      cert: pemOf(opts.cert, ...(opts.chain ?? [])),
    });
    const rawByPort = new Map<number, Socket>();
    tlsServer.on('connection', (raw: Socket) => {
      counts.connections++;
      tracker.add(raw);
      const port = raw.remotePort;
      if (port !== undefined) {
        rawByPort.set(port, raw);
        raw.on('close', () => rawByPort.delete(port));
      }
    });
    tlsServer.on('tlsClientError', () => {});
    tlsServer.on('secureConnection', (s: TLSSocket) => {
      tracker.add(s);
      s.on('data', (chunk: Buffer) => {
        counts.bytes += chunk.length;
        if (opts.mode !== 'resetAfterHandshake') return;
        // resetAndDestroy() sends RST (Node >= 16.17) and works only on the TCP socket itself.
        // Resetting on the first request bytes (not right after the handshake) makes the
        // client see ECONNRESET reliably instead of racing its own handshake bookkeeping.
        const raw = s.remotePort === undefined ? undefined : rawByPort.get(s.remotePort);
        if (raw) raw.resetAndDestroy();
        else s.destroy();
      });
      if (opts.mode === 'closeAfterHandshake') s.end();
    });
    server = tlsServer;
  } else {
    server = createNetServer((s) => {
      counts.connections++;
      tracker.add(s);
      let answered = false;
      s.on('data', (chunk: Buffer) => {
        counts.bytes += chunk.length;
        if (answered) return;
        answered = true;
        if (opts.mode === 'close') s.end();
        else if (opts.mode === 'reset') s.resetAndDestroy();
        else if (opts.mode === 'garbage') s.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
      });
    });
  }
  const { port, extra, address } = await listenLoopback(server, opts.host ?? '127.0.0.1');
  const origin = `https://${formatHost(address)}:${port}`;
  return {
    host: address,
    port,
    origin,
    url: (path?: string) => origin + normalisePath(path),
    get connections() {
      return counts.connections;
    },
    get bytesReceived() {
      return counts.bytes;
    },
    async close() {
      tracker.destroyAll();
      await Promise.all([closeServer(server), extra ? closeServer(extra) : undefined]);
    },
  };
}

/**
 * A loopback port nothing listens on: a connection to it is refused. A privileged port (below
 * 1024), checked refused now: listen(0) never hands one out, so no server of a test running
 * beside this one can take it in the meantime (a port that was free a moment ago could be: the
 * check-fleet test once found its "unreachable" target answered by one of its own servers).
 * Successive calls give different ports.
 */
export async function closedPort(): Promise<number> {
  for (let tries = 0; tries < 1023; tries++) {
    nextClosed = (nextClosed % 1023) + 1;
    const port = nextClosed;
    const refused = await new Promise<boolean>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
    });
    if (refused) return port;
  }
  throw new Error('closedPort: every port below 1024 on 127.0.0.1 answered or failed otherwise');
}
let nextClosed = 1 + Math.floor(Math.random() * 1000);
