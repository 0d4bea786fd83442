/**
 * Security review of a Session's per-host pins: they follow the name that is verified. With
 * serverName (https://127.0.0.1/ verified as 'localhost'), pins for 'localhost' were looked up by
 * the URL host instead, so the connection proved 'localhost' without the pin the Session holds
 * for it. The adapters already choose pins by the name verified.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Session, SSLError } from '../../src/index.js';
import { hostPinTable, pinsForHost } from '../../src/verify/pin.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let leaf: Issued;
let server: TestServer;
const wrongPin = `sha256//${Buffer.alloc(32, 7).toString('base64')}`;
const spkiPin = (c: Issued) => `sha256//${createHash('sha256').update(c.spkiDer).digest('base64')}`;
const pinMismatch = (e: unknown) => e instanceof SSLError && e.code === 'PIN_MISMATCH';

before(async () => {
  root = createRoot({ cn: 'review pins root' });
  leaf = issue(root); // localhost, 127.0.0.1, ::1
  server = await startTlsServer({ cert: leaf });
});

after(async () => {
  await server.close();
});

describe('Session pins and serverName', () => {
  test("the pins of the name verified (serverName) apply, not only the URL host's", async () => {
    const s = new Session({ verify: root.pem, trustEnv: false, pins: { localhost: wrongPin } });
    try {
      await assert.rejects(s.get(server.url('/'), { serverName: 'localhost' }), pinMismatch);
      assert.equal(server.requests, 0);
    } finally {
      await s.close();
    }
  });

  test('the right pin for the name verified passes', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false, pins: { localhost: spkiPin(leaf) } });
    try {
      assert.equal((await s.get(server.url('/'), { serverName: 'localhost' })).status, 200);
    } finally {
      await s.close();
    }
  });

  test('a table key in Unicode applies to its A-label host', () => {
    const table = hostPinTable({ 'Bücher.Example.': wrongPin });
    assert.deepEqual(pinsForHost(table, 'xn--bcher-kva.example'), [wrongPin.slice('sha256//'.length)]);
  });

  test("the URL host's pins still apply when the name verified has none", async () => {
    const s = new Session({ verify: root.pem, trustEnv: false, pins: { '127.0.0.1': wrongPin } });
    try {
      await assert.rejects(s.get(server.url('/'), { serverName: 'localhost' }), pinMismatch);
    } finally {
      await s.close();
    }
  });
});
