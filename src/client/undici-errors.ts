/**
 * undici's errors, turned into ours: a stable class and code, and a sentence with the fix.
 * Used for the request and for reading the body (a stall mid-body is a ReadTimeout too).
 */
import { CertainlyError, ConfigError, ConnectionError, ConnectTimeout, ReadTimeout } from '../errors.js';

export function mapUndiciError(
  err: unknown,
  url: URL,
  t: { connect: number; read: number },
  clientCert = false,
): unknown {
  if (err instanceof CertainlyError) return err;
  const e = err as { code?: string; name?: string; message?: string };
  switch (e?.code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new ReadTimeout(`${url.origin} did not answer within ${t.read} ms`, {
        cause: err,
        hint: 'The server is slow or stalled; raise timeout.read if it is expected to be slow.',
      });
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new ConnectTimeout(`connecting to ${url.host} took longer than ${t.connect} ms`, { cause: err });
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
      return new ConnectionError(
        `the connection to ${url.host} was closed before the response was complete`,
        {
          cause: err,
          code: 'ERR_CONNECTION_CLOSED',
          // Under TLS 1.3 some servers (Node's) refuse a client certificate by closing the
          // connection after the handshake, without an alert: the only trace is this close.
          ...(clientCert
            ? {
                hint: 'If the server requires a client certificate, it may have refused this one: check that it is issued by a CA the server trusts and within its validity.',
              }
            : {}),
        },
      );
    case 'UND_ERR_INVALID_ARG':
      return new ConfigError(`invalid request: ${e.message}`, { cause: err, code: 'ERR_OPTIONS' });
    default:
      return err;
  }
}
