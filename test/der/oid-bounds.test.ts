/**
 * Security review (DER): hostile inputs that must be refused quickly rather than decoded at a cost
 * that grows with the square of their size.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DerReader, decodeOid, encodeOid, MAX_OID_ARC_OCTETS } from '../../src/der/reader.js';
import { ParseError } from '../../src/errors.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { createRoot } from '../support/pki.js';

/** One sub-identifier of `octets` base-128 octets (high bit set on all but the last). */
function arc(octets: number): number[] {
  return [...new Array<number>(octets - 1).fill(0xff), 0x7f];
}

function isDerError(err: unknown): boolean {
  assert.ok(err instanceof ParseError, `expected ParseError, got ${String(err)}`);
  assert.equal(err.code, 'ERR_DER');
  assert.match(err.message, /sub-identifier.*octets/);
  return true;
}

describe('OBJECT IDENTIFIER arcs are bounded', () => {
  test('a UUID arc (2.25.<128 bits>, ITU-T X.667) still decodes exactly', () => {
    const dotted = `2.25.${(2n ** 128n - 1n).toString()}`;
    assert.equal(decodeOid(encodeOid(dotted), 'o', 0), dotted);
    // The bound itself is accepted: an arc of exactly MAX_OID_ARC_OCTETS octets.
    const c = Uint8Array.from([0x2a, ...arc(MAX_OID_ARC_OCTETS)]);
    assert.match(decodeOid(c, 'o', 0), /^1\.2\.\d+$/);
  });

  test('an arc one octet longer than the bound is refused, with where it starts', () => {
    const c = Uint8Array.from([0x2a, 0x03, ...arc(MAX_OID_ARC_OCTETS + 1)]);
    assert.throws(
      () => decodeOid(c, 'o', 100),
      (err: unknown) => {
        isDerError(err);
        assert.match((err as Error).message, /at offset 102/);
        return true;
      },
    );
  });

  test('a 100 KB arc (quadratic BigInt work before the bound) is refused at once', () => {
    const c = Uint8Array.from(arc(100_000));
    const started = performance.now();
    assert.throws(() => decodeOid(c, 'o', 0), isDerError);
    // Decoding it took ~0.8 s before the bound; refusing it reads at most the bound's octets.
    assert.ok(performance.now() - started < 50, `took ${performance.now() - started} ms`);
  });

  test('the certificate parser refuses a huge arc in an extension OID', () => {
    // 1.2.(2^28000 - 1): a 4000-octet arc, written by the factory's own OID encoder.
    const huge = `1.2.${(2n ** 28_000n - 1n).toString()}`;
    const oidTlv = Uint8Array.from([0x06, 0x82, 0x0f, 0xa1, 0x2a, ...arc(4000)]);
    assert.deepEqual(encodeOid(huge), oidTlv.subarray(4));
    assert.throws(() => new DerReader(oidTlv).oid('o'), isDerError);
    const der = createRoot({ extensions: [{ oid: huge, value: Uint8Array.from([0x05, 0x00]) }] }).der;
    assert.throws(
      () => parseCertificate(der),
      (err: unknown) =>
        err instanceof ParseError && err.code === 'ERR_CERTIFICATE' && /sub-identifier/.test(err.message),
    );
  });
});
