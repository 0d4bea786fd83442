/**
 * The public API as users get it: `import … from 'certainly'` and `require('certainly')`, which
 * Node resolves through package.json's "name" and "exports" to the built bundles dist/esm/index.js
 * and dist/cjs/index.js (a package may import itself by name). Every name the documentation promises exists there and is the right kind of thing, the
 * built entry matches the source entry (a stale dist/ is caught), and the main pieces work when
 * reached through the package name.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import * as source from '../src/index.js';
import { createRoot, type Issued, issue, pemOf, startTlsServer, type TestServer } from './support/index.js';

// A variable, so that type-checking does not need dist/ (it is built by `npm run build`).
const PACKAGE = 'certainly';
let pkg: typeof source;

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The documented names, with what each must be. */
const DOCUMENTED: Record<string, 'function' | 'class' | 'object'> = {
  get: 'function',
  post: 'function',
  put: 'function',
  patch: 'function',
  delete: 'function',
  head: 'function',
  options: 'function',
  request: 'function',
  Session: 'class',
  Response: 'class',
  errors: 'object',
  verifyChain: 'function',
  dispatcher: 'function',
  agent: 'function',
  diagnose: 'function',
  findingFor: 'function',
  FINDING_CODES: 'object',
  resolveTrust: 'function',
  SSLError: 'class',
  ConnectionError: 'class',
  ConnectTimeout: 'class',
  ReadTimeout: 'class',
  TooManyRedirects: 'class',
  HTTPError: 'class',
  InvalidURL: 'class',
  ConfigError: 'class',
  ProxyError: 'class',
  SessionClosed: 'class',
  DecodeError: 'class',
  ResponseTooLarge: 'class',
  TotalTimeout: 'class',
  ProtocolError: 'class',
  HookError: 'class',
  BodyError: 'class',
  VERIFY_CODES: 'object',
};

function kindOf(value: unknown): string {
  if (typeof value === 'function')
    return /^class[\s{]/.test(Function.prototype.toString.call(value)) ? 'class' : 'function';
  return value === null ? 'null' : typeof value;
}

before(async () => {
  try {
    pkg = (await import(PACKAGE)) as typeof source;
  } catch (err) {
    throw new Error(
      `import('${PACKAGE}') failed (${(err as Error).message}): run \`npm run build\` first (npm test does), so that dist/esm/index.js exists`,
    );
  }
});

describe("the package entry: import … from 'certainly'", () => {
  test('resolves to dist/esm/index.js through package.json "exports"', () => {
    assert.match(import.meta.resolve(PACKAGE), /\/dist\/esm\/index\.js$/);
  });

  test("require('certainly') gives the CommonJS bundle, with the same names, on every Node version", () => {
    const require = createRequire(import.meta.url);
    assert.match(require.resolve(PACKAGE), /\/dist\/cjs\/index\.js$/);
    const cjs = require(PACKAGE) as typeof source;
    assert.deepEqual(Object.keys(cjs).sort(), Object.keys(source).sort(), 'dist/cjs differs from the source');
    // Two copies of the package in one process (import and require) still agree on errors.
    const e = new cjs.SSLError('x', { code: 'UNKNOWN_ISSUER' });
    assert.ok(e instanceof pkg.SSLError && e instanceof source.CertainlyError);
  });

  test('every documented name exists and is the right kind of thing', () => {
    const wrong = Object.entries(DOCUMENTED)
      .filter(([name, kind]) => kindOf((pkg as Record<string, unknown>)[name]) !== kind)
      .map(
        ([name, kind]) => `${name}: expected ${kind}, got ${kindOf((pkg as Record<string, unknown>)[name])}`,
      );
    assert.deepEqual(wrong, []);
  });

  test("every name the README imports from 'certainly' exists", () => {
    const names = new Set<string>();
    for (const m of README.matchAll(/import\s*\{([^}]*)\}\s*from\s*'certainly'/g)) {
      for (const part of m[1]!.split(',')) {
        const name = part
          .trim()
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/)[0]!;
        if (name && !part.trim().startsWith('type ')) names.add(name);
      }
    }
    assert.ok(names.size >= 5, `found only ${[...names].join(', ')} in README imports`);
    const missing = [...names].filter((n) => !(n in pkg));
    assert.deepEqual(missing, [], `README imports names the package does not export`);
  });

  test('the built entry exports exactly what src/index.ts does (dist/ is not stale)', () => {
    assert.deepEqual(
      Object.keys(pkg).sort(),
      Object.keys(source).sort(),
      'dist/ differs from the source: run `npm run build`',
    );
  });

  test('errors is the namespace of the error classes, the same classes as the flat exports', () => {
    assert.equal(pkg.errors.SSLError, pkg.SSLError);
    assert.equal(pkg.errors.ConnectionError, pkg.ConnectionError);
    assert.equal(pkg.errors.VERIFY_CODES, pkg.VERIFY_CODES);
    const e = new pkg.errors.SSLError('x', { code: 'UNKNOWN_ISSUER' });
    assert.ok(e instanceof pkg.CertainlyError && e instanceof Error);
    // And a second copy of the package (the source build) recognises it: instanceof by brand.
    assert.ok(e instanceof source.SSLError);
  });
});

describe('the main pieces work through the package name', () => {
  let root: Issued;
  let leaf: Issued;
  let server: TestServer;
  before(async () => {
    root = createRoot({ cn: 'API test root' });
    leaf = issue(root);
    server = await startTlsServer({ cert: leaf });
  });
  after(async () => {
    await server.close();
    await pkg.closeDefaultSession();
  });

  test('get() verifies against a CA given in code', async () => {
    const r = await pkg.get(server.url('/'), { verify: root.pem });
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { message: string }).message, 'hello');
  });

  test('verifyChain() accepts the chain and refuses a wrong name with a typed error', () => {
    const ok = pkg.verifyChain({ chain: pemOf(leaf), ca: root.pem, name: 'localhost' });
    assert.equal(ok.ok, true);
    const bad = pkg.verifyChain({ chain: pemOf(leaf), ca: root.pem, name: 'other.example' });
    assert.equal(bad.ok, false);
    if (!bad.ok) {
      assert.ok(bad.error instanceof pkg.SSLError);
      assert.equal(bad.error.code, 'HOSTNAME_MISMATCH');
    }
  });

  test('diagnose() with resolveTrust(), and findingFor() on the library error say the same thing', async () => {
    const trust = pkg.resolveTrust({ verify: root.pem, trustEnv: false });
    assert.equal(trust.insecure, false);
    if (trust.insecure) return;
    assert.match(trust.explanation.detail, /only the given CAs/);
    const report = await pkg.diagnose(server.url('/'), { trust: trust.store, serverName: 'other.example' });
    const mismatch = report.findings.find((f) => f.code === 'HOSTNAME_MISMATCH');
    assert.ok(mismatch, JSON.stringify(report.findings));
    const err = await pkg.get(server.url('/'), { verify: root.pem, serverName: 'other.example' }).then(
      () => assert.fail('verified a wrong name'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof pkg.SSLError);
    const finding = pkg.findingFor(err);
    assert.equal(finding.code, mismatch.code);
    assert.equal(finding.fix, mismatch.fix);
    assert.ok(pkg.FINDING_CODES.HOSTNAME_MISMATCH);
  });

  test('dispatcher() and agent() give a verifying undici dispatcher and an https.Agent', async () => {
    const d = pkg.dispatcher({ verify: root.pem });
    assert.equal(typeof d.dispatch, 'function');
    await d.close();
    const a = pkg.agent({ verify: root.pem });
    assert.ok(a instanceof https.Agent);
    const status = await new Promise<number>((resolve, reject) => {
      https
        .get(server.url('/'), { agent: a }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    assert.equal(status, 200);
    a.destroy();
  });
});
