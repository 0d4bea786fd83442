/**
 * One bounded HTTP/1.1 exchange over a connection made by the one dial, for the fetches the tls
 * layer makes on its own: AIA intermediates (tls/aia.ts) and online OCSP (tls/ocsp-fetch.ts).
 * node:http speaks HTTP/1.1 over the socket `connect` returns (no agent, no pooling, one request);
 * through an HTTP(S) proxy an http URL is asked for in absolute form (RFC 9112 §3.2.2) with the
 * proxy's headers, while SOCKS5 is a tunnel to the server, so the request is as sent direct.
 *
 * Bounded: one deadline for the whole exchange, and at most `maxBytes` of body (a declared
 * Content-Length over it is refused before reading). Only a 200 answer's body is read; any other
 * status resolves at once with `body: null` and the connection is dropped.
 */
import type http from 'node:http';
import type net from 'node:net';
import type { ProxyRoute } from './handshake.js';

let httpModule: typeof http | undefined;
/**
 * node:http, loaded on the first fetch: on Node 22 and later it also loads Node's bundled undici,
 * which importing certainly and making a request never needs otherwise.
 */
function nodeHttp(): typeof http {
  httpModule ??= process.getBuiltinModule('node:http') as typeof http;
  return httpModule;
}

export interface ExchangeRequest {
  method: 'GET' | 'POST';
  /** Extra request headers (Host and, through a proxy, the proxy's are added here). */
  headers: Record<string, string>;
  body?: Uint8Array;
}

export interface ExchangeLimits {
  /** performance.now() time by which the whole exchange must be done. */
  deadline: number;
  /** For the timeout's message. */
  timeout: number;
  maxBytes: number;
}

export interface ExchangeAnswer {
  status: number;
  location: string | undefined;
  /** The body of a 200 answer; null for any other status (not read). */
  body: Buffer | null;
}

/** Why an exchange failed, in the caller's own error type. */
export type ExchangeError = (kind: 'timeout' | 'too-large', message: string) => Error;

export function exchangeOnce(
  url: URL,
  request: ExchangeRequest,
  limits: ExchangeLimits,
  proxy: ProxyRoute | null,
  connect: () => Promise<net.Socket>,
  makeError: ExchangeError,
): Promise<ExchangeAnswer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      f();
    };
    const fail = (err: Error) => settle(() => reject(err));
    const viaProxy =
      proxy !== null &&
      url.protocol === 'http:' &&
      (proxy.protocol === 'http:' || proxy.protocol === 'https:');
    const req = nodeHttp().request({
      method: request.method,
      host: url.hostname,
      path: viaProxy ? url.href : `${url.pathname}${url.search}` || '/',
      headers: {
        host: url.host,
        ...request.headers,
        ...(request.body ? { 'content-length': String(request.body.length) } : {}),
        ...(viaProxy ? proxy.headers : {}),
      },
      // No agent: node:http then takes its one connection from createConnection (our dial).
      createConnection: ((_o: unknown, done: (err: Error | null, s?: net.Socket) => void) => {
        connect().then(
          (s) => done(null, s),
          (err: Error) => done(err),
        );
        return undefined;
      }) as never,
    });
    const timer = setTimeout(
      () => req.destroy(makeError('timeout', `no complete answer within ${limits.timeout} ms`)),
      Math.max(1, limits.deadline - performance.now()),
    );
    req.on('error', fail);
    req.on('response', (res) => {
      // Errors after the answer is decided (a body abandoned below) must not go unhandled.
      res.on('error', fail);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status !== 200) {
        settle(() => resolve({ status, location, body: null }));
        req.destroy();
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > limits.maxBytes) {
        fail(
          makeError(
            'too-large',
            `the response is ${declared} bytes, more than the ${limits.maxBytes} allowed`,
          ),
        );
        req.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > limits.maxBytes) {
          fail(makeError('too-large', `the response is larger than the ${limits.maxBytes} bytes allowed`));
          req.destroy();
          return;
        }
        chunks.push(d);
      });
      res.on('end', () => settle(() => resolve({ status, location, body: Buffer.concat(chunks) })));
    });
    if (request.body)
      req.end(Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength));
    else req.end();
  });
}
