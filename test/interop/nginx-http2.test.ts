/**
 * HTTP/2 against a real server: Debian's nginx with HTTP/2 on (`listen … ssl http2` on 1.22,
 * `http2 on;` from 1.25.1), serving the test PKI on loopback. nginx's access log records each
 * request's protocol and connection serial number, so "HTTP/2" and "one connection" are what
 * the server saw. Skips with a message when nginx is not installed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dispatcher, Session, SSLError } from '../../src/index.js';
import { createRoot, type Issued, intermediate, issue } from '../support/pki.js';
import { findBinary, type Nginx, startNginx, startTinyproxy } from './daemons.js';

const skip =
  findBinary('nginx') === undefined
    ? 'nginx not found: install it with `apt-get install -y nginx-light` (Debian/Ubuntu; .ci/run does this) to run the HTTP/2 interop test'
    : undefined;
let root: Issued;
let nginx: Nginx;
const base = { trustEnv: false, timeout: { connect: 10_000, read: 10_000 } } as const;
const url = (site: string, path = '/') => `https://127.0.0.1:${nginx.sites[site]}${path}`;

/** The access-log lines of requests whose URI holds `tag`: [connection serial, protocol]. */
function logged(tag: string): { conn: string; protocol: string }[] {
  return nginx
    .log()
    .split('\n')
    .filter((l) => l.includes(tag))
    .map((l) => {
      const m = /conn=(\d+) (\S+) "/.exec(l);
      assert.ok(m, `unexpected log line: ${l}`);
      return { conn: m[1]!, protocol: m[2]! };
    });
}

describe('interop: nginx with HTTP/2', { skip: skip ?? false }, () => {
  before(async () => {
    if (skip) return;
    root = createRoot({ cn: 'certainly h2 interop root' });
    const inter = intermediate(root, { cn: 'certainly h2 interop intermediate' });
    const sans = ['DNS:localhost', 'IP:127.0.0.1'];
    nginx = await startNginx({
      h2: { cert: issue(inter, { sans }), chain: [inter], http2: true },
      h1: { cert: issue(inter, { sans }), chain: [inter] },
      h2Impostor: { cert: issue(inter, { sans: ['DNS:other.example'] }), chain: [inter], http2: true },
    });
  });

  after(async () => {
    await nginx?.stop();
  });

  test('http2: true gets HTTP/2 from nginx after verification; nginx logged HTTP/2.0', async () => {
    const s = new Session({ ...base, verify: root.pem, http2: true });
    try {
      const r = await s.get(url('h2', '/h2-one'));
      assert.equal(r.status, 200);
      assert.equal(r.httpVersion, '2');
      assert.equal(r.tls?.alpn, 'h2');
      assert.equal(await r.text(), 'nginx h2 /h2-one\n');
      assert.deepEqual(
        logged('/h2-one').map((l) => l.protocol),
        ['HTTP/2.0'],
      );
    } finally {
      await s.close();
    }
  });

  test('24 concurrent requests: one TLS connection, every request HTTP/2 (nginx connection serials)', async () => {
    const s = new Session({ ...base, verify: root.pem, http2: true });
    try {
      const rs = await Promise.all(Array.from({ length: 24 }, (_, i) => s.get(url('h2', `/h2-burst-${i}`))));
      const bodies = await Promise.all(rs.map((r) => r.text()));
      assert.deepEqual(
        bodies,
        Array.from({ length: 24 }, (_, i) => `nginx h2 /h2-burst-${i}\n`),
      );
      const lines = logged('/h2-burst-');
      assert.equal(lines.length, 24);
      assert.ok(lines.every((l) => l.protocol === 'HTTP/2.0'));
      assert.equal(
        new Set(lines.map((l) => l.conn)).size,
        1,
        `connections: ${lines.map((l) => l.conn).join(' ')}`,
      );
    } finally {
      await s.close();
    }
  });

  test('without http2, and against an HTTP/1.1-only site, requests are HTTP/1.1', async () => {
    const off = new Session({ ...base, verify: root.pem });
    const on = new Session({ ...base, verify: root.pem, http2: true });
    try {
      const a = await off.get(url('h2', '/h2-off'));
      assert.equal(a.httpVersion, '1.1');
      await a.text();
      const b = await on.get(url('h1', '/h1-site'));
      assert.equal(b.httpVersion, '1.1');
      await b.text();
      assert.deepEqual(
        logged('/h2-off').map((l) => l.protocol),
        ['HTTP/1.1'],
      );
      assert.deepEqual(
        logged('/h1-site').map((l) => l.protocol),
        ['HTTP/1.1'],
      );
    } finally {
      await off.close();
      await on.close();
    }
  });

  test("dispatcher({ http2: true }) with Node's fetch gets HTTP/2 from nginx", async () => {
    const d = dispatcher({ verify: root.pem, trustEnv: false, http2: true });
    try {
      const r = await fetch(url('h2', '/h2-fetch'), { dispatcher: d } as unknown as RequestInit);
      assert.equal(await r.text(), 'nginx h2 /h2-fetch\n');
      assert.deepEqual(
        logged('/h2-fetch').map((l) => l.protocol),
        ['HTTP/2.0'],
      );
    } finally {
      await d.close();
    }
  });

  test('through tinyproxy (CONNECT): HTTP/2 with nginx inside the tunnel', async (t) => {
    if (findBinary('tinyproxy') === undefined)
      return t.skip('tinyproxy not found: apt-get install -y tinyproxy');
    const proxy = await startTinyproxy();
    const s = new Session({ ...base, verify: root.pem, http2: true, proxy: proxy.url });
    try {
      const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => s.get(url('h2', `/h2-tunnel-${i}`))));
      await Promise.all(rs.map((r) => r.text()));
      assert.ok(rs.every((r) => r.httpVersion === '2'));
      const lines = logged('/h2-tunnel-');
      assert.ok(lines.length === 6 && lines.every((l) => l.protocol === 'HTTP/2.0'));
      assert.equal(new Set(lines.map((l) => l.conn)).size, 1);
      assert.equal((proxy.log().match(/: CONNECT 127/g) ?? []).length, 1, proxy.log());
    } finally {
      await s.close();
      await proxy.stop();
    }
  });

  test('a wrong name over h2: SSLError HOSTNAME_MISMATCH, nothing logged by nginx', async () => {
    const s = new Session({ ...base, verify: root.pem, http2: true });
    try {
      await assert.rejects(s.get(url('h2Impostor', '/h2-impostor')), (err: unknown) => {
        assert.ok(err instanceof SSLError, String(err));
        assert.equal(err.code, 'HOSTNAME_MISMATCH');
        return true;
      });
      assert.deepEqual(logged('/h2-impostor'), []);
    } finally {
      await s.close();
    }
  });
});
