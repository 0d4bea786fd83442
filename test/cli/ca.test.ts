import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { type CaExplainFn, runCa } from '../../src/cli/ca.js';
import { extractCertificates } from '../../src/trust/load.js';
import { createRoot, tempDir } from '../support/index.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const tmp = tempDir('certainly-cli-ca-');
after(() => tmp.cleanup());
const corp = createRoot({ subject: 'CN=CLI Corp Root, O=Example Corp' });
const mine = createRoot({ subject: 'CN=CLI Private CA, O=certainly tests' });
const systemRoot = join(tmp.path, 'os');
tmp.write('os/etc/ssl/certs/ca-certificates.crt', corp.pem);
const minePem = tmp.write('mine.pem', mine.pem);
const corpFp = corp.x509.fingerprint256.replace(/:/g, '').toLowerCase();

async function ca(args: string[], env: NodeJS.ProcessEnv = {}, explain?: CaExplainFn) {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await runCa(args, { stdout, stderr, env, ...(explain ? { explain } : {}) });
  return { code, out: stdout.text, err: stderr.text };
}
const sys = ['--system-root', systemRoot];

describe('certainly ca info', () => {
  it('says which sources are in effect and why, with counts and the bundled Node version', async () => {
    const r = await ca(['info', ...sys]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^trust in effect: \d+ anchors/);
    assert.match(r.out, /decided by: +default: verify is not set in code/);
    assert.match(r.out, new RegExp(`system:${systemRoot}/etc/ssl/certs/ca-certificates.crt +1\\n`));
    assert.match(r.out, /system-only +1 +only in the OS store/);
    assert.match(r.out, /REQUESTS_CA_BUNDLE +not used: not set/);
    assert.ok(r.out.includes(`Node ${process.versions.node}`));
  });

  it('names the env variable that decided, and --no-env ignores it', async () => {
    const env = { REQUESTS_CA_BUNDLE: minePem };
    const r = await ca(['info', ...sys], env);
    assert.match(r.out, /trust in effect: 1 anchors/);
    assert.match(r.out, /decided by: +env: .*REQUESTS_CA_BUNDLE=/);
    assert.match(r.out, new RegExp(`REQUESTS_CA_BUNDLE=${minePem} +USED`));
    const ignored = await ca(['info', '--no-env', ...sys], env);
    assert.match(ignored.out, /decided by: +default/);
    assert.match(ignored.out, /not used: trustEnv is false/);
  });

  it('--json gives the explanation as data', async () => {
    const r = await ca(['info', '--json', '--ca', minePem]);
    const data = JSON.parse(r.out);
    assert.equal(data.anchors, 1);
    assert.equal(data.decidedBy, 'option');
    assert.deepEqual(data.sources, [{ source: `file:${minePem}`, count: 1 }]);
    assert.deepEqual(data.classes, { bundled: 0, 'system-only': 0, user: 1 });
    assert.match(data.key, /^[0-9a-f]{64}$/);
  });
});

describe('certainly ca list', () => {
  it('lists every anchor with its kind and sources; --source filters', async () => {
    const all = await ca(['list', ...sys]);
    assert.equal(all.code, 0);
    const lines = all.out.trim().split('\n');
    assert.match(lines.at(-1)!, /^(\d+) of \1 anchors$/);
    assert.ok(lines.some((l) => /^bundled /.test(l)));
    const only = await ca(['list', '--source', 'system', ...sys]);
    const rows = only.out.trim().split('\n');
    assert.equal(rows.length, 2);
    assert.match(
      rows[0]!,
      /^system-only +\d{4}-\d\d-\d\d +[0-9a-f]{16} +CN=CLI Corp Root, O=Example Corp +\[system:/,
    );
    assert.match(rows[1]!, /^1 of \d+ anchors from sources starting with 'system'$/);
  });

  it('--json gives summaries with sources and kind', async () => {
    const r = await ca(['list', '--json', '--source=system', ...sys]);
    const data = JSON.parse(r.out);
    assert.equal(data.length, 1);
    assert.equal(data[0].fingerprintSha256, corpFp);
    assert.equal(data[0].class, 'system-only');
    assert.equal(data[0].isCA, true);
    assert.deepEqual(data[0].sources, [`system:${systemRoot}/etc/ssl/certs/ca-certificates.crt`]);
  });
});

describe('certainly ca find', () => {
  it('finds by subject text and by fingerprint, and says where the anchor came from', async () => {
    const r = await ca(['find', 'cli corp', ...sys]);
    assert.equal(r.code, 0);
    assert.match(
      r.out,
      /CN=CLI Corp Root, O=Example Corp\n {2}CLI Corp Root, trusted by the operating system .* typically a corporate root/,
    );
    const byFp = await ca(['find', corpFp.slice(0, 12).toUpperCase(), ...sys]);
    assert.match(byFp.out, new RegExp(`sha256 ${corpFp}`));
    const json = await ca(['find', '--json', 'CLI Private', '--ca', minePem]);
    assert.equal(JSON.parse(json.out)[0].class, 'user');
  });

  it('exits 1 when nothing matches, 2 without text', async () => {
    const none = await ca(['find', 'no such root anywhere', ...sys]);
    assert.equal(none.code, 1);
    assert.match(none.out, /no anchor matches/);
    assert.equal((await ca(['find'])).code, 2);
  });
});

describe('certainly ca pem', () => {
  it('exports the effective bundle, which reads back to the same anchors', async () => {
    const r = await ca(['pem', '--no-bundled', ...sys]);
    assert.equal(r.code, 0);
    assert.match(r.out, /^# CN=CLI Corp Root, O=Example Corp\n# sha256 [0-9a-f]{64}\n# from system:/);
    const back = extractCertificates(Buffer.from(r.out));
    assert.deepEqual(
      back.certs.map((c) => c.fingerprintSha256),
      [corpFp],
    );
    const full = await ca(['pem', ...sys]);
    const info = JSON.parse((await ca(['info', '--json', ...sys])).out);
    assert.equal(extractCertificates(Buffer.from(full.out)).certs.length, info.anchors);
  });
});

describe('certainly ca explain', () => {
  it('says it needs the connector when none is wired', async () => {
    const r = await ca(['explain', 'https://example.com/']);
    assert.equal(r.code, 2);
    assert.match(r.err, /connector is not wired/);
  });

  it('renders the anchor and its source from the injected connector', async () => {
    const explain: CaExplainFn = async (url, trust) => {
      assert.equal(url.href, 'https://corp.example/');
      assert.equal(trust.insecure, false);
      const store = (trust as { store: import('../../src/trust/store.js').TrustStore }).store;
      const anchor = store.findByFingerprint(corpFp)!;
      return { chain: [anchor.cert.summary()], anchor };
    };
    const r = await ca(['explain', 'corp.example', ...sys], {}, explain);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /verified by: CLI Corp Root, trusted by the operating system/);
    const failing: CaExplainFn = async () => ({
      chain: [],
      error: {
        code: 'UNKNOWN_ISSUER',
        message: 'certificate signed by unknown authority',
        hint: 'add the CA',
      },
    });
    const f = await ca(['explain', 'https://x.example', '--no-system'], {}, failing);
    assert.equal(f.code, 1);
    assert.match(
      f.out,
      /not verified: UNKNOWN_ISSUER: certificate signed by unknown authority\n {2}fix: add the CA/,
    );
  });
});

describe('certainly ca: errors', () => {
  it('a bad --ca path is exit 2 with the path, the problem and the code', async () => {
    const path = join(tmp.path, 'missing.pem');
    const r = await ca(['list', '--ca', path]);
    assert.equal(r.code, 2);
    assert.ok(r.err.includes(path));
    assert.match(r.err, /does not exist/);
    assert.match(r.err, /\(ERR_CA_PATH\)/);
  });

  it('usage errors are exit 2 with the usage; --help is exit 0', async () => {
    assert.equal((await ca(['frobnicate'])).code, 2);
    const bad = await ca(['list', '--bogus']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /unknown option '--bogus'/);
    assert.equal((await ca([])).code, 2);
    const help = await ca(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /usage: certainly ca/);
    assert.equal((await ca(['info', '--no-system', '--no-bundled'])).code, 2);
  });
});
