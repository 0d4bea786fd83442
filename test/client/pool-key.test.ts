/**
 * Pool keys are normalised (tls/target.ts identityKey): spellings of one reference identity
 * (case, a trailing dot, IPv6 brackets in connectTo) share one verified connection, and
 * different identities never do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { poolKey } from '../../src/client/pool.js';
import { Session } from '../../src/index.js';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

const dir = tempDir('pool-key-');
let root: Issued;
let caPath: string;
let server: TestServer;

before(async () => {
  root = createRoot({ cn: 'pool key root' });
  caPath = dir.write('root.pem', root.pem);
  server = await startTlsServer({
    cert: issue(root, { sans: ['DNS:api.example.test', 'DNS:other.example.test'] }),
  });
});

after(async () => {
  await server.close();
  dir.cleanup();
});

describe('pool keys: one identity, one pool', () => {
  test("serverName 'API.example.test', 'api.example.test.' and 'api.example.test' share one connection", async () => {
    const s = new Session({ verify: caPath, trustEnv: false });
    try {
      const before = server.handshakes;
      for (const serverName of ['API.example.test', 'api.example.test.', 'api.example.test']) {
        const r = await s.get(server.url('/'), { serverName });
        assert.equal(r.status, 200);
        await r.text();
        await new Promise((r) => setImmediate(r)); // let undici mark the connection idle
      }
      assert.equal(server.handshakes - before, 1, 'the three spellings must reuse one verified connection');
      assert.equal(server.serverNames.at(-1), 'api.example.test', 'SNI is the normalised name');
    } finally {
      await s.close();
    }
  });

  test('another name is another pool (a connection verified for A never serves B)', async () => {
    const s = new Session({ verify: caPath, trustEnv: false });
    try {
      const before = server.handshakes;
      for (const serverName of ['api.example.test', 'other.example.test']) {
        const r = await s.get(server.url('/'), { serverName });
        await r.text();
        await new Promise((r) => setImmediate(r));
      }
      assert.equal(server.handshakes - before, 2);
    } finally {
      await s.close();
    }
  });

  test('the key itself: case, trailing dot, IPv6 brackets and zero-padding of the dial address', () => {
    const base = { trust: null, connectTimeout: 1000 };
    assert.equal(
      poolKey({ ...base, serverName: 'API.Example.TEST.' }),
      poolKey({ ...base, serverName: 'api.example.test' }),
    );
    assert.equal(
      poolKey({ ...base, connectTo: { host: '[::1]', port: 8443 } }),
      poolKey({ ...base, connectTo: { host: '::1', port: 8443 } }),
    );
    assert.equal(
      poolKey({ ...base, serverName: 'bücher.example' }),
      poolKey({ ...base, serverName: 'xn--bcher-kva.example' }),
    );
    assert.notEqual(
      poolKey({ ...base, serverName: 'api.example.test' }),
      poolKey({ ...base, serverName: 'api.example.test', connectTo: { host: '127.0.0.1' } }),
    );
  });
});
