/**
 * curl's cookie files for `get -b FILE` and `-c FILE`: the Netscape format, one cookie a line,
 * seven fields separated by tabs (domain, include subdomains TRUE/FALSE, path, secure
 * TRUE/FALSE, expiry in Unix seconds with 0 for a session cookie, name, value); lines starting
 * with '#' are comments, except the '#HttpOnly_' prefix curl writes before an HttpOnly cookie's
 * domain. Read into the Session's jar (CookieJar.fromJSON, so its rules apply: a domain cookie
 * for a public suffix is left out), written back from it.
 */
import type { Cookie } from '../client/cookies.js';
import { UsageError } from './args.js';
import { quote } from './safe.js';

/** A cookie file is text of a few KB; more than this is not one. */
export const MAX_COOKIE_FILE = 16 << 20;
const HTTP_ONLY = '#HttpOnly_';

/** The cookies of a Netscape cookie file, as CookieJar.fromJSON takes them. A malformed line is a UsageError naming it. */
export function parseCookieFile(text: string, path: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    let httpOnly = false;
    if (line.startsWith(HTTP_ONLY)) {
      httpOnly = true;
      line = line.slice(HTTP_ONLY.length);
    } else if (line.startsWith('#') || line.trim() === '') continue;
    const f = line.split('\t');
    const bad = (why: string) =>
      new UsageError(`-b ${quote(path)}, line ${i + 1}: ${why} (a Netscape cookie file, as curl -c writes)`);
    if (f.length !== 7) throw bad(`${f.length} tab-separated fields, not 7`);
    const [domainField, sub, cookiePath, secure, expiry, name, value] = f as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (!/^(TRUE|FALSE)$/.test(sub) || !/^(TRUE|FALSE)$/.test(secure))
      throw bad('the 2nd and 4th fields must be TRUE or FALSE');
    if (!/^\d+$/.test(expiry)) throw bad(`the expiry ${quote(expiry)} is not a number of seconds`);
    const domain = domainField.replace(/^\./, '').toLowerCase();
    if (domain === '') throw bad('the domain is empty');
    const seconds = Number(expiry);
    out.push({
      name,
      value,
      domain,
      hostOnly: sub === 'FALSE' && !domainField.startsWith('.'),
      path: cookiePath || '/',
      secure: secure === 'TRUE',
      httpOnly,
      ...(seconds > 0 ? { expires: new Date(seconds * 1000).toISOString() } : {}),
    });
  }
  return out;
}

/** The jar's cookies as a Netscape cookie file, as curl -c writes it. */
export function formatCookieFile(cookies: readonly Cookie[]): string {
  const lines = ['# Netscape HTTP Cookie File', '# Written by certainly get -c. Edit at your own risk.', ''];
  for (const c of cookies) {
    const expires = c.expires ? Math.max(1, Math.floor(c.expires.getTime() / 1000)) : 0;
    lines.push(
      [
        `${c.httpOnly ? HTTP_ONLY : ''}${c.hostOnly ? c.domain : `.${c.domain}`}`,
        c.hostOnly ? 'FALSE' : 'TRUE',
        c.path,
        c.secure ? 'TRUE' : 'FALSE',
        String(expires),
        c.name,
        c.value,
      ].join('\t'),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** -b 'a=1; b=2' as the request's cookies; undefined when the argument is a file name (no '='). */
export function cookieArgPairs(arg: string): [string, string][] | undefined {
  if (!arg.includes('=')) return undefined;
  const pairs: [string, string][] = [];
  for (const part of arg.split(';')) {
    const t = part.trim();
    if (t === '') continue;
    const eq = t.indexOf('=');
    if (eq <= 0) throw new UsageError(`-b ${quote(arg)}: ${quote(t)} is not NAME=VALUE`);
    pairs.push([t.slice(0, eq).trim(), t.slice(eq + 1).trim()]);
  }
  return pairs;
}
