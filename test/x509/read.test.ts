import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ParseError } from '../../src/errors.js';
import { readCertificates } from '../../src/x509/index.js';
import { toPem } from '../../src/x509/pem.js';
import { createRoot, issue, pemOf } from '../support/pki.js';

function parseError(fn: () => unknown, code: string, re: RegExp): ParseError {
  let caught: ParseError | undefined;
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ParseError, `expected ParseError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, re);
    caught = err;
    return true;
  });
  return caught!;
}

describe('readCertificates', () => {
  const root = createRoot({ cn: 'Read Root' });
  const leaf = issue(root, { sans: ['DNS:read.example'] });

  test('PEM text with several certificates, in order', () => {
    const certs = readCertificates(`# bundle\n${pemOf(leaf, root)}`, '/etc/ca.pem');
    assert.deepEqual(
      certs.map((c) => c.subject.commonName),
      ['read.example', 'Read Root'],
    );
  });

  test('PEM as bytes, and a single DER certificate', () => {
    assert.equal(readCertificates(Buffer.from(pemOf(root)))[0]!.subject.commonName, 'Read Root');
    const [c] = readCertificates(leaf.der);
    assert.deepEqual(Buffer.from(c!.der), leaf.der);
    assert.equal(readCertificates(new Uint8Array(leaf.der)).length, 1);
  });

  test('a UTF-8 byte order mark before the first block (files saved by Windows editors)', () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(pemOf(root))]);
    assert.equal(readCertificates(withBom, 'bom.pem').length, 1);
    assert.equal(readCertificates(`\ufeff${pemOf(root)}`, 'bom.pem').length, 1);
  });

  test('no certificate: ERR_NO_CERTIFICATE naming the origin', () => {
    parseError(
      () => readCertificates('nothing here', '/path/x.pem'),
      'ERR_NO_CERTIFICATE',
      /^no PEM CERTIFICATE block found in \/path\/x\.pem$/,
    );
    parseError(() => readCertificates('', '/e.pem'), 'ERR_NO_CERTIFICATE', /in \/e\.pem: it is empty/);
    parseError(() => readCertificates(new Uint8Array(0)), 'ERR_NO_CERTIFICATE', /inline/);
    const onlyKey = toPem(new Uint8Array([1, 2, 3]), 'PRIVATE KEY');
    const err = parseError(() => readCertificates(onlyKey, 'key.pem'), 'ERR_NO_CERTIFICATE', /key\.pem/);
    assert.ok(err.hint);
  });

  test('a broken block or certificate is named by origin and position', () => {
    const broken = `${root.pem}-----BEGIN CERTIFICATE-----\nAAAA\n`;
    parseError(
      () => readCertificates(broken, '/b.pem'),
      'ERR_PEM',
      /^\/b\.pem: PEM block "BEGIN CERTIFICATE" at line \d+ has no matching/,
    );
    const garbage = `${root.pem}${toPem(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))}`;
    const err = parseError(
      () => readCertificates(garbage, '/g.pem'),
      'ERR_CERTIFICATE',
      /^\/g\.pem, certificate #2: malformed certificate: tbsCertificate: expected SEQUENCE but found INTEGER at offset 2$/,
    );
    assert.ok(err.cause instanceof ParseError);
    parseError(
      () => readCertificates(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]), 'x.der'),
      'ERR_CERTIFICATE',
      /^x\.der: malformed/,
    );
  });
});
