/**
 * A cookie jar for a Session: RFC 6265 storage and retrieval, with the safety rules of its
 * successor draft (RFC 6265bis) that matter to a client: size limits, the 400-day cap, Secure
 * cookies only from and to https, and the __Secure- / __Host- prefixes.
 *
 * Written here rather than taken from tough-cookie: the rules a non-browser client needs fit in
 * this file, and the project takes no dependency it can do without (ARCHITECTURE.md). Like
 * browsers and tough-cookie, the jar refuses a Domain attribute that is a public suffix, by the
 * Public Suffix List with its PRIVATE section (verify/public-suffix.ts, tldts, loaded on the first
 * Domain attribute): neither 'co.uk' nor 'github.io' can get a cookie for every site under it.
 * A caller who wants other rules can pass any object with the two methods of CookieStore.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { ConfigError } from '../errors.js';
import { isPublicSuffix } from '../verify/public-suffix.js';

/** One stored cookie. */
export interface Cookie {
  name: string;
  value: string;
  /** The host (host-only) or the domain the cookie is sent to, lower case, no leading dot. */
  domain: string;
  /** True when the cookie had no Domain attribute: sent to exactly `domain`, not its subdomains. */
  hostOnly: boolean;
  path: string;
  /** Sent over https only. */
  secure: boolean;
  /** Recorded only: there is no script here to hide the cookie from. */
  httpOnly: boolean;
  /** The SameSite attribute as sent, if any (recorded; a client without a browsing context has no "site" to compare). */
  sameSite?: string;
  /** When the cookie expires; undefined for a session cookie (kept as long as the jar). */
  expires?: Date;
  creation: Date;
  lastAccess: Date;
}

/** What a Session needs from a jar: any object with these two methods can be passed as `cookies`. */
export interface CookieStore {
  /** The Cookie header value for a request to `url`, or '' when no cookie applies. */
  cookieHeader(url: URL, now?: Date): string;
  /** Stores the cookies of a response's Set-Cookie header lines, received from `url`. */
  setCookies(headers: readonly string[], url: URL, now?: Date): void;
}

// RFC 6265bis-14 §5.6 (step 4): a name plus value longer than this is ignored entirely.
const MAX_NAME_VALUE_BYTES = 4096;
// RFC 6265bis-14 §5.6: an attribute value longer than this is ignored.
const MAX_ATTRIBUTE_BYTES = 1024;
// RFC 6265bis-14 §5.6.1 / §5.6.2: Expires and Max-Age are capped at 400 days.
const MAX_AGE_SECONDS = 400 * 24 * 3600;
// Chromium's CookieMonster kDomainMaxCookies and kMaxCookies (RFC 6265 §6.1 asks for at least 50
// and 3000); past them the least recently used cookies are evicted.
const MAX_PER_DOMAIN = 180;
const MAX_TOTAL = 3300;

// ---------------------------------------------------------------------------------------------
// RFC 6265 §5.1.1: the cookie date algorithm (tolerant of every date format seen in the wild).

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function isDelimiter(c: number): boolean {
  // %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E
  return (
    c === 0x09 ||
    (c >= 0x20 && c <= 0x2f) ||
    (c >= 0x3b && c <= 0x40) ||
    (c >= 0x5b && c <= 0x60) ||
    (c >= 0x7b && c <= 0x7e)
  );
}

/** Parses a cookie date as RFC 6265 §5.1.1 does; undefined when it fails. */
export function parseCookieDate(text: string): Date | undefined {
  const tokens: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isDelimiter(c)) {
      if (current) tokens.push(current);
      current = '';
    } else {
      current += text[i];
    }
  }
  if (current) tokens.push(current);
  let time: [number, number, number] | undefined;
  let day: number | undefined;
  let month: number | undefined;
  let year: number | undefined;
  for (const token of tokens) {
    if (time === undefined) {
      // hms-time = 1*2DIGIT ":" 1*2DIGIT ":" 1*2DIGIT, then anything that is not a digit
      const m = /^(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D.*)?$/.exec(token);
      if (m) {
        time = [Number(m[1]), Number(m[2]), Number(m[3])];
        continue;
      }
    }
    if (day === undefined) {
      const m = /^(\d{1,2})(?:\D.*)?$/.exec(token);
      if (m) {
        day = Number(m[1]);
        continue;
      }
    }
    if (month === undefined) {
      const i = MONTHS.indexOf(token.slice(0, 3).toLowerCase());
      if (i >= 0) {
        month = i;
        continue;
      }
    }
    if (year === undefined) {
      const m = /^(\d{2,4})(?:\D.*)?$/.exec(token);
      if (m) {
        year = Number(m[1]);
      }
    }
  }
  if (time === undefined || day === undefined || month === undefined || year === undefined) return undefined;
  if (year >= 70 && year <= 99) year += 1900;
  else if (year >= 0 && year <= 69) year += 2000;
  const [h, mi, s] = time;
  if (day < 1 || day > 31 || year < 1601 || h > 23 || mi > 59 || s > 59) return undefined;
  const date = new Date(Date.UTC(year, month, day, h, mi, s));
  // "February 31" does not exist: Date.UTC would roll it over to March.
  if (date.getUTCDate() !== day) return undefined;
  return date;
}

// ---------------------------------------------------------------------------------------------
// Names and paths

/** The canonical host of a URL: lower case, no brackets, no trailing dot. */
function canonicalHost(url: URL): string {
  return url.hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
}

/** RFC 6265 §5.1.3: does `host` domain-match `domain`? */
export function domainMatch(host: string, domain: string): boolean {
  if (host === domain) return true;
  return isIP(host) === 0 && host.endsWith(`.${domain}`);
}

/** RFC 6265 §5.1.4: the default path of a request path. */
export function defaultPath(requestPath: string): string {
  if (!requestPath.startsWith('/')) return '/';
  const last = requestPath.lastIndexOf('/');
  return last === 0 ? '/' : requestPath.slice(0, last);
}

/** RFC 6265 §5.1.4: does `requestPath` path-match `cookiePath`? */
export function pathMatch(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/**
 * True for a Domain attribute that names a registry rather than a site: a public suffix of the
 * list (ICANN and PRIVATE sections: 'com', 'co.uk', 'github.io'), or a single label ('localhost',
 * 'corp': the list's implicit '*' rule, which tldts does not apply for us).
 */
function isPublicSuffixLike(domain: string): boolean {
  if (!domain.includes('.')) return true;
  return isPublicSuffix(domain, { privateDomains: true });
}

// RFC 6265bis-14 §5.6 (step 2): a name or value with a control character (other than HTAB) is ignored.
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** RFC 6265 §5.2: splits a Set-Cookie line into the name, value and attributes; undefined to ignore it. */
function parseSetCookie(
  line: string,
): { name: string; value: string; attrs: { name: string; value: string }[] } | undefined {
  const semi = line.indexOf(';');
  const pair = semi < 0 ? line : line.slice(0, semi);
  const eq = pair.indexOf('=');
  // RFC 6265 §5.2 step 2: no '=' means no cookie. (6265bis would make it a nameless cookie; the
  // servers that rely on that are rare, and a nameless cookie cannot be told apart on replace.)
  if (eq < 0) return undefined;
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  if (name === '' || CONTROL.test(name) || CONTROL.test(value)) return undefined;
  if (byteLength(name) + byteLength(value) > MAX_NAME_VALUE_BYTES) return undefined;
  const attrs: { name: string; value: string }[] = [];
  if (semi >= 0) {
    for (const part of line.slice(semi + 1).split(';')) {
      const e = part.indexOf('=');
      const n = (e < 0 ? part : part.slice(0, e)).trim().toLowerCase();
      const v = e < 0 ? '' : part.slice(e + 1).trim();
      if (n === '' || byteLength(v) > MAX_ATTRIBUTE_BYTES) continue;
      attrs.push({ name: n, value: v });
    }
  }
  return { name, value, attrs };
}

function sameKey(a: Cookie, b: { name: string; domain: string; path: string }): boolean {
  return a.name === b.name && a.domain === b.domain && a.path === b.path;
}

/** The cookie jar. One per Session by default; `new CookieJar()` to share or inspect one. */
export class CookieJar implements CookieStore {
  /** Cookies by their domain. */
  #byDomain = new Map<string, Cookie[]>();
  #count = 0;

  /** The number of cookies stored (expired ones included until the next access removes them). */
  get size(): number {
    return this.#count;
  }

  /**
   * Stores one Set-Cookie line received from `url`. Returns the stored cookie, or undefined when
   * the line was ignored (malformed, for another domain, Secure over http, a prefix rule broken)
   * or deleted a cookie (expired).
   */
  setCookie(line: string, url: string | URL, now: Date = new Date()): Cookie | undefined {
    const u = typeof url === 'string' ? new URL(url) : url;
    const parsed = parseSetCookie(line);
    if (!parsed) return undefined;
    const host = canonicalHost(u);
    const secureOrigin = u.protocol === 'https:';
    let expires: Date | undefined;
    let maxAge: number | undefined;
    let domainAttr: string | undefined;
    let path: string | undefined;
    let secure = false;
    let httpOnly = false;
    let sameSite: string | undefined;
    // RFC 6265 §5.2: for a repeated attribute, the last one wins.
    for (const { name, value } of parsed.attrs) {
      if (name === 'expires') {
        const d = parseCookieDate(value);
        if (d) expires = d;
      } else if (name === 'max-age') {
        if (/^-?\d+$/.test(value)) maxAge = Number(value);
      } else if (name === 'domain') {
        // RFC 6265bis §5.6.3: an empty Domain attribute is ignored; a leading dot is dropped.
        if (value !== '') domainAttr = value.replace(/^\./, '').toLowerCase();
      } else if (name === 'path') {
        path = value.startsWith('/') ? value : undefined;
      } else if (name === 'secure') {
        secure = true;
      } else if (name === 'httponly') {
        httpOnly = true;
      } else if (name === 'samesite') {
        sameSite = value;
      }
    }

    // Expiry: Max-Age wins over Expires (RFC 6265 §5.3 step 3), both capped at 400 days.
    const cap = now.getTime() + MAX_AGE_SECONDS * 1000;
    let expiry: Date | undefined;
    if (maxAge !== undefined) {
      expiry = maxAge <= 0 ? new Date(0) : new Date(Math.min(now.getTime() + maxAge * 1000, cap));
    } else if (expires !== undefined) {
      expiry = new Date(Math.min(expires.getTime(), cap));
    }

    // Domain (RFC 6265 §5.3 steps 4-6).
    let domain = host;
    let hostOnly = true;
    if (domainAttr !== undefined) {
      const ascii = domainToASCII(domainAttr.replace(/\.$/, ''));
      if (ascii === '') return undefined;
      if (isPublicSuffixLike(ascii)) {
        // A public suffix is allowed only as the request host itself, and then as host-only.
        if (ascii !== host) return undefined;
      } else {
        if (!domainMatch(host, ascii)) return undefined;
        domain = ascii;
        hostOnly = false;
      }
    }
    const cookiePath = path ?? defaultPath(u.pathname);

    // RFC 6265bis §5.6 steps 14-15: Secure cookies come from secure origins only; and an insecure
    // origin may not overwrite (or shadow) a Secure cookie.
    if (secure && !secureOrigin) return undefined;
    if (!secureOrigin) {
      for (const c of this.#candidates(domain)) {
        if (
          c.secure &&
          c.name === parsed.name &&
          (domainMatch(c.domain, domain) || domainMatch(domain, c.domain)) &&
          pathMatch(cookiePath, c.path)
        ) {
          return undefined;
        }
      }
    }
    // RFC 6265bis §4.1.3: cookie name prefixes (case-insensitive, as browsers now do).
    const lower = parsed.name.toLowerCase();
    if (lower.startsWith('__secure-') && !(secure && secureOrigin)) return undefined;
    if (lower.startsWith('__host-') && !(secure && secureOrigin && hostOnly && cookiePath === '/')) {
      return undefined;
    }

    const cookie: Cookie = {
      name: parsed.name,
      value: parsed.value,
      domain,
      hostOnly,
      path: cookiePath,
      secure,
      httpOnly,
      ...(sameSite !== undefined ? { sameSite } : {}),
      ...(expiry !== undefined ? { expires: expiry } : {}),
      creation: now,
      lastAccess: now,
    };
    return this.#store(cookie, now);
  }

  /** Stores every Set-Cookie line of a response from `url`; returns the cookies stored. */
  setCookies(lines: readonly string[], url: URL, now: Date = new Date()): Cookie[] {
    const stored: Cookie[] = [];
    for (const line of lines) {
      const c = this.setCookie(line, url, now);
      if (c) stored.push(c);
    }
    return stored;
  }

  /**
   * Sets a cookie from code (requests' `session.cookies.set`). `domain` is required: a cookie for
   * every host would leak to any server the Session talks to. Host-only unless
   * `includeSubdomains` is true.
   */
  set(
    name: string,
    value: string,
    opts: {
      domain: string;
      path?: string;
      secure?: boolean;
      httpOnly?: boolean;
      includeSubdomains?: boolean;
      expires?: Date;
    },
  ): Cookie {
    if (typeof name !== 'string' || name === '' || /[\s;=,]/.test(name) || CONTROL.test(name)) {
      throw new ConfigError(`cookie name '${String(name)}' is empty or has a space, ';', ',' or '='`, {
        code: 'ERR_COOKIE',
      });
    }
    if (typeof value !== 'string' || /[;\r\n]/.test(value) || CONTROL.test(value)) {
      throw new ConfigError(
        `the value of cookie '${name}' must be a string without ';' or control characters`,
        {
          code: 'ERR_COOKIE',
        },
      );
    }
    if (typeof opts?.domain !== 'string' || opts.domain.replace(/^\./, '') === '') {
      throw new ConfigError(`cookie '${name}': a domain is required (the host the cookie is for)`, {
        code: 'ERR_COOKIE',
        hint: "Pass { domain: 'example.com' }; add includeSubdomains: true to send it to its subdomains too.",
      });
    }
    const path = opts.path ?? '/';
    if (!path.startsWith('/')) {
      throw new ConfigError(`cookie '${name}': path must start with '/'`, { code: 'ERR_COOKIE' });
    }
    const now = new Date();
    const cookie: Cookie = {
      name,
      value,
      domain: domainToASCII(opts.domain.replace(/^\./, '').replace(/\.$/, '').toLowerCase()) || opts.domain,
      hostOnly: opts.includeSubdomains !== true,
      path,
      secure: opts.secure === true,
      httpOnly: opts.httpOnly === true,
      ...(opts.expires ? { expires: opts.expires } : {}),
      creation: now,
      lastAccess: now,
    };
    this.#store(cookie, now);
    return cookie;
  }

  /** The cookies that a request to `url` would send, in header order (RFC 6265 §5.4). */
  cookiesFor(url: string | URL, now: Date = new Date()): Cookie[] {
    const u = typeof url === 'string' ? new URL(url) : url;
    const host = canonicalHost(u);
    const secure = u.protocol === 'https:';
    const path = u.pathname || '/';
    const out: Cookie[] = [];
    for (const c of this.#candidates(host)) {
      if (c.expires !== undefined && c.expires.getTime() <= now.getTime()) continue;
      if (c.hostOnly ? c.domain !== host : !domainMatch(host, c.domain)) continue;
      if (!pathMatch(path, c.path)) continue;
      if (c.secure && !secure) continue;
      out.push(c);
    }
    // Longer paths first; among equal lengths, the older cookie first.
    out.sort((a, b) => b.path.length - a.path.length || a.creation.getTime() - b.creation.getTime());
    return out;
  }

  /**
   * The Cookie header value for `url` ('' when none), updating each cookie's last access. Runs on
   * every request: it looks only at the host's own domains (expired cookies are skipped here and
   * removed by list() and eviction), so its cost does not grow with the whole jar.
   */
  cookieHeader(url: URL, now?: Date): string {
    if (this.#count === 0) return ''; // before any allocation: this runs on every request
    const at = now ?? new Date();
    const list = this.cookiesFor(url, at);
    for (const c of list) c.lastAccess = at;
    return list.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** The value of the cookie `name` that a request to `url` would send (or of any stored one without url). */
  get(name: string, url?: string | URL): string | undefined {
    const list = url === undefined ? this.list() : this.cookiesFor(url);
    return list.find((c) => c.name === name)?.value;
  }

  /** Every stored cookie that has not expired. */
  list(now: Date = new Date()): Cookie[] {
    this.#purgeExpired(now);
    return [...this.#byDomain.values()].flat();
  }

  /** Removes cookies by name, optionally only for one domain and path; returns how many. */
  delete(name: string, opts: { domain?: string; path?: string } = {}): number {
    let removed = 0;
    for (const [d, list] of this.#byDomain) {
      if (opts.domain !== undefined && d !== opts.domain.replace(/^\./, '').toLowerCase()) continue;
      const keep = list.filter(
        (c) => !(c.name === name && (opts.path === undefined || c.path === opts.path)),
      );
      removed += list.length - keep.length;
      this.#setList(d, keep);
    }
    return removed;
  }

  /** Removes every cookie, or those of one domain. */
  clear(domain?: string): void {
    if (domain === undefined) {
      this.#byDomain.clear();
      this.#count = 0;
      return;
    }
    this.#setList(domain.replace(/^\./, '').toLowerCase(), []);
  }

  /** The stored cookies, for saving (JSON.stringify(jar)); CookieJar.fromJSON reads them back. */
  toJSON(): Cookie[] {
    return this.list();
  }

  /**
   * A jar holding cookies saved with toJSON (`JSON.parse(JSON.stringify(jar))`; dates as strings
   * are accepted). An entry that is not a saved cookie (no string name, value and domain; a
   * [name, value] pair) is a ConfigError naming it, as is something other than a list; a cookie
   * with a control character, or a domain cookie for a public suffix, is left out, as the jar
   * leaves it out of a response.
   */
  static fromJSON(saved: readonly Record<string, unknown>[]): CookieJar {
    if (!Array.isArray(saved)) {
      throw new ConfigError('saved cookies must be the list that CookieJar.toJSON() gives', {
        code: 'ERR_COOKIE',
        hint: 'Save with JSON.stringify(session.cookies); load with new Session({ cookies: JSON.parse(text) }).',
      });
    }
    const jar = new CookieJar();
    const now = new Date();
    for (let i = 0; i < saved.length; i++) {
      const s = saved[i] as Record<string, unknown>;
      const date = (v: unknown) => (v === undefined ? undefined : new Date(v as string));
      // Something that was never a saved cookie (a [name, value] pair, a string) is an error, not
      // skipped: a Session given them would otherwise start with an empty jar, silently.
      if (
        typeof s !== 'object' ||
        s === null ||
        Array.isArray(s) ||
        typeof s.name !== 'string' ||
        typeof s.value !== 'string' ||
        typeof s.domain !== 'string'
      ) {
        throw notSavedCookie(s, i);
      }
      if (s.name === '' || CONTROL.test(s.name) || CONTROL.test(s.value) || /[;\s]/.test(s.domain)) continue;
      if (s.hostOnly === false && isPublicSuffixLike(s.domain)) continue;
      const expires = date(s.expires);
      const cookie: Cookie = {
        name: s.name,
        value: s.value,
        domain: s.domain,
        hostOnly: s.hostOnly !== false,
        path: typeof s.path === 'string' ? s.path : '/',
        secure: s.secure === true,
        httpOnly: s.httpOnly === true,
        ...(typeof s.sameSite === 'string' ? { sameSite: s.sameSite } : {}),
        ...(expires && !Number.isNaN(expires.getTime()) ? { expires } : {}),
        creation: date(s.creation) ?? now,
        lastAccess: date(s.lastAccess) ?? now,
      };
      jar.#store(cookie, now);
    }
    return jar;
  }

  /** Cookies stored under `host` or any of its parent domains. */
  *#candidates(host: string): Generator<Cookie> {
    if (isIP(host) !== 0) {
      yield* this.#byDomain.get(host) ?? [];
      return;
    }
    let d = host;
    for (;;) {
      yield* this.#byDomain.get(d) ?? [];
      const dot = d.indexOf('.');
      if (dot < 0) return;
      d = d.slice(dot + 1);
    }
  }

  #setList(domain: string, list: Cookie[]): void {
    const old = this.#byDomain.get(domain)?.length ?? 0;
    if (list.length === 0) this.#byDomain.delete(domain);
    else this.#byDomain.set(domain, list);
    this.#count += list.length - old;
  }

  /** RFC 6265 §5.3 steps 11-12: replace (keeping the creation time) or insert; an expired cookie only deletes. */
  #store(cookie: Cookie, now: Date): Cookie | undefined {
    const list = [...(this.#byDomain.get(cookie.domain) ?? [])];
    const i = list.findIndex((c) => sameKey(c, cookie));
    if (i >= 0) {
      cookie.creation = list[i]!.creation;
      list.splice(i, 1);
    }
    const expired = cookie.expires !== undefined && cookie.expires.getTime() <= now.getTime();
    if (!expired) list.push(cookie);
    this.#setList(cookie.domain, list);
    if (expired) return undefined;
    this.#evict(cookie.domain, now);
    return cookie;
  }

  #purgeExpired(now: Date): void {
    for (const [d, list] of this.#byDomain) {
      const keep = list.filter((c) => c.expires === undefined || c.expires.getTime() > now.getTime());
      if (keep.length !== list.length) this.#setList(d, keep);
    }
  }

  /** Keeps the per-domain and total limits, dropping expired cookies first, then the least recently used. */
  #evict(domain: string, now: Date): void {
    const list = this.#byDomain.get(domain);
    if (list && list.length > MAX_PER_DOMAIN) {
      this.#purgeExpired(now);
      const current = this.#byDomain.get(domain) ?? [];
      if (current.length > MAX_PER_DOMAIN) {
        const sorted = [...current].sort((a, b) => a.lastAccess.getTime() - b.lastAccess.getTime());
        const drop = new Set(sorted.slice(0, current.length - MAX_PER_DOMAIN));
        this.#setList(
          domain,
          current.filter((c) => !drop.has(c)),
        );
      }
    }
    if (this.#count > MAX_TOTAL) {
      this.#purgeExpired(now);
      if (this.#count > MAX_TOTAL) {
        const all = [...this.#byDomain.values()]
          .flat()
          .sort((a, b) => a.lastAccess.getTime() - b.lastAccess.getTime());
        const drop = new Set(all.slice(0, this.#count - MAX_TOTAL));
        for (const [d, l] of this.#byDomain)
          this.#setList(
            d,
            l.filter((c) => !drop.has(c)),
          );
      }
    }
  }
}

/** The `cookies` option of one request: { name: value } or [name, value] pairs. */
export type RequestCookies =
  | Readonly<Record<string, string | number>>
  | ReadonlyMap<string, string | number>
  | readonly (readonly [name: string, value: string])[];

function cookieError(message: string): ConfigError {
  return new ConfigError(message, {
    code: 'ERR_COOKIE',
    hint: "Pass cookies: { name: 'value' }, a Map or [['name', 'value'], …]; names are tokens, values have no ';' or control characters.",
  });
}

/** The error for entry `i` of a saved-cookies list that is not a saved cookie. */
function notSavedCookie(entry: unknown, i: number): ConfigError {
  const what = Array.isArray(entry)
    ? 'a [name, value] pair'
    : entry === null || typeof entry !== 'object'
      ? `${entry === null ? 'null' : typeof entry}`
      : 'an object without a string name, value and domain';
  return new ConfigError(
    `saved cookies: entry ${i} is ${what}, not a saved cookie; saved cookies are the list JSON.stringify(session.cookies) gives, each { name, value, domain, path, … }`,
    {
      code: 'ERR_COOKIE',
      hint: Array.isArray(entry)
        ? "A cookie kept by a Session needs the host it belongs to: after new Session(), call session.cookies.set('name', 'value', { domain: 'api.example.com' }); or pass cookies: { name: 'value' } on a request (sent to its origin only)."
        : 'Save with JSON.stringify(session.cookies); load with new Session({ cookies: JSON.parse(text) }) or CookieJar.fromJSON(list).',
    },
  );
}

/** The pairs of a request's `cookies` option, checked; ConfigError when one cannot be sent. */
export function requestCookiePairs(option: unknown): [string, string][] {
  if (typeof option !== 'object' || option === null) {
    throw cookieError(
      `a request's cookies must be { name: value } or a list of pairs, not ${String(option)}`,
    );
  }
  let entries: unknown[][];
  if (Array.isArray(option)) entries = (option as unknown[]).map((p) => (Array.isArray(p) ? p : [p]));
  else if (option instanceof Map) entries = [...option.entries()];
  else {
    const proto = Object.getPrototypeOf(option);
    if (proto !== Object.prototype && proto !== null) {
      // A jar, a response's r.cookies, a Headers: its fields are not cookies, and none is not "no cookies".
      const kind = (option as object).constructor?.name || 'object';
      throw cookieError(
        `a request's cookies must be { name: value }, a Map or a list of [name, value] pairs, not a ${kind}${
          typeof (option as { toObject?: unknown }).toObject === 'function'
            ? ' (its toObject() gives { name: value })'
            : ''
        }`,
      );
    }
    entries = Object.entries(option);
  }
  const out: [string, string][] = [];
  for (const entry of entries) {
    const [name, raw] = entry;
    if (entry.length !== 2 || typeof name !== 'string')
      throw cookieError('cookies: each pair must be [name, value]');
    if (raw === undefined || raw === null) continue; // as a header set to null: left out
    if (typeof raw !== 'string' && typeof raw !== 'number') {
      throw cookieError(`cookies: the value of '${name}' is ${typeof raw}; a cookie value is text`);
    }
    const value = String(raw);
    if (name === '' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
      throw cookieError(`cookies: '${name}' is not a cookie name`);
    }
    if (/[;\x00-\x1f\x7f]/.test(value)) {
      throw cookieError(`cookies: the value of '${name}' has ';' or a control character`);
    }
    out.push([name, value]);
  }
  return out;
}

/**
 * A Cookie header with a request's own cookies over the jar's: a name given for the request
 * replaces the jar's cookie of that name (requests' merge_cookies).
 */
export function withRequestCookies(jarHeader: string, pairs: readonly (readonly [string, string])[]): string {
  if (pairs.length === 0) return jarHeader;
  const own = new Set(pairs.map(([n]) => n));
  const kept =
    jarHeader === '' ? [] : jarHeader.split('; ').filter((c) => !own.has(c.slice(0, c.indexOf('='))));
  return [...kept, ...pairs.map(([n, v]) => `${n}=${v}`)].join('; ');
}

/**
 * The cookies one response set (requests' r.cookies): those the jar's rules accepted from its
 * Set-Cookie lines, by name and with every attribute.
 */
export class ResponseCookies implements Iterable<Cookie> {
  readonly #list: readonly Cookie[];
  constructor(list: readonly Cookie[] = []) {
    this.#list = list;
  }
  get size(): number {
    return this.#list.length;
  }
  /** The value of cookie `name` (the last one set, if the response set it twice). */
  get(name: string): string | undefined {
    return this.#list.findLast((c) => c.name === name)?.value;
  }
  has(name: string): boolean {
    return this.#list.some((c) => c.name === name);
  }
  /** { name: value } for every cookie set. */
  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const c of this.#list) out[c.name] = c.value;
    return out;
  }
  /** The cookies with their attributes (domain, path, expires, secure, httpOnly, sameSite, …). */
  list(): Cookie[] {
    return [...this.#list];
  }
  [Symbol.iterator](): Iterator<Cookie> {
    return this.#list[Symbol.iterator]();
  }
  toJSON(): Cookie[] {
    return this.list();
  }
}
