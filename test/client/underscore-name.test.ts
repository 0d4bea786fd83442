/**
 * A certificate whose dNSName has an underscore ('my_service', as private CAs issue for Docker
 * service names) is refused on a real connection, nothing reaches the server, and the hint is a
 * fix that works when followed as printed: re-issue for 'my-service' and keep the URL with
 * serverName. (Why it is refused: src/verify/hostname.ts, docs/decisions.md "Identity".)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Session, SSLError } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let underscored: TestServer;
let reissued: TestServer;

before(async () => {
  root = createRoot({ cn: 'underscore names root' });
  underscored = await startTlsServer({ cert: issue(root, { sans: ['DNS:my_service'] }) });
  reissued = await startTlsServer({ cert: issue(root, { sans: ['DNS:my-service'] }) });
});

after(async () => {
  await underscored.close();
  await reissued.close();
});

describe("certificate names with '_'", () => {
  test('are refused before any request byte, with a hint naming the re-issue and serverName', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      const e = await s.get(underscored.url('/'), { serverName: 'my_service' }).then(
        () => assert.fail('a certificate for my_service was accepted'),
        (err: unknown) => err,
      );
      assert.ok(e instanceof SSLError, String(e));
      assert.equal(e.code, 'HOSTNAME_MISMATCH');
      assert.match(
        e.hint ?? '',
        /re-issue it for my-service and verify that name, keeping the address: serverName: 'my-service'/,
      );
      assert.equal(underscored.requests, 0);

      // The fix as printed: a certificate for my-service, the same URL, serverName: 'my-service'.
      const r = await s.get(reissued.url('/'), { serverName: 'my-service' });
      assert.equal(r.status, 200);
      assert.equal(reissued.requests, 1);
    } finally {
      await s.close();
    }
  });
});
