/**
 * Tunnels through a proxy over a socket already connected to it (tls/handshake.ts dials; this
 * module only speaks the proxy's protocol): HTTP CONNECT (RFC 9110 §9.3.6) and SOCKS5 (RFC 1928,
 * with username/password authentication, RFC 1929). The caller's deadline bounds the time; each
 * reply is bounded in size. On failure the socket is left for the caller to destroy.
 *
 * Proxy credentials go to the proxy only: in the CONNECT request or the SOCKS5 sub-negotiation,
 * never inside the tunnel. Nothing is written to the tunnel here after the proxy says yes: the
 * TLS handshake with the target comes next, and our verifier checks the target, not the proxy.
 */
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { domainToASCII } from 'node:url';
import { ConnectionError, ProxyError } from '../errors.js';
import type { TrustAnchors } from '../trust/types.js';
import { parseIp } from '../x509/index.js';
import { type IpFamily, resolveFamily } from './family.js';
import { formatAddress } from './target.js';

/** A proxy a connection goes through, as client/proxy.ts resolved it. */
export interface ProxyRoute {
  protocol: 'http:' | 'https:' | 'socks5:' | 'socks5h:';
  /** The proxy's host (no brackets) and port. */
  host: string;
  port: number;
  /** The proxy's URL without credentials, for messages ('http://127.0.0.1:3128'). */
  display: string;
  /** Where the proxy came from, for hints: 'the proxy option', 'HTTPS_PROXY'. */
  source: string;
  /** HTTP proxies: headers for the CONNECT request (Proxy-Authorization among them). */
  headers: Record<string, string>;
  /** https:// proxies: the anchors for the proxy's own certificate (null: unverified). */
  trust: TrustAnchors | null | undefined;
  /** SOCKS5: username/password authentication (RFC 1929). */
  auth?: { username: string; password: string };
}

// The proxy's reply to CONNECT is a status line and a few headers. 16 KiB is twice nginx's
// default large_client_header_buffers (8k); more than that is not a proxy talking.
const MAX_CONNECT_REPLY = 16 * 1024;

/** What a proxy's refusal means, for the hint. */
function refusalHint(
  status: number,
  proxy: ProxyRoute,
  target: string,
  authenticate: string | undefined,
): string {
  if (status === 407) {
    const scheme = authenticate ? ` (it asks for: ${authenticate})` : '';
    return proxy.headers['proxy-authorization']
      ? `The proxy rejected the credentials${scheme}; check the user and password in the proxy URL (from ${proxy.source}).`
      : `The proxy requires authentication${scheme}: put them in the proxy URL, http://user:password@host:port, or pass proxy: { url, auth: 'user:password' }.`;
  }
  if (status === 403 || status === 405) {
    return `The proxy does not allow tunnels to ${target} (its access rules; many proxies allow CONNECT to port 443 only).`;
  }
  if (status === 502 || status === 503 || status === 504) {
    return `The proxy could not reach ${target}; check the host and port, and that the proxy can resolve and reach it.`;
  }
  return `The proxy (from ${proxy.source}) refused to open a tunnel to ${target}.`;
}

/** Reads from a socket until `done` says a whole reply is there; rejects on end, error or excess. */
function readReply<T>(
  socket: net.Socket,
  proxy: ProxyRoute,
  what: string,
  max: number,
  done: (buffered: Buffer) => { value: T; used: number } | undefined,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const cleanup = () => {
      socket.removeListener('readable', onReadable);
      socket.removeListener('error', onError);
      socket.removeListener('end', onEnd);
    };
    const finish = (err: Error | null, value?: T) => {
      cleanup();
      if (err) reject(err);
      else resolve(value as T);
    };
    const onError = (err: Error) =>
      finish(
        new ProxyError(`the connection to the proxy ${proxy.display} failed during ${what}: ${err.message}`, {
          code: 'ERR_PROXY_CONNECT',
          proxy: proxy.display,
          cause: err,
        }),
      );
    const onEnd = () =>
      finish(
        new ProxyError(`the proxy ${proxy.display} closed the connection instead of answering ${what}`, {
          code: 'ERR_PROXY_PROTOCOL',
          proxy: proxy.display,
          hint: `Check that ${proxy.display} is the kind of proxy its URL says (from ${proxy.source}) and not a web server or a TLS port.`,
        }),
      );
    const onReadable = () => {
      for (;;) {
        const chunk = socket.read() as Buffer | null;
        if (chunk === null) return;
        buffered = Buffer.concat([buffered, chunk]);
        let got: { value: T; used: number } | undefined;
        try {
          got = done(buffered);
        } catch (err) {
          finish(err as Error);
          return;
        }
        if (got) {
          // Nothing should follow a reply before our ClientHello; keep it if something did.
          if (got.used < buffered.length) socket.unshift(buffered.subarray(got.used));
          finish(null, got.value);
          return;
        }
        if (buffered.length > max) {
          finish(
            new ProxyError(
              `the proxy ${proxy.display} sent more than ${max} bytes without ending its reply to ${what}`,
              {
                code: 'ERR_PROXY_PROTOCOL',
                proxy: proxy.display,
              },
            ),
          );
          return;
        }
      }
    };
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.on('readable', onReadable);
    onReadable();
  });
}

/**
 * Opens a CONNECT tunnel to host:port over `socket` (connected to the proxy). ProxyError for a
 * refusal (with the proxy's status) or a reply that is not HTTP.
 */
export async function openConnectTunnel(
  socket: net.Socket,
  proxy: ProxyRoute,
  host: string,
  port: number,
): Promise<net.Socket> {
  const target = formatAddress(host, port);
  const lines = [`CONNECT ${target} HTTP/1.1`, `host: ${target}`];
  for (const [k, v] of Object.entries(proxy.headers)) lines.push(`${k}: ${v}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  const protocolError = (why: string) =>
    new ProxyError(`the proxy ${proxy.display} ${why}`, {
      code: 'ERR_PROXY_PROTOCOL',
      proxy: proxy.display,
      hint: `Check that ${proxy.display} is an HTTP proxy (from ${proxy.source}) and not a web server or a TLS port.`,
    });
  await readReply(socket, proxy, `the CONNECT to ${target}`, MAX_CONNECT_REPLY, (buffered) => {
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const head = buffered.subarray(0, end).toString('latin1');
    const [statusLine = '', ...headerLines] = head.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!m) throw protocolError(`answered CONNECT with '${statusLine.slice(0, 80)}', which is not HTTP`);
    const status = Number(m[1]);
    if (status >= 200 && status < 300) return { value: undefined, used: end + 4 };
    const authenticate = headerLines
      .find((l) => /^proxy-authenticate:/i.test(l))
      ?.slice('proxy-authenticate:'.length)
      .trim();
    const reason = m[2] ? ` ${m[2]}` : '';
    throw new ProxyError(`the proxy ${proxy.display} refused the tunnel to ${target}: ${status}${reason}`, {
      code: status === 407 ? 'ERR_PROXY_AUTH' : 'ERR_PROXY_REFUSED',
      proxy: proxy.display,
      status,
      hint: refusalHint(status, proxy, target, authenticate),
    });
  });
  return socket;
}

// ---------------------------------------------------------------------------------------------
// SOCKS5 (RFC 1928; username/password, RFC 1929)

const SOCKS_VERSION = 5;
const AUTH_NONE = 0x00;
const AUTH_USERPASS = 0x02;
const AUTH_NO_ACCEPTABLE = 0xff;
const CMD_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;
// A SOCKS5 reply is at most 4 + 1 + 255 + 2 bytes (a domain-name bound address).
const MAX_SOCKS_REPLY = 262;

/** RFC 1928 §6 reply codes, in words. */
const SOCKS_REPLIES: Record<number, string> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by its rules',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused by the destination',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

function socksProtocolError(proxy: ProxyRoute, why: string): ProxyError {
  return new ProxyError(`the SOCKS5 proxy ${proxy.display} ${why}`, {
    code: 'ERR_PROXY_PROTOCOL',
    proxy: proxy.display,
    hint: `Check that ${proxy.display} (from ${proxy.source}) is a SOCKS5 proxy; a SOCKS4 or HTTP proxy answers otherwise.`,
  });
}

/** The address part of a SOCKS5 request: an IP as itself, a name as a name (socks5h) or resolved here (socks5). */
async function socksAddress(proxy: ProxyRoute, host: string, family?: IpFamily): Promise<Buffer> {
  let ip = net.isIP(host) ? host : undefined;
  if (ip === undefined && proxy.protocol === 'socks5:') {
    // socks5:// resolves the name here (curl's socks5://); socks5h:// leaves it to the proxy.
    try {
      ip = family === undefined ? (await lookup(host)).address : await resolveFamily(host, family, host);
    } catch (err) {
      // With a family, the reason names it (tls/family.ts); else the system's code.
      const why =
        err instanceof ConnectionError
          ? err.message.replace(/^could not connect to \S+: /, '')
          : ((err as NodeJS.ErrnoException).code ?? 'ERROR');
      throw new ProxyError(
        `could not resolve ${host} to send its address to the SOCKS5 proxy ${proxy.display}: ${why}`,
        {
          code: 'ERR_PROXY_CONNECT',
          proxy: proxy.display,
          cause: err,
          hint: 'With socks5:// this machine resolves names; use socks5h:// to let the proxy resolve them.',
        },
      );
    }
  }
  if (ip !== undefined && net.isIPv4(ip)) {
    return Buffer.from([ATYP_IPV4, ...ip.split('.').map(Number)]);
  }
  if (ip !== undefined) return Buffer.concat([Buffer.from([ATYP_IPV6]), parseIp(ip) as Uint8Array]);
  const name = Buffer.from(domainToASCII(host) || host, 'ascii');
  if (name.length === 0 || name.length > 255) {
    throw socksProtocolError(proxy, `cannot be sent the host name ${host} (1 to 255 bytes)`);
  }
  return Buffer.concat([Buffer.from([ATYP_DOMAIN, name.length]), name]);
}

/**
 * Opens a SOCKS5 CONNECT to host:port over `socket` (connected to the proxy). ProxyError with
 * ERR_PROXY_AUTH (credentials needed or refused), ERR_PROXY_REFUSED (the proxy's reply code, in
 * `status`), ERR_PROXY_PROTOCOL (not a SOCKS5 answer).
 */
export async function openSocks5Tunnel(
  socket: net.Socket,
  proxy: ProxyRoute,
  host: string,
  port: number,
  family?: IpFamily,
): Promise<net.Socket> {
  const target = formatAddress(host, port);
  const auth = proxy.auth;
  socket.write(
    Buffer.from(auth ? [SOCKS_VERSION, 2, AUTH_NONE, AUTH_USERPASS] : [SOCKS_VERSION, 1, AUTH_NONE]),
  );
  const method = await readReply(socket, proxy, 'the SOCKS5 greeting', MAX_SOCKS_REPLY, (b) => {
    if (b.length < 2) return undefined;
    if (b[0] !== SOCKS_VERSION) throw socksProtocolError(proxy, `answered with version ${b[0]}, not 5`);
    return { value: b[1]!, used: 2 };
  });
  if (
    method === AUTH_NO_ACCEPTABLE ||
    (method === AUTH_USERPASS && !auth) ||
    (method !== AUTH_NONE && method !== AUTH_USERPASS)
  ) {
    throw new ProxyError(
      auth || method !== AUTH_USERPASS
        ? `the SOCKS5 proxy ${proxy.display} accepts none of the authentication methods offered`
        : `the SOCKS5 proxy ${proxy.display} requires a username and password`,
      {
        code: 'ERR_PROXY_AUTH',
        proxy: proxy.display,
        hint: `Give the proxy's credentials in its URL: socks5://user:password@host:port (from ${proxy.source}).`,
      },
    );
  }
  if (method === AUTH_USERPASS && auth) {
    const user = Buffer.from(auth.username, 'utf8');
    const pass = Buffer.from(auth.password, 'utf8');
    if (user.length > 255 || pass.length > 255) {
      throw new ProxyError('SOCKS5 credentials longer than 255 bytes cannot be sent (RFC 1929)', {
        code: 'ERR_PROXY_AUTH',
        proxy: proxy.display,
      });
    }
    socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]));
    const status = await readReply(socket, proxy, 'the SOCKS5 authentication', MAX_SOCKS_REPLY, (b) =>
      b.length < 2 ? undefined : { value: b[1]!, used: 2 },
    );
    if (status !== 0) {
      throw new ProxyError(`the SOCKS5 proxy ${proxy.display} rejected the username and password`, {
        code: 'ERR_PROXY_AUTH',
        proxy: proxy.display,
        hint: `Check the user and password in the proxy URL (from ${proxy.source}).`,
      });
    }
  }
  const address = await socksAddress(proxy, host, family);
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(port);
  socket.write(Buffer.concat([Buffer.from([SOCKS_VERSION, CMD_CONNECT, 0]), address, portBytes]));
  const reply = await readReply(socket, proxy, `the SOCKS5 CONNECT to ${target}`, MAX_SOCKS_REPLY, (b) => {
    if (b.length < 5) return undefined;
    if (b[0] !== SOCKS_VERSION) throw socksProtocolError(proxy, `answered with version ${b[0]}, not 5`);
    const atyp = b[3];
    const addrLen = atyp === ATYP_IPV4 ? 4 : atyp === ATYP_IPV6 ? 16 : atyp === ATYP_DOMAIN ? 1 + b[4]! : -1;
    if (addrLen < 0) throw socksProtocolError(proxy, `answered with the unknown address type ${atyp}`);
    const total = 4 + addrLen + 2;
    return b.length < total ? undefined : { value: b[1]!, used: total };
  });
  if (reply !== 0) {
    const why = SOCKS_REPLIES[reply] ?? `reply code ${reply}`;
    throw new ProxyError(`the SOCKS5 proxy ${proxy.display} refused the connection to ${target}: ${why}`, {
      code: 'ERR_PROXY_REFUSED',
      proxy: proxy.display,
      status: reply,
      hint:
        reply === 2
          ? `The proxy's rules do not allow ${target} (from ${proxy.source}).`
          : `The proxy could not reach ${target}; check the host and port, and that the proxy can resolve and reach it.`,
    });
  }
  return socket;
}
