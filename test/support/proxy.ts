/**
 * A forward proxy on loopback for tests: CONNECT tunnels (RFC 9110 §9.3.6) and absolute-form
 * forwarding of http:// requests (RFC 9112 §3.2.2), optionally over TLS (an https:// proxy),
 * optionally requiring Basic credentials, and able to refuse or misbehave on purpose. It records
 * what it saw, so tests can check that credentials reached the proxy and never the target.
 */
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { type Issued, pemOf } from './pki.js';

export interface TestProxyOptions {
  /** 'user:password': require Basic Proxy-Authorization, answer 407 otherwise. */
  auth?: string;
  /** Serve the proxy over TLS with this certificate: an https:// proxy. */
  tls?: { cert: Issued; chain?: Issued[] };
  /** Answer every CONNECT with this status instead of tunnelling (403, 502, …). */
  connectStatus?: number;
  /**
   * Misbehave on CONNECT: never answer, close at once, answer with something not HTTP, or send
   * header lines without end (64 KiB, then stall).
   */
  mode?: 'stall' | 'close' | 'garbage' | 'endlessHeaders';
  /** Default '127.0.0.1'. */
  host?: '127.0.0.1' | '::1';
}

export interface ProxyConnect {
  /** 'host:port' as asked for. */
  target: string;
  /** The Proxy-Authorization header the client sent, if any. */
  authorization?: string;
  /** What the proxy answered (0 when it did not answer). */
  status: number;
}

export interface ProxyForward {
  method: string;
  /** The absolute URL asked for. */
  url: string;
  authorization?: string;
  /** The request's headers as received by the proxy. */
  headers: IncomingMessage['headers'];
}

export interface TestProxy {
  host: string;
  port: number;
  /** 'http://127.0.0.1:PORT' (https:// with `tls`). */
  url: string;
  /** Every CONNECT, in order. */
  readonly connects: readonly ProxyConnect[];
  /** Every absolute-form request forwarded, in order. */
  readonly forwarded: readonly ProxyForward[];
  /** TCP connections accepted by the proxy. */
  readonly connections: number;
  /** Bytes clients sent into tunnels (towards their targets). */
  readonly tunnelBytes: number;
  close(): Promise<void>;
}

export async function startProxy(opts: TestProxyOptions = {}): Promise<TestProxy> {
  const host = opts.host ?? '127.0.0.1';
  const connects: ProxyConnect[] = [];
  const forwarded: ProxyForward[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let tunnelBytes = 0;
  const expected = opts.auth ? `Basic ${Buffer.from(opts.auth).toString('base64')}` : undefined;

  const server: Server = opts.tls
    ? createHttpsServer({ cert: pemOf(opts.tls.cert, ...(opts.tls.chain ?? [])), key: opts.tls.cert.keyPem })
    : createHttpServer();
  const track = (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  server.on(opts.tls ? 'secureConnection' : 'connection', track);

  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    const authorization = req.headers['proxy-authorization'];
    const record: ProxyConnect = { target, status: 0, ...(authorization ? { authorization } : {}) };
    connects.push(record);
    client.on('error', () => {});
    if (opts.mode === 'stall') return;
    if (opts.mode === 'close') {
      client.destroy();
      return;
    }
    if (opts.mode === 'garbage') {
      client.end('SSH-2.0-OpenSSH_9.2\r\n\r\n');
      return;
    }
    if (opts.mode === 'endlessHeaders') {
      client.write(`HTTP/1.1 200 Connection Established\r\n${'x-filler: 0123456789abcdef\r\n'.repeat(2400)}`);
      return;
    }
    const answer = (status: number, reason: string, extra = '') => {
      record.status = status;
      client.end(`HTTP/1.1 ${status} ${reason}\r\n${extra}content-length: 0\r\nconnection: close\r\n\r\n`);
    };
    if (expected && authorization !== expected) {
      answer(407, 'Proxy Authentication Required', 'proxy-authenticate: Basic realm="test proxy"\r\n');
      return;
    }
    if (opts.connectStatus !== undefined) {
      answer(opts.connectStatus, 'Refused by test proxy');
      return;
    }
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
    if (!m) {
      answer(400, 'Bad Request');
      return;
    }
    const upstream = netConnect({ host: m[1]!, port: Number(m[2]) });
    upstream.on('error', () => {
      if (record.status === 0) answer(502, 'Bad Gateway');
      else client.destroy();
    });
    upstream.once('connect', () => {
      record.status = 200;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) {
        tunnelBytes += head.length;
        upstream.write(head);
      }
      client.on('data', (d: Buffer) => {
        tunnelBytes += d.length;
      });
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  });

  server.on('request', (req, res) => {
    const authorization = req.headers['proxy-authorization'];
    forwarded.push({
      method: req.method ?? 'GET',
      url: req.url ?? '',
      headers: req.headers,
      ...(authorization ? { authorization } : {}),
    });
    if (expected && authorization !== expected) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test proxy"', 'content-length': '0' }).end();
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '');
      if (url.protocol !== 'http:') throw new Error('not http');
    } catch {
      res.writeHead(400, { 'content-length': '0' }).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = httpRequest(
      {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || 80,
        path: url.pathname + url.search,
        method: req.method,
        headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-length': '0' });
      res.end();
    });
    req.pipe(upstream);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy: no port');
  const port = address.port;
  const hostText = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    url: `${opts.tls ? 'https' : 'http'}://${hostText}:${port}`,
    connects,
    forwarded,
    get connections() {
      return connections;
    },
    get tunnelBytes() {
      return tunnelBytes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
