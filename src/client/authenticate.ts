/**
 * The auth option applied to the hops of one request. A fixed header (Basic, Bearer, URL
 * credentials) is set once on the first hop's headers and travels like any Authorization header
 * (nextHop drops it when a redirect leaves the origin). An auth function and Digest act per hop,
 * and only on hops to the origin of the URL asked for: the function is called before each such
 * hop; Digest answers a 401 challenge by sending the hop again, once (twice when the server says
 * the nonce was stale), when its body can be sent again.
 */
import { type AuthOption, basicHeader, type ResolvedAuth, resolveAuth } from './auth.js';
import { chooseDigest, digestAuthorization, parseChallenges } from './digest.js';
import { type HeaderRecord, headerView, mergeHeaders } from './options.js';
import { discardBody, type Hop } from './redirect.js';
import type { Response } from './response.js';

export class RequestAuth {
  readonly #auth: ResolvedAuth;
  readonly #origin: string;
  #digestTries = 0;

  private constructor(auth: ResolvedAuth, origin: string) {
    this.#auth = auth;
    this.#origin = origin;
  }

  /**
   * Sets the Authorization header of a fixed auth on `headers` (unless the caller set one), and
   * returns the per-hop part, if any. `option` wins over credentials from the URL, as in requests.
   */
  static plan(
    option: AuthOption | undefined,
    urlCredentials: [string, string] | undefined,
    headers: HeaderRecord,
    origin: string,
  ): RequestAuth | undefined {
    const auth: ResolvedAuth | undefined =
      option !== undefined
        ? resolveAuth(option)
        : urlCredentials
          ? {
              kind: 'header',
              value: basicHeader(urlCredentials[0], urlCredentials[1], 'credentials in the URL'),
            }
          : undefined;
    if (auth === undefined) return undefined;
    if (auth.kind === 'header') {
      headers.authorization ??= auth.value;
      return undefined;
    }
    return new RequestAuth(auth, origin);
  }

  /** The hop as it is sent: with the auth function's headers on the first origin. */
  async before(hop: Hop): Promise<Hop> {
    this.#digestTries = 0;
    const auth = this.#auth;
    if (auth.kind !== 'function' || hop.url.origin !== this.#origin) return hop;
    const added = await auth.fn({ method: hop.method, url: hop.url.href, headers: headerView(hop.headers) });
    if (added === undefined || added === null) return hop;
    return { ...hop, headers: mergeHeaders(hop.headers, added as HeaderRecord) };
  }

  /**
   * After a response to `sent`: the hop to send again with Digest credentials, or null to keep
   * the response. The 401's body is read and dropped first.
   */
  async after(sent: Hop, response: Response): Promise<Hop | null> {
    const auth = this.#auth;
    if (auth.kind !== 'digest' || response.status !== 401 || sent.url.origin !== this.#origin) return null;
    // A stream body is spent: the 401 is the answer (send a replayable body to use Digest).
    if (sent.body && !sent.body.replayable) return null;
    const challenge = chooseDigest(parseChallenges(response.rawHeader('www-authenticate')));
    if (challenge === null) return null;
    // Our credentials were refused: only a stale nonce earns one more try (RFC 7616 §3.3).
    if (this.#digestTries > 0 && !(this.#digestTries === 1 && challenge.stale)) return null;
    this.#digestTries++;
    await discardBody(response);
    const authorization = digestAuthorization({
      username: auth.username,
      password: auth.password,
      method: sent.method,
      uri: sent.url.pathname + sent.url.search,
      challenge,
    });
    return { ...sent, headers: { ...sent.headers, authorization } };
  }
}
