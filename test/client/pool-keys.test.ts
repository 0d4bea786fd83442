/**
 * Security review: a pooled connection is reused only by a request that would have verified it
 * the same way. The trust key is the set of anchors; what the verifier does with an anchor can
 * also depend on where it came from (hygiene rules are relaxed for a CA from a user file,
 * src/verify/index.ts isUserFileAnchor), so that must separate pools too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { resolveProxy } from '../../src/client/proxy.js';
import { Session, SSLError } from '../../src/index.js';
import { createRoot, type Issued, intermediate, issue, tempDir } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

const dir = tempDir('review-pool-');
const base = { trustEnv: false, timeout: { connect: 5000, read: 5000 } } as const;
let privateRoot: Issued;
let privateCaPath: string;
let server: TestServer;

before(async () => {
  // A private CA that breaks a hygiene rule (basicConstraints not critical): accepted, with a
  // note, when it comes from a file the user named; refused as PROFILE_VIOLATION otherwise.
  privateRoot = createRoot({ cn: 'review private root', basicConstraints: { ca: true, critical: false } });
  const ica = intermediate(privateRoot);
  privateCaPath = dir.write('private-root.pem', privateRoot.pem);
  server = await startTlsServer({ cert: issue(ica), chain: [ica] });
});

after(async () => {
  await server.close();
  dir.cleanup();
});

describe('pool keys: the same anchors, verified differently', () => {
  test('the private root given inline (strict profile) fails on its own', async () => {
    const s = new Session(base);
    try {
      await assert.rejects(s.get(server.url('/'), { verify: privateRoot.pem }), (e: unknown) => {
        assert.ok(e instanceof SSLError, String(e));
        assert.equal(e.code, 'PROFILE_VIOLATION');
        return true;
      });
    } finally {
      await s.close();
    }
  });

  test('a connection verified with the relaxed profile (CA from a file) is not reused by a strict request', async () => {
    const s = new Session(base);
    try {
      const first = await s.get(server.url('/1'), { verify: privateCaPath });
      assert.equal(first.status, 200);
      await first.text();
      await new Promise((r) => setImmediate(r)); // let undici mark the connection idle
      await assert.rejects(s.get(server.url('/2'), { verify: privateRoot.pem }), (e: unknown) => {
        assert.ok(e instanceof SSLError, `expected PROFILE_VIOLATION, got ${String(e)}`);
        assert.equal(e.code, 'PROFILE_VIOLATION');
        return true;
      });
      assert.equal(server.requests, 1, 'the strict request must not have reached the server');
    } finally {
      await s.close();
    }
  });
});

describe('pool keys: https proxies', () => {
  test("an https proxy's key tells a relaxed (file) trust from a strict (inline) one with the same root", () => {
    const fromFile = resolveProxy('https://127.0.0.1:3129', 'the proxy option', {
      proxyVerify: privateCaPath,
      trustEnv: false,
    });
    const inline = resolveProxy('https://127.0.0.1:3129', 'the proxy option', {
      proxyVerify: privateRoot.pem,
      trustEnv: false,
    });
    assert.notEqual(fromFile.key, inline.key);
  });
});
