/**
 * The benchmark's HTTPS server, run in its own process (child_process.fork from run.ts) so that
 * the clients' event loop and the server's do not share one thread.
 *
 * It serves the test PKI it is sent over IPC (leaf + intermediate; the clients trust the root):
 *   /        200, a 12-byte body, keep-alive
 *   /close   the same, then closes the connection (Connection: close): one full handshake per request
 * and answers 'stats' with connection and TLS-resumption counts, so that the report can show that
 * every handshake in the new-connection runs was a full one.
 *
 * With `h2: true` in the start message it is node:http2's createSecureServer (allowHTTP1: the
 * same server answers HTTP/2 and HTTP/1.1), and 'stats' also counts requests per HTTP version,
 * so that the HTTP/2 rows can show each client spoke the protocol it is listed under.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

interface Start {
  type: 'start';
  key: string;
  cert: string;
  h2?: boolean;
}

const BODY = Buffer.from('hello world\n');
const counts = { connections: 0, open: 0, resumed: 0, requests: 0, h2Requests: 0, h1Requests: 0 };

process.on('message', (msg: Start | { type: 'stats' } | { type: 'stop' }) => {
  if (msg.type === 'start') start(msg);
  else if (msg.type === 'stats') process.send?.({ type: 'stats', ...counts });
  else if (msg.type === 'stop') process.exit(0);
});

function start(msg: Start): void {
  const handler = (
    req: IncomingMessage | Http2ServerRequest,
    res: ServerResponse | Http2ServerResponse,
  ): void => {
    counts.requests++;
    if (req.httpVersionMajor === 2) counts.h2Requests++;
    else counts.h1Requests++;
    const close = req.url === '/close';
    (res as ServerResponse).writeHead(200, {
      'content-type': 'text/plain',
      'content-length': BODY.length,
      ...(close && req.httpVersionMajor !== 2 ? { connection: 'close' } : {}),
    });
    res.end(BODY);
  };
  if (msg.h2) {
    const h2 = createSecureServer({ key: msg.key, cert: msg.cert, allowHTTP1: true }, handler);
    h2.on('secureConnection', (s: TLSSocket) => {
      if (s.isSessionReused()) counts.resumed++;
    });
    h2.on('connection', (s: Socket) => {
      counts.connections++;
      counts.open++;
      s.on('close', () => counts.open--);
      s.on('error', () => {});
    });
    h2.on('sessionError', () => {});
    h2.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
      const addr = h2.address();
      process.send?.({ type: 'listening', port: typeof addr === 'object' && addr ? addr.port : 0 });
    });
    return;
  }
  const server = createServer({ key: msg.key, cert: msg.cert }, handler);
  // Idle keep-alive connections stay open for the whole run (the memory benchmark holds 1,000).
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  server.requestTimeout = 0;
  server.maxRequestsPerSocket = 0;
  server.on('secureConnection', (s: TLSSocket) => {
    if (s.isSessionReused()) counts.resumed++;
  });
  server.on('connection', (s: Socket) => {
    counts.connections++;
    counts.open++;
    s.on('close', () => counts.open--);
    s.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  // A large backlog: the memory benchmark opens 1,000 connections at once.
  server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
    const addr = server.address();
    process.send?.({ type: 'listening', port: typeof addr === 'object' && addr ? addr.port : 0 });
  });
}

// The parent going away ends the server too.
process.on('disconnect', () => process.exit(0));
