/**
 * certainly loads undici's parts by path (src/client/undici.ts), not undici's index, and never
 * touches the web globals that load Node's own bundled undici. The parts must be the very classes
 * undici exports (a user's `instanceof Agent` and undici's errors keep working), and a fresh
 * process that imports certainly and makes a verified GET must load neither undici's index nor
 * Node's internal copy (what `npm run bench:startup` measures depends on it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Agent, Client, errors, Pool } from '../../src/client/undici.js';
import { createRoot, type Issued, issue, startTlsServer, type TestServer } from '../support/index.js';

const require = createRequire(import.meta.url);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

describe("undici's parts, loaded by path", () => {
  test("are the classes undici's index exports", () => {
    const undici = require('undici') as typeof import('undici');
    assert.equal(Agent, undici.Agent);
    assert.equal(Client, undici.Client);
    assert.equal(Pool, undici.Pool);
    assert.equal(errors, undici.errors);
    assert.equal(errors.UndiciError, undici.errors.UndiciError);
  });

  test('an Agent has the request API that undici installs on Dispatcher.prototype', async () => {
    const a = new Agent();
    try {
      for (const m of ['request', 'stream', 'pipeline', 'upgrade', 'connect'] as const) {
        assert.equal(typeof a[m], 'function', m);
      }
    } finally {
      await a.close();
    }
  });
});

describe('a fresh process: import certainly and one verified GET', () => {
  let root: Issued;
  let server: TestServer;
  before(async () => {
    root = createRoot({ cn: 'undici parts root' });
    server = await startTlsServer({ cert: issue(root) });
  });
  after(() => server.close());

  test("loads neither undici's index nor Node's internal undici", async () => {
    const probe = `
      import { createRequire } from 'node:module';
      const { get, closeDefaultSession } = await import('certainly');
      const r = await get(process.argv[1], { verify: process.argv[2], trustEnv: false });
      await r.text();
      await closeDefaultSession();
      const cache = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({
        status: r.status,
        internal: process.moduleLoadList.filter((m) => m.includes('undici')),
        index: cache.filter((f) => /node_modules[\\\\/]undici[\\\\/]index\\.js$/.test(f)),
        fetch: cache.filter((f) => /undici[\\\\/]lib[\\\\/]web[\\\\/]fetch/.test(f)),
        parts: cache.filter((f) => /undici[\\\\/]lib[\\\\/]dispatcher[\\\\/]agent\\.js$/.test(f)).length,
      }));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', probe, server.url('/'), root.pem],
      { cwd: REPO, env: { PATH: process.env.PATH } },
    );
    const seen = JSON.parse(stdout) as {
      status: number;
      internal: string[];
      index: string[];
      fetch: string[];
      parts: number;
    };
    assert.equal(seen.status, 200);
    assert.equal(seen.parts, 1, 'the probe sees the modules undici loads (agent.js)');
    assert.deepEqual(seen.internal, []);
    assert.deepEqual(seen.index, []);
    assert.deepEqual(seen.fetch, []);
  });
});
