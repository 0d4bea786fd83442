/**
 * The cookie jar: RFC 6265 rules as tables (dates, domains, paths, attributes), the limits and
 * safety rules of RFC 6265bis, and the jar in a Session against loopback servers (persistence,
 * redirects, no cookie to another host, Secure over http, the module functions' per-call jar).
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  CookieJar,
  type CookieStore,
  defaultPath,
  domainMatch,
  parseCookieDate,
  pathMatch,
} from '../../src/client/cookies.js';
import { ConfigError, closeDefaultSession, get, Session } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { type PlainServer, startHttpServer, startTlsServer, type TestServer } from '../support/servers.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const at = (s: string) => new Date(s);

describe('RFC 6265 §5.1.1 cookie dates', () => {
  const table: [string, string | undefined][] = [
    ['Sun, 06 Nov 1994 08:49:37 GMT', '1994-11-06T08:49:37.000Z'], // RFC 1123
    ['Sunday, 06-Nov-94 08:49:37 GMT', '1994-11-06T08:49:37.000Z'], // RFC 850, two-digit year
    ['Sun Nov  6 08:49:37 1994', '1994-11-06T08:49:37.000Z'], // asctime
    ['Wed, 09 Jun 2021 10:18:14 GMT', '2021-06-09T10:18:14.000Z'],
    ['09 Jun 2021 10:18:14', '2021-06-09T10:18:14.000Z'],
    ['Thu, 01 Jan 70 00:00:00 GMT', '1970-01-01T00:00:00.000Z'], // 70-99 -> 19xx
    ['Thu, 01 Jan 69 00:00:00 GMT', '2069-01-01T00:00:00.000Z'], // 0-69 -> 20xx
    ['Fri, 13 JUNE 2025 1:2:3 GMT', '2025-06-13T01:02:03.000Z'], // month prefix, 1-digit times
    ['2025 Jun 13 23:59:59', '2025-06-13T23:59:59.000Z'], // any order
    ['Tue, 31 Feb 2025 00:00:00 GMT', undefined], // no such day
    ['Tue, 32 Jan 2025 00:00:00 GMT', undefined],
    ['Tue, 01 Jan 1600 00:00:00 GMT', undefined], // before 1601
    ['Tue, 01 Jan 2025 24:00:00 GMT', undefined],
    ['Tue, 01 Jan 2025 GMT', undefined], // no time
    ['not a date', undefined],
    ['', undefined],
  ];
  for (const [input, expected] of table) {
    test(JSON.stringify(input), () => {
      assert.equal(parseCookieDate(input)?.toISOString(), expected);
    });
  }
});

describe('RFC 6265 §5.1.3 and §5.1.4 matching', () => {
  test('domain-match', () => {
    const table: [string, string, boolean][] = [
      ['example.com', 'example.com', true],
      ['www.example.com', 'example.com', true],
      ['a.b.example.com', 'example.com', true],
      ['badexample.com', 'example.com', false],
      ['example.com', 'www.example.com', false],
      ['10.0.0.1', '0.0.1', false], // never a suffix match on IP addresses
      ['10.0.0.1', '10.0.0.1', true],
    ];
    for (const [host, domain, expected] of table)
      assert.equal(domainMatch(host, domain), expected, `${host} ~ ${domain}`);
  });

  test('default-path and path-match', () => {
    assert.equal(defaultPath('/'), '/');
    assert.equal(defaultPath(''), '/');
    assert.equal(defaultPath('/a'), '/');
    assert.equal(defaultPath('/a/b'), '/a');
    assert.equal(defaultPath('/a/b/'), '/a/b');
    const table: [string, string, boolean][] = [
      ['/', '/', true],
      ['/docs', '/docs', true],
      ['/docs/', '/docs', true],
      ['/docs/a', '/docs', true],
      ['/docsx', '/docs', false],
      ['/docs/a', '/docs/', true],
      ['/', '/docs', false],
    ];
    for (const [req, cookie, expected] of table)
      assert.equal(pathMatch(req, cookie), expected, `${req} ~ ${cookie}`);
  });
});

describe('CookieJar storage rules', () => {
  const site = new URL('https://www.example.com/app/page');

  test('host-only without Domain; Domain widens to subdomains; the leading dot is ignored', () => {
    const jar = new CookieJar();
    jar.setCookie('a=1', site, NOW);
    jar.setCookie('b=2; Domain=example.com', site, NOW);
    jar.setCookie('c=3; Domain=.EXAMPLE.com', site, NOW);
    assert.equal(jar.cookieHeader(new URL('https://www.example.com/app/x'), NOW), 'a=1; b=2; c=3');
    assert.equal(jar.cookieHeader(new URL('https://api.example.com/app/x'), NOW), 'b=2; c=3');
    assert.equal(jar.cookieHeader(new URL('https://example.com/app/x'), NOW), 'b=2; c=3');
    assert.equal(jar.cookieHeader(new URL('https://other.com/app/x'), NOW), '');
    assert.equal(jar.cookieHeader(new URL('https://badexample.com/app/x'), NOW), '');
    const a = jar.list(NOW).find((c) => c.name === 'a');
    assert.equal(a?.hostOnly, true);
    assert.equal(a?.domain, 'www.example.com');
  });

  test('a Domain the host is not in, a sibling, a TLD or a country registry is refused', () => {
    const jar = new CookieJar();
    for (const line of [
      'x=1; Domain=other.com',
      'x=1; Domain=api.example.com',
      'x=1; Domain=com',
      'x=1; Domain=wwww.example.com',
    ]) {
      assert.equal(jar.setCookie(line, site, NOW), undefined, line);
    }
    const uk = new URL('https://shop.example.co.uk/');
    assert.equal(jar.setCookie('x=1; Domain=co.uk', uk, NOW), undefined);
    assert.ok(jar.setCookie('x=1; Domain=example.co.uk', uk, NOW));
    assert.equal(jar.size, 1);
  });

  test('a Domain equal to a public-suffix-like host becomes host-only; IP hosts take no wider Domain', () => {
    const jar = new CookieJar();
    const c = jar.setCookie('x=1; Domain=localhost', new URL('http://localhost/'), NOW);
    assert.equal(c?.hostOnly, true);
    assert.equal(jar.setCookie('y=1; Domain=0.0.1', new URL('http://10.0.0.1/'), NOW), undefined);
    assert.ok(jar.setCookie('z=1; Domain=10.0.0.1', new URL('http://10.0.0.1/'), NOW));
    assert.equal(jar.cookieHeader(new URL('http://10.0.0.1/'), NOW), 'z=1');
  });

  test('Path: default path, explicit path, longest path first then oldest first', () => {
    const jar = new CookieJar();
    jar.setCookie('def=1', site, NOW); // default path /app
    jar.setCookie('root=1; Path=/', site, new Date(NOW.getTime() + 1));
    jar.setCookie('deep=1; Path=/app/page', site, NOW);
    jar.setCookie('bad=1; Path=relative', site, NOW); // not starting with / -> default path
    assert.equal(
      jar.cookieHeader(new URL('https://www.example.com/app/page/x'), NOW),
      'deep=1; def=1; bad=1; root=1',
    );
    assert.equal(jar.cookieHeader(new URL('https://www.example.com/other'), NOW), 'root=1');
    assert.equal(jar.cookieHeader(new URL('https://www.example.com/apple'), NOW), 'root=1');
  });

  test('Expires, Max-Age (which wins), deletion, and the 400-day cap', () => {
    const jar = new CookieJar();
    jar.setCookie('e=1; Expires=Wed, 01 Jul 2026 00:00:00 GMT', site, NOW);
    jar.setCookie('m=1; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT', site, NOW);
    jar.setCookie('long=1; Max-Age=999999999', site, NOW);
    jar.setCookie('bad=1; Max-Age=12abc', site, NOW); // ignored attribute: a session cookie
    const list = jar.list(NOW);
    assert.equal(list.find((c) => c.name === 'e')?.expires?.toISOString(), '2026-07-01T00:00:00.000Z');
    assert.equal(list.find((c) => c.name === 'm')?.expires?.getTime(), NOW.getTime() + 60_000);
    assert.equal(list.find((c) => c.name === 'long')?.expires?.getTime(), NOW.getTime() + 400 * 86400_000);
    assert.equal(list.find((c) => c.name === 'bad')?.expires, undefined);
    // Expired on read
    const later = at('2026-06-01T12:01:01Z');
    assert.equal(jar.cookieHeader(new URL('https://www.example.com/app/'), later).includes('m=1'), false);
    // Deletion by Max-Age=0 and by a past Expires
    jar.setCookie('e=gone; Max-Age=0', site, NOW);
    jar.setCookie('long=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT', site, NOW);
    assert.deepEqual(
      jar.list(NOW).map((c) => c.name),
      ['m', 'bad'],
    );
    assert.deepEqual(
      jar.list(later).map((c) => c.name),
      ['bad'],
    );
  });

  test('replacing keeps the creation time (and so the order); name, domain and path form the key', () => {
    const jar = new CookieJar();
    jar.setCookie('a=1; Path=/', site, NOW);
    jar.setCookie('b=1; Path=/', site, at('2026-06-01T12:00:01Z'));
    jar.setCookie('a=2; Path=/', site, at('2026-06-01T12:00:02Z'));
    jar.setCookie('a=3; Path=/app', site, at('2026-06-01T12:00:03Z'));
    assert.equal(jar.cookieHeader(new URL('https://www.example.com/app/x'), NOW), 'a=3; a=2; b=1');
    assert.equal(jar.size, 3);
  });

  test('Secure: never set from http, never sent over http; http cannot overwrite a Secure cookie', () => {
    const jar = new CookieJar();
    const plain = new URL('http://www.example.com/');
    assert.equal(jar.setCookie('s=1; Secure', plain, NOW), undefined);
    assert.ok(jar.setCookie('s=1; Secure; Path=/', site, NOW));
    assert.equal(jar.cookieHeader(plain, NOW), '');
    assert.equal(jar.cookieHeader(new URL('https://www.example.com/'), NOW), 's=1');
    assert.equal(jar.setCookie('s=evil; Path=/', plain, NOW), undefined);
    assert.equal(jar.get('s'), '1');
  });

  test('__Secure- and __Host- prefixes', () => {
    const jar = new CookieJar();
    assert.equal(jar.setCookie('__Secure-a=1', site, NOW), undefined);
    assert.ok(jar.setCookie('__Secure-a=1; Secure', site, NOW));
    assert.equal(jar.setCookie('__Host-b=1; Secure', site, NOW), undefined, 'Path must be /');
    assert.equal(jar.setCookie('__Host-b=1; Secure; Path=/; Domain=example.com', site, NOW), undefined);
    assert.ok(jar.setCookie('__Host-b=1; Secure; Path=/', site, NOW));
    assert.equal(jar.setCookie('__host-c=1; Path=/', site, NOW), undefined, 'prefixes are case-insensitive');
  });

  test('malformed lines and the size limits are ignored, never thrown', () => {
    const jar = new CookieJar();
    for (const line of ['', 'novalue', '=value', 'a\x01b=1', 'a=1\x00', `big=${'x'.repeat(4097)}`]) {
      assert.equal(jar.setCookie(line, site, NOW), undefined, JSON.stringify(line.slice(0, 20)));
    }
    assert.ok(jar.setCookie(`ok=${'x'.repeat(4000)}`, site, NOW));
    // An attribute longer than 1024 bytes is ignored, the cookie kept.
    const c = jar.setCookie(`p=1; Path=/${'y'.repeat(1100)}`, site, NOW);
    assert.equal(c?.path, '/app');
    assert.ok(jar.setCookie('q = spaced value ; HttpOnly; SameSite=Lax', site, NOW));
    const q = jar.list(NOW).find((x) => x.name === 'q');
    assert.equal(q?.value, 'spaced value');
    assert.equal(q?.httpOnly, true);
    assert.equal(q?.sameSite, 'Lax');
  });

  test('at most 180 cookies per domain and 3300 in all: the least recently used go first', () => {
    const jar = new CookieJar();
    for (let i = 0; i < 200; i++) jar.setCookie(`c${i}=1; Path=/`, site, new Date(NOW.getTime() + i));
    assert.equal(jar.size, 180);
    assert.equal(jar.get('c0'), undefined);
    assert.equal(jar.get('c199'), '1');
    for (let d = 0; d < 20; d++) {
      for (let i = 0; i < 170; i++) jar.setCookie(`k${i}=1`, new URL(`https://site${d}.test/`), NOW);
    }
    assert.ok(jar.size <= 3300, String(jar.size));
  });

  test('set() from code needs a domain; delete, clear, and a JSON round trip', () => {
    const jar = new CookieJar();
    assert.throws(() => jar.set('a', '1', {} as never), ConfigError);
    assert.throws(() => jar.set('a b', '1', { domain: 'example.com' }), ConfigError);
    assert.throws(() => jar.set('a', '1;2', { domain: 'example.com' }), ConfigError);
    jar.set('token', 'abc', { domain: 'example.com', secure: true });
    jar.set('wide', 'w', { domain: 'example.com', includeSubdomains: true });
    jar.setCookie('x=1; Path=/; Max-Age=3600', site);
    assert.equal(jar.cookieHeader(new URL('https://example.com/')), 'token=abc; wide=w');
    const sorted = (h: string) => h.split('; ').sort().join('; ');
    assert.equal(sorted(jar.cookieHeader(new URL('https://www.example.com/'))), 'wide=w; x=1');
    const copy = CookieJar.fromJSON(JSON.parse(JSON.stringify(jar)));
    assert.equal(sorted(copy.cookieHeader(new URL('https://www.example.com/'))), 'wide=w; x=1');
    assert.equal(copy.list().find((c) => c.name === 'x')?.expires instanceof Date, true);
    assert.equal(jar.delete('wide'), 1);
    jar.clear('www.example.com');
    assert.deepEqual(
      jar.list().map((c) => c.name),
      ['token'],
    );
    jar.clear();
    assert.equal(jar.size, 0);
  });
});

// ---------------------------------------------------------------------------------------------
// In a Session

let root: Issued;
let server: TestServer;
let other: TestServer;
let plain: PlainServer;

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'https://x');
  const headers: Record<string, string | string[]> = { 'content-type': 'application/json' };
  const set = url.searchParams.getAll('set');
  if (set.length > 0) headers['set-cookie'] = set;
  const to = url.searchParams.get('to');
  if (to) headers.location = to;
  res.writeHead(to ? 302 : 200, headers);
  res.end(JSON.stringify({ cookie: req.headers.cookie ?? null, host: req.headers.host }));
}

type Echo = { cookie: string | null };
const q = (params: Record<string, string | string[]>) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const item of [v].flat()) u.append(k, item);
  return `/?${u}`;
};

before(async () => {
  root = createRoot({ cn: 'cookie tests root' });
  server = await startTlsServer({ cert: issue(root), handler });
  other = await startTlsServer({ cert: issue(root), host: 'localhost', handler });
  plain = await startHttpServer(handler);
});

after(async () => {
  await closeDefaultSession();
  await server.close();
  await other.close();
  await plain.close();
});

describe('cookies in a Session', () => {
  test('a cookie set by a response is sent with the next request, and Session.cookies shows it', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      await s.get(server.url(q({ set: ['sid=42; Path=/; HttpOnly', 'theme=dark'] })));
      const r = await s.get(server.url('/next'));
      assert.equal((await r.json<Echo>()).cookie, 'sid=42; theme=dark');
      assert.equal(r.request.headers.get('cookie'), 'sid=42; theme=dark');
      assert.equal(s.cookies?.get('sid'), '42');
    } finally {
      await s.close();
    }
  });

  test('cookies set on a redirect are sent to its target (Session and module functions)', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      const url = server.url(q({ set: 'step=1; Path=/', to: '/landed' }));
      const r = await s.get(url);
      assert.equal(r.history.length, 1);
      assert.equal((await r.json<Echo>()).cookie, 'step=1');
      const m = await get(url, { verify: root.pem, trustEnv: false });
      assert.equal((await m.json<Echo>()).cookie, 'step=1');
    } finally {
      await s.close();
    }
  });

  test('the module functions keep no jar between calls', async () => {
    await get(server.url(q({ set: 'leak=1; Path=/' })), { verify: root.pem, trustEnv: false });
    const r = await get(server.url('/'), { verify: root.pem, trustEnv: false });
    assert.equal((await r.json<Echo>()).cookie, null);
  });

  test('no cookie goes to another host, even through a redirect', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      const target = other.url('/there');
      const r = await s.get(server.url(q({ set: 'mine=1; Path=/', to: target })));
      assert.equal(r.url, target);
      assert.equal((await r.json<Echo>()).cookie, null);
      assert.equal((await (await s.get(server.url('/'))).json<Echo>()).cookie, 'mine=1');
    } finally {
      await s.close();
    }
  });

  test('a Cookie header of your own wins on its origin and is dropped on another', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      await s.get(server.url(q({ set: 'jar=1; Path=/' })));
      const mine = await s.get(server.url('/'), { headers: { cookie: 'manual=1' } });
      assert.equal((await mine.json<Echo>()).cookie, 'manual=1');
      const away = await s.get(server.url(q({ to: other.url('/') })), { headers: { cookie: 'manual=1' } });
      assert.equal((await away.json<Echo>()).cookie, null);
    } finally {
      await s.close();
    }
  });

  test('Secure cookies are not sent over http', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      const jar = s.cookies!;
      jar.set('sec', '1', { domain: '127.0.0.1', secure: true });
      jar.set('open', '1', { domain: '127.0.0.1' });
      assert.equal((await (await s.get(plain.url('/'))).json<Echo>()).cookie, 'open=1');
      assert.equal((await (await s.get(server.url('/'))).json<Echo>()).cookie, 'sec=1; open=1');
      // A Secure cookie from http is refused.
      await s.get(plain.url(q({ set: 'fromhttp=1; Secure; Path=/' })));
      assert.equal(jar.get('fromhttp'), undefined);
    } finally {
      await s.close();
    }
  });

  test('cookies: false keeps nothing between requests; a jar of your own is used as given', async () => {
    const off = new Session({ verify: root.pem, trustEnv: false, cookies: false });
    const calls: string[] = [];
    const store: CookieStore = {
      cookieHeader: (url) => {
        calls.push(`get ${url.pathname}`);
        return 'custom=yes';
      },
      setCookies: (lines, url) => {
        calls.push(`set ${url.pathname} ${lines.join('|')}`);
      },
    };
    const custom = new Session({ verify: root.pem, trustEnv: false, cookies: store });
    try {
      assert.equal(off.cookies, undefined);
      await off.get(server.url(q({ set: 'a=1; Path=/' })));
      assert.equal((await (await off.get(server.url('/'))).json<Echo>()).cookie, null);
      assert.equal(custom.cookies, undefined);
      const r = await custom.get(server.url(q({ set: 'b=2' })));
      assert.equal((await r.json<Echo>()).cookie, 'custom=yes');
      assert.deepEqual(calls, ['get /', 'set / b=2']);
    } finally {
      await Promise.all([off.close(), custom.close()]);
    }
  });

  test('a bad cookies option is a ConfigError', () => {
    assert.throws(() => new Session({ cookies: 'yes' as never }), ConfigError);
    assert.throws(() => new Session({ cookies: {} as never }), ConfigError);
  });
});
