/**
 * Issue 4's end-to-end check of the system store through get(): a CA that is only in a fake
 * system store (CERTAINLY_SYSTEM_ROOT points the Linux-layout reader at a temporary /etc)
 * verifies with the defaults, fails with verify: { system: false }, and fails when
 * REQUESTS_CA_BUNDLE points elsewhere, unless verify is given in code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closeDefaultSession, get, Session, SSLError } from '../../src/index.js';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

const CA_VARS = [
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'NODE_EXTRA_CA_CERTS',
];
const saved = new Map<string, string | undefined>();
const fakeEtc = tempDir('fake-system-');
let systemCa: Issued;
let bundlePath: string;
let otherCaPath: string;
let server: TestServer;

before(async () => {
  // This machine (and CI) sets every CA variable to the Debian bundle: start from none.
  for (const name of [...CA_VARS, 'CERTAINLY_SYSTEM_ROOT']) {
    saved.set(name, process.env[name]);
    delete process.env[name];
  }
  systemCa = createRoot({ cn: 'certainly fake system CA' });
  bundlePath = fakeEtc.write('etc/ssl/certs/ca-certificates.crt', systemCa.pem);
  otherCaPath = fakeEtc.write('elsewhere/other-ca.pem', createRoot({ cn: 'some other CA' }).pem);
  process.env.CERTAINLY_SYSTEM_ROOT = fakeEtc.path;
  server = await startTlsServer({ cert: issue(systemCa), chain: [systemCa] });
});

after(async () => {
  await closeDefaultSession();
  await server.close();
  fakeEtc.cleanup();
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

function untrusted(err: unknown): boolean {
  assert.ok(err instanceof SSLError, String(err));
  assert.equal(err.code, 'UNKNOWN_ISSUER');
  return true;
}

describe('a CA only in the (fake) system store', () => {
  test('verifies with the defaults, and the anchor says it came from the system store', async () => {
    const r = await get(server.url('/'));
    assert.equal(r.status, 200);
    assert.deepEqual(r.tls?.anchor?.sources, [`system:${bundlePath}`]);
    // Not a public root: the result says what that suggests (issue 4, interception recognised).
    assert.equal(r.tls?.anchor?.kind, 'system-only');
    assert.match(r.tls?.anchor?.note ?? '', /corporate root or a proxy that inspects TLS/);
  });

  test('a name mismatch on a chain to a root only the OS trusts says so in the hint', async () => {
    const other = await startTlsServer({
      cert: issue(systemCa, { sans: ['DNS:www.example.com'] }),
      chain: [systemCa],
    });
    try {
      await assert.rejects(get(other.url('/')), (err: unknown) => {
        assert.ok(err instanceof SSLError, String(err));
        assert.equal(err.code, 'HOSTNAME_MISMATCH');
        assert.match(err.hint ?? '', /trusted by the operating system .* proxy that inspects TLS/);
        return true;
      });
      assert.equal(other.bytesReceived, 0);
    } finally {
      await other.close();
    }
  });

  test('fails with verify: { system: false } (bundled roots only)', async () => {
    await assert.rejects(get(server.url('/'), { verify: { system: false } }), untrusted);
    assert.equal(server.requests, 1, 'only the first test reached the server');
  });

  test('fails when REQUESTS_CA_BUNDLE points elsewhere: the variable replaces the defaults', async () => {
    process.env.REQUESTS_CA_BUNDLE = otherCaPath;
    try {
      await assert.rejects(get(server.url('/')), untrusted);
      await assert.rejects(get(server.url('/'), { verify: true }), untrusted, 'true is "not set in code"');
    } finally {
      delete process.env.REQUESTS_CA_BUNDLE;
    }
  });

  test('unless verify is given in code: then the variable is not consulted', async () => {
    process.env.REQUESTS_CA_BUNDLE = otherCaPath;
    try {
      const r = await get(server.url('/'), { verify: { system: true, bundled: true } });
      assert.equal(r.status, 200);
      assert.deepEqual(r.tls?.anchor?.sources, [`system:${bundlePath}`]);
      const sys = await get(server.url('/'), { verify: { bundled: false } });
      assert.equal(sys.status, 200);
    } finally {
      delete process.env.REQUESTS_CA_BUNDLE;
    }
  });

  test('trustEnv: false reads no variable, CERTAINLY_SYSTEM_ROOT included: the real store is used', async () => {
    await assert.rejects(get(server.url('/'), { trustEnv: false }), untrusted);
  });
});

describe('anchor kinds', () => {
  test('a CA given in code is a "user" anchor, with no interception note', async () => {
    // A Session of its own: pools are keyed by the set of anchors, so the shared one would
    // reuse the connection (and the record) made through the system store, whose anchor is equal.
    const s = new Session();
    try {
      const r = await s.get(server.url('/'), { verify: systemCa.pem });
      assert.equal(r.tls?.anchor?.kind, 'user');
      assert.deepEqual(r.tls?.anchor?.sources, ['inline']);
      assert.equal(r.tls?.anchor?.note, undefined);
    } finally {
      await s.close();
    }
  });
});
