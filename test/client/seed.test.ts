/**
 * The seed scenario, end to end: https://127.0.0.1/ whose certificate is for *.example.com and
 * example.com, issued by a private CA.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Session, SSLError } from '../../src/index.js';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let ca: Issued;
let server: TestServer;
let caPath: string;
const dir = tempDir('seed-');
const session = new Session({ trustEnv: false });

before(async () => {
  ca = createRoot({ subject: 'CN=Example Corp Private CA, O=Example Corp' });
  const leaf = issue(ca, { cn: '*.example.com', sans: ['DNS:*.example.com', 'DNS:example.com'] });
  caPath = dir.write('ca.pem', ca.pem);
  server = await startTlsServer({ cert: leaf, chain: [ca], host: '127.0.0.1' });
});

after(async () => {
  await session.close();
  await server.close();
  dir.cleanup();
});

test('without the private CA: UNKNOWN_ISSUER, and no request byte reaches the server', async () => {
  await assert.rejects(session.get(server.url('/')), (err: unknown) => {
    assert.ok(err instanceof SSLError, String(err));
    assert.equal(err.code, 'UNKNOWN_ISSUER');
    return true;
  });
  assert.equal(server.bytesReceived, 0);
});

test('with the CA: a name mismatch that shows what the certificate does say, and names serverName', async () => {
  const before = server.bytesReceived;
  await assert.rejects(session.get(server.url('/'), { verify: caPath }), (err: unknown) => {
    assert.ok(err instanceof SSLError, String(err));
    assert.equal(err.code, 'HOSTNAME_MISMATCH');
    assert.equal(err.expected, '127.0.0.1');
    assert.ok(err.presented?.includes('*.example.com'), `presented: ${err.presented}`);
    assert.ok(err.presented?.includes('example.com'), `presented: ${err.presented}`);
    assert.match(err.message, /certificate is valid for \*\.example\.com, example\.com, not 127\.0\.0\.1/);
    assert.match(err.hint ?? '', /serverName/);
    assert.equal(err.position, 0);
    assert.ok(err.chain && err.chain.length >= 1);
    return true;
  });
  assert.equal(server.bytesReceived, before, 'the server received request bytes on a failing call');
});

test("with serverName: 'api.example.com' the same call succeeds, SNI and anchor recorded", async () => {
  const r = await session.get(server.url('/hello'), { verify: caPath, serverName: 'api.example.com' });
  assert.equal(r.status, 200);
  assert.ok(r.ok);
  const echo = (await r.json()) as { url: string; headers: Record<string, string> };
  assert.equal(echo.url, '/hello');
  assert.equal(r.tls?.sni, 'api.example.com');
  assert.equal(r.tls?.verifiedName, 'api.example.com');
  assert.equal(r.tls?.verified, true);
  assert.match(r.tls?.anchor?.subject ?? '', /Example Corp Private CA/);
  assert.ok(
    r.tls?.anchor?.sources.some((s) => s.includes(caPath)),
    JSON.stringify(r.tls?.anchor),
  );
  assert.match(r.tls?.protocol ?? '', /^TLSv1\.[23]$/);
});

test('connectTo: the URL names api.example.com, the socket goes to 127.0.0.1', async () => {
  const r = await session.get(`https://api.example.com:${server.port}/via-connect-to`, {
    verify: caPath,
    connectTo: `127.0.0.1:${server.port}`,
  });
  assert.equal(r.status, 200);
  assert.equal(r.tls?.sni, 'api.example.com');
  assert.equal(r.tls?.address, `127.0.0.1:${server.port}`);
  const echo = (await r.json()) as { headers: Record<string, string> };
  assert.equal(echo.headers.host, `api.example.com:${server.port}`);
});
