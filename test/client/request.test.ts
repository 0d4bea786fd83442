/**
 * Every request option against real loopback servers: headers, params, json, data, redirects,
 * timeouts, Response readers, and bad input.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  ConfigError,
  ConnectionError,
  ConnectTimeout,
  closeDefaultSession,
  get,
  HTTPError,
  InvalidURL,
  post,
  ReadTimeout,
  request,
  Session,
  SSLError,
  TooManyRedirects,
} from '../../src/index.js';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { closedPort, startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let leaf: Issued;
let caPath: string;
let server: TestServer;
let other: TestServer;
const dir = tempDir('request-');
const seenAuth: (string | undefined)[] = [];

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (s += d));
    req.on('end', () => resolve(s));
  });
}

async function handler(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://x');
  const body = await readBody(req);
  if (url.pathname.startsWith('/redirect/')) {
    const n = Number(url.pathname.split('/')[2]);
    res.writeHead(302, { location: n > 1 ? `/redirect/${n - 1}` : '/echo' });
    res.end();
    return;
  }
  if (url.pathname === '/to-other') {
    res.writeHead(307, { location: `${other.origin}/echo` });
    res.end();
    return;
  }
  if (url.pathname === '/post-303') {
    res.writeHead(303, { location: '/echo' });
    res.end();
    return;
  }
  if (url.pathname === '/status') {
    res.writeHead(Number(url.searchParams.get('code')));
    res.end('status');
    return;
  }
  if (url.pathname === '/stall-body') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first part, then nothing');
    setTimeout(() => {
      if (!res.destroyed) res.end();
    }, 3000);
    return;
  }
  if (url.pathname === '/slow') {
    setTimeout(() => {
      if (!res.destroyed) res.end('late');
    }, 3000);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'x-multi': ['a', 'b'] });
  res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
}

before(async () => {
  root = createRoot({ cn: 'certainly request tests root' });
  leaf = issue(root, { sans: ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'] });
  caPath = dir.write('root.pem', root.pem);
  server = await startTlsServer({ cert: leaf, host: '127.0.0.1', handler: (q, s) => void handler(q, s) });
  other = await startTlsServer({
    cert: leaf,
    host: 'localhost',
    handler: (req, res) => {
      seenAuth.push(req.headers.authorization);
      res.end('other');
    },
  });
});

after(async () => {
  await closeDefaultSession();
  await server.close();
  await other.close();
  dir.cleanup();
});

type Echo = { method: string; url: string; headers: Record<string, string>; body: string };

describe('request options', () => {
  test('headers, params (lists repeat, null dropped) and the Response fields', async () => {
    const r = await get(server.url('/echo?x=1'), {
      verify: caPath,
      headers: { 'X-Test': 'yes', Accept: 'application/json' },
      params: { a: 'b c', list: [1, 2], skip: null },
    });
    assert.equal(r.status, 200);
    assert.equal(r.ok, true);
    assert.equal(r.reason, 'OK');
    assert.equal(r.headers.get('x-multi'), 'a, b');
    const echo = await r.json<Echo>();
    assert.equal(echo.url, '/echo?x=1&a=b+c&list=1&list=2');
    assert.equal(echo.headers['x-test'], 'yes');
    assert.equal(r.url, server.url('/echo?x=1&a=b+c&list=1&list=2'));
    assert.deepEqual(r.history, []);
    // the body is cached: text() after json() works
    assert.match(await r.text(), /"method":"GET"/);
  });

  test('json sets the content type and serialises', async () => {
    const r = await post(server.url('/echo'), { verify: caPath, json: { a: 1, b: [true] } });
    const echo = await r.json<Echo>();
    assert.equal(echo.method, 'POST');
    assert.equal(echo.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(echo.body), { a: 1, b: [true] });
  });

  test('data: an object is form-encoded, a string is sent as is', async () => {
    const form = await (
      await post(server.url('/echo'), { verify: caPath, data: { q: 'a&b', n: 2 } })
    ).json<Echo>();
    assert.equal(form.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(form.body, 'q=a%26b&n=2');
    const raw = await (
      await request('PUT', server.url('/echo'), { verify: caPath, data: 'plain text' })
    ).json<Echo>();
    assert.equal(raw.method, 'PUT');
    assert.equal(raw.body, 'plain text');
  });

  test('json and data together is a ConfigError', async () => {
    await assert.rejects(post(server.url('/echo'), { verify: caPath, json: {}, data: 'x' }), ConfigError);
  });

  test('arrayBuffer and stream readers', async () => {
    const ab = await (await get(server.url('/echo'), { verify: caPath })).arrayBuffer();
    assert.ok(ab.byteLength > 10);
    const r = await get(server.url('/echo'), { verify: caPath });
    let n = 0;
    for await (const chunk of r.stream()) n += (chunk as Buffer).length;
    assert.ok(n > 10);
    await assert.rejects(r.text(), /already/);
  });

  test('raiseForStatus throws HTTPError for 4xx/5xx, returns the response otherwise', async () => {
    const r404 = await get(server.url('/status?code=404'), { verify: caPath });
    assert.equal(r404.ok, false);
    assert.throws(
      () => r404.raiseForStatus(),
      (e: unknown) => e instanceof HTTPError && e.status === 404,
    );
    const r503 = await get(server.url('/status?code=503'), { verify: caPath });
    assert.throws(() => r503.raiseForStatus(), /503 Server Error/);
    const r200 = await get(server.url('/echo'), { verify: caPath });
    assert.equal(r200.raiseForStatus(), r200);
  });
});

describe('redirects', () => {
  test('are followed, with history', async () => {
    const r = await get(server.url('/redirect/3'), { verify: caPath });
    assert.equal(r.status, 200);
    assert.equal(r.history.length, 3);
    assert.deepEqual(
      r.history.map((h) => h.status),
      [302, 302, 302],
    );
    assert.equal(r.url, server.url('/echo'));
  });

  test('allowRedirects: false returns the redirect itself', async () => {
    const r = await get(server.url('/redirect/1'), { verify: caPath, allowRedirects: false });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), '/echo');
  });

  test('maxRedirects is enforced with TooManyRedirects', async () => {
    await assert.rejects(
      get(server.url('/redirect/5'), { verify: caPath, maxRedirects: 2 }),
      TooManyRedirects,
    );
  });

  test('303 turns a POST into a GET without a body', async () => {
    const r = await post(server.url('/post-303'), { verify: caPath, json: { a: 1 } });
    const echo = await r.json<Echo>();
    assert.equal(echo.method, 'GET');
    assert.equal(echo.body, '');
    assert.equal(echo.headers['content-type'], undefined);
  });

  test('Authorization is dropped across origins, kept within one', async () => {
    const same = await get(server.url('/redirect/1'), {
      verify: caPath,
      headers: { Authorization: 'Bearer s3cret' },
    });
    assert.equal((await same.json<Echo>()).headers.authorization, 'Bearer s3cret');
    seenAuth.length = 0;
    const r = await get(server.url('/to-other'), {
      verify: caPath,
      headers: { Authorization: 'Bearer s3cret' },
    });
    assert.equal(await r.text(), 'other');
    assert.deepEqual(seenAuth, [undefined]);
  });
});

describe('timeouts and connection errors', () => {
  test('read timeout: a server that does not answer in time', async () => {
    await assert.rejects(
      get(server.url('/slow'), { verify: caPath, timeout: { read: 300 } }),
      (e: unknown) => {
        assert.ok(e instanceof ReadTimeout, String(e));
        assert.match(e.message, /300 ms/);
        return true;
      },
    );
  });

  test('a body that stalls past the read timeout is a ReadTimeout, read whole or streamed', async () => {
    const whole = await get(server.url('/stall-body'), { verify: caPath, timeout: { read: 300 } });
    await assert.rejects(whole.text(), ReadTimeout);
    const streamed = await get(server.url('/stall-body'), { verify: caPath, timeout: { read: 300 } });
    await assert.rejects(async () => {
      for await (const _ of streamed.stream()) {
        // read until the stall
      }
    }, ReadTimeout);
  });

  test('connect timeout: a server that accepts TCP but never finishes the TLS handshake', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        get(`https://127.0.0.1:${port}/`, { verify: caPath, timeout: { connect: 300 } }),
        (e: unknown) => {
          assert.ok(e instanceof ConnectTimeout, String(e));
          return true;
        },
      );
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  test('connection refused is a ConnectionError that says so', async () => {
    const port = await closedPort();
    await assert.rejects(get(`https://127.0.0.1:${port}/`, { verify: caPath }), (e: unknown) => {
      assert.ok(e instanceof ConnectionError, String(e));
      assert.match(e.message, /refused/);
      assert.equal(e.code, 'ERR_CONNECTION_CONNREFUSED');
      return true;
    });
  });

  test('a plain-HTTP server spoken to with TLS is a handshake SSLError', async () => {
    const plain = net.createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const port = (plain.address() as net.AddressInfo).port;
    try {
      await assert.rejects(get(`https://127.0.0.1:${port}/`, { verify: caPath }), (e: unknown) => {
        assert.ok(e instanceof SSLError || e instanceof ConnectionError, String(e));
        return true;
      });
    } finally {
      plain.close();
    }
  });

  test('invalid timeout values are ConfigErrors', async () => {
    await assert.rejects(get(server.url('/'), { verify: caPath, timeout: -1 }), ConfigError);
    await assert.rejects(
      get(server.url('/'), { verify: caPath, timeout: { read: Number.NaN } }),
      ConfigError,
    );
  });
});

describe('bad input', () => {
  test('malformed URLs and unsupported schemes are InvalidURL', async () => {
    await assert.rejects(get('not a url'), InvalidURL);
    await assert.rejects(get('ftp://example.com/'), InvalidURL);
    // user:pw@ in the URL is Basic auth now (test/client/auth.test.ts), not an InvalidURL.
  });

  test('an unreadable CA path is a ConfigError naming the path', async () => {
    const missing = `${dir.path}/nope.pem`;
    await assert.rejects(get(server.url('/'), { verify: missing }), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.ok(e.message.includes(missing), e.message);
      return true;
    });
  });

  test('a PEM file with no certificate is a ConfigError naming the path', async () => {
    const p = dir.write('empty.pem', 'just some text, no certificate\n');
    await assert.rejects(get(server.url('/'), { verify: p }), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.ok(e.message.includes(p), e.message);
      return true;
    });
  });

  test('a bad connectTo and a bad serverName are refused before connecting', async () => {
    await assert.rejects(get(server.url('/'), { verify: caPath, connectTo: '127.0.0.1:99999' }), ConfigError);
    await assert.rejects(
      get(server.url('/'), { verify: caPath, serverName: 'bad name with spaces' }),
      InvalidURL,
    );
  });

  test('a closed Session refuses requests', async () => {
    const s = new Session();
    await s.close();
    await assert.rejects(s.get(server.url('/')), /closed/);
  });
});
