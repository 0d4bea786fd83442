import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ParseError } from '../../src/errors.js';
import { parsePem, toPem } from '../../src/x509/pem.js';

const der1 = Uint8Array.from({ length: 100 }, (_, i) => i);
const der2 = Uint8Array.from({ length: 3 }, (_, i) => 200 + i);

function pemError(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ParseError, `expected ParseError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_PEM');
    assert.match(err.message, re);
    return true;
  });
}

describe('toPem', () => {
  test('64-character lines, trailing newline, round trip', () => {
    const text = toPem(der1);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines[0], '-----BEGIN CERTIFICATE-----');
    assert.equal(lines.at(-1), '-----END CERTIFICATE-----');
    assert.ok(lines.slice(1, -1).every((l) => l.length <= 64));
    assert.equal(lines[1]!.length, 64);
    assert.ok(text.endsWith('\n'));
    assert.deepEqual(parsePem(text), [der1]);
    assert.match(toPem(der2, 'X509 CRL'), /^-----BEGIN X509 CRL-----\n/);
  });
});

describe('parsePem', () => {
  test('many blocks, CRLF, text around them, other blocks skipped', () => {
    const text = [
      'Bundle of things\r\n',
      'subject=CN=whatever\r\n',
      toPem(der1).replace(/\n/g, '\r\n'),
      'between\n',
      toPem(new Uint8Array([1, 2, 3]), 'PRIVATE KEY'),
      `  ${toPem(der2).trimEnd().split('\n').join('\n  ')}\n`,
      'trailing text without newline',
    ].join('');
    assert.deepEqual(parsePem(text), [der1, der2]);
    assert.deepEqual(parsePem(text, 'PRIVATE KEY'), [Uint8Array.from([1, 2, 3])]);
  });

  test('no block at all is not an error here', () => {
    assert.deepEqual(parsePem(''), []);
    assert.deepEqual(parsePem('just text'), []);
    assert.deepEqual(parsePem(toPem(der1, 'PUBLIC KEY')), []);
  });

  test('an unterminated block of another label does not hide a later certificate', () => {
    const text = `-----BEGIN OTHER-----\nAAAA\n${toPem(der2)}`;
    assert.deepEqual(parsePem(text), [der2]);
  });

  test('a block without END, or with the wrong END, names its line', () => {
    const cut = toPem(der1).split('\n').slice(0, 3).join('\n');
    pemError(
      () => parsePem(`x\n${cut}`),
      /BEGIN CERTIFICATE" at line 2 has no matching "END CERTIFICATE" line/,
    );
    const wrongEnd = toPem(der2).replace('END CERTIFICATE', 'END PRIVATE KEY');
    pemError(() => parsePem(wrongEnd), /ends with "END PRIVATE KEY" at line 3/);
    const nested = toPem(der1).replace('-----END CERTIFICATE-----\n', '') + toPem(der2);
    pemError(() => parsePem(nested), /no matching/);
  });

  test('strict base64 inside a block', () => {
    const good = toPem(der1);
    pemError(() => parsePem(good.replace(/\n(.)/, '\n$1!')), /line 2 contains "!", which is not base64/);
    pemError(() => parsePem(good.replace(/\n(.{10})/, '\n$1_')), /not base64/);
    pemError(() => parsePem('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n'), /is empty/);
    pemError(
      () => parsePem('-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n'),
      /bad length or padding/,
    );
    pemError(
      () => parsePem('-----BEGIN CERTIFICATE-----\nA=AA\n-----END CERTIFICATE-----\n'),
      /bad length or padding/,
    );
    pemError(
      () => parsePem('-----BEGIN CERTIFICATE-----\nAA==\nAAAA\n-----END CERTIFICATE-----\n'),
      /padding/,
    );
    // "AB==" has non-zero bits after the single octet it encodes: not canonical.
    pemError(
      () => parsePem('-----BEGIN CERTIFICATE-----\nAB==\n-----END CERTIFICATE-----\n'),
      /not canonical/,
    );
    pemError(
      () =>
        parsePem('-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END CERTIFICATE-----\n'),
      /header line/,
    );
  });

  test('white space inside lines and blank lines are tolerated (RFC 7468 §3 lax parsing)', () => {
    const b64 = Buffer.from(der2).toString('base64');
    assert.deepEqual(
      parsePem(
        `-----BEGIN CERTIFICATE-----\n\n ${b64.slice(0, 2)} \t${b64.slice(2)}\n\n-----END CERTIFICATE-----`,
      ),
      [der2],
    );
  });
});
