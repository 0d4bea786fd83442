/**
 * HTTP/2 (the http2 option, client/http2.ts) against node:http2's createSecureServer on loopback,
 * which also speaks HTTP/1.1 (allowHTTP1): the server, not the client, reports which protocol
 * each request came over and how many TLS connections it accepted, so the tests can fail.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { agent, ConfigError, dispatcher, Session, SessionClosed } from '../../src/index.js';
import {
  createRoot,
  type Issued,
  issue,
  pemOf,
  startTlsServer,
  type TestServer,
  tempDir,
} from '../support/index.js';
import { startProxy } from '../support/proxy.js';
import { startSocks5Server } from '../support/socks5.js';

interface H2Server {
  url(path?: string): string;
  /** TLS connections accepted, and the ALPN protocol of each (null: none, HTTP/1.1). */
  connections: (string | null)[];
  /** The HTTP version of every request, as the server parsed it ('2.0' or '1.1'). */
  versions: string[];
  close(): Promise<void>;
}

async function startH2Server(cert: Issued, chain: Issued[] = []): Promise<H2Server> {
  const connections: (string | null)[] = [];
  const versions: string[] = [];
  const sockets = new Set<Socket>();
  const server = http2.createSecureServer(
    { key: cert.keyPem, cert: pemOf(cert, ...chain), allowHTTP1: true },
    (req, res) => {
      versions.push(req.httpVersion);
      // A little wait so that concurrent requests overlap on the server.
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ httpVersion: req.httpVersion, path: req.url }));
      }, 20);
    },
  );
  server.on('secureConnection', (s) => {
    connections.push(typeof s.alpnProtocol === 'string' ? s.alpnProtocol : null);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});
  const port = await new Promise<number>((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
  return {
    url: (path = '/') => `https://127.0.0.1:${port}${path}`,
    connections,
    versions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let root: Issued;
let h2: H2Server;
let h1Only: TestServer;

before(async () => {
  root = createRoot({ cn: 'http2 tests root' });
  h2 = await startH2Server(issue(root));
  h1Only = await startTlsServer({ cert: issue(root) });
});

after(async () => {
  await h2.close();
  await h1Only.close();
});

/** What the server saw since `from` (connections and request versions). */
function since(server: H2Server, from: { c: number; v: number }) {
  return { connections: server.connections.slice(from.c), versions: server.versions.slice(from.v) };
}
const mark = (server: H2Server) => ({ c: server.connections.length, v: server.versions.length });

describe('http2: true', () => {
  test('a request goes over HTTP/2 after verification: r.httpVersion 2, ALPN h2, the server saw HTTP/2', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false, http2: true });
    try {
      const m = mark(h2);
      const r = await s.get(h2.url('/one'));
      assert.equal(r.status, 200);
      assert.equal(r.httpVersion, '2');
      assert.equal(r.tls?.alpn, 'h2');
      assert.equal(r.tls?.verified, true);
      assert.deepEqual(await r.json(), { httpVersion: '2.0', path: '/one' });
      assert.deepEqual(since(h2, m), { connections: ['h2'], versions: ['2.0'] });
    } finally {
      await s.close();
    }
  });

  test('without http2 (the default) the same server is spoken to in HTTP/1.1', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      const m = mark(h2);
      const r = await s.get(h2.url('/plain'));
      assert.equal(r.httpVersion, '1.1');
      assert.equal(r.tls?.alpn, 'http/1.1');
      assert.deepEqual(await r.json(), { httpVersion: '1.1', path: '/plain' });
      assert.deepEqual(since(h2, m), { connections: ['http/1.1'], versions: ['1.1'] });
    } finally {
      await s.close();
    }
  });

  test('32 concurrent requests share one verified connection (counted on the server)', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false, http2: true });
    try {
      const m = mark(h2);
      const rs = await Promise.all(Array.from({ length: 32 }, (_, i) => s.get(h2.url(`/c${i}`))));
      const bodies = await Promise.all(rs.map((r) => r.json() as Promise<{ path: string }>));
      assert.deepEqual(
        bodies.map((b) => b.path),
        Array.from({ length: 32 }, (_, i) => `/c${i}`),
      );
      assert.ok(rs.every((r) => r.httpVersion === '2'));
      const seen = since(h2, m);
      assert.deepEqual(seen.connections, ['h2'], `connections: ${JSON.stringify(seen.connections)}`);
      assert.equal(seen.versions.length, 32);
      // And a later burst reuses it.
      await Promise.all(Array.from({ length: 8 }, () => s.get(h2.url('/again')).then((r) => r.text())));
      assert.deepEqual(since(h2, m).connections, ['h2']);
    } finally {
      await s.close();
    }
  });

  test('a server without h2 gets HTTP/1.1; concurrent requests still all succeed', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false, http2: true });
    try {
      const r = await s.get(h1Only.url('/solo'));
      assert.equal(r.httpVersion, '1.1');
      assert.notEqual(r.tls?.alpn, 'h2');
      await r.text();
      const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => s.get(h1Only.url(`/h1-${i}`))));
      assert.ok(rs.every((x) => x.status === 200 && x.httpVersion === '1.1'));
      await Promise.all(rs.map((x) => x.text()));
    } finally {
      await s.close();
    }
  });

  test('h1 and h2 pools never mix: per-request http2 over the Session, each on its own connection', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      const m = mark(h2);
      const a = await s.get(h2.url('/a'), { http2: true });
      await a.text();
      const b = await s.get(h2.url('/b'));
      await b.text();
      const c = await s.get(h2.url('/c'), { http2: true });
      await c.text();
      assert.deepEqual([a.httpVersion, b.httpVersion, c.httpVersion], ['2', '1.1', '2']);
      // Two connections, one per pool; the third request reused the first.
      assert.deepEqual(since(h2, m), { connections: ['h2', 'http/1.1'], versions: ['2.0', '1.1', '2.0'] });
    } finally {
      await s.close();
    }
    const off = new Session({ verify: root.pem, trustEnv: false, http2: true });
    try {
      const r = await off.get(h2.url('/off'), { http2: false });
      assert.equal(r.httpVersion, '1.1');
      await r.text();
    } finally {
      await off.close();
    }
  });

  test('a request body and a POST go over HTTP/2', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false, http2: true });
    try {
      const r = await s.post(h2.url('/post'), { json: { a: 1 } });
      assert.equal(r.httpVersion, '2');
      assert.equal(r.status, 200);
      await r.text();
    } finally {
      await s.close();
    }
  });

  test('an aborted h2 request rejects with the reason; close() ends an unread h2 body with SessionClosed', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false, http2: true });
    const warm = await s.get(h2.url('/warm'));
    await warm.text();
    const controller = new AbortController();
    const reason = new Error('stop');
    const pending = s.get(h2.url('/aborted'), { signal: controller.signal });
    controller.abort(reason);
    await assert.rejects(pending, (e: unknown) => e === reason);
    const unread = await s.get(h2.url('/unread'));
    assert.equal(unread.httpVersion, '2');
    await s.close();
    await assert.rejects(unread.text(), SessionClosed);
    await assert.rejects(s.get(h2.url('/after')), SessionClosed);
  });

  test('with a client certificate (held until verification, tls/gate.ts) the connection is still h2', async () => {
    const clientRoot = createRoot({ cn: 'http2 client root' });
    const alice = issue(clientRoot, { cn: 'alice', sans: ['DNS:alice.client'], eku: ['clientAuth'] });
    const cert = issue(root);
    for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
      const seen: unknown[] = [];
      const mtls = http2.createSecureServer(
        {
          key: cert.keyPem,
          cert: pemOf(cert),
          requestCert: true,
          rejectUnauthorized: true,
          ca: clientRoot.pem,
          maxVersion,
        },
        (req, res) => {
          seen.push((req.socket as TLSSocket).getPeerCertificate()?.subject?.CN);
          res.end(req.httpVersion);
        },
      );
      mtls.on('tlsClientError', () => {});
      await new Promise<void>((r) => mtls.listen(0, '127.0.0.1', r));
      const port = (mtls.address() as { port: number }).port;
      const s = new Session({
        verify: root.pem,
        trustEnv: false,
        http2: true,
        cert: { cert: alice.pem, key: alice.keyPem },
      });
      try {
        const r = await s.get(`https://127.0.0.1:${port}/mtls`);
        assert.equal(r.httpVersion, '2', maxVersion);
        assert.equal(await r.text(), '2.0');
        assert.deepEqual(seen, ['alice'], maxVersion);
      } finally {
        await s.close();
        await new Promise<void>((r) => mtls.close(() => r()));
      }
    }
  });

  test('http2 that is not a boolean is a ConfigError, before anything is sent', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      const m = mark(h2);
      await assert.rejects(s.get(h2.url('/bad'), { http2: 'yes' as unknown as boolean }), (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match(err.message, /http2/);
        return true;
      });
      assert.deepEqual(since(h2, m), { connections: [], versions: [] });
    } finally {
      await s.close();
    }
  });
});

describe('http2 through proxies: the tunnel carries the one verified h2 connection', () => {
  test('an HTTP proxy (CONNECT) and a SOCKS5 proxy: HTTP/2 end to end, one tunnel for a burst', async () => {
    const http = await startProxy();
    const socks = await startSocks5Server();
    try {
      for (const [name, proxy, tunnels] of [
        ['CONNECT', http.url, () => http.connects.length],
        ['SOCKS5', socks.url(), () => socks.requests.length],
      ] as const) {
        const s = new Session({ verify: root.pem, trustEnv: false, http2: true, proxy });
        try {
          const m = mark(h2);
          const t = tunnels();
          const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => s.get(h2.url(`/${name}-${i}`))));
          await Promise.all(rs.map((r) => r.text()));
          assert.ok(
            rs.every((r) => r.httpVersion === '2'),
            name,
          );
          assert.deepEqual(since(h2, m).connections, ['h2'], name);
          assert.equal(tunnels() - t, 1, `${name}: one tunnel`);
        } finally {
          await s.close();
        }
      }
    } finally {
      await http.close();
      await socks.close();
    }
  });
});

describe('adapters', () => {
  test("dispatcher({ http2: true }) with Node's fetch: HTTP/2, concurrent requests on one connection", async () => {
    const d = dispatcher({ verify: root.pem, trustEnv: false, http2: true });
    try {
      const m = mark(h2);
      const bodies = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const r = await fetch(h2.url(`/f${i}`), { dispatcher: d } as unknown as RequestInit);
          return (await r.json()) as { httpVersion: string };
        }),
      );
      assert.ok(bodies.every((b) => b.httpVersion === '2.0'));
      assert.deepEqual(since(h2, m).connections, ['h2']);
    } finally {
      await d.close();
    }
  });

  test("dispatcher(opts, { allowH2: true }) means the same (undici's own spelling)", async () => {
    const d = dispatcher({ verify: root.pem, trustEnv: false }, { allowH2: true });
    try {
      const r = await fetch(h2.url('/allow'), { dispatcher: d } as unknown as RequestInit);
      assert.deepEqual(await r.json(), { httpVersion: '2.0', path: '/allow' });
    } finally {
      await d.close();
    }
    assert.throws(
      () => dispatcher({ verify: root.pem, trustEnv: false, http2: false }, { allowH2: true }),
      ConfigError,
    );
  });

  test('dispatcher() without http2 stays on HTTP/1.1; agent({ http2: true }) is refused with a reason', async () => {
    const d = dispatcher({ verify: root.pem, trustEnv: false });
    try {
      const r = await fetch(h2.url('/h1'), { dispatcher: d } as unknown as RequestInit);
      assert.deepEqual(await r.json(), { httpVersion: '1.1', path: '/h1' });
    } finally {
      await d.close();
    }
    assert.throws(
      // @ts-expect-error http2: true is refused at compile time too
      () => agent({ verify: root.pem, http2: true }),
      (err: unknown) => err instanceof ConfigError && /HTTP\/1\.1 only/.test(err.message),
    );
  });
});

describe('certainly get --http2', () => {
  const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        { env: { PATH: process.env.PATH, NO_COLOR: '1' }, timeout: 60_000 },
        (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr });
        },
      );
    });

  test('-i prints HTTP/2 and --json has httpVersion; without --http2, HTTP/1.1', async () => {
    const dir = tempDir('http2-cli-');
    try {
      const ca = dir.write('ca.pem', root.pem);
      const on = await run(['get', h2.url('/cli'), '--verify', ca, '--http2', '-i', '-s']);
      assert.equal(on.code, 0, on.stderr);
      assert.match(on.stdout, /^HTTP\/2 200 OK\n/);
      assert.match(on.stdout, /"httpVersion":"2\.0"/);
      const json = await run(['get', h2.url('/cli-json'), '--verify', ca, '--http2', '--json']);
      assert.equal(json.code, 0, json.stderr);
      assert.equal((JSON.parse(json.stdout) as { httpVersion: string }).httpVersion, '2');
      const off = await run(['get', h2.url('/cli-off'), '--verify', ca, '-i', '-s']);
      assert.match(off.stdout, /^HTTP\/1\.1 200 OK\n/);
    } finally {
      dir.cleanup();
    }
  });
});
