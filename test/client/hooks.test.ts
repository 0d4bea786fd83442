/**
 * Hooks and baseUrl through a real server: a request hook's header reaches the server, a hook can
 * change method and URL, response hooks inspect and replace, a throwing hook is HookError with
 * its error as cause (and a request hook that throws sends nothing); baseUrl joined by the URL
 * rules with and without a trailing slash, absolute URLs passed through.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ConfigError, HookError, type HookRequest, type Response, Session } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let server: TestServer;
let other: TestServer;
let session: Session;

type Echo = { method: string; path: string; headers: IncomingMessage['headers'] };

function handler(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(req.url === '/secret' && req.headers.authorization !== 'Bearer fresh' ? 401 : 200, {
    'content-type': 'application/json',
  });
  res.end(JSON.stringify({ method: req.method, path: req.url, headers: req.headers }));
}

before(async () => {
  root = createRoot({ cn: 'hooks tests root' });
  server = await startTlsServer({ cert: issue(root), handler });
  other = await startTlsServer({ cert: issue(root), host: 'localhost', handler });
  session = new Session({ verify: root.pem, trustEnv: false });
});

after(async () => {
  await session.close();
  await server.close();
  await other.close();
});

describe('request hooks', () => {
  test("a Session's hook and a request's: both run, the Session's first; the server sees their headers", async () => {
    const order: string[] = [];
    const s = new Session({
      verify: root.pem,
      trustEnv: false,
      hooks: {
        request: [
          (req) => {
            order.push('session');
            req.headers['x-trace'] = 'abc';
          },
        ],
      },
    });
    try {
      const r = await s.get(server.url('/x'), {
        hooks: {
          request: async (req) => {
            order.push('request');
            await new Promise((resolve) => setTimeout(resolve, 1));
            req.headers['X-Added'] = String(req.headers['x-trace']);
          },
        },
      });
      const echo = await r.json<Echo>();
      assert.deepEqual(order, ['session', 'request']);
      assert.equal(echo.headers['x-trace'], 'abc');
      assert.equal(echo.headers['x-added'], 'abc');
      assert.equal(r.request.headers.get('x-added'), 'abc');
    } finally {
      await s.close();
    }
  });

  test('a hook changes method and URL; it sees no credentials from auth, which are still sent', async () => {
    const seen: HookRequest[] = [];
    const r = await session.post(server.url('/before'), {
      data: 'x',
      auth: ['alice', 'pw'],
      hooks: {
        request: (req) => {
          seen.push({ ...req, headers: { ...req.headers } });
          req.method = 'PUT';
          req.url = server.url('/after?q=1');
        },
      },
    });
    const echo = await r.json<Echo>();
    assert.equal(echo.method, 'PUT');
    assert.equal(echo.path, '/after?q=1');
    assert.equal(r.url, server.url('/after?q=1'));
    assert.equal(seen[0]?.method, 'POST');
    assert.equal(seen[0]?.headers.authorization, undefined);
    assert.match(echo.headers.authorization ?? '', /^Basic /);
  });

  test('a hook that moves the request to another origin: allowed bare, refused while it carries credentials', async () => {
    // server is 127.0.0.1, other is localhost: two origins.
    const moveToOther = (req: HookRequest) => {
      req.url = other.url('/b');
    };
    const moved = await session.get(server.url('/a'), {
      hooks: { request: moveToOther },
    });
    assert.equal((await moved.json<Echo>()).path, '/b');
    const before = other.requests;
    const withUser = new URL(server.url('/a'));
    withUser.username = 'alice';
    withUser.password = 'pw';
    for (const [what, url, extra] of [
      ['auth', server.url('/a'), { auth: ['alice', 'pw'] as [string, string] }],
      ['the user:password of the URL', withUser.href, {}],
      ['cookies of the request', server.url('/a'), { cookies: { sid: 'secret' } }],
    ] as const) {
      await assert.rejects(session.get(url, { ...extra, hooks: { request: moveToOther } }), (e: unknown) => {
        assert.ok(e instanceof HookError, String(e));
        assert.match(
          e.message,
          new RegExp(
            `moved the request from https://127\\.0\\.0\\.1:\\d+ to https://localhost:\\d+, and it carries credentials given for .*\\(${what}\\)`,
          ),
        );
        return true;
      });
    }
    assert.equal(other.requests, before, 'nothing reached the other origin');
  });

  test('a request hook that returns a new object (an axios interceptor habit) is a HookError; returning req is fine', async () => {
    const before = server.requests;
    await assert.rejects(
      session.get(server.url('/v1'), { hooks: { request: (req) => ({ ...req, url: server.url('/v2') }) } }),
      (e: unknown) => e instanceof HookError && /returned object, which would be ignored/.test(e.message),
    );
    assert.equal(server.requests, before);
    const r = await session.get(server.url('/v1'), {
      hooks: {
        request: (req) => {
          req.headers['x-trace'] = 'abc';
          return req;
        },
      },
    });
    assert.equal((await r.json<Echo>()).headers['x-trace'], 'abc');
  });

  test('a hook that throws: HookError ERR_HOOK, its error as cause, nothing sent', async () => {
    const boom = new Error('no trace id');
    const before = server.requests;
    await assert.rejects(
      session.get(server.url('/'), {
        hooks: {
          request: [
            () => {},
            () => {
              throw boom;
            },
          ],
        },
      }),
      (e: unknown) => {
        assert.ok(e instanceof HookError, String(e));
        assert.equal(e.code, 'ERR_HOOK');
        assert.equal(e.cause, boom);
        assert.match(e.message, /request hook 2 of 2 threw: no trace id/);
        return true;
      },
    );
    assert.equal(server.requests, before);
  });
});

describe('response hooks', () => {
  test('inspect the final response (after redirects); a returned Response replaces it', async () => {
    const statuses: number[] = [];
    const s = new Session({
      verify: root.pem,
      trustEnv: false,
      hooks: { response: [(r) => void statuses.push(r.status)] },
    });
    try {
      // got's afterResponse idiom: a 401 answered by a request with a fresh token.
      const refresh = async (r: Response): Promise<Response | undefined> => {
        if (r.status !== 401) return undefined;
        await r.dump();
        return s.get(r.url, { headers: { authorization: 'Bearer fresh' } });
      };
      const r = await s.get(server.url('/secret'), { hooks: { response: [refresh] } });
      assert.equal(r.status, 200);
      assert.equal((await r.json<Echo>()).headers.authorization, 'Bearer fresh');
      // The Session's hook ran on the first response and on the one made inside the hook.
      assert.deepEqual(statuses, [401, 200]);
    } finally {
      await s.close();
    }
  });

  test('a response hook that throws, or returns something else: HookError', async () => {
    const boom = new TypeError('bad shape');
    await assert.rejects(
      session.get(server.url('/'), {
        hooks: {
          response: () => {
            throw boom;
          },
        },
      }),
      (e: unknown) => e instanceof HookError && e.cause === boom && /response hook 1 of 1/.test(e.message),
    );
    await assert.rejects(
      session.get(server.url('/'), { hooks: { response: (() => 42) as never } }),
      (e: unknown) => e instanceof HookError && /returned number, not a Response/.test(e.message),
    );
  });

  test('malformed hooks are a ConfigError before anything is sent', async () => {
    for (const hooks of [{ request: 'fn' }, { before: [() => {}] }, [() => {}], { response: [1] }]) {
      await assert.rejects(
        session.get(server.url('/'), { hooks: hooks as never }),
        (e: unknown) => e instanceof ConfigError && /ERR_HOOKS_OPTION|ERR_OPTION_TYPE/.test(e.code),
      );
    }
    assert.throws(
      () => new Session({ hooks: { request: 'x' } as never }),
      (e: unknown) => e instanceof ConfigError && e.code === 'ERR_HOOKS_OPTION',
    );
  });
});

describe('baseUrl', () => {
  async function pathOf(base: string, input: string | URL): Promise<string> {
    const s = new Session({ verify: root.pem, trustEnv: false, baseUrl: base });
    try {
      const r = await s.get(input);
      return new URL(r.url).pathname + new URL(r.url).search;
    } finally {
      await s.close();
    }
  }

  test('with a trailing slash, a relative path goes under it', async () => {
    assert.equal(await pathOf(server.url('/api/'), 'users/1?x=1'), '/api/users/1?x=1');
    assert.equal(await pathOf(server.url('/api/v2/'), '../v1/users'), '/api/v1/users');
  });

  test('without one, the last segment is replaced (URL rules, not concatenation)', async () => {
    assert.equal(await pathOf(server.url('/api'), 'users'), '/users');
    assert.equal(await pathOf(server.url('/api/v1'), 'users'), '/api/users');
  });

  test("'/path' starts at the host's root; '?q' keeps the path", async () => {
    assert.equal(await pathOf(server.url('/api/'), '/users'), '/users');
    assert.equal(await pathOf(server.url('/api/list'), '?page=2'), '/api/list?page=2');
  });

  test('absolute URLs (strings and URL objects) are used as they are', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false, baseUrl: server.url('/api/') });
    try {
      const a = await s.get(other.url('/elsewhere'));
      assert.equal(a.url, other.url('/elsewhere'));
      assert.equal((await a.json<Echo>()).path, '/elsewhere');
      const b = await s.get(new URL(other.url('/obj')));
      assert.equal((await b.json<Echo>()).path, '/obj');
    } finally {
      await s.close();
    }
  });

  test('a bad baseUrl is a ConfigError; baseURL (axios) and prefixUrl (got) point to it', () => {
    for (const bad of ['api/v1', 'ftp://h/', 'not a url']) {
      assert.throws(
        () => new Session({ baseUrl: bad }),
        (e: unknown) => e instanceof ConfigError && e.code === 'ERR_BASE_URL',
      );
    }
    for (const name of ['baseURL', 'prefixUrl']) {
      assert.throws(
        () => new Session({ [name]: 'https://h/' } as never),
        (e: unknown) => e instanceof ConfigError && /did you mean 'baseUrl'/.test(e.message),
      );
    }
  });
});
