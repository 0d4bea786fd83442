/**
 * Pinning: SPKI pins (curl's sha256//BASE64) per request and per Session host, certificate
 * fingerprints (urllib3's assert_fingerprint), checked after path validation and never instead
 * of it, against loopback servers.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ConfigError, Session, SSLError } from '../../src/index.js';
import { createRoot, type Issued, issue, selfSigned } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let leaf: Issued;
let otherLeaf: Issued;
let server: TestServer;
let other: TestServer;
let session: Session;

const spkiPin = (c: Issued) => `sha256//${createHash('sha256').update(c.spkiDer).digest('base64')}`;
const fingerprint = (c: Issued) => createHash('sha256').update(c.der).digest('hex');
const colons = (hex: string) => (hex.toUpperCase().match(/../g) ?? []).join(':');
const wrongPin = `sha256//${Buffer.alloc(32, 7).toString('base64')}`;

before(async () => {
  root = createRoot({ cn: 'pinning tests root' });
  leaf = issue(root);
  otherLeaf = issue(root);
  server = await startTlsServer({ cert: leaf });
  other = await startTlsServer({ cert: otherLeaf, host: 'localhost' });
  session = new Session({ verify: root.pem, trustEnv: false });
});

after(async () => {
  await session.close();
  await server.close();
  await other.close();
});

function pinMismatch(check?: (err: SSLError) => void) {
  return (err: unknown) => {
    assert.ok(err instanceof SSLError, String(err));
    assert.equal(err.code, 'PIN_MISMATCH');
    check?.(err);
    return true;
  };
}

describe('SPKI pins', () => {
  test('the right pin connects; sha256/ with one slash is accepted too', async () => {
    assert.equal((await session.get(server.url('/'), { pin: spkiPin(leaf) })).status, 200);
    assert.equal((await session.get(server.url('/'), { pin: spkiPin(leaf).replace('//', '/') })).status, 200);
  });

  test('several pins: any one may match (a backup pin), as a list or separated by ;', async () => {
    assert.equal((await session.get(server.url('/'), { pin: [wrongPin, spkiPin(leaf)] })).status, 200);
    assert.equal((await session.get(server.url('/'), { pin: `${wrongPin};${spkiPin(leaf)}` })).status, 200);
  });

  test('a wrong pin is PIN_MISMATCH showing expected and actual, and no request byte is sent', async () => {
    const bytes = server.bytesReceived;
    const backup = `sha256//${Buffer.alloc(32, 9).toString('base64')}`;
    await assert.rejects(
      session.get(server.url('/'), { pin: [wrongPin, backup] }),
      pinMismatch((err) => {
        assert.deepEqual(err.pins, [wrongPin, backup]);
        assert.deepEqual(err.presented, [spkiPin(leaf)]);
        assert.equal(err.expected, '127.0.0.1');
        assert.ok(err.message.includes(wrongPin) && err.message.includes(backup), err.message);
        assert.ok(err.message.includes(spkiPin(leaf)), err.message);
        assert.equal(err.position, 0);
        assert.equal(err.chain?.[0]?.spkiSha256, spkiPin(leaf).slice(8));
        assert.match(err.hint ?? '', /backup pin/);
      }),
    );
    assert.equal(server.bytesReceived, bytes);
  });

  test('a verified connection without a pin is not reused by a pinned request', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      assert.equal((await s.get(server.url('/'))).status, 200);
      await assert.rejects(s.get(server.url('/'), { pin: wrongPin }), pinMismatch());
      assert.equal((await s.get(server.url('/'))).status, 200);
    } finally {
      await s.close();
    }
  });

  test('malformed pins are ConfigErrors', async () => {
    for (const pin of ['sha256//short', 'AAAA', `sha1//${Buffer.alloc(20).toString('base64')}`, '', ';']) {
      await assert.rejects(session.get(server.url('/'), { pin }), (err: unknown) => {
        assert.ok(err instanceof ConfigError, `${pin}: ${String(err)}`);
        assert.equal(err.code, 'ERR_PIN_FORMAT');
        return true;
      });
    }
    await assert.rejects(session.get(server.url('/'), { pin: 42 as never }), ConfigError);
  });
});

describe('pins never replace path validation', () => {
  test('a pinned self-signed certificate still fails: SELF_SIGNED', async () => {
    const self = selfSigned();
    const srv = await startTlsServer({ cert: self });
    try {
      await assert.rejects(session.get(srv.url('/'), { pin: spkiPin(self) }), (err: unknown) => {
        assert.ok(err instanceof SSLError);
        assert.equal(err.code, 'SELF_SIGNED');
        return true;
      });
      assert.equal(srv.bytesReceived, 0);
    } finally {
      await srv.close();
    }
  });

  test('a pinned certificate from an untrusted CA still fails: UNKNOWN_ISSUER', async () => {
    const rogue = createRoot({ cn: 'rogue root' });
    const rogueLeaf = issue(rogue);
    const srv = await startTlsServer({ cert: rogueLeaf, chain: [rogue] });
    try {
      await assert.rejects(
        session.get(srv.url('/'), { pin: spkiPin(rogueLeaf), fingerprint: fingerprint(rogueLeaf) }),
        (err: unknown) => {
          assert.ok(err instanceof SSLError);
          assert.equal(err.code, 'UNKNOWN_ISSUER');
          return true;
        },
      );
      assert.equal(srv.bytesReceived, 0);
    } finally {
      await srv.close();
    }
  });

  test('a pinned certificate for another name still fails: HOSTNAME_MISMATCH', async () => {
    const named = issue(root, { sans: ['DNS:example.com'] });
    const srv = await startTlsServer({ cert: named });
    try {
      await assert.rejects(session.get(srv.url('/'), { pin: spkiPin(named) }), (err: unknown) => {
        assert.ok(err instanceof SSLError);
        assert.equal(err.code, 'HOSTNAME_MISMATCH');
        return true;
      });
    } finally {
      await srv.close();
    }
  });

  test('with verify: false the pin is still checked (curl --pinnedpubkey with -k)', async () => {
    const s = new Session({ verify: false });
    try {
      await assert.rejects(
        s.get(server.url('/'), { pin: wrongPin }),
        pinMismatch((err) => assert.match(err.message, /verification is off: only the pin protects/)),
      );
      assert.equal((await s.get(server.url('/'), { pin: spkiPin(leaf) })).status, 200);
    } finally {
      await s.close();
    }
  });
});

describe('certificate fingerprints (assert_fingerprint)', () => {
  test('hex with or without colons, any case', async () => {
    const hex = fingerprint(leaf);
    for (const fp of [hex, hex.toUpperCase(), colons(hex), colons(hex).toLowerCase(), `  ${hex}\n`]) {
      assert.equal((await session.get(server.url('/'), { fingerprint: fp })).status, 200, fp);
    }
    assert.equal(
      (await session.get(server.url('/'), { fingerprint: [fingerprint(otherLeaf), hex] })).status,
      200,
    );
  });

  test('a wrong fingerprint is PIN_MISMATCH showing both, colon-separated', async () => {
    const bytes = server.bytesReceived;
    await assert.rejects(
      session.get(server.url('/'), { fingerprint: fingerprint(otherLeaf) }),
      pinMismatch((err) => {
        assert.deepEqual(err.pins, [colons(fingerprint(otherLeaf))]);
        assert.deepEqual(err.presented, [colons(fingerprint(leaf))]);
        assert.ok(err.message.includes(colons(fingerprint(leaf))), err.message);
        assert.match(err.hint ?? '', /renewed certificate/);
      }),
    );
    assert.equal(server.bytesReceived, bytes);
  });

  test('pin and fingerprint together: both must hold', async () => {
    assert.equal(
      (await session.get(server.url('/'), { pin: spkiPin(leaf), fingerprint: fingerprint(leaf) })).status,
      200,
    );
    await assert.rejects(
      session.get(server.url('/'), { pin: spkiPin(leaf), fingerprint: fingerprint(otherLeaf) }),
      pinMismatch(),
    );
    await assert.rejects(
      session.get(server.url('/'), { pin: wrongPin, fingerprint: fingerprint(leaf) }),
      pinMismatch(),
    );
  });

  test('MD5 and SHA-1 fingerprints are refused with a reason; garbage is a ConfigError', async () => {
    const md5 = createHash('md5').update(leaf.der).digest('hex');
    const sha1 = colons(createHash('sha1').update(leaf.der).digest('hex'));
    await assert.rejects(session.get(server.url('/'), { fingerprint: md5 }), /looks like an MD5 fingerprint/);
    await assert.rejects(
      session.get(server.url('/'), { fingerprint: sha1 }),
      /looks like an SHA-1 fingerprint/,
    );
    for (const fp of ['zz', fingerprint(leaf).slice(2), '', []] as const) {
      await assert.rejects(session.get(server.url('/'), { fingerprint: fp as never }), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, 'ERR_FINGERPRINT_FORMAT');
        return true;
      });
    }
  });
});

describe('Session pins per host, and redirects', () => {
  test('pins: { host: [...] } applies to that host only, case and trailing dot ignored', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false, pins: { '127.0.0.1': [spkiPin(leaf)] } });
    const wrong = new Session({ verify: root.pem, trustEnv: false, pins: { '127.0.0.1': wrongPin } });
    const otherHost = new Session({ verify: root.pem, trustEnv: false, pins: { 'LOCALHOST.': wrongPin } });
    try {
      assert.equal((await s.get(server.url('/'))).status, 200);
      await assert.rejects(wrong.get(server.url('/')), pinMismatch());
      assert.equal((await otherHost.get(server.url('/'))).status, 200, 'no pin for 127.0.0.1');
      await assert.rejects(otherHost.get(other.url('/')), pinMismatch());
    } finally {
      await Promise.all([s.close(), wrong.close(), otherHost.close()]);
    }
  });

  test('a per-request pin describes the URL asked for: a redirect to another origin is verified normally', async () => {
    const target = other.url('/landed');
    const r = await session.get(server.url(`/redirect/302?to=${encodeURIComponent(target)}`), {
      pin: spkiPin(leaf),
      fingerprint: fingerprint(leaf),
    });
    assert.equal(r.status, 200);
    assert.equal(r.url, target);
  });

  test("the Session's host pins follow a redirect to that host", async () => {
    const s = new Session({ verify: root.pem, trustEnv: false, pins: { localhost: wrongPin } });
    try {
      const target = other.url('/landed');
      await assert.rejects(
        s.get(server.url(`/redirect/302?to=${encodeURIComponent(target)}`)),
        pinMismatch(),
      );
    } finally {
      await s.close();
    }
  });

  test('malformed Session pins are a ConfigError naming the host', async () => {
    const s = new Session({ verify: root.pem, trustEnv: false, pins: { '127.0.0.1': 'nope' } });
    try {
      await assert.rejects(s.get(server.url('/')), /pins\['127.0.0.1'\]: 'nope' is not an SPKI pin/);
    } finally {
      await s.close();
    }
  });
});
