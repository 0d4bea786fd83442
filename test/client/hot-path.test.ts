/**
 * What a Session reuses from one request to the next to keep the keep-alive path short
 * (session.ts: LastOf, #trustArgs, #lastPlain; trust/resolve.ts: lastDefault) must still follow
 * every change a request would have seen before: a Session option changed between requests
 * (a new value, or an option object edited in place), and a CA variable changed between
 * requests of a default Session (the environment is read per request, as requests does).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ReadTimeout, Session, SSLError } from '../../src/index.js';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let caPath: string;
let otherCaPath: string;
let server: TestServer;
const dir = tempDir('hot-path-');

before(async () => {
  root = createRoot({ cn: 'certainly hot-path tests root' });
  const other = createRoot({ cn: 'an unrelated root' });
  caPath = dir.write('root.pem', root.pem);
  otherCaPath = dir.write('other.pem', other.pem);
  server = await startTlsServer({ cert: issue(root, { sans: ['IP:127.0.0.1'] }) });
});

after(async () => {
  await server.close();
  dir.cleanup();
});

describe('what a Session reuses between requests follows changes', () => {
  test('a timeout changed on session.defaults between requests applies to the next one', async () => {
    const s = new Session({ verify: caPath, trustEnv: false });
    try {
      // The same primitive twice: the second request reuses the resolved timeouts.
      assert.equal((await s.get(server.url('/delay/400'))).status, 200);
      assert.equal((await s.get(server.url('/delay/400'))).status, 200);
      s.defaults.timeout = 100;
      await assert.rejects(s.get(server.url('/delay/2000')), ReadTimeout);
      s.defaults.timeout = undefined;
      assert.equal((await s.get(server.url('/delay/400'))).status, 200);
    } finally {
      await s.close();
    }
  });

  test('a timeout object edited in place still counts (objects are resolved on every request)', async () => {
    const timeout = { read: 30_000 };
    const s = new Session({ verify: caPath, trustEnv: false, timeout });
    try {
      assert.equal((await s.get(server.url('/delay/400'))).status, 200);
      timeout.read = 100;
      await assert.rejects(s.get(server.url('/delay/2000')), ReadTimeout);
    } finally {
      await s.close();
    }
  });

  test('verify changed between requests: the next request is verified against the new anchors', async () => {
    const s = new Session({ verify: caPath, trustEnv: false });
    try {
      assert.equal((await s.get(server.url('/'))).tls?.verified, true);
      // The last plain pool is not reused for a request with other trust.
      s.defaults.verify = otherCaPath;
      await assert.rejects(s.get(server.url('/')), SSLError);
      s.defaults.verify = caPath;
      assert.equal((await s.get(server.url('/'))).tls?.verified, true);
    } finally {
      await s.close();
    }
  });

  test('a default Session reads REQUESTS_CA_BUNDLE on every request', async () => {
    const saved = process.env.REQUESTS_CA_BUNDLE;
    const s = new Session();
    try {
      process.env.REQUESTS_CA_BUNDLE = caPath;
      const first = await s.get(server.url('/'));
      assert.ok(first.tls?.anchor?.sources.some((x) => x.startsWith('env:REQUESTS_CA_BUNDLE')));
      assert.equal((await s.get(server.url('/'))).status, 200);
      process.env.REQUESTS_CA_BUNDLE = otherCaPath;
      await assert.rejects(s.get(server.url('/')), SSLError);
      process.env.REQUESTS_CA_BUNDLE = caPath;
      assert.equal((await s.get(server.url('/'))).status, 200);
    } finally {
      if (saved === undefined) delete process.env.REQUESTS_CA_BUNDLE;
      else process.env.REQUESTS_CA_BUNDLE = saved;
      await s.close();
    }
  });
});
