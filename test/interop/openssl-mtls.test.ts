/**
 * Mutual TLS against OpenSSL's own server (`openssl s_server -Verify 1 -verify_return_error`,
 * TLS 1.3 only): it refuses the client after the client's handshake is over, with an alert, as
 * servers built on OpenSSL do (node's servers close without one; nginx answers 400 to the first
 * request: test/interop/nginx-tinyproxy.test.ts). `check` waits for that verdict and names it;
 * `get` reports the same alert. Skips when the openssl command is missing.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { diagnose } from '../../src/diagnose/index.js';
import { get, SSLError } from '../../src/index.js';
import { resolveTrust } from '../../src/trust/resolve.js';
import type { TrustStore } from '../../src/trust/store.js';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { findBinary, freePort, waitForPort } from './daemons.js';

const openssl = findBinary('openssl');
const dir = tempDir('interop-openssl-mtls-');
let server: ChildProcess;
let port: number;
let caPath: string;
let trust: TrustStore;
let alice: Issued;
let mallory: Issued;
let output = '';

describe('mutual TLS with openssl s_server (TLS 1.3)', {
  skip: openssl ? false : 'openssl not found',
}, () => {
  before(async () => {
    const root = createRoot({ cn: 'openssl mtls root' });
    const clientRoot = createRoot({ cn: 'openssl mtls client root' });
    alice = issue(clientRoot, { cn: 'alice', sans: [], eku: ['clientAuth'] });
    mallory = issue(createRoot({ cn: 'someone else' }), { cn: 'mallory', sans: [], eku: ['clientAuth'] });
    const leaf = issue(root, { sans: ['IP:127.0.0.1'] });
    caPath = dir.write('root.pem', root.pem);
    const resolved = resolveTrust({ verify: caPath, trustEnv: false });
    assert.ok(!resolved.insecure);
    trust = resolved.store;
    port = await freePort();
    server = spawn(
      openssl!,
      [
        's_server',
        '-accept',
        `127.0.0.1:${port}`,
        '-cert',
        dir.write('server.pem', leaf.pem),
        '-key',
        dir.write('server.key', leaf.keyPem),
        '-CAfile',
        dir.write('client-root.pem', clientRoot.pem),
        '-Verify',
        '1',
        '-verify_return_error',
        '-tls1_3',
        '-www',
        '-quiet',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await waitForPort(port, server, () => output, 'openssl s_server');
  });

  after(() => {
    server?.kill('SIGKILL');
    dir.cleanup();
  });

  const target = () => `https://127.0.0.1:${port}/`;
  const clientCodes = (r: Awaited<ReturnType<typeof diagnose>>) =>
    r.findings.filter((f) => f.code.startsWith('CLIENT_CERT_')).map((f) => f.code);

  test('check without a certificate: the chain verifies, and the certificate_required alert is the finding', async () => {
    const r = await diagnose(target(), { trust, aia: false });
    assert.equal(r.verification.ok, true);
    assert.deepEqual(clientCodes(r), ['CLIENT_CERT_REQUIRED']);
    assert.match(r.findings[0]!.message, /sent the alert "certificate required"/);
    assert.equal(r.exitCode, 1);
  });

  test('check with a certificate from another CA: the unknown_ca alert, with the fix for it', async () => {
    const r = await diagnose(target(), {
      trust,
      aia: false,
      cert: { cert: mallory.pem, key: mallory.keyPem },
    });
    assert.deepEqual(clientCodes(r), ['CLIENT_CERT_REFUSED']);
    assert.match(r.findings[0]!.message, /sent the alert "unknown ca", refusing the client certificate/);
    assert.match(r.findings[0]!.fix, /does not trust the issuer of the client certificate/);
  });

  test('check with the right certificate: no refusal; get is answered', async () => {
    const cert = { cert: alice.pem, key: alice.keyPem };
    const r = await diagnose(target(), { trust, aia: false, cert });
    assert.equal(r.status, 'ok', JSON.stringify(r.findings));
    assert.deepEqual(clientCodes(r), ['CLIENT_CERT_REQUESTED']);
    const g = await get(target(), { verify: caPath, trustEnv: false, cert });
    assert.equal(g.status, 200);
    await g.dump();
  });

  test('get names the same refusal', async () => {
    await assert.rejects(
      get(target(), { verify: caPath, trustEnv: false, cert: { cert: mallory.pem, key: mallory.keyPem } }),
      (e: unknown) =>
        e instanceof SSLError && e.code === 'HANDSHAKE_FAILED' && /alert "unknown ca"/.test(e.message),
    );
  });
});
