import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DerReader, decodeOid, encodeOid, MAX_DEPTH, TAG } from '../../src/der/reader.js';
import { ParseError } from '../../src/errors.js';

const b = (...bytes: number[]) => Uint8Array.from(bytes);
const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
/** A TLV with a short-form length. */
const tlv = (tag: number, content: Uint8Array | number[]) => {
  const c = content instanceof Uint8Array ? content : Uint8Array.from(content);
  assert.ok(c.length < 128);
  return Uint8Array.from([tag, c.length, ...c]);
};

/** Asserts that `fn` throws ParseError code ERR_DER whose message matches `re`. */
function rejects(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ParseError, `expected ParseError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_DER');
    assert.match(err.message, re);
    assert.match(err.message, /at offset \d+/);
    return true;
  });
}

describe('TLV headers', () => {
  test('reads a short-form TLV and its offsets', () => {
    const r = new DerReader(b(0x04, 0x02, 0xaa, 0xbb));
    const t = r.next('x');
    assert.equal(t.tag, 0x04);
    assert.equal(t.start, 0);
    assert.equal(t.contentStart, 2);
    assert.equal(t.end, 4);
    assert.deepEqual([...t.content], [0xaa, 0xbb]);
    assert.ok(r.atEnd());
  });

  test('long-form length is accepted only when needed and minimal', () => {
    const content = new Uint8Array(200).fill(7);
    const ok = new DerReader(Uint8Array.from([0x04, 0x81, 200, ...content]));
    assert.equal(ok.octetString('x').length, 200);
    // 5 encoded in the long form
    rejects(() => new DerReader(b(0x04, 0x81, 0x05, 1, 2, 3, 4, 5)).next('x'), /long form/);
    // leading zero octet in the length
    rejects(
      () => new DerReader(Uint8Array.from([0x04, 0x82, 0x00, 200, ...content])).next('x'),
      /minimal form/,
    );
  });

  test('indefinite length is BER, not DER', () => {
    rejects(() => new DerReader(b(0x30, 0x80, 0x00, 0x00)).next('x'), /indefinite length/);
  });

  test('reserved length octet 0xFF', () => {
    rejects(() => new DerReader(b(0x04, 0xff)).next('x'), /reserved/);
  });

  test('over-long length field', () => {
    rejects(() => new DerReader(b(0x04, 0x85, 1, 0, 0, 0, 0)).next('x'), /too long/);
  });

  test('length running past the end of the input or the enclosing value', () => {
    rejects(() => new DerReader(b(0x04, 0x05, 1, 2)).next('x'), /runs past the end/);
    // Inner value claims 3 bytes inside a SEQUENCE of 3 content bytes (header takes 2).
    const seq = new DerReader(b(0x30, 0x03, 0x04, 0x03, 0x01)).sequence('outer');
    rejects(() => seq.next('inner'), /runs past the end/);
    rejects(() => new DerReader(b(0x04, 0x82, 0x01)).next('x'), /inside a length field/);
    rejects(() => new DerReader(b(0x04)).next('x'), /inside a tag-length header/);
    rejects(() => new DerReader(b()).next('x'), /input ended/);
  });

  test('high tag numbers: minimal form, bounded', () => {
    // [31] primitive, context class: 0x9f 0x1f
    const t = new DerReader(b(0x9f, 0x1f, 0x00)).next('x');
    assert.equal(t.number, 31);
    assert.equal(t.cls, 2);
    assert.ok(t.tag > 0xff);
    // number 30 in the high form is not minimal
    rejects(() => new DerReader(b(0x9f, 0x1e, 0x00)).next('x'), /high-tag-number form/);
    // a leading 0x80 octet is not minimal
    rejects(() => new DerReader(b(0x9f, 0x80, 0x1f, 0x00)).next('x'), /minimal form/);
    // above the bound
    rejects(() => new DerReader(b(0x9f, 0xff, 0xff, 0xff, 0x7f, 0x00)).next('x'), /tag number above/);
    rejects(() => new DerReader(b(0x9f, 0x81)).next('x'), /inside a tag/);
  });

  test('universal tag 0 (end-of-contents, X.680 §8.6) is no value, primitive or constructed', () => {
    rejects(
      () => new DerReader(b(0x00, 0x00)).next('x'),
      /x: universal tag 0 is reserved \(end-of-contents\), not a value at offset 0/,
    );
    rejects(() => new DerReader(b(0x00, 0x01, 0x41)).next('x'), /universal tag 0 is reserved/);
    rejects(() => new DerReader(b(0x20, 0x00)).next('x'), /universal tag 0 is reserved/);
    // Inside a SEQUENCE, at the offset where it is.
    const inner = new DerReader(b(0x30, 0x05, 0x02, 0x01, 0x01, 0x00, 0x00)).sequence('s');
    inner.next('first');
    rejects(() => inner.next('item'), /item: universal tag 0 .* at offset 5/);
    // Context-specific [0] and application 0 are ordinary tags.
    assert.equal(new DerReader(b(0x80, 0x00)).next('x').number, 0);
    assert.equal(new DerReader(b(0xa0, 0x00)).next('x').number, 0);
    assert.equal(new DerReader(b(0x40, 0x00)).next('x').cls, 1);
  });

  test('expect names the field, the tags and the offset', () => {
    const r = new DerReader(b(0x05, 0x00, 0x02, 0x01, 0x01));
    r.null('first');
    assert.throws(
      () => r.expect(TAG.SEQUENCE, 'tbsCertificate'),
      (e: unknown) =>
        e instanceof ParseError &&
        e.message === 'tbsCertificate: expected SEQUENCE but found INTEGER at offset 2',
    );
  });

  test('end() rejects trailing bytes; optional() reads only a matching tag', () => {
    const r = new DerReader(b(0x02, 0x01, 0x05, 0x05, 0x00));
    assert.equal(r.optional(TAG.BOOLEAN, 'b'), undefined);
    assert.equal(r.smallInteger('i'), 5);
    rejects(() => r.end('whole'), /unexpected byte/);
    r.null('n');
    r.end('whole');
  });

  test('a primitive value cannot be entered; a constructed one can', () => {
    const r = new DerReader(b(0x04, 0x00));
    rejects(() => r.enter(r.next('x'), 'x'), /primitive/);
    const c = new DerReader(b(0xa0, 0x03, 0x02, 0x01, 0x02)).optionalExplicit(0, 'version');
    assert.ok(c);
    assert.equal(c.smallInteger('version'), 2);
  });

  test('nesting is bounded', () => {
    // MAX_DEPTH + 1 nested SEQUENCEs around nothing.
    let bytes = new Uint8Array(0);
    for (let i = 0; i < MAX_DEPTH + 2; i++) bytes = Uint8Array.from([0x30, bytes.length, ...bytes]);
    let r = new DerReader(bytes);
    let depth = 0;
    assert.throws(
      () => {
        for (;;) {
          r = r.sequence('nest');
          depth++;
        }
      },
      (e: unknown) => e instanceof ParseError && /nesting deeper/.test(e.message),
    );
    assert.equal(depth, MAX_DEPTH);
    // MAX_DEPTH levels are fine.
    let okBytes = new Uint8Array(0);
    for (let i = 0; i < MAX_DEPTH; i++) okBytes = Uint8Array.from([0x30, okBytes.length, ...okBytes]);
    let ok = new DerReader(okBytes);
    for (let i = 0; i < MAX_DEPTH; i++) ok = ok.sequence('nest');
    assert.ok(ok.atEnd());
  });
});

describe('INTEGER', () => {
  test('minimal encodings are accepted', () => {
    for (const content of [[0x00], [0x7f], [0x00, 0x80], [0xff], [0x80], [0xff, 0x7f], [0x01, 0x00]]) {
      const r = new DerReader(tlv(TAG.INTEGER, content));
      assert.deepEqual([...r.integer('i')], content);
    }
  });
  test('non-minimal and empty encodings are rejected', () => {
    rejects(
      () => new DerReader(tlv(TAG.INTEGER, [0x00, 0x7f])).integer('serialNumber'),
      /serialNumber: .*not minimally/,
    );
    rejects(() => new DerReader(tlv(TAG.INTEGER, [0xff, 0x80])).integer('i'), /not minimally/);
    rejects(() => new DerReader(tlv(TAG.INTEGER, [0x00, 0x00])).integer('i'), /not minimally/);
    rejects(() => new DerReader(tlv(TAG.INTEGER, [])).integer('i'), /no contents/);
  });
  test('smallInteger: bounds and sign', () => {
    assert.equal(new DerReader(tlv(TAG.INTEGER, [0x01, 0x00])).smallInteger('i'), 256);
    rejects(() => new DerReader(tlv(TAG.INTEGER, [0x01, 0x00])).smallInteger('i', 255), /larger than 255/);
    rejects(() => new DerReader(tlv(TAG.INTEGER, [0xff])).smallInteger('i'), /negative/);
    rejects(
      () => new DerReader(tlv(TAG.INTEGER, [0x01, 0, 0, 0, 0, 0, 0, 0, 0])).smallInteger('i'),
      /larger than/,
    );
  });
});

describe('BOOLEAN and NULL', () => {
  test('only 0x00 and 0xFF, exactly one octet', () => {
    assert.equal(new DerReader(tlv(TAG.BOOLEAN, [0xff])).boolean('b'), true);
    assert.equal(new DerReader(tlv(TAG.BOOLEAN, [0x00])).boolean('b'), false);
    rejects(() => new DerReader(tlv(TAG.BOOLEAN, [0x01])).boolean('critical'), /critical: BOOLEAN is 0x01/);
    rejects(() => new DerReader(tlv(TAG.BOOLEAN, [0xff, 0xff])).boolean('b'), /2 content octets/);
    rejects(() => new DerReader(tlv(TAG.BOOLEAN, [])).boolean('b'), /0 content octets/);
  });
  test('NULL has no contents', () => {
    new DerReader(tlv(TAG.NULL, [])).null('n');
    rejects(() => new DerReader(tlv(TAG.NULL, [0])).null('n'), /NULL has contents/);
  });
});

describe('BIT STRING', () => {
  test('unused bits are counted and must be zero', () => {
    const bs = new DerReader(tlv(TAG.BIT_STRING, [0x01, 0x86])).bitString('keyUsage');
    assert.equal(bs.unusedBits, 1);
    assert.deepEqual([...bs.bytes], [0x86]);
    assert.equal(bs.offset, 3);
    assert.equal(new DerReader(tlv(TAG.BIT_STRING, [0x00])).bitString('b').bytes.length, 0);
    rejects(() => new DerReader(tlv(TAG.BIT_STRING, [0x01, 0x87])).bitString('b'), /non-zero unused bits/);
    rejects(() => new DerReader(tlv(TAG.BIT_STRING, [0x08, 0x00])).bitString('b'), /8 unused bits/);
    rejects(() => new DerReader(tlv(TAG.BIT_STRING, [0x03])).bitString('b'), /empty BIT STRING declares/);
    rejects(() => new DerReader(tlv(TAG.BIT_STRING, [])).bitString('b'), /no unused-bits octet/);
  });
  test('a constructed BIT STRING (BER) is not a BIT STRING', () => {
    rejects(() => new DerReader(tlv(0x23, [0x03, 0x01, 0x00])).bitString('b'), /expected BIT STRING/);
  });
});

describe('OBJECT IDENTIFIER', () => {
  const cases: [string, number[]][] = [
    ['2.5.4.3', [0x55, 0x04, 0x03]],
    ['1.2.840.113549.1.1.11', [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b]],
    ['0.9.2342.19200300.100.1.25', [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19]],
    ['2.999.3', [0x88, 0x37, 0x03]],
    ['0.0', [0x00]],
    ['1.39', [0x4f]],
  ];
  for (const [dotted, bytes] of cases) {
    test(`decodes ${dotted}`, () => {
      assert.equal(new DerReader(tlv(TAG.OID, bytes)).oid('o'), dotted);
      assert.deepEqual([...encodeOid(dotted)], bytes);
    });
  }
  test('arcs beyond 2^53 are exact (UUID OIDs)', () => {
    const dotted = '2.25.329800735698586629295641978511506172918';
    assert.equal(decodeOid(encodeOid(dotted), 'o', 0), dotted);
    assert.equal(decodeOid(encodeOid('1.2.9007199254740993'), 'o', 0), '1.2.9007199254740993');
  });
  test('non-minimal sub-identifiers, truncation and emptiness are rejected', () => {
    rejects(() => new DerReader(tlv(TAG.OID, [0x55, 0x80, 0x03])).oid('o'), /not in minimal form/);
    rejects(() => new DerReader(tlv(TAG.OID, [0x80, 0x55])).oid('o'), /not in minimal form/);
    rejects(() => new DerReader(tlv(TAG.OID, [0x55, 0x84])).oid('o'), /ends inside a sub-identifier/);
    rejects(() => new DerReader(tlv(TAG.OID, [])).oid('o'), /no contents/);
  });
});

describe('times (RFC 5280 §4.1.2.5)', () => {
  const utc = (s: string) => new DerReader(tlv(TAG.UTC_TIME, ascii(s))).time('notBefore');
  const gen = (s: string) => new DerReader(tlv(TAG.GENERALIZED_TIME, ascii(s))).time('notAfter');
  test('UTCTime years 50–99 are 19xx, 00–49 are 20xx', () => {
    assert.equal(utc('500101000000Z').toISOString(), '1950-01-01T00:00:00.000Z');
    assert.equal(utc('991231235959Z').toISOString(), '1999-12-31T23:59:59.000Z');
    assert.equal(utc('000101000000Z').toISOString(), '2000-01-01T00:00:00.000Z');
    assert.equal(utc('491231235959Z').toISOString(), '2049-12-31T23:59:59.000Z');
    assert.equal(utc('240229120000Z').toISOString(), '2024-02-29T12:00:00.000Z');
  });
  test('GeneralizedTime, including years below 100 and 9999', () => {
    assert.equal(gen('20500101000000Z').toISOString(), '2050-01-01T00:00:00.000Z');
    assert.equal(gen('99991231235959Z').toISOString(), '9999-12-31T23:59:59.000Z');
    assert.equal(gen('00010101000000Z').getUTCFullYear(), 1);
    assert.equal(gen('20000229000000Z').getUTCDate(), 29);
  });
  test('other forms are rejected', () => {
    for (const bad of [
      '5001010000Z',
      '500101000000',
      '500101000000+0000',
      '5001010000000Z',
      '500101000000z',
    ]) {
      rejects(() => utc(bad), /not in the form YYMMDDHHMMSSZ/);
    }
    for (const bad of ['20500101000000.5Z', '205001010000Z', '20500101000000', '20500101000000+0100']) {
      rejects(() => gen(bad), /not in the form YYYYMMDDHHMMSSZ/);
    }
    rejects(() => utc('5a0101000000Z'), /non-digit/);
    rejects(() => utc('50-101000000Z'), /non-digit/);
  });
  test('impossible dates and times are rejected', () => {
    for (const bad of ['501301000000Z', '500001000000Z', '500100000000Z', '500132000000Z', '230229000000Z']) {
      rejects(() => utc(bad), /not a valid date/);
    }
    for (const bad of ['500101240000Z', '500101236000Z', '500101235960Z', '500431000000Z']) {
      rejects(() => utc(bad), /not a valid date/);
    }
    rejects(() => gen('21000229000000Z'), /not a valid date/);
  });
  test('a non-time tag is rejected', () => {
    rejects(
      () => new DerReader(tlv(TAG.INTEGER, [1])).time('notBefore'),
      /notBefore: expected UTCTime or GeneralizedTime/,
    );
  });
});

describe('string types', () => {
  const str = (tag: number, bytes: Uint8Array | number[]) => new DerReader(tlv(tag, bytes)).string('value');
  test('UTF8String: valid UTF-8 only', () => {
    assert.deepEqual(str(TAG.UTF8_STRING, Buffer.from('Zürich ✓ 𝄞')), { tag: 0x0c, value: 'Zürich ✓ 𝄞' });
    rejects(() => str(TAG.UTF8_STRING, [0x41, 0xc3]), /not valid UTF-8/);
    rejects(() => str(TAG.UTF8_STRING, [0xc0, 0x80]), /not valid UTF-8/); // overlong NUL
    rejects(() => str(TAG.UTF8_STRING, [0xed, 0xa0, 0x80]), /not valid UTF-8/); // surrogate
  });
  test('PrintableString: its character set (plus * and &)', () => {
    assert.equal(str(TAG.PRINTABLE_STRING, ascii("Ab9 '()+,-./:=?")).value, "Ab9 '()+,-./:=?");
    assert.equal(str(TAG.PRINTABLE_STRING, ascii('*.example.com & co')).value, '*.example.com & co');
    rejects(() => str(TAG.PRINTABLE_STRING, ascii('a@b')), /outside its set \(0x40\)/);
    rejects(() => str(TAG.PRINTABLE_STRING, ascii('a_b')), /outside its set/);
    rejects(() => str(TAG.PRINTABLE_STRING, [0x41, 0xe9]), /outside its set/);
  });
  test('IA5String: 7-bit only, with the offset of the bad byte', () => {
    assert.equal(str(TAG.IA5_STRING, ascii('a@b.example')).value, 'a@b.example');
    assert.throws(
      () => str(TAG.IA5_STRING, [0x61, 0x62, 0xe9]),
      (e: unknown) =>
        e instanceof ParseError && e.message === 'value: IA5String contains a non-ASCII byte at offset 4',
    );
  });
  test('VisibleString and NumericString', () => {
    assert.equal(str(TAG.VISIBLE_STRING, ascii('~ok!')).value, '~ok!');
    rejects(() => str(TAG.VISIBLE_STRING, [0x41, 0x0a]), /non-printable/);
    assert.equal(str(TAG.NUMERIC_STRING, ascii('12 34')).value, '12 34');
    rejects(() => str(TAG.NUMERIC_STRING, ascii('12a')), /non-digit/);
  });
  test('TeletexString is read as Latin-1', () => {
    assert.equal(str(TAG.TELETEX_STRING, [0x5a, 0xfc, 0x72]).value, 'Zür');
  });
  test('BMPString: UTF-16BE with surrogate pairs; odd length and lone surrogates rejected', () => {
    assert.equal(str(TAG.BMP_STRING, [0x00, 0x41, 0x00, 0xfc, 0xd8, 0x34, 0xdd, 0x1e]).value, 'Aü𝄞');
    rejects(() => str(TAG.BMP_STRING, [0x00, 0x41, 0x00]), /odd length/);
    rejects(() => str(TAG.BMP_STRING, [0xd8, 0x34, 0x00, 0x41]), /unpaired surrogate/);
    rejects(() => str(TAG.BMP_STRING, [0xdd, 0x1e]), /unpaired surrogate/);
  });
  test('UniversalString: UTF-32BE, valid code points only', () => {
    assert.equal(str(TAG.UNIVERSAL_STRING, [0, 0, 0, 0x41, 0, 0x01, 0xd1, 0x1e]).value, 'A𝄞');
    rejects(() => str(TAG.UNIVERSAL_STRING, [0, 0, 0x41]), /not a multiple of 4/);
    rejects(() => str(TAG.UNIVERSAL_STRING, [0, 0x11, 0, 0]), /invalid code point/);
    rejects(() => str(TAG.UNIVERSAL_STRING, [0, 0, 0xd8, 0]), /invalid code point/);
  });
  test('a non-string tag is rejected; a constructed string (BER) is not a string', () => {
    rejects(() => str(TAG.INTEGER, [1]), /expected a string type/);
    rejects(() => str(0x2c, [0x0c, 0x01, 0x41]), /expected a string type/);
  });
  test('a long BMPString decodes in bounded chunks', () => {
    const n = 30_000; // 60,000 octets: a two-octet length
    const bytes = new Uint8Array(2 * n + 4);
    bytes.set([0x1e, 0x82, (2 * n) >> 8, (2 * n) & 0xff]);
    for (let i = 0; i < n; i++) bytes[4 + 2 * i + 1] = 0x61;
    const value = new DerReader(bytes).string('v').value;
    assert.equal(value.length, n);
    assert.ok(value === 'a'.repeat(n));
  });
});

describe('offsets are absolute inside sub-readers', () => {
  test('an error deep inside names the offset in the whole input', () => {
    // SEQUENCE { OCTET STRING { SEQUENCE { INTEGER 00 01 } } }
    const bytes = b(0x30, 0x08, 0x04, 0x06, 0x30, 0x04, 0x02, 0x02, 0x00, 0x01);
    const outer = new DerReader(bytes).sequence('outer');
    const os = outer.expect(TAG.OCTET_STRING, 'wrapper');
    const inner = outer.inner(os.contentStart, os.end, 'wrapper').sequence('inner');
    assert.throws(
      () => inner.integer('pathLen'),
      (e: unknown) =>
        e instanceof ParseError && e.message === 'pathLen: INTEGER is not minimally encoded at offset 6',
    );
  });
});
