/**
 * Security review of the proxy leg: credentials meant for a proxy never reach an origin server.
 * A Proxy-Authorization header among the request headers is read by a forwarding proxy (http://
 * URLs in absolute form); through a CONNECT tunnel it would travel, inside TLS, to the target
 * itself (the leak class of requests' CVE-2023-32681). undici's ProxyAgent refuses such a header;
 * so does the Session, and the dispatcher() adapter; on a direct connection it is dropped.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { request as undiciRequest } from 'undici';
import { bypassesProxy, resolveProxy } from '../../src/client/proxy.js';
import { ConfigError, dispatcher, Session, SSLError } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startProxy, type TestProxy } from '../support/proxy.js';
import { type PlainServer, startHttpServer, startTlsServer, type TestServer } from '../support/servers.js';

const base = { trustEnv: false, timeout: { connect: 5000, read: 5000 } } as const;
const secret = `Basic ${Buffer.from('proxyuser:proxypass').toString('base64')}`;
let root: Issued;
let target: TestServer;
let plain: PlainServer;
let proxy: TestProxy;
const seen: IncomingMessage['headers'][] = [];

function handler(req: IncomingMessage, res: ServerResponse): void {
  seen.push(req.headers);
  res.end('ok');
}

before(async () => {
  root = createRoot({ cn: 'review proxy root' });
  target = await startTlsServer({ cert: issue(root), handler });
  plain = await startHttpServer(handler);
  proxy = await startProxy();
});

after(async () => {
  await target.close();
  await plain.close();
  await proxy.close();
});

describe('a Proxy-Authorization request header', () => {
  test('through a tunnel: a ConfigError before anything is sent, never a header the target reads', async () => {
    const s = new Session({ ...base, verify: root.pem, proxy: proxy.url });
    try {
      const before = { seen: seen.length, bytes: target.bytesReceived, connects: proxy.connects.length };
      await assert.rejects(
        s.get(target.url('/'), { headers: { 'Proxy-Authorization': secret } }),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, String(e));
          assert.equal(e.code, 'ERR_PROXY_AUTH_HEADER');
          assert.match(e.message, /tunnel/);
          assert.match(e.hint ?? '', /proxy: \{ url, auth \}/);
          return true;
        },
      );
      assert.equal(seen.length, before.seen);
      assert.equal(target.bytesReceived, before.bytes);
      assert.equal(proxy.connects.length, before.connects, 'not even the CONNECT went out');
    } finally {
      await s.close();
    }
  });

  test('as a Session default, on a direct https request: dropped, not sent to the origin', async () => {
    const s = new Session({ ...base, verify: root.pem, headers: { 'Proxy-Authorization': secret } });
    try {
      const r = await s.get(target.url('/'));
      await r.text();
      assert.equal(seen.at(-1)?.['proxy-authorization'], undefined);
      assert.equal(
        r.request.headers.get('proxy-authorization'),
        null,
        'Response.request shows what was sent',
      );
    } finally {
      await s.close();
    }
  });

  test('bypassing the proxy (noProxy): dropped, not sent to the origin', async () => {
    const s = new Session({ ...base, verify: root.pem, proxy: proxy.url, noProxy: '127.0.0.1' });
    try {
      await (await s.get(target.url('/'), { headers: { 'Proxy-Authorization': secret } })).text();
      assert.equal(seen.at(-1)?.['proxy-authorization'], undefined);
    } finally {
      await s.close();
    }
  });

  test('an http:// URL through a forwarding proxy: sent, to the proxy (which reads it)', async () => {
    const s = new Session({ ...base, proxy: proxy.url });
    try {
      const before = proxy.forwarded.length;
      await (await s.get(plain.url('/'), { headers: { 'Proxy-Authorization': secret } })).text();
      assert.equal(proxy.forwarded.length, before + 1);
      assert.equal(proxy.forwarded.at(-1)?.authorization, secret);
    } finally {
      await s.close();
    }
  });

  test('dispatcher() with a proxy refuses it for an https origin, as undici ProxyAgent does', async () => {
    const d = dispatcher({ verify: root.pem, trustEnv: false, proxy: proxy.url });
    try {
      const before = { seen: seen.length, connects: proxy.connects.length };
      await assert.rejects(
        undiciRequest(target.url('/'), { dispatcher: d, headers: { 'proxy-authorization': secret } }),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, String(e));
          assert.equal(e.code, 'ERR_PROXY_AUTH_HEADER');
          return true;
        },
      );
      assert.equal(seen.length, before.seen);
      assert.equal(proxy.connects.length, before.connects);
      // Without the header the same dispatcher works (the tunnel and the target are fine).
      const ok = await undiciRequest(target.url('/'), { dispatcher: d });
      assert.equal(ok.statusCode, 200);
      await ok.body.text();
    } finally {
      await d.close();
    }
  });
});

describe('a malformed proxy setting', () => {
  // Error messages end up in logs, CI output and error trackers: the password must not.
  for (const value of [
    'http://user:s3cret@proxy:99999',
    'ftp://user:s3cret@proxy:21',
    'user:s3cret@proxy:bad',
    'http://user:s3cret@',
    'http://user:s3cret@[::1',
    'http://user:p@s3cret@proxy:bad',
  ]) {
    test(`${value.replace('s3cret', '…')}: a ConfigError that does not show the password`, () => {
      assert.throws(
        () => resolveProxy(value, 'HTTPS_PROXY', { trustEnv: false }),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, String(e));
          assert.equal(e.code, 'ERR_PROXY_OPTION');
          assert.doesNotMatch(`${e.message} ${e.hint}`, /s3cret/);
          assert.doesNotMatch(inspect(e, { depth: 5 }), /s3cret/, 'nor its cause');
          assert.match(e.message, /HTTPS_PROXY/);
          return true;
        },
      );
    });
  }
});

describe('a misspelt key in the object form of proxy', () => {
  // { url, auht } used to send no credentials at all (and { url, verfy } to trust the defaults).
  test('is a ConfigError naming the key, before anything is sent, for a Session, a request and an adapter', async () => {
    const p = await startProxy({ auth: 'proxyuser:proxypass' });
    try {
      const bad = { url: p.url, auht: 'proxyuser:proxypass' } as never;
      const check = (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.equal(e.code, 'ERR_PROXY_OPTION');
        assert.match(e.message, /has no 'auht'; did you mean 'auth'\?/);
        assert.doesNotMatch(e.message, /proxypass/);
        return true;
      };
      await assert.rejects(
        new Session({ ...base, verify: root.pem }).get(target.url('/'), { proxy: bad }),
        check,
      );
      // A Session's own setting is refused when the Session is made, as its other options are.
      assert.throws(() => new Session({ ...base, verify: root.pem, proxy: bad }), check);
      assert.throws(() => dispatcher({ trustEnv: false, verify: root.pem, proxy: bad }), check);
      assert.equal(p.connects.length, 0, 'nothing reached the proxy');
      // Spelt right, the same request goes through with the credentials.
      const s = new Session({
        ...base,
        verify: root.pem,
        proxy: { url: p.url, auth: 'proxyuser:proxypass' },
      });
      try {
        assert.equal((await s.get(target.url('/'))).status, 200);
        assert.equal(p.connects.at(-1)?.status, 200);
      } finally {
        await s.close();
      }
    } finally {
      await p.close();
    }
  });
});

describe("a Session's proxy settings are checked when it is made", () => {
  // They were checked at the first request only: new Session({ proxy: 'ftp://…' }) was accepted.
  for (const [label, options, pattern] of [
    ['a scheme we do not speak', { proxy: 'ftp://proxy.example:21' }, /scheme 'ftp:'/],
    ['not a URL', { proxy: 'not a url' }, /not a valid URL/],
    ['a port out of range', { proxy: 'http://proxy.example:99999' }, /not a valid URL/],
    [
      'headers for a SOCKS5 proxy',
      { proxy: { url: 'socks5://proxy.example', headers: { a: 'b' } } },
      /SOCKS5 proxy takes none/,
    ],
    ['proxyAuth without a colon', { proxyAuth: 'user-only' }, /proxyAuth must be 'user:password'/],
  ] as [string, object, RegExp][]) {
    test(label, () => {
      assert.throws(
        () => new Session({ trustEnv: false, ...options }),
        (e: unknown) => e instanceof ConfigError && e.code === 'ERR_PROXY_OPTION' && pattern.test(e.message),
      );
    });
  }

  test("an https:// proxy's trust files are read at its first request, not when the Session is made", async () => {
    // A CA path that does not exist: making the Session reads nothing, so it succeeds.
    const s = new Session({
      trustEnv: false,
      proxy: { url: 'https://proxy.example:8443', verify: '/nonexistent/ca.pem' },
    });
    await s.close();
  });
});

describe('NO_PROXY forms', () => {
  // [entry, URL as given, goes direct?]: the host is taken from the URL as the Session does.
  const rows: [string, string, boolean][] = [
    ['bücher.example', 'https://bücher.example/', true],
    ['BÜCHER.example.', 'https://xn--bcher-kva.example/', true],
    ['.bücher.example', 'https://www.bücher.example/', true],
    ['xn--bcher-kva.example', 'https://bücher.example/', true],
    ['example.com', 'https://EXAMPLE.COM./', true],
    ['example.com', 'https://notexample.com/', false],
    ['[0:0::1]:443', 'https://[::1]/', true],
    ['[::1]:8443', 'https://[::1]/', false],
    ['127.0.0.0/8', 'http://0x7f.1/', true],
    ['127.0.0.1', 'http://[::ffff:127.0.0.1]/', false],
  ];
  for (const [entry, url, direct] of rows) {
    test(`${entry} vs ${url}: ${direct ? 'direct' : 'proxied'}`, () => {
      const u = new URL(url);
      const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
      assert.equal(bypassesProxy(entry, u.hostname, port), direct);
    });
  }
});

describe('what a proxy says cannot stand in for the target', () => {
  test('bytes after the 200 to CONNECT (a smuggled response) go to the TLS handshake, which refuses them', async () => {
    // A "proxy" that answers CONNECT and then plays the target in plain HTTP.
    const fake = net.createServer((c) => {
      c.on('error', () => {});
      c.once('data', () => {
        c.write(
          'HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nforged',
        );
      });
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const port = (fake.address() as net.AddressInfo).port;
    const s = new Session({ ...base, verify: root.pem, proxy: `http://127.0.0.1:${port}` });
    try {
      await assert.rejects(s.get(target.url('/')), (e: unknown) => {
        assert.ok(e instanceof SSLError, String(e));
        assert.equal(e.code, 'HANDSHAKE_FAILED');
        return true;
      });
    } finally {
      await s.close();
      await new Promise<void>((r) => fake.close(() => r()));
    }
  });

  test('an unverified https proxy (proxyVerify: false) leaves the target verified: an untrusted target fails', async () => {
    const tlsProxy = await startProxy({ tls: { cert: issue(createRoot({ cn: 'proxy operator' })) } });
    const untrusted = createRoot({ cn: 'not trusted' });
    const s = new Session({ ...base, verify: untrusted.pem, proxy: tlsProxy.url, proxyVerify: false });
    const warn = () => {};
    process.on('warning', warn);
    try {
      const before = target.bytesReceived;
      await assert.rejects(s.get(target.url('/')), (e: unknown) => {
        assert.ok(e instanceof SSLError, String(e));
        assert.ok(['UNKNOWN_ISSUER', 'INCOMPLETE_CHAIN'].includes(e.code), e.code);
        assert.doesNotMatch(e.message, /HTTPS proxy/, 'the failure is about the target, not the proxy');
        return true;
      });
      assert.equal(target.bytesReceived, before);
    } finally {
      process.off('warning', warn);
      await s.close();
      await tlsProxy.close();
    }
  });
});
