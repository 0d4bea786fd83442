/**
 * What logging shows: `console.log(session)` / `util.inspect` and `JSON.stringify` of a Session
 * show its settings but none of the secrets it was given (Authorization and Cookie headers, an
 * API key header, auth, a proxy's password, proxyAuth, a client key and its passphrase); they used
 * to print every one. The Session is used for real first (a client certificate with an encrypted
 * key, through a proxy with credentials, to a loopback server), and the errors and responses it
 * gives are checked the same way. And errors read well in a log: inspect shows the fields that are
 * set (not a line of `undefined` for each one that is not), JSON has the name and the message.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { get, HTTPError, Session, SSLError } from '../../src/index.js';
import { createRoot, type Issued, issue, keyPemOf, tempDir } from '../support/pki.js';
import { startProxy, type TestProxy } from '../support/proxy.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

const SECRETS = {
  bearer: 'bearer-secret-1',
  cookie: 'cookie-secret-2',
  apiKey: 'api-key-secret-3',
  password: 'auth-password-4',
  proxyPassword: 'proxy-password-5',
  passphrase: 'key-passphrase-6',
};

const dir = tempDir('logging-');
let root: Issued;
let client: Issued;
let server: TestServer;
let proxy: TestProxy;
let keyPath: string;

before(async () => {
  root = createRoot({ cn: 'logging tests root' });
  client = issue(root, { cn: 'logger', sans: ['DNS:logger.client'], eku: ['clientAuth'] });
  keyPath = dir.write('client.key', keyPemOf(client.key, { passphrase: SECRETS.passphrase }));
  server = await startTlsServer({ cert: issue(root), requestCert: true, clientCa: root.pem });
  proxy = await startProxy({ auth: `alice:${SECRETS.proxyPassword}` });
});

after(async () => {
  await server.close();
  await proxy.close();
  dir.cleanup();
});

function assertNoSecret(label: string, text: string): void {
  for (const [name, secret] of Object.entries(SECRETS)) {
    assert.ok(!text.includes(secret), `${label} shows the ${name}:\n${text}`);
  }
  // Basic credentials, encoded.
  assert.ok(
    !text.includes(Buffer.from(`bob:${SECRETS.password}`).toString('base64')),
    `${label}: Basic auth`,
  );
}

describe('a Session with secrets, logged', () => {
  test('inspect and JSON.stringify show its settings, not its secrets; its responses and errors neither', async () => {
    const s = new Session({
      verify: root.pem,
      trustEnv: false,
      headers: {
        Authorization: `Bearer ${SECRETS.bearer}`,
        Cookie: `sid=${SECRETS.cookie}`,
        'X-Api-Key': SECRETS.apiKey,
        'User-Agent': 'logging-test',
      },
      auth: ['bob', SECRETS.password],
      proxy: `http://alice:${SECRETS.proxyPassword}@127.0.0.1:${proxy.port}`,
      cert: { cert: client.pem, key: keyPath, passphrase: SECRETS.passphrase },
    });
    try {
      const r = await s.get(server.url('/echo'));
      assert.equal(r.status, 200);
      assert.equal(proxy.connects.length, 1, 'the request went through the proxy');
      const shown = inspect(s, { depth: 10 });
      const json = JSON.stringify(s);
      for (const [label, text] of [
        ['inspect(session)', shown],
        ['JSON.stringify(session)', json],
        ['inspect(response)', inspect(r, { depth: 10 })],
        ['JSON.stringify(response)', JSON.stringify(r)],
      ] as const) {
        assertNoSecret(label, text);
      }
      // Still useful: what is set, and where secrets come from (a path), are shown.
      assert.match(shown, /^Session \{/);
      assert.match(shown, /'User-Agent'.*'logging-test'/);
      assert.match(shown, /Authorization.*\[redacted\]/);
      assert.match(shown, new RegExp(`http://…@127\\.0\\.0\\.1:${proxy.port}`));
      assert.ok(shown.includes(keyPath), 'the key file path is shown');
      assert.deepEqual(JSON.parse(json).defaults.auth, '[redacted]');
      assert.equal(JSON.parse(json).defaults.cert.passphrase, '[redacted]');

      // The options object itself is untouched: the next request still sends the credentials.
      const again = await s.get(server.url('/echo'));
      assert.equal(again.status, 200);

      // An error of the same Session (a 407 from a proxy given a wrong password) shows none either.
      const err = await s
        .get(server.url('/'), { proxy: `http://alice:${SECRETS.password}@127.0.0.1:${proxy.port}` })
        .then(
          () => assert.fail('expected a 407'),
          (e: unknown) => e,
        );
      assert.equal((err as { code?: string }).code, 'ERR_PROXY_AUTH');
      assertNoSecret('inspect(ProxyError)', inspect(err, { depth: 10 }));
      assertNoSecret('JSON.stringify(ProxyError)', JSON.stringify(err));
    } finally {
      await s.close();
    }
  });

  test('a key given as PEM text, headers as pairs, a proxy object: hidden too', () => {
    const s = new Session({
      trustEnv: false,
      headers: [['authorization', `Bearer ${SECRETS.bearer}`]],
      proxy: {
        url: `http://alice:${SECRETS.proxyPassword}@127.0.0.1:${proxy.port}`,
        auth: ['alice', SECRETS.proxyPassword],
      },
      proxyAuth: ['alice', SECRETS.proxyPassword],
      cert: { cert: client.pem, key: keyPemOf(client.key), passphrase: SECRETS.passphrase },
      cookies: [],
    });
    const shown = inspect(s, { depth: 10 });
    assertNoSecret('inspect(session)', shown);
    assertNoSecret('JSON.stringify(session)', JSON.stringify(s));
    assert.ok(!shown.includes('PRIVATE KEY'), shown);
    assert.ok(
      s.defaults.cert !== undefined &&
        'key' in s.defaults.cert &&
        /PRIVATE KEY/.test(String(s.defaults.cert.key)),
    );
  });
});

describe('a Session with credentials in its base URL and parameters, logged', () => {
  // A base URL's user:password@ is every request's Basic auth, and API keys often travel as query
  // parameters: both were printed as given.
  test('the base URL shows no user:password nor credential parameters; params show no credential values', () => {
    const s = new Session({
      trustEnv: false,
      baseUrl: `https://bob:${SECRETS.password}@api.example/v1/?access_token=${SECRETS.bearer}&page=1`,
      params: { api_key: SECRETS.apiKey, page: 2 },
      headers: { 'X-Api_Key': SECRETS.apiKey },
    });
    const withPairs = new Session({ trustEnv: false, params: [['client_secret', SECRETS.passphrase]] });
    for (const [label, text] of [
      ['inspect(session)', inspect(s, { depth: 10 })],
      ['JSON.stringify(session)', JSON.stringify(s)],
      ['inspect(session with pairs)', inspect(withPairs, { depth: 10 })],
    ] as const) {
      assertNoSecret(label, text);
    }
    const json = JSON.parse(JSON.stringify(s)).defaults;
    assert.equal(json.baseUrl, 'https://…@api.example/v1/?access_token=[redacted]&page=1');
    assert.deepEqual(json.params, { api_key: '[redacted]', page: 2 });
    assert.equal(json.headers['X-Api_Key'], '[redacted]');
  });
});

describe('errors, logged', () => {
  test('inspect shows only the fields that are set; JSON.stringify has the name and the message', async () => {
    const wrongName = await startTlsServer({ cert: issue(root, { sans: ['DNS:elsewhere.example'] }) });
    try {
      const ssl = await get(wrongName.url('/'), { verify: root.pem, trustEnv: false }).then(
        () => assert.fail('expected a name mismatch'),
        (e: unknown) => e,
      );
      assert.ok(ssl instanceof SSLError);
      const r = await get(wrongName.url('/status/404'), {
        verify: root.pem,
        trustEnv: false,
        serverName: 'elsewhere.example',
      });
      const http = (() => {
        try {
          r.raiseForStatus();
        } catch (e) {
          return e;
        }
        return assert.fail(`expected an HTTPError for ${r.status}`);
      })();
      assert.ok(http instanceof HTTPError, String(http));
      for (const err of [ssl, http]) {
        const shown = inspect(err);
        assert.doesNotMatch(shown, /: undefined/, shown);
        const json = JSON.parse(JSON.stringify(err));
        assert.equal(json.name, err.name);
        assert.equal(json.message, err.message);
        assert.equal(json.code, err.code);
        assert.equal('stack' in json || 'cause' in json || 'response' in json, false, JSON.stringify(json));
      }
      assert.match(inspect(ssl), /expected: '127\.0\.0\.1'/);
      assert.deepEqual(JSON.parse(JSON.stringify(ssl)).presented, ['elsewhere.example']);
      assert.equal(JSON.parse(JSON.stringify(http)).status, 404);
    } finally {
      await wrongName.close();
    }
  });
});
