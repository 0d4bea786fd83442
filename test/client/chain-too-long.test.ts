/**
 * A server that sends more than 64 certificates is refused with CHAIN_TOO_LONG (the count and the
 * limit in the message), not cut to 64 and reported as a missing issuer; one that sends exactly 64
 * is not refused for length. Real loopback TLS servers sending the chains as given.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { runCheck } from '../../src/cli/check.js';
import { Session, SSLError } from '../../src/index.js';
import { MAX_PEER_CERTIFICATES } from '../../src/tls/handshake.js';
import { createRoot, intermediate, issue, tempDir } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

const session = new Session({ trustEnv: false });
const servers: TestServer[] = [];
after(async () => {
  await session.close();
  for (const s of servers) await s.close();
});

const root = createRoot();
const inter = intermediate(root);
const leaf = issue(inter);
// Unrelated certificates after the real chain: what a server sending a whole bundle looks like.
const extras = Array.from({ length: 68 }, () => issue(inter, { sans: [] }));

test('70 certificates: SSLError CHAIN_TOO_LONG saying 70 and 64, before any request byte', async () => {
  assert.equal(MAX_PEER_CERTIFICATES, 64);
  const srv = await startTlsServer({ cert: leaf, chain: [inter, ...extras] });
  servers.push(srv);
  await assert.rejects(session.get(srv.url('/'), { verify: root.pem }), (e: unknown) => {
    assert.ok(e instanceof SSLError, String(e));
    assert.equal(e.code, 'CHAIN_TOO_LONG');
    assert.match(e.message, /sent 70 certificates; certainly accepts at most 64/);
    assert.match(e.hint ?? '', /not a whole CA bundle/);
    return true;
  });
  assert.equal(srv.bytesReceived, 0);

  // certainly check reports it as the verification failure, with the fix.
  const dir = tempDir();
  try {
    const ca = dir.write('root.pem', root.pem);
    const out = new Out();
    const code = await runCheck([srv.origin, '--ca', ca, '--json'], {
      stdout: out,
      stderr: new Out(),
      env: {},
    } as unknown as Parameters<typeof runCheck>[1]);
    const report = JSON.parse(out.text); // check --json: one report per line (NDJSON)
    assert.equal(code, 1, out.text);
    assert.equal(report.verification.code, 'CHAIN_TOO_LONG');
    assert.ok(
      report.findings.some(
        (f: { code: string; fix: string }) => f.code === 'CHAIN_TOO_LONG' && /CA bundle/.test(f.fix),
      ),
      out.text,
    );
  } finally {
    dir.cleanup();
  }
});

test('exactly 64 certificates: not refused for length, the request goes through', async () => {
  const chain = [inter, ...extras.slice(0, MAX_PEER_CERTIFICATES - 2)];
  const srv = await startTlsServer({ cert: leaf, chain });
  servers.push(srv);
  const r = await session.get(srv.url('/'), { verify: root.pem });
  assert.equal(r.status, 200);
  await r.text();
  assert.equal(r.tls?.chain.length, 64);
});

class Out extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}
