/**
 * Client certificates (mutual TLS) against a loopback server that requires one and checks it
 * against its own client CA: PEM files and strings, DER bytes, encrypted PKCS#8 and traditional
 * keys, PKCS#12; every bad input as a ConfigError saying which part is wrong, before any
 * connection; and the server refusing a missing or wrong certificate.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createSecureContext } from 'node:tls';
import { ConfigError, ConnectionError, type RequestOptions, Session, SSLError } from '../../src/index.js';
import {
  createRoot,
  type Issued,
  intermediate,
  issue,
  keyPemOf,
  pemOf,
  pfxOf,
  tempDir,
} from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

const dir = tempDir('client-cert-');
let serverRoot: Issued;
let clientRoot: Issued;
let client: Issued;
let rsaClient: Issued;
let stranger: Issued;
let server: TestServer;
let server12: TestServer;
let session: Session;

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

type Echo = { tls: { clientCert: string | null; protocol: string } };

before(async () => {
  serverRoot = createRoot({ cn: 'client-cert tests server root' });
  // Kept apart from the server's CAs (test/support/README.md: OpenSSL's auto-chain caveat).
  clientRoot = createRoot({ cn: 'client-cert tests client root' });
  const leaf = issue(serverRoot);
  client = issue(clientRoot, { cn: 'alice', sans: ['DNS:alice.client'], eku: ['clientAuth'] });
  rsaClient = issue(clientRoot, {
    cn: 'bob',
    sans: ['DNS:bob.client'],
    eku: ['clientAuth'],
    keyType: 'rsa2048',
  });
  stranger = issue(createRoot({ cn: 'someone else' }), { cn: 'mallory', sans: ['DNS:mallory.client'] });
  server = await startTlsServer({ cert: leaf, requestCert: true, clientCa: clientRoot.pem });
  server12 = await startTlsServer({
    cert: leaf,
    requestCert: true,
    clientCa: clientRoot.pem,
    maxVersion: 'TLSv1.2',
  });
  session = new Session({ verify: serverRoot.pem, trustEnv: false });
});

after(async () => {
  await session.close();
  await server.close();
  await server12.close();
  dir.cleanup();
});

async function clientCn(options: RequestOptions): Promise<string | null> {
  const r = await session.get(server.url('/'), options);
  assert.equal(r.status, 200);
  return (await r.json<Echo>()).tls.clientCert;
}

describe('client certificates that work', () => {
  test('PEM files', async () => {
    const cert = dir.write('alice.pem', client.pem);
    const key = dir.write('alice.key', client.keyPem);
    assert.equal(await clientCn({ cert: { cert, key } }), 'alice');
  });

  test('PEM strings', async () => {
    assert.equal(await clientCn({ cert: { cert: client.pem, key: client.keyPem } }), 'alice');
  });

  test('DER bytes for the certificate and the key', async () => {
    const keyDer = client.key.privateKey.export({ type: 'pkcs8', format: 'der' });
    assert.equal(
      await clientCn({ cert: { cert: new Uint8Array(client.der), key: new Uint8Array(keyDer) } }),
      'alice',
    );
  });

  test('an encrypted PKCS#8 key with its passphrase', async () => {
    const key = dir.write('alice-enc.key', keyPemOf(client.key, { passphrase: 'correct horse' }));
    assert.match(keyPemOf(client.key, { passphrase: 'x' }), /BEGIN ENCRYPTED PRIVATE KEY/);
    assert.equal(await clientCn({ cert: { cert: client.pem, key, passphrase: 'correct horse' } }), 'alice');
  });

  test('traditional encrypted keys: EC (SEC1) and RSA (PKCS#1) with Proc-Type headers', async () => {
    const ec = keyPemOf(client.key, { passphrase: 'pw-ec', format: 'sec1' });
    assert.match(ec, /Proc-Type: 4,ENCRYPTED/);
    assert.equal(await clientCn({ cert: { cert: client.pem, key: ec, passphrase: 'pw-ec' } }), 'alice');
    const rsa = keyPemOf(rsaClient.key, { passphrase: 'pw-rsa', format: 'pkcs1' });
    assert.match(rsa, /BEGIN RSA PRIVATE KEY[\s\S]*Proc-Type: 4,ENCRYPTED/);
    assert.equal(await clientCn({ cert: { cert: rsaClient.pem, key: rsa, passphrase: 'pw-rsa' } }), 'bob');
  });

  test('one PEM file holding certificate and key (curl --cert combined.pem), in either order', async () => {
    const combined = dir.write('combined.pem', client.pem + client.keyPem);
    assert.equal(await clientCn({ cert: { cert: combined, key: combined } }), 'alice');
    const reversed = dir.write('reversed.pem', client.keyPem + client.pem);
    assert.equal(await clientCn({ cert: { cert: reversed, key: reversed } }), 'alice');
  });

  test('a certificate file with its intermediate: the chain is sent', async () => {
    const clientInter = intermediate(clientRoot, { cn: 'client-cert tests client intermediate' });
    const carol = issue(clientInter, { cn: 'carol', sans: ['DNS:carol.client'], eku: ['clientAuth'] });
    assert.equal(await clientCn({ cert: { cert: pemOf(carol, clientInter), key: carol.keyPem } }), 'carol');
    // Without the intermediate the server cannot build the path and refuses.
    const s = new Session({ verify: serverRoot.pem, trustEnv: false });
    try {
      await assert.rejects(s.get(server.url('/'), { cert: { cert: carol.pem, key: carol.keyPem } }));
    } finally {
      await s.close();
    }
  });

  test('an unencrypted key with a passphrase given anyway', async () => {
    assert.equal(
      await clientCn({ cert: { cert: client.pem, key: client.keyPem, passphrase: 'unused' } }),
      'alice',
    );
  });

  test('PKCS#12 with a passphrase, as a file and as bytes', {
    skip: !hasOpenssl() && 'needs the openssl command',
  }, async () => {
    const pfx = pfxOf(client, { passphrase: 'p12-pass' });
    const file = dir.write('alice.p12', pfx);
    assert.equal(await clientCn({ cert: { pfx: file, passphrase: 'p12-pass' } }), 'alice');
    assert.equal(await clientCn({ cert: { pfx: new Uint8Array(pfx), passphrase: 'p12-pass' } }), 'alice');
  });

  test('PKCS#12 without a passphrase', { skip: !hasOpenssl() && 'needs the openssl command' }, async () => {
    assert.equal(await clientCn({ cert: { pfx: pfxOf(client) } }), 'alice');
  });

  test('TLS 1.2 as well', async () => {
    const r = await session.get(server12.url('/'), { cert: { cert: client.pem, key: client.keyPem } });
    const echo = await r.json<Echo>();
    assert.equal(echo.tls.clientCert, 'alice');
    assert.equal(echo.tls.protocol, 'TLSv1.2');
  });

  test('connections are not shared between client identities', async () => {
    const s = new Session({ verify: serverRoot.pem, trustEnv: false });
    try {
      const a = await s.get(server.url('/'), { cert: { cert: client.pem, key: client.keyPem } });
      assert.equal((await a.json<Echo>()).tls.clientCert, 'alice');
      const b = await s.get(server.url('/'), { cert: { cert: rsaClient.pem, key: rsaClient.keyPem } });
      assert.equal((await b.json<Echo>()).tls.clientCert, 'bob');
      const again = await s.get(server.url('/'), { cert: { cert: client.pem, key: client.keyPem } });
      assert.equal((await again.json<Echo>()).tls.clientCert, 'alice');
    } finally {
      await s.close();
    }
  });
});

/** Asserts a ConfigError with `code` whose message matches `message`, and that no connection was made. */
async function rejectsConfig(cert: unknown, code: string, message: RegExp): Promise<ConfigError> {
  const before = server.connections;
  let caught: unknown;
  try {
    await session.get(server.url('/'), { cert: cert as never });
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected ConfigError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  assert.match(caught.message, message);
  assert.equal(server.connections, before, 'no connection is made with a bad client certificate');
  return caught;
}

describe('client certificates that are wrong: ConfigError saying which part', () => {
  test('wrong passphrase for an encrypted PKCS#8 key', async () => {
    const key = keyPemOf(client.key, { passphrase: 'right' });
    const err = await rejectsConfig(
      { cert: client.pem, key, passphrase: 'wrong' },
      'ERR_CLIENT_KEY_PASSPHRASE',
      /passphrase is wrong/,
    );
    assert.match(err.message, /private key/);
  });

  test('missing passphrase for an encrypted PKCS#8 key, and for a traditional one', async () => {
    await rejectsConfig(
      { cert: client.pem, key: keyPemOf(client.key, { passphrase: 'right' }) },
      'ERR_CLIENT_KEY_PASSPHRASE',
      /is encrypted and no passphrase was given/,
    );
    await rejectsConfig(
      { cert: rsaClient.pem, key: keyPemOf(rsaClient.key, { passphrase: 'right', format: 'pkcs1' }) },
      'ERR_CLIENT_KEY_PASSPHRASE',
      /is encrypted and no passphrase was given/,
    );
  });

  test('wrong passphrase for traditional RSA and EC keys', async () => {
    await rejectsConfig(
      {
        cert: rsaClient.pem,
        key: keyPemOf(rsaClient.key, { passphrase: 'right', format: 'pkcs1' }),
        passphrase: 'nope',
      },
      'ERR_CLIENT_KEY_PASSPHRASE',
      /passphrase is wrong/,
    );
    await rejectsConfig(
      {
        cert: client.pem,
        key: keyPemOf(client.key, { passphrase: 'right', format: 'sec1' }),
        passphrase: 'nope',
      },
      'ERR_CLIENT_KEY_PASSPHRASE',
      /passphrase is wrong/,
    );
  });

  test('a key that belongs to another certificate names both', async () => {
    const err = await rejectsConfig(
      { cert: client.pem, key: rsaClient.keyPem },
      'ERR_CLIENT_CERT_MISMATCH',
      /does not belong to the certificate/,
    );
    assert.match(err.message, /RSA 2048-bit/);
    assert.match(err.message, /EC prime256v1|EC P-256/);
    assert.match(err.message, /CN=alice/);
    // Same key type, other key.
    await rejectsConfig(
      { cert: client.pem, key: stranger.keyPem },
      'ERR_CLIENT_CERT_MISMATCH',
      /does not belong/,
    );
  });

  test('an encrypted key that belongs to another certificate: the passphrase is right, the pair is not', async () => {
    await rejectsConfig(
      { cert: client.pem, key: keyPemOf(stranger.key, { passphrase: 'pw' }), passphrase: 'pw' },
      'ERR_CLIENT_CERT_MISMATCH',
      /does not belong/,
    );
  });

  test('files that do not exist, and values of the wrong type', async () => {
    await rejectsConfig(
      { cert: '/nonexistent/alice.pem', key: client.keyPem },
      'ERR_CLIENT_CERT',
      /the file '\/nonexistent\/alice.pem' does not exist/,
    );
    await rejectsConfig(
      { cert: client.pem, key: 42 },
      'ERR_CLIENT_CERT',
      /cert.key must be a file path, PEM text or bytes, not number/,
    );
    await rejectsConfig({ cert: client.pem }, 'ERR_CLIENT_CERT', /key is missing/);
    await rejectsConfig(
      { cert: client.pem, key: client.keyPem, passphrase: 123 },
      'ERR_CLIENT_CERT',
      /passphrase must be a string/,
    );
    const asString = await rejectsConfig(
      'alice.pem',
      'ERR_CLIENT_CERT',
      /option 'cert' takes \{ cert, key, passphrase\? \} or \{ pfx, passphrase\? \}, not a string/,
    );
    // requests' forms (a path, or a (cert, key) pair) get the form to write here.
    assert.match(
      asString.hint ?? '',
      /cert='both\.pem' .* is cert: \{ cert: 'both\.pem', key: 'both\.pem' \}/,
    );
    const asPair = await rejectsConfig(['alice.pem', 'alice.key'], 'ERR_CLIENT_CERT', /not an array/);
    assert.match(
      asPair.hint ?? '',
      /cert=\('client\.pem', 'key\.pem'\) is cert: \{ cert: 'client\.pem', key: 'key\.pem' \}/,
    );
    await rejectsConfig(
      { pfx: Buffer.from('x'), cert: client.pem, key: client.keyPem },
      'ERR_CLIENT_CERT',
      /either \{ pfx \} or \{ cert, key \}/,
    );
  });

  test('a certificate or key file that is not one', async () => {
    const notCert = dir.write('not-a-cert.pem', 'hello\n');
    await rejectsConfig(
      { cert: notCert, key: client.keyPem },
      'ERR_CLIENT_CERT_FORMAT',
      /is not a certificate/,
    );
    await rejectsConfig(
      { cert: client.pem, key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' },
      'ERR_CLIENT_CERT_FORMAT',
      /is not a private key OpenSSL can read/,
    );
    // The certificate given where the key belongs.
    await rejectsConfig({ cert: client.pem, key: client.pem }, 'ERR_CLIENT_CERT_FORMAT', /not a private key/);
  });

  test('PKCS#12: wrong passphrase, missing passphrase, not PKCS#12, no key', {
    skip: !hasOpenssl() && 'needs the openssl command',
  }, async () => {
    const pfx = pfxOf(client, { passphrase: 'right' });
    await rejectsConfig(
      { pfx, passphrase: 'wrong' },
      'ERR_CLIENT_KEY_PASSPHRASE',
      /passphrase is wrong for the PKCS#12 file/,
    );
    await rejectsConfig({ pfx }, 'ERR_CLIENT_KEY_PASSPHRASE', /protected by a passphrase and none was given/);
    await rejectsConfig(
      { pfx: Buffer.from('definitely not PKCS#12') },
      'ERR_CLIENT_CERT_FORMAT',
      /not a PKCS#12/,
    );
    const d = tempDir('p12-nokey-');
    try {
      const out = `${d.path}/nokey.p12`;
      execFileSync('openssl', [
        'pkcs12',
        '-export',
        '-nokeys',
        '-passout',
        'pass:pw',
        '-in',
        d.write('c.pem', client.pem),
        '-out',
        out,
      ]);
      await rejectsConfig({ pfx: out, passphrase: 'pw' }, 'ERR_CLIENT_CERT_FORMAT', /holds no private key/);
    } finally {
      d.cleanup();
    }
  });

  test('a legacy PKCS#12 (RC2/3DES) says how to convert it', {
    skip: !hasOpenssl() && 'needs the openssl command',
  }, async (t) => {
    const d = tempDir('p12-legacy-');
    try {
      const out = `${d.path}/legacy.p12`;
      try {
        execFileSync(
          'openssl',
          [
            'pkcs12',
            '-export',
            '-legacy',
            '-passout',
            'pass:pw',
            '-inkey',
            d.write('k.pem', client.keyPem),
            '-in',
            d.write('c.pem', client.pem),
            '-out',
            out,
          ],
          { stdio: 'ignore' },
        );
      } catch {
        t.skip('this openssl cannot write legacy PKCS#12 (no legacy provider)');
        return;
      }
      try {
        createSecureContext({ pfx: readFileSync(out), passphrase: 'pw' });
        t.skip("this Node's OpenSSL still reads legacy PKCS#12: nothing to explain");
        return;
      } catch {
        // expected on OpenSSL 3 without the legacy provider
      }
      const err = await rejectsConfig(
        { pfx: out, passphrase: 'pw' },
        'ERR_CLIENT_CERT_FORMAT',
        /OpenSSL 3 no longer enables/,
      );
      assert.match(err.hint ?? '', /openssl pkcs12 -legacy/);
    } finally {
      d.cleanup();
    }
  });
});

describe('the server refuses: HANDSHAKE_FAILED with a hint', () => {
  test('no client certificate, TLS 1.3: the alert arrives after the handshake and is kept', async () => {
    const before = server.requests;
    await assert.rejects(session.get(server.url('/')), (err: unknown) => {
      assert.ok(err instanceof SSLError, String(err));
      assert.equal(err.code, 'HANDSHAKE_FAILED');
      assert.match(err.message, /certificate required/);
      assert.match(err.hint ?? '', /requires a client certificate: pass cert/);
      return true;
    });
    assert.equal(server.requests, before);
  });

  test('no client certificate, TLS 1.2', async () => {
    await assert.rejects(session.get(server12.url('/')), (err: unknown) => {
      assert.ok(err instanceof SSLError, String(err));
      assert.equal(err.code, 'HANDSHAKE_FAILED');
      assert.match(err.hint ?? '', /client certificate/);
      return true;
    });
  });

  test('a certificate from a CA the server does not trust, TLS 1.2', async () => {
    await assert.rejects(
      session.get(server12.url('/'), { cert: { cert: stranger.pem, key: stranger.keyPem } }),
      (err: unknown) => {
        assert.ok(err instanceof SSLError, String(err));
        assert.equal(err.code, 'HANDSHAKE_FAILED');
        assert.match(err.message, /after a client certificate was offered/);
        assert.match(err.hint ?? '', /refuse a client certificate/);
        return true;
      },
    );
  });

  test('a certificate from a CA the server does not trust, TLS 1.3: Node closes without an alert', async () => {
    // Node's TLS server checks the client certificate after the handshake and just closes the
    // connection (no alert), so the client cannot know why: a ConnectionError with a hint.
    const before = server.requests;
    await assert.rejects(
      session.get(server.url('/'), { cert: { cert: stranger.pem, key: stranger.keyPem } }),
      (err: unknown) => {
        assert.ok(err instanceof SSLError || err instanceof ConnectionError, String(err));
        assert.match(err.hint ?? '', /client certificate/);
        return true;
      },
    );
    assert.equal(server.requests, before, 'the server answered nothing');
  });

  test('retries do not repeat a refused handshake', async () => {
    const before = server12.connections;
    await assert.rejects(session.get(server12.url('/'), { retries: 3 }), SSLError);
    assert.equal(server12.connections, before + 1);
  });
});
