/**
 * The chain the library verifies is the chain as sent: out of order, with extras and duplicates.
 * (node:tls's getPeerCertificate(true) loses certificates here; see tls/connector.ts peerChain.)
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Session } from '../../src/index.js';
import { createRoot, intermediate, issue } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

const session = new Session({ trustEnv: false });
const servers: TestServer[] = [];
after(async () => {
  await session.close();
  for (const s of servers) await s.close();
});

const root = createRoot();
const i1 = intermediate(root);
const i2 = intermediate(i1);
const leaf = issue(i2);
const stranger = createRoot();

for (const [label, chain] of [
  ['in order', [i2, i1]],
  ['reversed', [i1, i2]],
  ['with an unrelated root first and a duplicate', [stranger, i1, i2, i1]],
] as const) {
  test(`a two-intermediate chain sent ${label} verifies, and r.tls.chain is what was sent`, async () => {
    const srv = await startTlsServer({ cert: leaf, chain: [...chain] });
    servers.push(srv);
    const r = await session.get(srv.url('/'), { verify: root.pem });
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.tls?.chain.map((c) => c.fingerprintSha256),
      [leaf, ...chain].map((c) => c.x509.fingerprint256.replace(/:/g, '').toLowerCase()),
    );
  });
}
