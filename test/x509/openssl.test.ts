/**
 * Algorithms the test-PKI factory does not make (RSASSA-PSS, Ed448, DSA, P-521, secp256k1),
 * made by the openssl CLI into a temporary directory and compared with node:crypto.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readCertificates } from '../../src/x509/index.js';
import type { Certificate } from '../../src/x509/types.js';
import { tempDir } from '../support/pki.js';

function opensslVersion(): string | undefined {
  try {
    return execFileSync('openssl', ['version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

const version = opensslVersion();
// genpkey -algorithm ED448 / RSA-PSS and -sigopt need OpenSSL 1.1.1 or later.
const skip =
  version && /^OpenSSL (1\.1\.1|[3-9])/.test(version)
    ? false
    : `openssl 1.1.1+ CLI not found (${version ?? 'none'})`;

describe('certificates made by the openssl CLI', { skip }, () => {
  const dir = tempDir('certainly-x509-openssl-');
  after(() => dir.cleanup());
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir.path, stdio: 'ignore' });

  /** A self-signed certificate for a key made by `genpkey ...keyArgs`. */
  function make(
    name: string,
    keyArgs: string[],
    reqArgs: string[] = [],
  ): { cert: Certificate; x: X509Certificate } {
    run('genpkey', ...keyArgs, '-out', `${name}.key`);
    run(
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}.key`,
      '-subj',
      `/CN=${name}`,
      '-days',
      '1',
      ...reqArgs,
      '-out',
      `${name}.pem`,
    );
    const pem = readFileSync(join(dir.path, `${name}.pem`), 'utf8');
    const [cert] = readCertificates(pem, `${name}.pem`);
    const x = new X509Certificate(pem);
    assert.equal(cert!.subject.text, `CN=${name}`);
    assert.equal(cert!.fingerprintSha256, x.fingerprint256.replace(/:/g, '').toLowerCase());
    assert.deepEqual(Buffer.from(cert!.publicKey.der), x.publicKey.export({ type: 'spki', format: 'der' }));
    assert.equal(cert!.serialHex.toUpperCase().replace(/^0+/, ''), x.serialNumber.replace(/^0+/, ''));
    assert.ok(cert!.selfIssued);
    return { cert: cert!, x };
  }

  test('RSASSA-PSS key, SHA-384, salt 32: parameters decoded, signature verifies', () => {
    const { cert, x } = make(
      'pss',
      ['-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048'],
      ['-sha384', '-sigopt', 'rsa_pss_saltlen:32'],
    );
    assert.equal(cert.publicKey.type, 'rsa-pss');
    assert.equal(cert.publicKey.bits, 2048);
    const alg = cert.signatureAlgorithm;
    assert.equal(alg.name, 'RSASSA-PSS');
    assert.equal(alg.keyType, 'rsa-pss');
    assert.equal(alg.hash, 'sha384');
    assert.deepEqual(alg.pss, { hash: 'sha384', mgf1Hash: 'sha384', saltLength: 32, trailerField: 1 });
    const ok = cryptoVerify(
      'sha384',
      cert.tbsDer,
      { key: x.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
      cert.signature,
    );
    assert.ok(ok);
  });

  test('RSA key signing with PSS (rsaEncryption key, PSS signature)', () => {
    run('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'rsa.key');
    run(
      'req',
      '-x509',
      '-new',
      '-key',
      'rsa.key',
      '-subj',
      '/CN=rsapss',
      '-days',
      '1',
      '-sha256',
      '-sigopt',
      'rsa_padding_mode:pss',
      '-sigopt',
      'rsa_pss_saltlen:digest',
      '-out',
      'rsapss.pem',
    );
    const [cert] = readCertificates(readFileSync(join(dir.path, 'rsapss.pem')), 'rsapss.pem');
    assert.equal(cert!.publicKey.type, 'rsa');
    assert.equal(cert!.signatureAlgorithm.keyType, 'rsa-pss');
    assert.deepEqual(cert!.signatureAlgorithm.pss, {
      hash: 'sha256',
      mgf1Hash: 'sha256',
      saltLength: 32,
      trailerField: 1,
    });
  });

  test('Ed448', () => {
    const { cert, x } = make('ed448', ['-algorithm', 'ED448']);
    assert.equal(cert.publicKey.type, 'ed448');
    assert.equal(cert.publicKey.bits, 448);
    assert.equal(cert.signatureAlgorithm.name, 'Ed448');
    assert.equal(cert.signatureAlgorithm.keyType, 'ed448');
    assert.ok(cryptoVerify(null, cert.tbsDer, x.publicKey, cert.signature));
  });

  test('DSA with SHA-256', () => {
    run(
      'genpkey',
      '-genparam',
      '-algorithm',
      'DSA',
      '-pkeyopt',
      'dsa_paramgen_bits:1024',
      '-out',
      'dsaparams.pem',
    );
    const { cert, x } = make('dsa', ['-paramfile', 'dsaparams.pem'], ['-sha256']);
    assert.equal(cert.publicKey.type, 'dsa');
    assert.equal(cert.publicKey.bits, 1024);
    assert.equal(cert.signatureAlgorithm.name, 'dsa-with-SHA256');
    assert.equal(cert.signatureAlgorithm.keyType, 'dsa');
    assert.equal(cert.signatureAlgorithm.hash, 'sha256');
    assert.ok(cryptoVerify('sha256', cert.tbsDer, x.publicKey, cert.signature));
  });

  test('P-521 with ECDSA-SHA512, and secp256k1', () => {
    const { cert } = make('p521', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'], ['-sha512']);
    assert.equal(cert.publicKey.curve, 'P-521');
    assert.equal(cert.publicKey.bits, 521);
    assert.equal(cert.signatureAlgorithm.name, 'ecdsa-with-SHA512');
    const k1 = make('k1', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1']).cert;
    assert.equal(k1.publicKey.curve, 'secp256k1');
    assert.equal(k1.publicKey.bits, 256);
  });

  test('openssl -text agrees on a v3 leaf with SANs made by the CLI', () => {
    run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'leaf.key');
    run(
      'req',
      '-x509',
      '-new',
      '-key',
      'leaf.key',
      '-subj',
      '/C=DE/O=Beispiel GmbH/CN=www.example.de',
      '-days',
      '1',
      '-addext',
      'subjectAltName=DNS:www.example.de,DNS:example.de,IP:192.0.2.1,IP:2001:db8::5,email:a@example.de',
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:3',
      '-addext',
      'keyUsage=critical,keyCertSign,digitalSignature',
      '-addext',
      'extendedKeyUsage=serverAuth,clientAuth',
      '-addext',
      'certificatePolicies=2.23.140.1.2.2',
      '-addext',
      'authorityInfoAccess=caIssuers;URI:http://ca.example.de/ca.crt,OCSP;URI:http://ocsp.example.de',
      '-out',
      'leaf.pem',
    );
    const [cert] = readCertificates(readFileSync(join(dir.path, 'leaf.pem'), 'utf8'), 'leaf.pem');
    const c = cert!;
    assert.equal(c.subject.text, 'C=DE, O=Beispiel GmbH, CN=www.example.de');
    assert.deepEqual(c.summary().subjectAltNames, [
      'DNS:www.example.de',
      'DNS:example.de',
      'IP:192.0.2.1',
      'IP:2001:db8::5',
      'email:a@example.de',
    ]);
    assert.deepEqual(c.basicConstraints, { critical: true, ca: true, pathLen: 3 });
    assert.deepEqual([...c.keyUsage!.usages].sort(), ['digitalSignature', 'keyCertSign']);
    assert.deepEqual(c.extKeyUsage!.oids, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.deepEqual(c.certificatePolicies!.oids, ['2.23.140.1.2.2']);
    assert.deepEqual(c.authorityInfoAccess!.caIssuers, ['http://ca.example.de/ca.crt']);
    assert.deepEqual(c.authorityInfoAccess!.ocsp, ['http://ocsp.example.de']);
    assert.deepEqual(c.unknownCriticalExtensions, []);
  });
});
