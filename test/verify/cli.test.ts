/**
 * `certainly verify`: the offline command, with chains and CAs written to a temporary directory.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runVerify } from '../../src/cli/verify.js';
import { createRoot, intermediate, issue, pemOf, standardPki, tempDir } from '../support/pki.js';
import { makeCrl } from './crl-writer.js';

function capture() {
  const out = { stdout: '', stderr: '' };
  const stream = (key: 'stdout' | 'stderr') =>
    ({
      write(chunk: string | Uint8Array) {
        out[key] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
        return true;
      },
    }) as unknown as NodeJS.WritableStream;
  // An empty environment: no CA variables, no colour.
  return { io: { stdout: stream('stdout'), stderr: stream('stderr'), env: {} }, out };
}

const dir = tempDir('certainly-cli-verify-');
after(() => dir.cleanup());

const { root, intermediate: inter, leaf } = standardPki();
const chainFile = dir.write('chain.pem', pemOf(leaf, inter));
const rootFile = dir.write('root.pem', root.pem);

describe('certainly verify', () => {
  it('prints the path, the anchor and its source', async () => {
    const { io, out } = capture();
    const code = await runVerify([chainFile, '--name', 'localhost', '--ca', rootFile], io);
    assert.equal(code, 0, out.stderr);
    assert.match(out.stdout, /verified.*valid for localhost/);
    assert.match(out.stdout, /server certificate\n {4}subject: CN=localhost/);
    assert.match(out.stdout, /intermediate 1/);
    assert.ok(out.stdout.includes(`from: file:${rootFile}`), out.stdout);
  });

  it('prints JSON', async () => {
    const { io, out } = capture();
    assert.equal(await runVerify([chainFile, '--name', '127.0.0.1', '--ca', rootFile, '--json'], io), 0);
    const r = JSON.parse(out.stdout);
    assert.equal(r.ok, true);
    assert.equal(r.path.length, 2);
    assert.equal(r.anchor.sources[0], `file:${rootFile}`);
    assert.deepEqual(r.notes, []);
  });

  it('prints the failure: code, position, message and the fix; exit code 1', async () => {
    const { io, out } = capture();
    const code = await runVerify([chainFile, '--name', 'example.org', '--ca', rootFile], io);
    assert.equal(code, 1);
    assert.match(out.stderr, /\[HOSTNAME_MISMATCH\]/);
    assert.match(out.stderr, /certificate is valid for localhost, 127\.0\.0\.1, ::1, not example\.org/);
    assert.match(out.stderr, /failing certificate: #0/);
    assert.match(out.stderr, /fix:/);

    const expired = dir.write(
      'old.pem',
      pemOf(
        issue(inter, {
          notBefore: new Date(Date.now() - 7200_000),
          notAfter: new Date(Date.now() - 3600_000),
        }),
        inter,
      ),
    );
    const j = capture();
    assert.equal(await runVerify([expired, '--ca', rootFile, '--json'], j.io), 1);
    const r = JSON.parse(j.out.stdout);
    assert.equal(r.ok, false);
    assert.equal(r.code, 'CERT_EXPIRED');
    assert.equal(r.position, 0);
    assert.ok(r.hint);
  });

  it('verifies at --time', async () => {
    const later = new Date(Date.now() + 90 * 86400_000).toISOString();
    const { io, out } = capture();
    assert.equal(await runVerify([chainFile, '--ca', rootFile, '--time', later], io), 1);
    assert.match(out.stderr, /\[CERT_EXPIRED\]/);
  });

  it('relaxes hygiene rules for a CA from a file, with a note, and not with --strict', async () => {
    const privateRoot = createRoot({ basicConstraints: { ca: true, critical: false } });
    const ica = intermediate(privateRoot);
    const file = dir.write('private-chain.pem', pemOf(issue(ica), ica));
    const ca = dir.write('private-root.pem', privateRoot.pem);
    const relaxed = capture();
    assert.equal(
      await runVerify([file, '--name', 'localhost', '--ca', ca], relaxed.io),
      0,
      relaxed.out.stderr,
    );
    assert.match(
      relaxed.out.stdout,
      /note: relaxed for the private CA .*basicConstraints extension is not marked critical/,
    );
    const strict = capture();
    assert.equal(await runVerify([file, '--name', 'localhost', '--ca', ca, '--strict'], strict.io), 1);
    assert.match(strict.out.stderr, /\[PROFILE_VIOLATION\]/);
  });

  it('checks revocation against --crl files', async () => {
    const revoked = dir.write('revoked.crl', makeCrl(inter, { revoked: [leaf] }));
    const clean = dir.write('clean.crl', makeCrl(inter));
    const bad = capture();
    assert.equal(await runVerify([chainFile, '--ca', rootFile, '--crl', revoked], bad.io), 1);
    assert.match(bad.out.stderr, /\[CERT_REVOKED\]/);
    const good = capture();
    assert.equal(await runVerify([chainFile, '--ca', rootFile, '--crl', clean], good.io), 0, good.out.stderr);
    assert.match(good.out.stdout, /revocation: server certificate: good \(crl\)/);
    const missing = capture();
    assert.equal(
      await runVerify([chainFile, '--ca', rootFile, '--crl', `${dir.path}/none.crl`], missing.io),
      2,
    );
    // A CRL that cannot be used: a note under soft (the default), a failure under --revocation hard.
    const stale = dir.write('stale.crl', makeCrl(inter, { crlNumber: false }));
    const soft = capture();
    assert.equal(await runVerify([chainFile, '--ca', rootFile, '--crl', stale], soft.io), 0, soft.out.stderr);
    assert.match(soft.out.stdout, /revocation: server certificate: unknown \(crl\)/);
    assert.match(soft.out.stdout, /note: the revocation status .* is unknown: .*no CRLNumber/);
    const hard = capture();
    assert.equal(
      await runVerify([chainFile, '--ca', rootFile, '--crl', stale, '--revocation', 'hard'], hard.io),
      1,
    );
    assert.match(hard.out.stderr, /\[REVOCATION_UNKNOWN\]/);
    const typo = capture();
    assert.equal(await runVerify([chainFile, '--revocation', 'strict'], typo.io), 2);
    assert.match(typo.out.stderr, /--revocation takes soft, hard or off, not 'strict'/);
  });

  it('says what is wrong with the command line (exit code 2)', async () => {
    for (const args of [
      [],
      [chainFile, chainFile],
      [chainFile, '--time', 'yesterday'],
      [chainFile, '--purpose', 'mail'],
      [chainFile, '--bogus'],
    ]) {
      const { io, out } = capture();
      assert.equal(await runVerify(args, io), 2, args.join(' '));
      assert.ok(out.stderr.length > 0);
    }
    const missing = capture();
    assert.equal(await runVerify([`${dir.path}/nope.pem`], missing.io), 2);
    assert.match(missing.out.stderr, /does not exist/);
    const help = capture();
    assert.equal(await runVerify(['--help'], help.io), 0);
    assert.match(help.out.stdout, /usage: certainly verify/);
  });

  it('reports a malformed chain file as BAD_ENCODING', async () => {
    const bad = dir.write('bad.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const { io, out } = capture();
    assert.equal(await runVerify([bad, '--ca', rootFile], io), 1);
    assert.match(out.stderr, /\[BAD_ENCODING\]/);
  });
});
