/**
 * Security review of the TLS leg: no TLS session is ever resumed (a resumed session would carry
 * a peer certificate nobody verified on this connection, and skip the handshake our verifier
 * reads), and a pin is never skipped, not even when verification is off and the server shows no
 * certificate.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { request as undiciRequest } from 'undici';
import { agent, dispatcher, Session, SSLError } from '../../src/index.js';
import type { Handshake, TlsInfo } from '../../src/tls/handshake.js';
import { verifyHandshake } from '../../src/tls/handshake.js';
import { checkPins } from '../../src/verify/pin.js';
import { createRoot, type Issued, issue, pemOf } from '../support/pki.js';

let root: Issued;
let server: tls.Server;
let port: number;
const reused: boolean[] = [];

for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
  describe(`no TLS session resumption (${maxVersion})`, () => {
    before(async () => {
      reused.length = 0;
      root = createRoot({ cn: `review tls root ${maxVersion}` });
      const leaf = issue(root);
      // A server that issues tickets and resumes whenever a client offers a session.
      server = tls.createServer({ cert: pemOf(leaf), key: leaf.keyPem, maxVersion }, (s) => {
        reused.push(s.isSessionReused());
        s.on('error', () => {});
        s.on('data', () => s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok'));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as { port: number }).port;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    test('Session: every connection is a full handshake, within a pool and across pools', async () => {
      const url = `https://localhost:${port}/`;
      const s = new Session({ trustEnv: false });
      try {
        // connection: close forces a new connection per request.
        for (let i = 0; i < 3; i++) await (await s.get(url, { verify: root.pem })).text();
        // Another pool (verify: false), then back to the verified one.
        await (await s.get(url, { verify: false })).text();
        await (await s.get(url, { verify: root.pem })).text();
      } finally {
        await s.close();
      }
      assert.equal(reused.length, 5);
      assert.deepEqual(reused, [false, false, false, false, false]);
    });

    test('dispatcher() and agent(): no resumption either', async () => {
      const before = reused.length;
      const d = dispatcher({ verify: root.pem, trustEnv: false });
      const a = agent({ verify: root.pem, trustEnv: false });
      try {
        for (let i = 0; i < 2; i++) {
          const r = await undiciRequest(`https://localhost:${port}/`, { dispatcher: d });
          await r.body.text();
        }
        for (let i = 0; i < 2; i++) {
          await new Promise<void>((resolve, reject) => {
            https
              .get(`https://localhost:${port}/`, { agent: a }, (res) => {
                res.resume();
                res.on('end', resolve);
              })
              .on('error', reject);
          });
        }
      } finally {
        await d.close();
        a.destroy();
      }
      assert.deepEqual(reused.slice(before), [false, false, false, false]);
    });
  });
}

describe('pins are never skipped', () => {
  const info = (): TlsInfo => ({
    protocol: 'TLSv1.3',
    cipher: null,
    alpn: null,
    sni: 'example.test',
    verifiedName: 'example.test',
    address: 'example.test:443',
    chain: [],
    verified: false,
    openssl: { authorized: false, error: null },
  });
  const pin = `sha256//${Buffer.alloc(32, 1).toString('base64')}`;

  test('checkPins: no certificate at all matches no pin', () => {
    assert.throws(
      () => checkPins([pin.slice('sha256//'.length)], [], info()),
      (e: unknown) => e instanceof SSLError && e.code === 'PIN_MISMATCH',
    );
    assert.throws(
      () => checkPins({ spki: [], fingerprints: ['ab'.repeat(32)] }, [], info()),
      (e: unknown) => e instanceof SSLError && e.code === 'PIN_MISMATCH',
    );
  });

  test('verify: false with a pin, and a handshake without a certificate: refused', () => {
    // The handshake as the connector hands it over; the socket is not used by verifyHandshake.
    const h = { socket: undefined, chain: [], info: info(), name: { kind: 'dns', value: 'example.test' } };
    assert.throws(
      () =>
        verifyHandshake(h as unknown as Handshake, {
          trust: null,
          afterVerify: (chain, i) => checkPins([pin.slice('sha256//'.length)], chain, i),
        }),
      (e: unknown) => e instanceof SSLError && e.code === 'PIN_MISMATCH',
    );
  });
});
