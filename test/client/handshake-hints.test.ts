/**
 * Handshake failures that name their cause: a server that speaks only HTTP/2 (it refuses the
 * ALPN http/1.1 a request offers by default) and a server that speaks only TLS 1.0/1.1. Real
 * node:http2 and node:tls servers on loopback.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { closeDefaultSession, get, SSLError } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';

let root: Issued;
let h2only: http2.Http2SecureServer;
let oldTls: tls.Server;
const portOf = (s: { address(): unknown }) => (s.address() as AddressInfo).port;

before(async () => {
  root = createRoot({ cn: 'handshake hints root' });
  const leaf = issue(root);
  h2only = http2.createSecureServer({ cert: leaf.pem, key: leaf.keyPem, allowHTTP1: false }, (_q, r) =>
    r.end('h2 only'),
  );
  h2only.on('tlsClientError', () => {});
  h2only.on('sessionError', () => {});
  oldTls = tls.createServer(
    {
      cert: leaf.pem,
      key: leaf.keyPem,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    },
    (s) => s.end(),
  );
  oldTls.on('tlsClientError', () => {});
  await Promise.all([h2only, oldTls].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
});

after(async () => {
  await closeDefaultSession();
  await Promise.all([h2only, oldTls].map((s) => new Promise<void>((r) => s.close(() => r()))));
});

const base = () => ({ verify: root.pem, trustEnv: false });

test('a server that speaks only HTTP/2: the error says so and names http2: true, which then works', async () => {
  const url = `https://127.0.0.1:${portOf(h2only)}/`;
  await assert.rejects(get(url, base()), (e: unknown) => {
    assert.ok(e instanceof SSLError && e.code === 'HANDSHAKE_FAILED', String(e));
    assert.match(e.message, /alert "no application protocol"/);
    assert.match(
      e.hint ?? '',
      /refused HTTP\/1\.1 \(ALPN\): it most likely speaks only HTTP\/2\. Pass http2: true\./,
    );
    return true;
  });
  const r = await get(url, { ...base(), http2: true });
  assert.equal(r.httpVersion, '2');
  assert.equal(await r.text(), 'h2 only');
});

test('a server that speaks only TLS 1.0/1.1: the error says which versions and who must change', async () => {
  await assert.rejects(get(`https://127.0.0.1:${portOf(oldTls)}/`, base()), (e: unknown) => {
    assert.ok(e instanceof SSLError && e.code === 'HANDSHAKE_FAILED', String(e));
    assert.match(e.message, /alert "protocol version"/);
    assert.match(e.hint ?? '', /speaks only TLS 1\.0 or 1\.1.*Its operator must enable TLS 1\.2 or 1\.3/);
    return true;
  });
});
