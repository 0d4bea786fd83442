/**
 * Security review of agent(): a library that takes the agent's *options* but makes the TLS
 * connection itself must not get a connection that skipped certainly's verification. axios does
 * exactly that when it applies a proxy (its `proxy` option, or HTTPS_PROXY read by itself): it
 * builds its own CONNECT agent from `httpsAgent.options` and lets Node verify the target with
 * Node's default roots, so the agent's verify, pins, serverName and client certificate were all
 * silently dropped. The agent's options now carry a checkServerIdentity that refuses such a
 * connection with a ConfigError that says what to do (Node runs it only after OpenSSL's own
 * check passed; when that check fails, the connection fails anyway).
 *
 * The bypass only shows with a server Node's default roots trust, so the client runs in a child
 * process whose NODE_EXTRA_CA_CERTS names the test root.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { request as undiciRequest } from 'undici';
import { dispatcher } from '../../src/index.js';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { startProxy, type TestProxy } from '../support/proxy.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

const INDEX = new URL('../../src/index.js', import.meta.url).href;
const dir = tempDir('review-adapters-');
let root: Issued;
let caPath: string;
let server: TestServer;
let proxy: TestProxy;

before(async () => {
  root = createRoot({ cn: 'review adapters root' });
  caPath = dir.write('root.pem', root.pem);
  server = await startTlsServer({ cert: issue(root), host: 'localhost' });
  proxy = await startProxy();
});

after(async () => {
  await server.close();
  await proxy.close();
  dir.cleanup();
});

// One axios request with httpsAgent: agent({ verify, pin }); prints what happened as JSON.
const CLIENT = `
import axios from 'axios';
const { agent } = await import(process.env.INDEX);
const a = agent({ verify: process.env.CA, trustEnv: false, pin: process.env.PIN });
const proxy = process.env.PROXY_PORT ? { protocol: 'http', host: '127.0.0.1', port: Number(process.env.PROXY_PORT) } : false;
let out;
try {
  const r = await axios.get(process.env.URL, { httpsAgent: a, proxy, responseType: 'text' });
  out = { status: r.status };
} catch (e) {
  const codes = [];
  for (let c = e; c && codes.length < 5; c = c.cause) codes.push(String(c.code));
  out = { codes, message: e.message };
}
a.destroy();
console.log(JSON.stringify(out));
`;

function runClient(
  env: Record<string, string>,
): Promise<{ status?: number; codes?: string[]; message?: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', CLIENT],
      {
        cwd: process.cwd(),
        env: {
          PATH: process.env.PATH,
          NODE_EXTRA_CA_CERTS: caPath,
          INDEX,
          CA: caPath,
          URL: server.url('/'),
          ...env,
        },
        timeout: 30_000,
      },
      (err, stdout, stderr) => {
        try {
          resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? ''));
        } catch {
          reject(new Error(`client failed: ${err?.message}\n${stderr}`));
        }
      },
    );
  });
}

// A pin the server's key does not match.
const WRONG_PIN = `sha256//${Buffer.alloc(32, 7).toString('base64')}`;

describe('agent() under axios with a proxy', () => {
  test('direct (proxy: false), the pin is enforced by our verifier', async () => {
    const r = await runClient({ PIN: WRONG_PIN });
    assert.ok(r.codes?.includes('PIN_MISMATCH'), JSON.stringify(r));
  });

  test("axios's own tunnel does not get a connection that skipped the pin: refused, with the fix", async () => {
    const before = server.requests;
    const r = await runClient({ PIN: WRONG_PIN, PROXY_PORT: String(proxy.port) });
    assert.equal(r.status, undefined, `the request went through unverified: ${JSON.stringify(r)}`);
    assert.ok(r.codes?.includes('ERR_AGENT_BYPASSED'), JSON.stringify(r));
    assert.match(r.message ?? '', /proxy: false/);
    assert.equal(server.requests, before, 'no request reached the server');
  });
});

describe('an onConnection callback that throws', () => {
  test('refuses that connection with its error: no hang, no unhandled rejection, the socket closed', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    const boom = new Error('boom from onConnection');
    const d = dispatcher({
      verify: root.pem,
      trustEnv: false,
      onConnection: () => {
        throw boom;
      },
    });
    try {
      const before = server.requests;
      const outcome = await Promise.race([
        undiciRequest(server.url('/'), { dispatcher: d }).then(
          () => 'answered',
          (e: unknown) => e,
        ),
        new Promise((r) => setTimeout(() => r('hung'), 3000)),
      ]);
      assert.equal(outcome, boom);
      assert.equal(server.requests, before);
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(unhandled, []);
      assert.equal(server.openConnections, 0);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await d.destroy();
    }
  });
});
