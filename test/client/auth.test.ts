/**
 * The auth option: Basic and Bearer headers, precedence, and credentials that never leave the
 * origin they were given for, against loopback servers.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { authorizationHeader } from '../../src/client/auth.js';
import { ConfigError, closeDefaultSession, get, InvalidURL, Session } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
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
  res.end(JSON.stringify({ authorization: req.headers.authorization ?? null }));
}

type Echo = { authorization: string | null };
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
    [{ token: 'x' }, /must be \[user, password\] or \{ bearer \}/],
    ['user:pass', /must be \[user, password\] or \{ bearer \}/],
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

  test('credentials in the URL are refused and point at auth', async () => {
    await assert.rejects(session.get('https://alice:pw@127.0.0.1/'), (err: unknown) => {
      assert.ok(err instanceof InvalidURL);
      assert.match(err.message, /auth: \['user', 'password'\]/);
      return true;
    });
  });

  test('authorizationHeader directly', () => {
    assert.equal(authorizationHeader(['Aladdin', 'open sesame']), 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=='); // RFC 7617 §2
    assert.throws(() => authorizationHeader(null as never), ConfigError);
  });
});
