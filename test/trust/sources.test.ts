import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import tls from 'node:tls';
import {
  BUNDLED_SOURCE,
  bundledFingerprints,
  bundledNodeVersion,
  loadBundled,
} from '../../src/trust/bundled.js';
import { loadCaDir } from '../../src/trust/dir.js';
import { loadCaFile, loadCaPath } from '../../src/trust/file.js';
import { loadInline } from '../../src/trust/inline.js';
import { extractCertificates } from '../../src/trust/load.js';
import { createRoot, pemOf, tempDir } from '../support/index.js';
import { throwsConfig } from './helpers.js';

const tmp = tempDir('certainly-trust-sources-');
after(() => tmp.cleanup());

const rootA = createRoot({ subject: 'CN=Source Root A, O=certainly tests' });
const rootB = createRoot({ subject: 'CN=Source Root B, O=certainly tests', keyType: 'ed25519' });
const rootC = createRoot({ subject: 'CN=Source Root C, O=certainly tests', keyType: 'p384' });
const cn = (r: { certs: { subject: { commonName?: string } }[] }) => r.certs.map((c) => c.subject.commonName);

describe('CA file', () => {
  it('reads a PEM bundle, text between blocks ignored, source file:<abs>', () => {
    const path = tmp.write('bundle.pem', `# my roots\n${rootA.pem}\nsome comment\n${rootB.pem}`);
    const r = loadCaFile(path, { origin: 'verify' });
    assert.deepEqual(cn(r), ['Source Root A', 'Source Root B']);
    assert.equal(r.source, `file:${path}`);
    assert.deepEqual(r.warnings, []);
    assert.equal(r.stamps[0]!.path, path);
  });

  it('reads one DER certificate', () => {
    const path = tmp.write('root.cer', rootC.der);
    assert.deepEqual(cn(loadCaFile(path, { origin: 'verify' })), ['Source Root C']);
  });

  it('resolves a relative path against the working directory', () => {
    const path = tmp.write('rel.pem', rootA.pem);
    const r = loadCaPath(relative(process.cwd(), path), { origin: 'verify' });
    assert.equal(r.source, `file:${path}`);
  });

  it('skips private keys and TRUSTED CERTIFICATE blocks, saying so', () => {
    const trusted = rootB.pem.replace(/CERTIFICATE/g, 'TRUSTED CERTIFICATE');
    const path = tmp.write('mixed.pem', `${rootA.keyPem}${rootA.pem}${trusted}`);
    const r = loadCaFile(path, { origin: 'verify' });
    assert.deepEqual(cn(r), ['Source Root A']);
    assert.match(r.warnings.join(' '), /1 PRIVATE KEY block/);
    assert.match(r.warnings.join(' '), /1 TRUSTED CERTIFICATE block \(OpenSSL's format/);
  });

  it('a missing file is ERR_CA_PATH naming the path and who gave it', () => {
    const path = join(tmp.path, 'nope.pem');
    throwsConfig(
      () => loadCaPath(path, { origin: 'verify' }),
      'ERR_CA_PATH',
      path,
      'does not exist',
      'verify',
    );
    throwsConfig(
      () => loadCaPath(path, { origin: 'REQUESTS_CA_BUNDLE' }),
      'ERR_CA_PATH',
      'Fix or unset the REQUESTS_CA_BUNDLE environment variable',
    );
    throwsConfig(
      () => loadCaPath('~/nope.pem', { origin: 'verify' }),
      'ERR_CA_PATH',
      'A leading ~ is not expanded',
    );
  });

  it('an empty file, or one with no certificate, is ERR_CA_EMPTY', () => {
    const empty = tmp.write('empty.pem', '');
    throwsConfig(() => loadCaFile(empty, { origin: 'verify' }), 'ERR_CA_EMPTY', empty, 'is empty');
    const key = tmp.write('key.pem', rootA.keyPem);
    throwsConfig(
      () => loadCaFile(key, { origin: 'verify' }),
      'ERR_CA_EMPTY',
      key,
      'only 1 PRIVATE KEY block',
    );
    const text = tmp.write('notes.txt', 'hello, not a certificate\n');
    throwsConfig(() => loadCaFile(text, { origin: 'verify' }), 'ERR_CA_EMPTY', text, 'neither a PEM');
  });

  it('a malformed certificate is ERR_CA_INVALID naming the block and line', () => {
    const broken = rootB.pem.replace(/\n[A-Za-z0-9+/]{8}/, '\n!!!!!!!!');
    const path = tmp.write('broken.pem', `${rootA.pem}${broken}`);
    throwsConfig(() => loadCaFile(path, { origin: 'verify' }), 'ERR_CA_INVALID', path, 'certificate 2 (line');
    const truncated = tmp.write('truncated.der', rootA.der.subarray(0, 100));
    throwsConfig(
      () => loadCaFile(truncated, { origin: 'verify' }),
      'ERR_CA_INVALID',
      truncated,
      'DER certificate',
    );
    // Lenient (system stores): the good ones are kept and the bad one is a warning.
    const lenient = loadCaFile(path, { origin: 'the system store', lenient: true });
    assert.deepEqual(cn(lenient), ['Source Root A']);
    assert.match(lenient.warnings[0]!, /malformed/);
  });

  it('a path that is neither a file nor a directory is ERR_CA_PATH', async () => {
    const sock = join(tmp.path, 'ca.sock');
    const server = createServer();
    await new Promise<void>((ok) => server.listen(sock, ok));
    try {
      throwsConfig(
        () => loadCaPath(sock, { origin: 'verify' }),
        'ERR_CA_PATH',
        sock,
        'neither a file nor a directory',
      );
    } finally {
      await new Promise((ok) => server.close(ok));
    }
  });

  it('an unreadable file is ERR_CA_PATH', (t) => {
    if (process.getuid?.() === 0) {
      t.skip('running as root: file permissions cannot make a file unreadable');
      return;
    }
    const path = tmp.write('secret.pem', rootA.pem);
    chmodSync(path, 0);
    throwsConfig(() => loadCaFile(path, { origin: 'verify' }), 'ERR_CA_PATH', path, 'permission denied');
  });
});

describe('CA directory', () => {
  it('reads a c_rehash directory: hashed names, links read once, CRLs and other files skipped', () => {
    const dir = join(tmp.path, 'rehash');
    mkdirSync(dir);
    tmp.write('rehash/Source_Root_A.pem', rootA.pem);
    tmp.write('rehash/b.crt', rootB.pem);
    tmp.write('rehash/c.cer', rootC.der); // DER, as Windows exports .cer
    symlinkSync('Source_Root_A.pem', join(dir, '1a2b3c4d.0')); // the hash link c_rehash makes
    symlinkSync('b.crt', join(dir, '5e6f7a8b.0'));
    tmp.write('rehash/1a2b3c4d.r0', 'a CRL, not a certificate');
    tmp.write('rehash/README', 'how this directory is made');
    symlinkSync('gone.pem', join(dir, 'deadbeef.0')); // dangling link
    mkdirSync(join(dir, 'java'));
    const r = loadCaDir(dir, { origin: 'verify' });
    assert.equal(r.source, `dir:${dir}`);
    assert.deepEqual(cn(r).sort(), ['Source Root A', 'Source Root B', 'Source Root C']);
    const warnings = r.warnings.join(' ');
    assert.match(warnings, /unreadable deadbeef\.0 \(does not exist\)/);
    assert.match(warnings, /skipped 1 file not named .*README/);
    assert.doesNotMatch(warnings, /1a2b3c4d\.r0|java/);
    assert.ok(
      r.stamps.some((s) => s.path === dir),
      'the directory itself is watched',
    );
  });

  it('reads a directory of hashed files only (no extensions)', () => {
    const dir = join(tmp.path, 'hashed-only');
    mkdirSync(dir);
    tmp.write('hashed-only/00aa11bb.0', rootA.pem);
    tmp.write('hashed-only/00aa11bb.1', rootB.pem);
    assert.deepEqual(cn(loadCaPath(dir, { origin: 'verify' })), ['Source Root A', 'Source Root B']);
  });

  it('an empty directory, or one without certificates, is ERR_CA_EMPTY', () => {
    const empty = join(tmp.path, 'empty-dir');
    mkdirSync(empty);
    throwsConfig(() => loadCaPath(empty, { origin: 'verify' }), 'ERR_CA_EMPTY', empty, 'is empty');
    const other = join(tmp.path, 'other-dir');
    mkdirSync(other);
    tmp.write('other-dir/notes.txt', 'x');
    throwsConfig(
      () => loadCaDir(other, { origin: 'verify' }),
      'ERR_CA_EMPTY',
      other,
      'has no certificate files',
    );
    const bad = join(tmp.path, 'bad-dir');
    mkdirSync(bad);
    tmp.write('bad-dir/x.pem', 'not pem');
    throwsConfig(() => loadCaDir(bad, { origin: 'verify' }), 'ERR_CA_EMPTY', bad, 'no certificate in x.pem');
  });

  it('a missing directory is ERR_CA_PATH', () => {
    const dir = join(tmp.path, 'no-such-dir');
    throwsConfig(() => loadCaDir(dir, { origin: 'verify' }), 'ERR_CA_PATH', dir, 'does not exist');
  });
});

describe('inline PEM and bytes', () => {
  it('reads PEM text, PEM bytes and DER bytes, source inline', () => {
    assert.deepEqual(cn(loadInline(pemOf(rootA, rootB), 'verify')), ['Source Root A', 'Source Root B']);
    assert.deepEqual(cn(loadInline(Buffer.from(rootA.pem), 'verify')), ['Source Root A']);
    const r = loadInline(new Uint8Array(rootC.der), 'verify.ca[1]');
    assert.deepEqual(cn(r), ['Source Root C']);
    assert.equal(r.source, 'inline');
  });

  it('no certificate is ERR_CA_EMPTY; a broken one ERR_CA_INVALID', () => {
    throwsConfig(() => loadInline(rootA.keyPem, 'verify.ca'), 'ERR_CA_EMPTY', 'verify.ca', 'PRIVATE KEY');
    throwsConfig(() => loadInline(Buffer.from('hello'), 'verify'), 'ERR_CA_EMPTY', 'certificate bytes');
    const cut = rootA.pem.replace('-----END CERTIFICATE-----', '');
    throwsConfig(() => loadInline(cut, 'verify'), 'ERR_CA_INVALID', 'END line is missing');
  });
});

describe('PEM scanning', () => {
  it('is linear on hostile input (many BEGIN lines, no END)', () => {
    const hostile = Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n'.repeat(20000));
    const t0 = performance.now();
    const got = extractCertificates(hostile);
    assert.ok(performance.now() - t0 < 1000);
    assert.equal(got.certs.length, 0);
    assert.equal(got.invalid.length, 1);
  });
});

describe('bundled roots', () => {
  it("are Node's tls.rootCertificates, parsed once, source bundled", () => {
    const r = loadBundled();
    assert.equal(loadBundled(), r);
    assert.equal(r.source, BUNDLED_SOURCE);
    assert.equal(r.certs.length + r.warnings.length, tls.rootCertificates.length);
    assert.ok(r.certs.length > 100, `only ${r.certs.length} bundled roots parsed: ${r.warnings.join(' ')}`);
    assert.equal(bundledNodeVersion(), process.versions.node);
  });

  it('fingerprints match the parsed certificates', () => {
    const fps = bundledFingerprints();
    assert.equal(fps.size, tls.rootCertificates.length);
    for (const c of loadBundled().certs) assert.ok(fps.has(c.fingerprintSha256));
    const first = tls.rootCertificates[0]!;
    const der = Buffer.from(first.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    assert.ok(fps.has(createHash('sha256').update(der).digest('hex')));
  });
});
