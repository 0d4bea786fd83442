/**
 * The auth option: Basic and Bearer headers, precedence, and credentials that never leave the
 * origin they were given for, against loopback servers.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { authorizationHeader } from '../../src/client/auth.js';
import { proxyChooser } from '../../src/client/proxy.js';
import {
  type AuthRequest,
  ConfigError,
  closeDefaultSession,
  get,
  ProxyError,
  Session,
} from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startProxy } from '../support/proxy.js';
import { type PlainServer, startHttpServer, startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let server: TestServer;
let other: TestServer;
let plain: PlainServer;
let session: Session;

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'https://x');
  const to = url.searchParams.get('to');
  res.writeHead(to ? 302 : 200, { 'content-type': 'application/json', ...(to ? { location: to } : {}) });
  res.end(
    JSON.stringify({
      authorization: req.headers.authorization ?? null,
      path: req.url,
      key: req.headers['x-api-key'] ?? null,
    }),
  );
}

type Echo = { authorization: string | null; path: string; key: string | null };
const basic = (user: string, pass: string) =>
  `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`;

before(async () => {
  root = createRoot({ cn: 'auth tests root' });
  server = await startTlsServer({ cert: issue(root), handler });
  other = await startTlsServer({ cert: issue(root), host: 'localhost', handler });
  plain = await startHttpServer(handler);
  session = new Session({ verify: root.pem, trustEnv: false });
});

after(async () => {
  await closeDefaultSession();
  await session.close();
  await server.close();
  await other.close();
  await plain.close();
});

async function seen(p: Promise<{ json<T>(): Promise<T> }>): Promise<string | null> {
  return (await (await p).json<Echo>()).authorization;
}

describe('auth headers', () => {
  test('Basic: user:password in UTF-8, base64 (RFC 7617)', async () => {
    assert.equal(
      await seen(session.get(server.url('/'), { auth: ['alice', 's3cret'] })),
      basic('alice', 's3cret'),
    );
    assert.equal(
      await seen(session.get(server.url('/'), { auth: ['jürgen', 'pässwörd:with:colons'] })),
      `Basic ${Buffer.from('jürgen:pässwörd:with:colons', 'utf8').toString('base64')}`,
    );
    assert.equal(await seen(session.get(server.url('/'), { auth: ['', ''] })), basic('', ''));
  });

  test('Bearer', async () => {
    assert.equal(
      await seen(session.get(server.url('/'), { auth: { bearer: 'eyJ.abc-_~+/=' } })),
      'Bearer eyJ.abc-_~+/=',
    );
  });

  test('module functions and Session defaults; the request option wins; an Authorization header wins over both', async () => {
    assert.equal(
      await seen(get(server.url('/'), { verify: root.pem, trustEnv: false, auth: { bearer: 't1' } })),
      'Bearer t1',
    );
    const s = new Session({ verify: root.pem, trustEnv: false, auth: ['session', 'pw'] });
    try {
      assert.equal(await seen(s.get(server.url('/'))), basic('session', 'pw'));
      assert.equal(await seen(s.get(server.url('/'), { auth: { bearer: 'req' } })), 'Bearer req');
      assert.equal(
        await seen(s.get(server.url('/'), { headers: { Authorization: 'Custom x' } })),
        'Custom x',
      );
    } finally {
      await s.close();
    }
  });
});

describe('credentials stay on their origin', () => {
  test('kept on a same-origin redirect', async () => {
    const r = await session.get(server.url(`/?to=${encodeURIComponent('/landed')}`), {
      auth: ['alice', 'pw'],
    });
    assert.equal(r.history.length, 1);
    assert.equal((await r.json<Echo>()).authorization, basic('alice', 'pw'));
  });

  test('dropped on a redirect to another host', async () => {
    const target = other.url('/elsewhere');
    const r = await session.get(server.url(`/?to=${encodeURIComponent(target)}`), {
      auth: { bearer: 'secret' },
    });
    assert.equal(r.url, target);
    assert.equal((await r.json<Echo>()).authorization, null);
  });

  test('dropped on a redirect from https down to http on the same host', async () => {
    const target = plain.url('/down');
    const r = await session.get(server.url(`/?to=${encodeURIComponent(target)}`), { auth: ['alice', 'pw'] });
    assert.equal(r.url, target);
    assert.equal((await r.json<Echo>()).authorization, null);
  });

  test('not sent again after coming back: A -> B -> A', async () => {
    const back = server.url('/back');
    const viaOther = other.url(`/?to=${encodeURIComponent(back)}`);
    const r = await session.get(server.url(`/?to=${encodeURIComponent(viaOther)}`), {
      auth: ['alice', 'pw'],
    });
    assert.equal(r.history.length, 2);
    assert.equal(r.url, back);
    assert.equal((await r.json<Echo>()).authorization, null);
  });
});

describe('bad auth is a ConfigError, before any connection', () => {
  const bad: [unknown, RegExp][] = [
    [['a:b', 'pw'], /contains ':'/],
    [['alice', 'pw\n'], /control character/],
    [['alice'], /pair of strings/],
    [['alice', 1], /pair of strings/],
    [{ bearer: '' }, /non-empty string/],
    [{ bearer: 'Bearer abc' }, /without "Bearer "/],
    [{ bearer: 'abc\r\nX-Evil: 1' }, /whitespace or a control character/],
    [{ token: 'x' }, /must be \[user, password\], \{ username, password \}, \{ bearer \}/],
    ['user:pass', /must be \[user, password\], \{ username, password \}, \{ bearer \}/],
    [{ username: 'a' }, /both strings/],
    [{ username: 'a:b', password: 'p' }, /contains ':'/],
    [{ digest: ['a'] }, /auth.digest must be a pair/],
    [{ digest: 'a:b' }, /auth.digest must be \[user, password\]/],
  ];
  for (const [auth, message] of bad) {
    test(JSON.stringify(auth), async () => {
      const before = server.connections;
      await assert.rejects(session.get(server.url('/'), { auth: auth as never }), (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.equal(err.code, 'ERR_AUTH_OPTION');
        assert.match(err.message, message);
        assert.match(err.hint ?? '', /auth: \['user', 'password'\]/);
        return true;
      });
      assert.equal(server.connections, before);
    });
  }

  test('authorizationHeader directly', () => {
    assert.equal(authorizationHeader(['Aladdin', 'open sesame']), 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=='); // RFC 7617 §2
    assert.throws(() => authorizationHeader(null as never), ConfigError);
  });
});

describe('more auth forms', () => {
  test('{ username, password } is Basic', async () => {
    assert.equal(
      await seen(session.get(server.url('/'), { auth: { username: 'alice', password: 'pw' } })),
      basic('alice', 'pw'),
    );
  });

  test('a function: shown method, URL and headers; what it returns is sent (sync and async)', async () => {
    const calls: AuthRequest[] = [];
    const r = await session.post(server.url('/sign?x=1'), {
      data: 'hello',
      auth: (req) => {
        calls.push(req);
        return { Authorization: `Sig ${req.method} ${new URL(req.url).pathname}`, 'X-Api-Key': 'k1' };
      },
    });
    const echo = await r.json<Echo>();
    assert.equal(echo.authorization, 'Sig POST /sign');
    assert.equal(echo.key, 'k1');
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.url, server.url('/sign?x=1'));
    assert.match(calls[0]?.headers['user-agent'] ?? '', /^certainly\//);
    assert.equal(calls[0]?.method, 'POST');
    assert.equal(r.request.headers.get('x-api-key'), 'k1');

    const async = await session.get(server.url('/'), {
      auth: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return new Headers({ authorization: 'Token async' });
      },
    });
    assert.equal((await async.json<Echo>()).authorization, 'Token async');
  });

  test('a function is called again for a same-origin redirect, never for another origin', async () => {
    const seenUrls: string[] = [];
    const auth = (req: AuthRequest) => {
      seenUrls.push(req.url);
      return { 'x-api-key': 'secret' };
    };
    const same = await session.get(server.url(`/?to=${encodeURIComponent('/landed')}`), { auth });
    assert.equal((await same.json<Echo>()).key, 'secret');
    assert.deepEqual(seenUrls, [server.url(`/?to=${encodeURIComponent('/landed')}`), server.url('/landed')]);
    seenUrls.length = 0;
    const target = other.url('/elsewhere');
    const cross = await session.get(server.url(`/?to=${encodeURIComponent(target)}`), { auth });
    assert.equal(cross.url, target);
    assert.equal((await cross.json<Echo>()).key, null);
    assert.equal(seenUrls.length, 1);
  });

  test('a function that throws fails the request with its error; bad headers it returns are a ConfigError', async () => {
    const boom = new Error('token store down');
    await assert.rejects(
      session.get(server.url('/'), {
        auth: () => {
          throw boom;
        },
      }),
      (e: unknown) => e === boom,
    );
    await assert.rejects(
      session.get(server.url('/'), { auth: () => ({ 'x-bad': 'a\r\nb' }) }),
      (e: unknown) => e instanceof ConfigError && e.code === 'ERR_HEADER',
    );
  });
});

describe('credentials in the URL', () => {
  test('become Basic auth (percent-decoded) and leave the URL sent and r.url', async () => {
    const u = new URL(server.url('/p?q=1'));
    u.username = 'alice';
    u.password = 'p@ss:wörd';
    assert.match(u.href, /alice:p%40ss/);
    const r = await session.get(u.href);
    const echo = await r.json<Echo>();
    assert.equal(echo.authorization, basic('alice', 'p@ss:wörd'));
    assert.equal(echo.path, '/p?q=1');
    assert.equal(r.url, server.url('/p?q=1'));
    assert.equal(r.request.url, server.url('/p?q=1'));
    // A URL object passed in is not changed.
    const before = u.href;
    await (await session.get(u)).text();
    assert.equal(u.href, before);
  });

  test('the auth option wins over them, as in requests', async () => {
    const u = new URL(server.url('/'));
    u.username = 'url';
    u.password = 'pw';
    assert.equal(await seen(session.get(u, { auth: { bearer: 'opt' } })), 'Bearer opt');
  });

  test('dropped on a redirect to another origin', async () => {
    const target = other.url('/elsewhere');
    const u = new URL(server.url(`/?to=${encodeURIComponent(target)}`));
    u.username = 'alice';
    u.password = 'pw';
    const r = await session.get(u.href);
    assert.equal(r.url, target);
    assert.equal(r.history[0]?.request.headers.get('authorization'), basic('alice', 'pw'));
    assert.equal((await r.json<Echo>()).authorization, null);
  });
});

describe('proxy credentials in every form', () => {
  for (const [name, auth] of [
    ["'user:pass'", 'carol:pw d'],
    ['[user, pass]', ['carol', 'pw d']],
    ['{ username, password }', { username: 'carol', password: 'pw d' }],
  ] as const) {
    test(`proxy: { url, auth: ${name} }`, async () => {
      const p = await startProxy({ auth: 'carol:pw d' });
      const s = new Session({ verify: root.pem, trustEnv: false, proxy: { url: p.url, auth } });
      try {
        const r = await s.get(server.url('/'));
        assert.equal(r.status, 200);
        assert.equal(p.connects[0]?.authorization, basic('carol', 'pw d'));
        assert.equal((await r.json<Echo>()).authorization, null);
      } finally {
        await s.close();
        await p.close();
      }
    });
  }

  for (const [name, proxyAuth] of [
    ["'user:pass'", 'carol:pw d'],
    ['[user, pass]', ['carol', 'pw d']],
    ['{ username, password }', { username: 'carol', password: 'pw d' }],
  ] as const) {
    test(`proxyAuth: ${name}, for the proxy the URL names`, async () => {
      const p = await startProxy({ auth: 'carol:pw d' });
      const s = new Session({ verify: root.pem, trustEnv: false, proxy: p.url, proxyAuth });
      try {
        const r = await s.get(server.url('/'));
        assert.equal(r.status, 200);
        assert.equal(p.connects[0]?.authorization, basic('carol', 'pw d'));
        await r.text();
      } finally {
        await s.close();
        await p.close();
      }
    });
  }

  test('proxyAuth applies to an environment proxy; proxy.auth wins over it, it wins over the URL', () => {
    const header = (settings: Parameters<typeof proxyChooser>[0]) =>
      proxyChooser(settings)(new URL('https://example.com/'))?.headers['proxy-authorization'];
    assert.equal(
      header({ trustEnv: true, env: { HTTPS_PROXY: 'http://127.0.0.1:3128' }, proxyAuth: ['env', 'pw'] }),
      basic('env', 'pw'),
    );
    assert.equal(
      header({ proxy: { url: 'http://127.0.0.1:3128', auth: 'obj:pw' }, proxyAuth: 'opt:pw' }),
      basic('obj', 'pw'),
    );
    assert.equal(header({ proxy: 'http://url:pw@127.0.0.1:3128', proxyAuth: 'opt:pw' }), basic('opt', 'pw'));
    assert.equal(header({ proxy: 'http://url:pw@127.0.0.1:3128' }), basic('url', 'pw'));
    assert.throws(() => header({ proxy: 'http://127.0.0.1:3128', proxyAuth: 'nocolon' }), ConfigError);
  });

  test('without them the proxy answers 407 (the test proxy does require them)', async () => {
    const p = await startProxy({ auth: 'carol:pw' });
    const s = new Session({ verify: root.pem, trustEnv: false, proxy: p.url });
    try {
      await assert.rejects(
        s.get(server.url('/')),
        (e: unknown) => e instanceof ProxyError && e.status === 407,
      );
    } finally {
      await s.close();
      await p.close();
    }
  });

  test('a malformed proxy auth is a ConfigError: on a request, and when a Session is made', async () => {
    const isAuthError = (e: unknown) => e instanceof ConfigError && /auth must be/.test(e.message);
    const s = new Session({ trustEnv: false });
    try {
      for (const auth of [['carol'], { username: 'carol' }, 42]) {
        const proxy = { url: 'http://127.0.0.1:1', auth: auth as never };
        await assert.rejects(s.get('https://x/', { proxy }), isAuthError);
        assert.throws(() => new Session({ trustEnv: false, proxy }), isAuthError);
      }
    } finally {
      await s.close();
    }
  });
});
