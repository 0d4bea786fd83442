/**
 * The redirect step of a request: given one hop's response, decide whether a redirect is followed
 * and what the next hop sends (URL, method, headers, body). The hop step itself (one request and
 * its response on one URL) is Session's #sendHop; Session.request alternates the two.
 */
import { ConfigError, InvalidURL, TooManyRedirects } from '../errors.js';
import type { EncodedBody } from './body.js';
import type { HeaderRecord } from './options.js';
import { noteDiscarded, type Response } from './response.js';

/** A request body as a hop sends it (body.ts; spent after one hop when it is a stream). */
export type HopBody = EncodedBody | undefined;

/** What one hop sends: the redirect step derives the next hop from the last. */
export interface Hop {
  url: URL;
  method: string;
  headers: HeaderRecord;
  body: HopBody;
}

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

// Go's net/http reads at most 2 KiB of a redirect's body (client.go, maxBodySlurpSize) so that a
// small one leaves the connection reusable; past that it closes the body, and so do we.
const REDIRECT_BODY_MAX = 2 << 10;

/**
 * The redirect step: the hop that follows `response` (received for `hop`), or null when the
 * response is the final one (redirects off, not a redirect status, or no Location). Pushes the
 * redirect onto `history` and drops its body; throws TooManyRedirects past `maxRedirects`, and
 * InvalidURL / ConfigError for a redirect that cannot be followed safely.
 */
/**
 * Would nextHop follow this response (a redirect status with a Location, redirects allowed)?
 * The Session asks first, so that the usual final response costs no extra await.
 */
export function isRedirect(response: Response, allowRedirects: boolean): boolean {
  return (
    allowRedirects && REDIRECT_STATUSES.has(response.status) && response.rawHeader('location') !== undefined
  );
}

export async function nextHop(
  hop: Hop,
  response: Response,
  history: Response[],
  allowRedirects: boolean,
  maxRedirects: number,
): Promise<Hop | null> {
  const rawLocation = response.rawHeader('location');
  const location = Array.isArray(rawLocation) ? (rawLocation[0] ?? null) : (rawLocation ?? null);
  if (!allowRedirects || !REDIRECT_STATUSES.has(response.status) || location === null) return null;
  const current = hop.url;
  await discardBody(response);
  history.push(response);
  if (history.length > maxRedirects) {
    throw new TooManyRedirects(`exceeded ${maxRedirects} redirects (last: ${current.href} -> ${location})`, {
      hint: 'Raise maxRedirects, or pass allowRedirects: false to see the redirect itself.',
    });
  }
  let next: URL;
  try {
    next = new URL(location, current);
  } catch (err) {
    throw new InvalidURL(`the server redirected to an invalid URL: ${location}`, { cause: err });
  }
  if (next.protocol !== 'https:' && next.protocol !== 'http:') {
    throw new InvalidURL(`the server redirected to an unsupported scheme: ${next.href}`);
  }
  // RFC 9110 §4.2.4: userinfo in a URI from an untrusted source is an error (it disguises
  // the authority); the URL a Session is given is held to the same rule (parseUrl).
  if (next.username || next.password) {
    throw new InvalidURL(
      `the server redirected to a URL with credentials in it (${next.protocol}//…@${next.host}${next.pathname}), which is refused`,
      {
        code: 'ERR_URL_CREDENTIALS',
        hint: 'Pass allowRedirects: false to see the redirect itself.',
      },
    );
  }
  let { method, headers, body } = hop;
  // 303 always, and 301/302 for anything but GET/HEAD, become GET without a body (as
  // browsers and requests do); 307/308 keep method and body.
  if (
    response.status === 303 ||
    ((response.status === 301 || response.status === 302) && method !== 'HEAD')
  ) {
    if (method !== 'GET' && method !== 'HEAD') {
      method = 'GET';
      body = undefined;
      headers = { ...headers };
      for (const h of ['content-type', 'content-length', 'transfer-encoding']) delete headers[h];
    }
  } else if (body && !body.replayable) {
    throw new ConfigError(
      `cannot follow the ${response.status} redirect to ${next.href}: the request body was a stream and is spent`,
      {
        code: 'ERR_REDIRECT_BODY',
        hint: 'Send the body as a string or Buffer, or pass allowRedirects: false.',
      },
    );
  }
  // Credentials do not cross origins, nor go from https down to http (requests'
  // rebuild_auth and should_strip_auth).
  if (next.origin !== current.origin) {
    headers = { ...headers };
    delete headers.authorization;
    delete headers.cookie;
    delete headers['proxy-authorization'];
  }
  return { url: next, method, headers, body };
}

/**
 * Reads and drops a body we do not return (a redirect's, a Digest challenge's), up to
 * REDIRECT_BODY_MAX; a longer one (an endless one would hold the request forever) is abandoned
 * with its connection.
 */
export async function discardBody(response: Response): Promise<void> {
  noteDiscarded(response);
  let seen = 0;
  // Leaving the loop early destroys the stream, and with it undici's body and connection. As
  // sent: a body we drop is not worth decoding (nor a DecodeError).
  for await (const chunk of response.rawStream()) {
    seen += (chunk as Buffer).length;
    if (seen > REDIRECT_BODY_MAX) return;
  }
}
