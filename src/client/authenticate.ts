/**
 * The auth option applied to the hops of one request. A fixed header (Basic, Bearer, URL
 * credentials) is set once on the first hop's headers and travels like any Authorization header
 * (nextHop drops it when a redirect leaves the origin). An auth function and Digest act per hop,
 * and only on hops to the origin of the URL asked for: the function is called before each such
 * hop; Digest answers a 401 challenge by sending the hop again, once (twice when the server says
 * the nonce was stale), when its body can be sent again. A Session keeps the last Digest
 * challenge per origin and user, and answers it up front on the next request with the nonce count
 * raised (as requests' HTTPDigestAuth does), saving the 401 round trip.
 */

/** The last Digest challenge answered, per origin and user name: a Session keeps one. */
export type DigestCache = Map<string, { challenge: DigestChallenge; nc: number }>;

import { type AuthOption, basicHeader, type ResolvedAuth, resolveAuth } from './auth.js';
import { chooseDigest, type DigestChallenge, digestAuthorization, parseChallenges } from './digest.js';
import { type HeaderRecord, headerView, mergeHeaders } from './options.js';
import { discardBody, type Hop } from './redirect.js';
import type { Response } from './response.js';

export class RequestAuth {
  readonly #auth: ResolvedAuth;
  readonly #origin: string;
  readonly #cache: DigestCache | undefined;
  #digestTries = 0;
  /** The hop carried an Authorization header before auth acted (the caller's own). */
  #userAuthorization = false;

  private constructor(auth: ResolvedAuth, origin: string, cache: DigestCache | undefined) {
    this.#auth = auth;
    this.#origin = origin;
    this.#cache = cache;
  }

  #cacheKey(username: string): string {
    return `${this.#origin}\0${username}`;
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
    digestCache?: DigestCache,
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
    return new RequestAuth(auth, origin, digestCache);
  }

  /** The hop as it is sent: with the auth function's headers on the first origin. */
  async before(hop: Hop): Promise<Hop> {
    this.#digestTries = 0;
    this.#userAuthorization = hop.headers.authorization !== undefined;
    const auth = this.#auth;
    if (hop.url.origin !== this.#origin) return hop;
    if (auth.kind === 'digest') {
      // The challenge this Session answered last, answered again with the next nonce count.
      const cached = this.#cache?.get(this.#cacheKey(auth.username));
      if (cached === undefined || this.#userAuthorization) return hop;
      cached.nc++;
      const authorization = digestAuthorization({
        username: auth.username,
        password: auth.password,
        method: hop.method,
        uri: hop.url.pathname + hop.url.search,
        challenge: cached.challenge,
        nc: cached.nc,
      });
      return { ...hop, headers: { ...hop.headers, authorization } };
    }
    if (auth.kind !== 'function') return hop;
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
    // An Authorization header of the caller's own is theirs to answer for.
    if (this.#userAuthorization) return null;
    // A stream body is spent: the 401 is the answer (send a replayable body to use Digest).
    if (sent.body && !sent.body.replayable) return null;
    const challenge = chooseDigest(parseChallenges(response.rawHeader('www-authenticate')));
    if (challenge === null) return null;
    // Our credentials were refused: only a stale nonce earns one more try (RFC 7616 §3.3).
    if (this.#digestTries > 0 && !(this.#digestTries === 1 && challenge.stale)) return null;
    this.#digestTries++;
    await discardBody(response);
    // Kept for the next request, unless -sess (its H(A1) is bound to the first cnonce; RFC 7616 §3.4.2).
    if (this.#cache && !challenge.sess) {
      const key = this.#cacheKey(auth.username);
      // Bounded: the oldest origin is forgotten (it then costs one 401 again).
      if (!this.#cache.has(key) && this.#cache.size >= 64)
        this.#cache.delete(this.#cache.keys().next().value as string);
      this.#cache.set(key, { challenge, nc: 1 });
    }
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
