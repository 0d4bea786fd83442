/**
 * undici's errors, turned into ours: a stable class and code, and a sentence with the fix.
 * Used for the request and for reading the body (a stall mid-body is a ReadTimeout too).
 *
 * Every class in undici 7's lib/core/errors.js has a row below, recognised by its `code` (which
 * survives two copies of undici, as its own Symbol brands do). Errors that are already ours (a
 * body stream's own failure is a BodyError by the time undici passes it on: client/body-source.ts),
 * and anything that is not undici's (the caller's AbortSignal reason), are returned as they are:
 * an abort stays the caller's abort.
 */
import {
  CertainlyError,
  ConfigError,
  ConnectionError,
  ConnectTimeout,
  ProtocolError,
  ReadTimeout,
  SessionClosed,
  secondsNote,
} from '../errors.js';

interface Ctx {
  url: URL;
  t: { connect: number; read: number };
  clientCert: boolean;
  /** undici's message, without a trailing period; never raw response bytes. */
  said: string;
  cause: unknown;
}

type Row = (c: Ctx) => Error;

// A socket undici holds was made and verified by our connector (tls/connector.ts), which reports
// its own failures as ours (phase 'connect'): a socket error that reaches undici happened after
// the connection was handed the request, so it is phase 'exchange' (a read failure for retries).
const closed: Row = ({ url, clientCert, said, cause }) =>
  new ConnectionError(`the connection to ${url.host} was closed before the response was complete (${said})`, {
    cause,
    code: 'ERR_CONNECTION_CLOSED',
    phase: 'exchange',
    // Under TLS 1.3 some servers (Node's) refuse a client certificate by closing the connection
    // after the handshake, without an alert: the only trace is this close.
    hint: clientCert
      ? 'If the server requires a client certificate, it may have refused this one: check that it is issued by a CA the server trusts and within its validity.'
      : 'The server or something in between closed the connection once the request was on its way, before the response was complete: the server may have acted on it. Send it again only if that is safe (retries: { read: n } does, for the allowed methods); if it persists, check the server logs or a proxy in the path.',
  });

const readTimeout: Row = ({ url, t, cause }) =>
  new ReadTimeout(`${url.origin} did not answer within ${t.read} ms`, {
    cause,
    hint: `The server is slow or stalled; raise timeout.read if it is expected to be slow.${secondsNote(t.read)}`,
  });

/** undici's error codes (lib/core/errors.js, 7.30.2) -> ours. */
const ROWS: Record<string, Row> = {
  UND_ERR_CONNECT_TIMEOUT: ({ url, t, cause }) => {
    const note = secondsNote(t.connect).trim();
    return new ConnectTimeout(`connecting to ${url.host} took longer than ${t.connect} ms`, {
      cause,
      ...(note ? { hint: note } : {}),
    });
  },
  UND_ERR_HEADERS_TIMEOUT: readTimeout,
  UND_ERR_BODY_TIMEOUT: readTimeout,
  UND_ERR_HEADERS_OVERFLOW: ({ url, cause }) =>
    new ProtocolError(
      `the response headers from ${url.origin} are larger than the limit (Node's --max-http-header-size, 16 KiB unless changed)`,
      {
        cause,
        code: 'ERR_HEADERS_OVERFLOW',
        hint: 'The server sends oversized headers (often a runaway Set-Cookie); fix the server, or raise the limit with node --max-http-header-size.',
      },
    ),
  UND_ERR_INVALID_ARG: ({ said, cause }) => {
    // undici refuses the connection-level headers it manages itself (RFC 9110 §7.6.1).
    const hop = /^invalid (keep-alive|transfer-encoding|upgrade|connection) header$/i.exec(said)?.[1];
    const name = hop?.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
    return new ConfigError(`invalid request: ${said}`, {
      cause,
      code: 'ERR_OPTIONS',
      hint: name
        ? `${name} is a connection-level header that the client sets for each connection itself (RFC 9110 §7.6.1): leave it out.${
            hop!.toLowerCase() === 'transfer-encoding'
              ? ' A body of unknown length (a stream) is sent chunked already.'
              : ''
          }`
        : 'Check the method, headers and body passed to the request.',
    });
  },
  UND_ERR_NOT_SUPPORTED: ({ said, cause }) =>
    new ConfigError(`not supported: ${said}`, {
      cause,
      code: 'ERR_NOT_SUPPORTED',
      hint: 'Remove the header or option named in the message (for example Expect: 100-continue).',
    }),
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: ({ cause }) =>
    new ConfigError('the request body is not as long as the Content-Length header given with it', {
      cause,
      code: 'ERR_CONTENT_LENGTH_MISMATCH',
      hint: 'Leave Content-Length out (certainly sets it from the body), or make it match the body in bytes.',
    }),
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: ({ url, cause }) =>
    new ProtocolError(
      `the response body from ${url.origin} does not match its Content-Length (the connection ended before the body was complete)`,
      {
        cause,
        code: 'ERR_CONTENT_LENGTH_MISMATCH',
        hint: 'The server or a proxy cut the response short; retry, and if it persists check the server.',
      },
    ),
  UND_ERR_SOCKET: closed,
  UND_ERR_INFO: closed,
  // Destroyed or closed dispatcher: only Session.close() does that to ours.
  UND_ERR_DESTROYED: ({ cause }) =>
    new SessionClosed('the session was closed while this request was under way', { cause }),
  UND_ERR_CLOSED: ({ cause }) => new SessionClosed('the session was closed', { cause }),
  // An AbortSignal without a reason (undici's own stand-in for one).
  UND_ERR_ABORTED: ({ url, cause }) =>
    new ConnectionError(`the request to ${url.origin} was aborted`, { cause, code: 'ERR_ABORTED' }),
  UND_ERR_ABORT: ({ url, cause }) =>
    new ConnectionError(`the request to ${url.origin} was aborted`, { cause, code: 'ERR_ABORTED' }),
  UND_ERR_RES_EXCEEDED_MAX_SIZE: ({ url, cause }) =>
    new ProtocolError(`the response from ${url.origin} passed undici's maxResponseSize`, {
      cause,
      code: 'ERR_RESPONSE_TOO_LARGE',
    }),
  UND_ERR_PRX_TLS: ({ said, cause }) =>
    new ConnectionError(`the TLS connection to the proxy failed: ${said}`, { cause, code: 'ERR_PROXY' }),
  UND_ERR_SOCKS5: ({ said, cause }) =>
    new ConnectionError(`the SOCKS5 proxy failed: ${said}`, { cause, code: 'ERR_PROXY' }),
};

/**
 * undici classes certainly's dispatchers never raise (retry, balanced pool, WebSocket, …). When
 * in the exchange it came is not known: 'exchange', so that it is not sent again unless read
 * retries are asked for.
 */
function unexpected({ said, cause }: Ctx, code: string): Error {
  return new ConnectionError(`the HTTP client failed (${code}): ${said}`, {
    cause,
    code: 'ERR_HTTP_CLIENT',
    phase: 'exchange',
  });
}

export function mapUndiciError(
  err: unknown,
  url: URL,
  t: { connect: number; read: number },
  clientCert = false,
): unknown {
  if (err instanceof CertainlyError) return err;
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const said = (typeof e?.message === 'string' && e.message !== '' ? e.message : code).replace(/\.$/, '');
  const c: Ctx = { url, t, clientCert, said, cause: err };
  const row = ROWS[code];
  if (row) return row(c);
  // llhttp's refusals (undici's HTTPParserError): HPE_INVALID_STATUS, HPE_INVALID_HEADER_TOKEN, …
  // The message names the rule broken; the bytes stay in `cause.data`, never in our message.
  if (code.startsWith('HPE_') || e?.name === 'HTTPParserError') {
    const why = /\(([^()]*)\)$/.exec(said)?.[1] ?? said;
    return new ProtocolError(
      `the response from ${url.origin} is not valid HTTP/1.1: ${why}${code ? ` (${code})` : ''}`,
      {
        cause: err,
        code: 'ERR_HTTP_PARSE',
        hint: 'The server (or something in front of it) answered with broken HTTP; check that the port serves HTTPS, and the server or proxy logs.',
      },
    );
  }
  // node:http2's errors, on an HTTP/2 connection.
  if (code.startsWith('ERR_HTTP2_')) {
    return new ProtocolError(`HTTP/2 failed with ${url.origin}: ${said} (${code})`, {
      cause: err,
      code: 'ERR_HTTP2',
      hint: 'The server broke the HTTP/2 protocol; retrying over HTTP/1.1 may work.',
    });
  }
  // The socket's own errors, when undici passes them on unwrapped: on a socket it holds, so after
  // the connection was made (see `closed`).
  if (/^E[A-Z]+$/.test(code)) {
    if (code === 'ECONNRESET' || code === 'EPIPE') return closed(c);
    return new ConnectionError(`the connection to ${url.host} failed: ${said}`, {
      cause: err,
      code: `ERR_CONNECTION_${code.slice(1)}`,
      phase: 'exchange',
    });
  }
  if (code.startsWith('UND_ERR')) return unexpected(c, code);
  return err;
}
