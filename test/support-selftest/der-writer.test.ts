import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bitString,
  bmpString,
  boolean,
  children,
  contextPrimitive,
  encodeLength,
  explicit,
  generalizedTime,
  ia5String,
  implicit,
  integer,
  namedBits,
  nul,
  octetString,
  oid,
  printableString,
  readTlv,
  sequence,
  set,
  setUnsorted,
  time,
  tlv,
  toPem,
  utcTime,
  utf8String,
} from '../../src/testing/der-writer.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('lengths use the short form below 128 and the minimal long form above (X.690 §8.1.3)', () => {
  assert.equal(hex(encodeLength(0)), '00');
  assert.equal(hex(encodeLength(127)), '7f');
  assert.equal(hex(encodeLength(128)), '8180');
  assert.equal(hex(encodeLength(255)), '81ff');
  assert.equal(hex(encodeLength(256)), '820100');
  assert.equal(hex(encodeLength(70000)), '83011170');
  assert.throws(() => encodeLength(-1), RangeError);
  assert.equal(hex(octetString(Buffer.alloc(200)).subarray(0, 3)), '0481c8');
});

test('integers are minimal two’s complement', () => {
  const cases: [bigint | number, string][] = [
    [0, '020100'],
    [1, '020101'],
    [127, '02017f'],
    [128, '02020080'],
    [255, '020200ff'],
    [256, '02020100'],
    [-1, '0201ff'],
    [-128, '020180'],
    [-129, '0202ff7f'],
    [-256, '0202ff00'],
    [-257, '0202feff'],
    [2n ** 64n, '0209010000000000000000'],
  ];
  for (const [v, want] of cases) assert.equal(hex(integer(v)), want, `integer(${v})`);
  // Bytes pass through untouched, so non-minimal encodings can be written on purpose.
  assert.equal(hex(integer(Buffer.from([0, 0, 1]))), '0203000001');
  assert.equal(hex(integer(Buffer.alloc(0))), '0200');
});

test('object identifiers', () => {
  assert.equal(hex(oid('2.5.4.3')), '0603550403');
  assert.equal(hex(oid('1.2.840.113549.1.1.11')), '06092a864886f70d01010b');
  assert.equal(hex(oid('1.3.6.1.5.5.7.3.1')), '06082b06010505070301');
  assert.equal(hex(oid('2.999.3')), '0603883703'); // first arc 2 allows a second arc > 39
  assert.equal(hex(oid('1.2.18446744073709551616')), '060b2a82808080808080808000');
  assert.throws(() => oid('1'), SyntaxError);
  assert.throws(() => oid('1.40'), SyntaxError);
  assert.throws(() => oid('1.2.x'), SyntaxError);
});

test('BOOLEAN, NULL, strings', () => {
  assert.equal(hex(boolean(true)), '0101ff');
  assert.equal(hex(boolean(false)), '010100');
  assert.equal(hex(boolean(true, 0x01)), '010101');
  assert.equal(hex(nul()), '0500');
  assert.equal(hex(utf8String('é')), '0c02c3a9');
  assert.equal(hex(printableString('US')), '13025553');
  assert.equal(hex(ia5String('a@b')), '1603614062');
  assert.equal(hex(bmpString('A')), '1e020041');
});

test('BIT STRING and named bits drop trailing zero bits (X.690 §11.2.2)', () => {
  assert.equal(hex(bitString(Buffer.from([0xab]), 0)), '030200ab');
  assert.equal(hex(namedBits([0])), '03020780'); // digitalSignature
  assert.equal(hex(namedBits([5, 6])), '03020106'); // keyCertSign, cRLSign
  assert.equal(hex(namedBits([0, 2])), '030205a0');
  assert.equal(hex(namedBits([8])), '0303070080'); // decipherOnly needs a second octet
  assert.equal(hex(namedBits([])), '030100');
  assert.throws(() => bitString(Buffer.alloc(1), 8), RangeError);
});

test('SET sorts by encoding; setUnsorted keeps the order; SEQUENCE keeps the order', () => {
  const a = integer(2);
  const b = integer(1);
  assert.equal(hex(set(a, b)), '3106020101020102');
  assert.equal(hex(setUnsorted(a, b)), '3106020102020101');
  assert.equal(hex(sequence(a, b)), '3006020102020101');
  assert.equal(hex(sequence()), '3000');
});

test('explicit and implicit context tags', () => {
  assert.equal(hex(explicit(0, integer(2))), 'a003020102');
  assert.equal(hex(explicit(3, sequence())), 'a3023000');
  assert.equal(hex(implicit(2, ia5String('x'))), '820178'); // primitive stays primitive
  assert.equal(hex(implicit(0, sequence(integer(1)))), 'a003020101'); // constructed stays constructed
  assert.equal(hex(contextPrimitive(7, Buffer.from([127, 0, 0, 1]))), '87047f000001');
  assert.throws(() => explicit(31, nul()), RangeError);
  assert.throws(() => tlv(0x1f, Buffer.alloc(0)), RangeError);
});

test('times: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)', () => {
  const d = (s: string) => new Date(s);
  assert.equal(Buffer.from(utcTime(d('2024-02-03T04:05:06Z')).subarray(2)).toString(), '240203040506Z');
  assert.equal(
    Buffer.from(generalizedTime(d('2024-02-03T04:05:06Z')).subarray(2)).toString(),
    '20240203040506Z',
  );
  assert.equal(time(d('1950-01-01T00:00:00Z'))[0], 0x17);
  assert.equal(time(d('2049-12-31T23:59:59Z'))[0], 0x17);
  assert.equal(time(d('2050-01-01T00:00:00Z'))[0], 0x18);
  assert.equal(time(d('1949-12-31T23:59:59Z'))[0], 0x18);
  assert.equal(Buffer.from(time(d('1999-12-31T23:59:59Z')).subarray(2)).toString(), '991231235959Z');
  assert.throws(() => utcTime(d('2050-01-01T00:00:00Z')), RangeError);
});

test('the little reader walks what the writer wrote', () => {
  const big = octetString(Buffer.alloc(300, 7));
  const s = sequence(integer(5), big, nul());
  const t = readTlv(s);
  assert.equal(t.tag, 0x30);
  assert.equal(t.end, s.length);
  const kids = children(s);
  assert.deepEqual(
    kids.map((k) => hex(k.subarray(0, 1))),
    ['02', '04', '05'],
  );
  assert.equal(kids[1]!.length, big.length);
});

test('PEM lines are 64 characters', () => {
  const pem = toPem(Buffer.alloc(100, 1), 'TEST');
  const lines = pem.trim().split('\n');
  assert.equal(lines[0], '-----BEGIN TEST-----');
  assert.equal(lines.at(-1), '-----END TEST-----');
  assert.equal(lines[1]!.length, 64);
  assert.equal(Buffer.from(lines.slice(1, -1).join(''), 'base64').length, 100);
});
