/**
 * Stapled OCSP on real connections: loopback TLS servers staple responses made by the real
 * `openssl ocsp` command (good, revoked, unknown, expired, wrong responder, wrong CertID, a
 * delegated responder), and must-staple certificates with and without a staple. Each ends in the
 * right code (or the right recorded status) under revocation 'soft', 'hard' and 'off', with no
 * request byte sent to a server that fails.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { runCheck } from '../../src/cli/check.js';
import { runGet } from '../../src/cli/get.js';
import { get, SSLError } from '../../src/index.js';
import { validate } from '../diagnose/json-schema.js';
import { hasFaketime, hasOpenssl, type IndexEntry, opensslOcspResponse } from '../support/ocsp.js';
import { createRoot, type Issued, intermediate, issue, tempDir } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

const schema = JSON.parse(
  readFileSync(new URL('../../../schema/check-report.schema.json', import.meta.url), 'utf8'),
);
const skip = hasOpenssl ? false : 'the openssl command is not installed (apt-get install openssl)';

export interface OcspFixture {
  root: Issued;
  inter: Issued;
  /** name -> a server stapling that case's response (or none). */
  servers: Record<string, TestServer>;
  close(): Promise<void>;
}

/** The cases, each a server: leaf, chain and the staple `openssl ocsp` made for it. */
export async function ocspFixture(): Promise<OcspFixture> {
  const root = createRoot({ cn: 'ocsp test root' });
  const inter = intermediate(root, { cn: 'ocsp test intermediate' });
  const leaf = issue(inter);
  const revokedLeaf = issue(inter);
  const unknownLeaf = issue(inter);
  const otherLeaf = issue(inter);
  const mustStaple = issue(inter, { tlsFeature: [5] });
  const responder = issue(inter, { cn: 'ocsp responder', sans: [], eku: ['OCSPSigning'] });
  const notResponder = issue(inter, { cn: 'not a responder', sans: [], eku: ['serverAuth'] });
  const index: IndexEntry[] = [
    { cert: leaf },
    { cert: otherLeaf },
    { cert: mustStaple },
    { cert: revokedLeaf, revoked: { at: new Date(Date.now() - 3_600_000), reason: 'keyCompromise' } },
  ];
  const staple = (cert: Issued, o: { signer?: Issued; when?: string; about?: Issued } = {}) =>
    opensslOcspResponse({
      issuer: inter,
      cert: o.about ?? cert,
      index,
      ...(o.signer ? { signer: o.signer } : {}),
      ...(o.when ? { when: o.when } : {}),
    });
  const cases: Record<string, { cert: Issued; staple?: Buffer }> = {
    good: { cert: leaf, staple: staple(leaf) },
    delegated: { cert: leaf, staple: staple(leaf, { signer: responder }) },
    revoked: { cert: revokedLeaf, staple: staple(revokedLeaf) },
    unknown: { cert: unknownLeaf, staple: staple(unknownLeaf) },
    wrongResponder: { cert: leaf, staple: staple(leaf, { signer: notResponder }) },
    wrongCertId: { cert: leaf, staple: staple(leaf, { about: otherLeaf }) },
    none: { cert: leaf },
    mustStapleNone: { cert: mustStaple },
    mustStapleGood: { cert: mustStaple, staple: staple(mustStaple) },
    ...(hasFaketime ? { expired: { cert: leaf, staple: staple(leaf, { when: '3 days ago' }) } } : {}),
  };
  const servers: Record<string, TestServer> = {};
  for (const [name, c] of Object.entries(cases)) {
    servers[name] = await startTlsServer({
      cert: c.cert,
      chain: [inter],
      ...(c.staple ? { staple: c.staple } : {}),
    });
  }
  return {
    root,
    inter,
    servers,
    close: async () => {
      await Promise.all(Object.values(servers).map((s) => s.close()));
    },
  };
}

let fx: OcspFixture;

before(async () => {
  if (!skip) fx = await ocspFixture();
});

after(async () => {
  await fx?.close();
});

const fails = (code: string, re?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof SSLError, String(e));
  assert.equal(e.code, code, e.message);
  if (re) assert.match(e.message, re);
  return true;
};

async function fetchTls(name: string, revocation?: 'off' | 'soft' | 'hard') {
  const r = await get(fx.servers[name]!.url('/'), {
    verify: fx.root.pem,
    trustEnv: false,
    ...(revocation ? { revocation } : {}),
  });
  await r.text();
  return r.tls!;
}

describe('stapled OCSP (responses made by openssl ocsp)', { skip }, () => {
  test('good: the status, its source and its times are in r.tls.revocation', async () => {
    const tls = await fetchTls('good');
    const rev = tls.revocation!;
    assert.equal(rev.mode, 'soft');
    assert.equal(rev.stapled, true);
    assert.equal(rev.mustStaple, false);
    const leaf = rev.certificates[0]!;
    assert.equal(leaf.status, 'good');
    assert.equal(leaf.source, 'staple');
    assert.equal(leaf.responder, 'the issuer');
    assert.ok(leaf.producedAt && Math.abs(leaf.producedAt.getTime() - Date.now()) < 3_600_000);
    assert.ok(leaf.nextUpdate && leaf.nextUpdate.getTime() > Date.now());
    // 'hard' is satisfied by the good staple.
    assert.equal((await fetchTls('good', 'hard')).revocation!.certificates[0]!.status, 'good');
  });

  test('a delegated responder (id-kp-OCSPSigning, issued by the issuer) is accepted', async () => {
    const leaf = (await fetchTls('delegated', 'hard')).revocation!.certificates[0]!;
    assert.equal(leaf.status, 'good');
    assert.match(leaf.responder!, /delegated responder "CN=ocsp responder/);
  });

  test('revoked: CERT_REVOKED with the reason and the date, under soft and hard; no request byte', async () => {
    for (const mode of ['soft', 'hard'] as const) {
      await assert.rejects(
        fetchTls('revoked', mode),
        fails(
          'CERT_REVOKED',
          /was revoked on \d{4}-.* \(reason: keyCompromise\) \(stapled OCSP response from the issuer/,
        ),
      );
    }
    assert.equal(fx.servers.revoked!.bytesReceived, 0);
    // 'off' checks nothing (and does not even ask for the staple).
    assert.deepEqual((await fetchTls('revoked', 'off')).revocation!.certificates, []);
  });

  const unusable: [string, RegExp][] = [
    ['unknown', /responder does not know this certificate/],
    ['wrongResponder', /neither the certificate's issuer nor|not authorised to sign OCSP/],
    ['wrongCertId', /about another certificate/],
    ...(hasFaketime ? ([['expired', /out of date: its next update was due/]] as [string, RegExp][]) : []),
  ];
  for (const [name, why] of unusable) {
    test(`${name}: recorded as unknown under soft, REVOCATION_UNKNOWN under hard`, async () => {
      const leaf = (await fetchTls(name)).revocation!.certificates[0]!;
      assert.equal(leaf.status, 'unknown');
      assert.match(leaf.reasons!.join(' '), why);
      await assert.rejects(fetchTls(name, 'hard'), fails('REVOCATION_UNKNOWN', why));
    });
  }
  if (!hasFaketime) test.skip('expired: faketime is not installed (apt-get install faketime)', () => {});

  test('no staple: unchecked under soft; REVOCATION_UNKNOWN under hard', async () => {
    const rev = (await fetchTls('none')).revocation!;
    assert.equal(rev.stapled, false);
    assert.equal(rev.certificates[0]!.status, 'unchecked');
    await assert.rejects(fetchTls('none', 'hard'), fails('REVOCATION_UNKNOWN', /no stapled OCSP response/));
  });

  test('must-staple without a staple: MUST_STAPLE_MISSING, even under soft; with one: good', async () => {
    await assert.rejects(
      fetchTls('mustStapleNone'),
      fails('MUST_STAPLE_MISSING', /must-staple.*sent no OCSP response/),
    );
    assert.equal(fx.servers.mustStapleNone!.bytesReceived, 0);
    const rev = (await fetchTls('mustStapleGood')).revocation!;
    assert.equal(rev.mustStaple, true);
    assert.equal(rev.certificates[0]!.status, 'good');
    // revocation: 'off' is the user's explicit choice: must-staple is not enforced.
    assert.equal((await fetchTls('mustStapleNone', 'off')).revocation!.mustStaple, true);
  });
});

class Out extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function cli(run: typeof runGet | typeof runCheck, argv: string[]) {
  const stdout = new Out();
  const stderr = new Out();
  const code = await run(argv, { stdout, stderr, env: {} } as Parameters<typeof runCheck>[1]);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('stapled OCSP in certainly get and certainly check', { skip }, () => {
  let caFile: string;
  let dir: ReturnType<typeof tempDir>;
  before(() => {
    dir = tempDir();
    caFile = dir.write('root.pem', fx.root.pem);
  });
  after(() => dir.cleanup());

  // case, --revocation, expected code (undefined: verified), and the status of the leaf.
  const table: [string, 'soft' | 'hard', string | undefined, string | undefined][] = [
    ['good', 'soft', undefined, 'good'],
    ['good', 'hard', undefined, 'good'],
    ['delegated', 'hard', undefined, 'good'],
    ['revoked', 'soft', 'CERT_REVOKED', undefined],
    ['revoked', 'hard', 'CERT_REVOKED', undefined],
    ['unknown', 'soft', undefined, 'unknown'],
    ['unknown', 'hard', 'REVOCATION_UNKNOWN', undefined],
    ['wrongResponder', 'hard', 'REVOCATION_UNKNOWN', undefined],
    ['wrongCertId', 'hard', 'REVOCATION_UNKNOWN', undefined],
    ...(hasFaketime
      ? ([['expired', 'hard', 'REVOCATION_UNKNOWN', undefined]] as [string, 'hard', string, undefined][])
      : []),
    ['none', 'soft', undefined, 'unchecked'],
    ['none', 'hard', 'REVOCATION_UNKNOWN', undefined],
    ['mustStapleNone', 'soft', 'MUST_STAPLE_MISSING', undefined],
    ['mustStapleNone', 'hard', 'MUST_STAPLE_MISSING', undefined],
    ['mustStapleGood', 'soft', undefined, 'good'],
  ];
  for (const [name, mode, code, status] of table) {
    test(`${name}, --revocation ${mode}: ${code ?? status}`, async () => {
      const url = fx.servers[name]!.url('/');
      const g = await cli(runGet, [url, '--verify', caFile, '--revocation', mode, '--json']);
      const gj = JSON.parse(g.stdout);
      if (code) {
        assert.equal(g.code, 1, g.stdout);
        assert.equal(gj.code, code);
      } else {
        assert.equal(g.code, 0, g.stdout);
        assert.equal(gj.tls.revocation.certificates[0].status, status);
      }
      const c = await cli(runCheck, [
        fx.servers[name]!.origin,
        '--ca',
        caFile,
        '--revocation',
        mode,
        '--json',
      ]);
      // check --json is NDJSON: one target, one line, one report.
      const report = JSON.parse(c.stdout);
      assert.deepEqual(validate(schema, report), []);
      if (code) {
        assert.equal(c.code, 1, c.stdout);
        assert.equal(report.verification.code, code);
      } else {
        assert.equal(c.code, 0, c.stdout);
        assert.equal(report.revocation.certificates[0].status, status);
        if (status === 'unknown')
          assert.ok(report.findings.some((f: { code: string }) => f.code === 'REVOCATION_UNKNOWN'));
      }
    });
  }

  test('check prints the revocation line; get --cert-status is --revocation hard', async () => {
    const c = await cli(runCheck, [fx.servers.good!.origin, '--ca', caFile, '-v']);
    assert.match(c.stdout, /revocation {2}good \(stapled OCSP response from the issuer, produced \d{4}-/);
    const none = await cli(runGet, [fx.servers.none!.url('/'), '--verify', caFile, '--cert-status']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /REVOCATION_UNKNOWN/);
    const v = await cli(runGet, [fx.servers.good!.url('/'), '--verify', caFile, '-v']);
    assert.match(v.stderr, /revocation: good \(stapled OCSP response\)/);
  });
});
