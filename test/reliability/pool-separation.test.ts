/**
 * A connection made with verify: false is never reused by a verified request, nor the reverse
 * (requests' CVE-2024-35195), even when both kinds run at once on one Session to one origin.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Session, SSLError } from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let server: TestServer;
const session = new Session({ trustEnv: false });

before(async () => {
  root = createRoot({ cn: 'pool separation root' });
  server = await startTlsServer({ cert: issue(root) });
});
after(async () => {
  await session.close();
  await server.close();
});

test('interleaved: insecure requests succeed, verified ones against an untrusted server all fail, none rides the other pool', async () => {
  const other = createRoot({ cn: 'not the server root' }).pem;
  const before = server.requests;
  const kinds = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 'insecure' : 'verified'));
  const results = await Promise.all(
    kinds.map((kind) =>
      session
        .get(server.url('/'), kind === 'insecure' ? { verify: false } : { verify: other })
        .then(async (r) => {
          await r.arrayBuffer();
          return `${kind}:${r.status}`;
        })
        .catch((e: unknown) => `${kind}:${e instanceof SSLError ? e.code : String(e)}`),
    ),
  );
  for (const r of results) {
    if (r.startsWith('insecure')) assert.equal(r, 'insecure:200');
    // The server sends its leaf alone; its issuer is neither trusted nor sent.
    else assert.equal(r, 'verified:UNKNOWN_ISSUER');
  }
  // Only the insecure requests reached the server.
  assert.equal(server.requests - before, 30);
});

test('a verified pool is not reused for verify: false, nor the reverse: each makes its own connection', async () => {
  const s = new Session({ trustEnv: false });
  try {
    // Warm the verified pool (undici may open a second connection while the first is finishing).
    for (let i = 0; i < 3; i++) await (await s.get(server.url('/'), { verify: root.pem })).arrayBuffer();
    const warm = server.connections;
    await (await s.get(server.url('/'), { verify: root.pem })).arrayBuffer();
    assert.equal(server.connections, warm, 'a warm verified pool reuses its connections');
    await (await s.get(server.url('/'), { verify: false })).arrayBuffer();
    assert.equal(server.connections, warm + 1, 'verify: false opened its own connection');
    const r = await s.get(server.url('/'), { verify: root.pem });
    await r.arrayBuffer();
    assert.equal(r.tls?.verified, true, 'the verified request was answered on a verified connection');
    assert.equal(server.connections, warm + 1, 'no new connection: it went back to the verified pool');
  } finally {
    await s.close();
  }
});
