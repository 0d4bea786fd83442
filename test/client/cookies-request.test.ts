/**
 * Cookies, issue 11 item 9: a request's own `cookies` (merged with the Session's jar for that
 * request only, never sent to another origin), `r.cookies` (what this response set), the Public
 * Suffix List in the jar (github.io and co.uk supercookies refused), and a Session's cookies saved
 * and loaded as JSON. Through loopback servers where the server's view matters.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ConfigError, CookieJar, get, Session } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let server: TestServer;
let other: TestServer;

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'https://x');
  const headers: Record<string, string | string[]> = { 'content-type': 'application/json' };
  const set = url.searchParams.getAll('set');
  if (set.length) headers['set-cookie'] = set;
  const to = url.searchParams.get('to');
  if (to) headers.location = to;
  res.writeHead(to ? 302 : 200, headers);
  res.end(JSON.stringify({ cookie: req.headers.cookie ?? null }));
}

type Echo = { cookie: string | null };

before(async () => {
  root = createRoot({ cn: 'cookie tests root' });
  server = await startTlsServer({ cert: issue(root), handler });
  other = await startTlsServer({ cert: issue(root), host: 'localhost', handler });
});

after(async () => {
  await server.close();
  await other.close();
});

const setUrl = (s: TestServer, ...cookies: string[]) =>
  s.url(`/set?${cookies.map((c) => `set=${encodeURIComponent(c)}`).join('&')}`);

describe("a request's own cookies", () => {
  test('a Map is taken as { name: value } is; a jar or another object is ERR_COOKIE, not ignored', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      const r = await s.get(server.url('/'), {
        cookies: new Map<string, string | number>([
          ['sid', 'm'],
          ['n', 2],
        ]),
      });
      assert.equal((await r.json<Echo>()).cookie, 'sid=m; n=2');
      const before = server.requests;
      for (const [cookies, message] of [
        [new CookieJar(), /not a CookieJar/],
        [new URLSearchParams('a=1'), /not a URLSearchParams/],
      ] as const) {
        await assert.rejects(s.get(server.url('/'), { cookies: cookies as never }), (err: unknown) => {
          assert.ok(err instanceof ConfigError, String(err));
          assert.equal(err.code, 'ERR_COOKIE');
          assert.match(err.message, message);
          return true;
        });
      }
      // A response's r.cookies: its toObject() is the form to pass.
      await assert.rejects(
        s.get(server.url('/'), { cookies: r.cookies as never }),
        /not a ResponseCookies \(its toObject\(\) gives/,
      );
      assert.equal(server.requests, before, 'nothing was sent');
    } finally {
      await s.close();
    }
  });

  test("sent with the jar's, a name given for the request wins; not stored in the jar", async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      await (await s.get(setUrl(server, 'sid=jar', 'theme=dark'))).text();
      const r = await s.get(server.url('/'), { cookies: { sid: 'mine', extra: 42 } });
      assert.equal((await r.json<Echo>()).cookie, 'theme=dark; sid=mine; extra=42');
      const pairs = await s.get(server.url('/'), {
        cookies: [
          ['a', '1'],
          ['a', '2'],
        ],
      });
      assert.equal((await pairs.json<Echo>()).cookie, 'sid=jar; theme=dark; a=1; a=2');
      const plain = await s.get(server.url('/'));
      assert.equal((await plain.json<Echo>()).cookie, 'sid=jar; theme=dark');
      assert.equal(s.cookies?.get('extra'), undefined);
    } finally {
      await s.close();
    }
  });

  test('with get() (no Session jar), kept on a same-origin redirect, never sent to another origin', async () => {
    const opts = { verify: root.pem, trustEnv: false, cookies: { token: 't1' } } as const;
    const same = await get(server.url(`/?to=${encodeURIComponent('/landed')}`), opts);
    assert.equal((await same.json<Echo>()).cookie, 'token=t1');
    const cross = await get(server.url(`/?to=${encodeURIComponent(other.url('/x'))}`), opts);
    assert.equal(cross.url, other.url('/x'));
    assert.equal((await cross.json<Echo>()).cookie, null);
  });

  test('an explicit Cookie header wins over both (requests does the same)', async () => {
    const r = await get(server.url('/'), {
      verify: root.pem,
      trustEnv: false,
      cookies: { a: '1' },
      headers: { cookie: 'mine=1' },
    });
    assert.equal((await r.json<Echo>()).cookie, 'mine=1');
  });

  test('cookies that cannot be sent are a ConfigError before any connection', async () => {
    const before = server.connections;
    for (const cookies of [true, { 'a b': '1' }, { a: 'x;y' }, { a: { nested: 1 } }, [['a']], 'a=1']) {
      await assert.rejects(
        get(server.url('/'), { verify: root.pem, trustEnv: false, cookies: cookies as never }),
        (e: unknown) => e instanceof ConfigError && /^ERR_(COOKIE|OPTION_TYPE)$/.test(e.code),
        JSON.stringify(cookies),
      );
    }
    assert.equal(server.connections, before);
  });
});

describe('r.cookies', () => {
  test('the cookies this response set: by name, as an object, with attributes; history keeps its own', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      const first = encodeURIComponent(setUrl(server, 'final=1; Path=/; HttpOnly; SameSite=Lax'));
      const r = await s.get(
        server.url(`/?set=${encodeURIComponent('hop=1; Max-Age=60; Secure')}&to=${first}`),
      );
      assert.equal(r.cookies.get('final'), '1');
      assert.deepEqual(r.cookies.toObject(), { final: '1' });
      const [c] = r.cookies.list();
      assert.equal(c?.httpOnly, true);
      assert.equal(c?.sameSite, 'Lax');
      assert.equal(c?.path, '/');
      assert.equal(c?.domain, '127.0.0.1');
      const hop = r.history[0]?.cookies;
      assert.equal(hop?.get('hop'), '1');
      assert.equal(hop?.list()[0]?.secure, true);
      assert.ok(hop?.list()[0]?.expires instanceof Date);
      await r.text();
    } finally {
      await s.close();
    }
  });

  test('a cookie the jar refuses (another domain, Secure prefix broken) is not in r.cookies', async () => {
    const r = await get(setUrl(server, 'ok=1', 'evil=1; Domain=example.com', '__Host-x=1; Path=/x'), {
      verify: root.pem,
      trustEnv: false,
    });
    assert.deepEqual(r.cookies.toObject(), { ok: '1' });
    assert.equal(r.cookies.size, 1);
    await r.text();
  });
});

describe('the Public Suffix List in the jar', () => {
  const NOW = new Date('2026-01-01T00:00:00Z');

  test('github.io and co.uk supercookies are refused; the registrable domain is accepted', () => {
    const jar = new CookieJar();
    const pages = new URL('https://alice.github.io/');
    assert.equal(jar.setCookie('x=1; Domain=github.io', pages, NOW), undefined);
    assert.ok(jar.setCookie('x=1; Domain=alice.github.io', pages, NOW));
    const uk = new URL('https://shop.example.co.uk/');
    assert.equal(jar.setCookie('x=1; Domain=co.uk', uk, NOW), undefined);
    assert.ok(jar.setCookie('y=1; Domain=example.co.uk', uk, NOW));
    // Suffixes the old two-letter heuristic missed: PRIVATE entries and ICANN wildcards.
    assert.equal(jar.setCookie('x=1; Domain=appspot.com', new URL('https://a.appspot.com/'), NOW), undefined);
    assert.equal(
      jar.setCookie('x=1; Domain=blogspot.com', new URL('https://a.blogspot.com/'), NOW),
      undefined,
    );
    // *.kawasaki.jp makes every name under it a suffix, except !city.kawasaki.jp.
    const wild = new URL('https://a.foo.kawasaki.jp/');
    assert.equal(jar.setCookie('x=1; Domain=foo.kawasaki.jp', wild, NOW), undefined);
    assert.ok(jar.setCookie('x=1; Domain=city.kawasaki.jp', new URL('https://a.city.kawasaki.jp/'), NOW));
    // A host that is itself a public suffix gets a host-only cookie (RFC 6265 §5.3 step 5).
    const host = jar.setCookie('z=1; Domain=github.io', new URL('https://github.io/'), NOW);
    assert.equal(host?.hostOnly, true);
    assert.deepEqual(
      jar.cookiesFor(new URL('https://bob.github.io/'), NOW).map((c) => c.name),
      [],
    );
  });
});

describe("saving and loading a Session's cookies", () => {
  test('JSON.stringify(session.cookies) and new Session({ cookies: JSON.parse(text) })', async () => {
    const a = new Session({ verify: root.pem, trustEnv: false });
    let text: string;
    try {
      await (await a.get(setUrl(server, 'sid=abc; Max-Age=3600', 'pref=1'))).text();
      text = JSON.stringify(a.cookies);
    } finally {
      await a.close();
    }
    const saved = JSON.parse(text) as Record<string, unknown>[];
    assert.equal(saved.length, 2);
    const b = new Session({ verify: root.pem, trustEnv: false, cookies: saved });
    try {
      const r = await b.get(server.url('/'));
      assert.equal((await r.json<Echo>()).cookie, 'sid=abc; pref=1');
      assert.ok(b.cookies?.list().find((c) => c.name === 'sid')?.expires instanceof Date);
    } finally {
      await b.close();
    }
  });

  test('a saved domain cookie for a public suffix, or something not a list, is not loaded', () => {
    const jar = CookieJar.fromJSON([
      { name: 'x', value: '1', domain: 'github.io', hostOnly: false, path: '/' },
      { name: 'y', value: '1', domain: 'example.com', hostOnly: false, path: '/' },
      { name: 'z', value: 'a\nb', domain: 'example.com' },
    ]);
    assert.deepEqual(
      jar.list().map((c) => c.name),
      ['y'],
    );
    assert.throws(() => CookieJar.fromJSON({} as never), ConfigError);
    assert.throws(() => new Session({ cookies: 'sid=1' as never }), ConfigError);
  });

  test('an entry that is not a saved cookie is ConfigError ERR_COOKIE naming it, not skipped', () => {
    const isCookieError = (message: RegExp, hint: RegExp) => (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.code, 'ERR_COOKIE');
      assert.match(err.message, message);
      assert.match(err.hint ?? '', hint);
      return true;
    };
    // The [name, value] pairs a request's cookies take: a Session's jar needs the host of each.
    assert.throws(
      () => new Session({ cookies: [['token', 'abc']] as never }),
      isCookieError(
        /entry 0 is a \[name, value\] pair, not a saved cookie/,
        /cookies\.set\('name', 'value', \{ domain/,
      ),
    );
    assert.throws(
      () =>
        CookieJar.fromJSON([
          { name: 'y', value: '1', domain: 'example.com' },
          { name: 'n', value: 1, domain: 'example.com' },
        ]),
      isCookieError(/entry 1 is an object without a string name, value and domain/, /JSON\.stringify/),
    );
    assert.throws(() => CookieJar.fromJSON([null as never]), isCookieError(/entry 0 is null/, /./));
    // A plain object of name: value is refused too, with the same way out.
    assert.throws(
      () => new Session({ cookies: { token: 'abc' } as never }),
      (err: unknown) => err instanceof ConfigError && /cookies\.set/.test(err.hint ?? ''),
    );
  });
});
