import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { loadBundled } from '../../src/trust/bundled.js';
import { classifyAnchor, describeAnchor } from '../../src/trust/classify.js';
import { RELOAD_CHECK_MS, type ResolvedTrust, resolveTrust } from '../../src/trust/resolve.js';
import type { TrustStore } from '../../src/trust/store.js';
import {
  createRoot,
  type Issued,
  intermediate,
  issue,
  pemOf,
  startTlsServer,
  type TestServer,
  tempDir,
} from '../support/index.js';
import { throwsConfig } from './helpers.js';

const tmp = tempDir('certainly-trust-resolve-');
after(() => tmp.cleanup());

// A CA that only the (fake) operating system store holds: a corporate root.
const corp = createRoot({ subject: 'CN=Fake Corp Root, O=Example Corp' });
const corpInter = intermediate(corp, { subject: 'CN=Fake Corp Issuing CA, O=Example Corp' });
const corpLeaf = issue(corpInter, { cn: 'localhost' });
const mine = createRoot({ subject: 'CN=My Private CA, O=certainly tests' });
const envRoot = createRoot({ subject: 'CN=Env Bundle Root, O=certainly tests' });
const extraRoot = createRoot({ subject: 'CN=Node Extra Root, O=certainly tests' });

const systemRoot = join(tmp.path, 'fake-os');
tmp.write('fake-os/etc/ssl/certs/ca-certificates.crt', corp.pem);
const emptyRoot = join(tmp.path, 'no-os');
mkdirSync(emptyRoot);
const minePem = tmp.write('mine.pem', mine.pem);
const envPem = tmp.write('env.pem', envRoot.pem);
const extraPem = tmp.write('extra.pem', extraRoot.pem);

const store = (r: ResolvedTrust): TrustStore => {
  assert.equal(r.insecure, false, 'expected a verifying configuration');
  return (r as { store: TrustStore }).store;
};
const has = (r: ResolvedTrust, c: Issued) => store(r).anchors.some((a) => a.cert.fingerprintSha256 === fp(c));
const fp = (c: Issued) => c.x509.fingerprint256.replace(/:/g, '').toLowerCase();
const sourcesOf = (r: ResolvedTrust) => r.explanation.sources.map((s) => s.source);
const used = (r: ResolvedTrust) => r.explanation.envConsidered.filter((e) => e.used).map((e) => e.name);

describe('resolveTrust: defaults', () => {
  it('default = bundled roots ∪ system store; the system-only CA is found and classified', () => {
    const r = resolveTrust({ env: {}, systemRoot });
    assert.equal(r.explanation.decidedBy, 'default');
    assert.ok(has(r, corp));
    assert.equal(
      store(r).size,
      new Set([...loadBundled().certs.map((c) => c.fingerprintSha256), fp(corp)]).size,
    );
    const anchor = store(r).find(
      store(r).anchors.find((a) => a.cert.subject.commonName === 'Fake Corp Root')!.cert,
    )!;
    assert.deepEqual(anchor.sources, [`system:${join(systemRoot, 'etc/ssl/certs/ca-certificates.crt')}`]);
    assert.equal(classifyAnchor(anchor), 'system-only');
    assert.match(describeAnchor(anchor), /not a public root in Mozilla's list: typically a corporate root/);
    const bundledAnchor = store(r).anchors.find((a) => a.sources.includes('bundled'))!;
    assert.equal(classifyAnchor(bundledAnchor), 'bundled');
    assert.deepEqual(sourcesOf(r).slice(0, 1), ['bundled']);
    assert.equal(r.explanation.bundledNodeVersion, process.versions.node);
    assert.match(r.explanation.detail, /defaults are used/);
    assert.deepEqual(used(r), []);
  });

  it('verify: { system: false } leaves the system-only CA out', () => {
    const r = resolveTrust({ verify: { system: false }, env: {}, systemRoot });
    assert.equal(r.explanation.decidedBy, 'option');
    assert.equal(has(r, corp), false);
    assert.deepEqual(sourcesOf(r), ['bundled']);
  });

  it('verify: { bundled: false } is the system store alone', () => {
    const r = resolveTrust({ verify: { bundled: false }, env: {}, systemRoot });
    assert.equal(store(r).size, 1);
    assert.ok(has(r, corp));
  });

  it('an unreadable system store is a warning by default, an error when it is the only source', () => {
    const r = resolveTrust({ env: {}, systemRoot: emptyRoot });
    const row = r.explanation.sources.find((s) => s.source === 'system');
    assert.equal(row?.count, 0);
    assert.match(row?.warning ?? '', /no system CA store found/);
    throwsConfig(
      () => resolveTrust({ verify: { bundled: false }, env: {}, systemRoot: emptyRoot }),
      'ERR_CA_SYSTEM',
      'only source asked for',
    );
  });
});

describe('resolveTrust: CERTAINLY_SYSTEM_ROOT', () => {
  const sysPath = join(systemRoot, 'etc/ssl/certs/ca-certificates.crt');
  const env = { CERTAINLY_SYSTEM_ROOT: systemRoot };

  it('moves the system store under its directory, and the explanation says who set it', () => {
    const r = resolveTrust({ env });
    assert.ok(has(r, corp));
    assert.ok(sourcesOf(r).includes(`system:${sysPath}`));
    assert.deepEqual(r.explanation.systemRoot, { path: systemRoot, from: 'CERTAINLY_SYSTEM_ROOT' });
    // It relocates the store; it does not choose the anchors.
    assert.equal(r.explanation.decidedBy, 'default');
    assert.deepEqual(used(r), []);
  });

  it('applies wherever the system store is used, verify set in code included', () => {
    const r = resolveTrust({ verify: { ca: minePem, system: true }, env });
    assert.ok(has(r, corp) && has(r, mine));
    assert.equal(has(resolveTrust({ verify: minePem, env }), corp), false); // a path: no system store
    assert.equal(resolveTrust({ verify: minePem, env }).explanation.systemRoot, undefined);
  });

  it('is not read with trustEnv: false; the systemRoot option beats it; empty means unset', () => {
    const off = resolveTrust({ env, trustEnv: false });
    assert.equal(off.explanation.systemRoot, undefined);
    assert.ok(!sourcesOf(off).includes(`system:${sysPath}`));
    const option = resolveTrust({ env: { CERTAINLY_SYSTEM_ROOT: emptyRoot }, systemRoot });
    assert.ok(has(option, corp));
    assert.deepEqual(option.explanation.systemRoot, { path: systemRoot, from: 'option' });
    assert.equal(resolveTrust({ env: { CERTAINLY_SYSTEM_ROOT: '' } }).explanation.systemRoot, undefined);
  });

  it('is part of the cache key: another value gives another store', () => {
    const a = resolveTrust({ env });
    const b = resolveTrust({ env: { CERTAINLY_SYSTEM_ROOT: emptyRoot } });
    assert.ok(has(a, corp));
    assert.equal(has(b, corp), false);
    assert.notEqual(store(a).key, store(b).key);
    assert.equal(resolveTrust({ env }), a); // and the same value, the same result
  });
});

describe('resolveTrust: precedence', () => {
  it('REQUESTS_CA_BUNDLE replaces the defaults when verify is not set in code', () => {
    for (const verify of [undefined, true]) {
      const r = resolveTrust({
        ...(verify === undefined ? {} : { verify }),
        env: { REQUESTS_CA_BUNDLE: envPem },
        systemRoot,
      });
      assert.equal(r.explanation.decidedBy, 'env');
      assert.equal(has(r, corp), false, 'the system-only CA is gone');
      assert.equal(store(r).size, 1);
      assert.ok(has(r, envRoot));
      assert.deepEqual(sourcesOf(r), [`env:REQUESTS_CA_BUNDLE:${envPem}`]);
      assert.deepEqual(used(r), ['REQUESTS_CA_BUNDLE']);
      assert.equal(classifyAnchor(store(r).anchors[0]!), 'user');
    }
  });

  it('verify in code beats the environment', () => {
    const env = { REQUESTS_CA_BUNDLE: envPem, SSL_CERT_FILE: envPem };
    const r = resolveTrust({ verify: minePem, env, systemRoot });
    assert.equal(r.explanation.decidedBy, 'option');
    assert.deepEqual(sourcesOf(r), [`file:${minePem}`]);
    assert.deepEqual(used(r), []);
    const why = r.explanation.envConsidered.find((e) => e.name === 'REQUESTS_CA_BUNDLE')!.why;
    assert.match(
      why,
      /verify is set in code \(the path .*mine\.pem\), which the environment never overrides/,
    );
    // The object form too, even without ca.
    const o = resolveTrust({ verify: { system: false }, env, systemRoot });
    assert.equal(has(o, envRoot), false);
    assert.deepEqual(used(o), []);
  });

  it('verify: false is never overridden by the environment', () => {
    const r = resolveTrust({
      verify: false,
      env: { REQUESTS_CA_BUNDLE: envPem, NODE_EXTRA_CA_CERTS: extraPem },
    });
    assert.equal(r.insecure, true);
    assert.equal(r.explanation.decidedBy, 'option');
    assert.deepEqual(used(r), []);
    assert.match(r.explanation.detail, /not verified/);
  });

  it('trustEnv: false ignores every variable', () => {
    const r = resolveTrust({
      trustEnv: false,
      env: { REQUESTS_CA_BUNDLE: envPem, NODE_EXTRA_CA_CERTS: extraPem },
      systemRoot,
    });
    assert.equal(r.explanation.decidedBy, 'default');
    assert.ok(has(r, corp));
    assert.equal(has(r, envRoot) || has(r, extraRoot), false);
    assert.ok(r.explanation.envConsidered.every((e) => !e.used));
    assert.match(r.explanation.envConsidered[0]!.why, /trustEnv is false/);
  });

  it('REQUESTS_CA_BUNDLE beats CURL_CA_BUNDLE, which beats SSL_CERT_FILE', () => {
    const env = { REQUESTS_CA_BUNDLE: envPem, CURL_CA_BUNDLE: minePem, SSL_CERT_FILE: extraPem };
    const r = resolveTrust({ env, systemRoot });
    assert.deepEqual(used(r), ['REQUESTS_CA_BUNDLE']);
    const why = Object.fromEntries(r.explanation.envConsidered.map((e) => [e.name, e.why]));
    assert.match(why.CURL_CA_BUNDLE!, /REQUESTS_CA_BUNDLE is set and comes first/);
    assert.match(why.SSL_CERT_FILE!, /named for the HTTP client beats OpenSSL's/);
    const curl = resolveTrust({ env: { CURL_CA_BUNDLE: minePem, SSL_CERT_FILE: extraPem }, systemRoot });
    assert.deepEqual(used(curl), ['CURL_CA_BUNDLE']);
    assert.ok(has(curl, mine) && !has(curl, extraRoot));
    const empty = resolveTrust({ env: { REQUESTS_CA_BUNDLE: '', CURL_CA_BUNDLE: minePem }, systemRoot });
    assert.deepEqual(used(empty), ['CURL_CA_BUNDLE']);
  });

  it('SSL_CERT_FILE and SSL_CERT_DIR together replace the defaults; a missing listed directory is a warning', () => {
    const dir = join(tmp.path, 'ssl-cert-dir');
    mkdirSync(dir);
    writeFileSync(join(dir, 'mine.pem'), mine.pem);
    const missing = join(tmp.path, 'not-there');
    const r = resolveTrust({ env: { SSL_CERT_FILE: envPem, SSL_CERT_DIR: `${missing}:${dir}` }, systemRoot });
    assert.deepEqual(used(r), ['SSL_CERT_FILE', 'SSL_CERT_DIR']);
    assert.equal(store(r).size, 2);
    assert.ok(has(r, envRoot) && has(r, mine));
    const missingRow = r.explanation.sources.find((s) => s.source === `env:SSL_CERT_DIR:${missing}`);
    assert.equal(missingRow?.count, 0);
    assert.match(missingRow?.warning ?? '', /does not exist/);
    throwsConfig(
      () => resolveTrust({ env: { SSL_CERT_FILE: join(tmp.path, 'nope.pem'), SSL_CERT_DIR: missing } }),
      'ERR_CA_EMPTY',
      'SSL_CERT_FILE and SSL_CERT_DIR name no readable certificate',
    );
  });

  it('a replacing variable that names a missing file is an error naming the variable', () => {
    const path = join(tmp.path, 'missing-bundle.pem');
    throwsConfig(
      () => resolveTrust({ env: { REQUESTS_CA_BUNDLE: path } }),
      'ERR_CA_PATH',
      path,
      'REQUESTS_CA_BUNDLE',
      'Fix or unset the REQUESTS_CA_BUNDLE environment variable',
    );
  });

  it('NODE_EXTRA_CA_CERTS adds to the defaults and to a replacing variable; a bad path is a warning', () => {
    const d = resolveTrust({ env: { NODE_EXTRA_CA_CERTS: extraPem }, systemRoot });
    assert.equal(d.explanation.decidedBy, 'default');
    assert.ok(has(d, extraRoot) && has(d, corp));
    assert.match(d.explanation.detail, /plus NODE_EXTRA_CA_CERTS \(1 certificate, 1 not already trusted\)/);
    const e = resolveTrust({
      env: { REQUESTS_CA_BUNDLE: envPem, NODE_EXTRA_CA_CERTS: extraPem },
      systemRoot,
    });
    assert.equal(store(e).size, 2);
    assert.deepEqual(used(e), ['REQUESTS_CA_BUNDLE', 'NODE_EXTRA_CA_CERTS']);
    const bad = resolveTrust({
      env: { REQUESTS_CA_BUNDLE: envPem, NODE_EXTRA_CA_CERTS: join(tmp.path, 'x.pem') },
    });
    assert.equal(store(bad).size, 1);
    assert.match(
      bad.explanation.sources.at(-1)!.warning ?? '',
      /x\.pem \(from NODE_EXTRA_CA_CERTS\) does not exist/,
    );
    // Not when verify is set in code.
    const code = resolveTrust({ verify: minePem, env: { NODE_EXTRA_CA_CERTS: extraPem } });
    assert.equal(has(code, extraRoot), false);
  });
});

describe('resolveTrust: verify forms', () => {
  it('a path, PEM text, bytes and { ca } replace the defaults; with bundled and system they add', () => {
    const path = resolveTrust({ verify: minePem, env: {}, systemRoot });
    assert.equal(store(path).size, 1);
    assert.equal(store(resolveTrust({ verify: mine.pem, env: {} })).size, 1);
    assert.equal(store(resolveTrust({ verify: new Uint8Array(mine.der), env: {} })).size, 1);
    const obj = resolveTrust({ verify: { ca: minePem }, env: {}, systemRoot });
    assert.equal(store(obj).key, store(path).key, 'equal anchors share a key');
    const list = resolveTrust({ verify: { ca: [minePem, envRoot.pem] }, env: {} });
    assert.equal(store(list).size, 2);
    assert.deepEqual(sourcesOf(list), [`file:${minePem}`, 'inline']);
    const added = resolveTrust({ verify: { ca: minePem, bundled: true, system: true }, env: {}, systemRoot });
    assert.ok(has(added, mine) && has(added, corp));
    assert.ok(store(added).size > 100);
    assert.match(added.explanation.detail, /added to the defaults/);
    const dir = join(tmp.path, 'verify-dir');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.crt'), mine.pem);
    assert.deepEqual(sourcesOf(resolveTrust({ verify: dir, env: {} })), [`dir:${dir}`]);
  });

  it('malformed options are ERR_CA_OPTION with a sentence', () => {
    throwsConfig(() => resolveTrust({ verify: 42 as never }), 'ERR_CA_OPTION', 'not number 42');
    throwsConfig(() => resolveTrust({ verify: '' }), 'ERR_CA_OPTION', 'verify is an empty string');
    throwsConfig(
      () => resolveTrust({ verify: { bundle: true } as never }),
      'ERR_CA_OPTION',
      'unknown key "bundle"',
    );
    throwsConfig(() => resolveTrust({ verify: { ca: [] } }), 'ERR_CA_OPTION', 'empty list');
    // An unset variable must not widen trust to every public root.
    throwsConfig(() => resolveTrust({ verify: { ca: undefined } }), 'ERR_CA_OPTION', 'present but undefined');
    throwsConfig(
      () => resolveTrust({ verify: { ca: [minePem, 7 as never] } }),
      'ERR_CA_OPTION',
      'verify.ca[1]',
    );
    throwsConfig(
      () => resolveTrust({ verify: { system: 'no' as never } }),
      'ERR_CA_OPTION',
      'verify.system must be true or false',
    );
    throwsConfig(
      () => resolveTrust({ verify: { bundled: false, system: false } }),
      'ERR_CA_OPTION',
      'selects no trust anchors',
      'verify: false',
    );
    throwsConfig(() => resolveTrust({ verify: join(tmp.path, 'absent.pem') }), 'ERR_CA_PATH', 'absent.pem');
  });
});

describe('resolveTrust: built once, reloaded on change', () => {
  it('returns the same result for the same configuration', () => {
    const a = resolveTrust({ env: {}, systemRoot });
    const b = resolveTrust({ env: {}, systemRoot });
    assert.equal(a, b);
    assert.equal(resolveTrust({ verify: mine.pem, env: {} }), resolveTrust({ verify: mine.pem, env: {} }));
  });

  it('notices a verify object changed after first use, and a changed env variable', () => {
    const verify: { system: boolean } = { system: true };
    assert.ok(has(resolveTrust({ verify, env: {}, systemRoot }), corp));
    verify.system = false;
    assert.equal(has(resolveTrust({ verify, env: {}, systemRoot }), corp), false);
    const env: NodeJS.ProcessEnv = {};
    assert.ok(has(resolveTrust({ env, systemRoot }), corp));
    env.REQUESTS_CA_BUNDLE = envPem;
    assert.equal(has(resolveTrust({ env, systemRoot }), corp), false);
  });

  it(`picks up a changed CA file, checking at most every ${RELOAD_CHECK_MS} ms`, () => {
    const path = tmp.write('changing.pem', mine.pem);
    let now = 1_000_000;
    const clock = () => now;
    const first = resolveTrust({ verify: path, env: {}, now: clock });
    assert.ok(has(first, mine));
    tmp.write('changing.pem', pemOf(mine, envRoot));
    now += RELOAD_CHECK_MS - 1;
    assert.equal(resolveTrust({ verify: path, env: {}, now: clock }), first, 'not checked yet');
    now += 1;
    const second = resolveTrust({ verify: path, env: {}, now: clock });
    assert.notEqual(second, first);
    assert.equal(store(second).size, 2);
    now += RELOAD_CHECK_MS;
    assert.equal(resolveTrust({ verify: path, env: {}, now: clock }), second, 'unchanged: same result');
  });

  it('picks up a certificate added to a CA directory', () => {
    const dir = join(tmp.path, 'growing');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.pem'), mine.pem);
    let now = 5_000_000;
    const first = resolveTrust({ verify: dir, env: {}, now: () => now });
    writeFileSync(join(dir, 'b.pem'), envRoot.pem);
    now += RELOAD_CHECK_MS;
    assert.equal(store(resolveTrust({ verify: dir, env: {}, now: () => now })).size, 2);
    assert.equal(store(first).size, 1);
  });

  it('a file that breaks is an error until it is fixed', () => {
    const path = tmp.write('breaking.pem', mine.pem);
    let now = 9_000_000;
    resolveTrust({ verify: path, env: {}, now: () => now });
    tmp.write('breaking.pem', '');
    now += RELOAD_CHECK_MS;
    throwsConfig(() => resolveTrust({ verify: path, env: {}, now: () => now }), 'ERR_CA_EMPTY', path);
    tmp.write('breaking.pem', envRoot.pem);
    assert.ok(has(resolveTrust({ verify: path, env: {}, now: () => now }), envRoot));
  });
});

describe('resolveTrust: a real handshake against the anchors', () => {
  let server: TestServer;
  before(async () => {
    server = await startTlsServer({ cert: corpLeaf, chain: [corpInter] });
  });
  after(() => server.close());

  const handshake = (r: ResolvedTrust) =>
    new Promise<{ authorized: boolean; error?: string }>((resolve, reject) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: server.port,
        servername: 'localhost',
        ca: [...store(r).pems()],
        rejectUnauthorized: false,
      });
      socket.once('secureConnect', () => {
        const out = { authorized: socket.authorized, error: String(socket.authorizationError ?? '') };
        socket.destroy();
        resolve(out);
      });
      socket.once('error', reject);
    });

  it('a server signed by a CA only in the fake system store verifies with the defaults', async () => {
    assert.equal((await handshake(resolveTrust({ env: {}, systemRoot }))).authorized, true);
  });

  it('fails with system: false, and with REQUESTS_CA_BUNDLE pointing elsewhere unless verify is in code', async () => {
    const noSystem = await handshake(resolveTrust({ verify: { system: false }, env: {}, systemRoot }));
    assert.equal(noSystem.authorized, false);
    assert.match(noSystem.error ?? '', /UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
    const env = { REQUESTS_CA_BUNDLE: envPem };
    assert.equal((await handshake(resolveTrust({ env, systemRoot }))).authorized, false);
    const inCode = resolveTrust({ verify: { ca: corp.pem }, env, systemRoot });
    assert.equal((await handshake(inCode)).authorized, true);
  });
});
