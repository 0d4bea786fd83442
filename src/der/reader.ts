/**
 * A strict, bounded DER reader (ITU-T X.690 §10, DER only; never BER).
 *
 * The reader is a cursor over one shared byte array: sub-readers (the contents of a SEQUENCE, an
 * explicit tag, an OCTET STRING that holds more DER) keep the same array and absolute offsets, so
 * every error can say where in the original input it happened, and nothing is copied.
 *
 * Rules enforced here (each is an X.690 or RFC 5280 rule, cited where it is checked):
 * definite lengths in minimal form; tag numbers in minimal form and below a bound; a nesting
 * bound; lengths checked against what remains; minimal INTEGERs; BOOLEAN only 0x00/0xFF; BIT
 * STRING unused-bit rules; minimal OID sub-identifiers; UTCTime and GeneralizedTime only in the
 * forms RFC 5280 §4.1.2.5 allows; string types checked against their character sets.
 *
 * No policy lives here: the reader does not know what a certificate is.
 * Every failure throws `ParseError` with code 'ERR_DER'.
 */

import { ParseError } from '../errors.js';

/** Identifier octets of the universal tags this project reads (X.690 §8.1.2, X.680 §8.4). */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  TELETEX_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  VISIBLE_STRING: 0x1a,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
} as const;

/** Class bits of an identifier octet (X.690 §8.1.2.2). */
export const CLASS_CONTEXT = 0x80;
/** The constructed bit of an identifier octet (X.690 §8.1.2.5). */
export const CONSTRUCTED = 0x20;

/** Identifier octet of a context-specific tag `[n]` (n < 31), constructed or primitive. */
export function contextTag(n: number, constructed: boolean): number {
  return CLASS_CONTEXT | (constructed ? CONSTRUCTED : 0) | n;
}

/**
 * Nesting bound. The deepest structure in an X.509 certificate (a directoryName inside a
 * GeneralSubtree inside name constraints inside an extension) is about 10 levels; 32 leaves room
 * for odd but valid inputs and keeps any recursion over DER bounded.
 */
export const MAX_DEPTH = 32;

/**
 * Largest tag number accepted in the high-tag-number form: three base-128 octets. No structure in
 * X.509 or PKIX uses numbers above 30; the bound only keeps the arithmetic small and exact.
 */
export const MAX_TAG_NUMBER = 0x1fffff;

/**
 * Longest length field: 4 octets (lengths below 2^32). An input cannot be longer than a JS
 * array anyway; this rejects absurd length fields before any arithmetic.
 */
const MAX_LENGTH_OCTETS = 4;

/**
 * Longest OBJECT IDENTIFIER sub-identifier, in octets. The largest arcs in use are X.667 UUIDs
 * (2.25.<128-bit integer>), 19 octets; Go's encoding/asn1 stops at 31 bits and BoringSSL at 64.
 * Without a bound, one 100 KB arc costs ~0.8 s of BigInt arithmetic (quadratic in its length).
 */
export const MAX_OID_ARC_OCTETS = 20;

/** One decoded TLV. Offsets are absolute in the reader's byte array. */
export interface Tlv {
  /**
   * The tag as one number: the identifier octet itself for tag numbers below 31 (0x30 for
   * SEQUENCE, 0xa0 for [0] constructed), and `(class|constructed bits) * 2^21 + number` for
   * the high-tag-number form, which therefore never equals a one-octet tag.
   */
  readonly tag: number;
  /** 0 universal, 1 application, 2 context-specific, 3 private. */
  readonly cls: number;
  readonly constructed: boolean;
  /** The tag number within its class. */
  readonly number: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
  /** The content octets (a view, not a copy). */
  readonly content: Uint8Array;
  /** The whole TLV, identifier to last content octet (a view, not a copy). */
  readonly der: Uint8Array;
}

/** Throws the reader's error: `<what>: <problem> at offset N`. */
export function derError(what: string | undefined, problem: string, offset: number): never {
  const prefix = what ? `${what}: ` : '';
  throw new ParseError(`${prefix}${problem} at offset ${offset}`, { code: 'ERR_DER' });
}

/** Lower-case hex of the bytes (no copy), as map keys and in comparisons of raw encodings. */
export function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Readable name of a tag, for messages: 'SEQUENCE', 'INTEGER', '[0]', 'tag 0x45'. */
export function tagName(tag: number): string {
  const universal: Record<number, string> = {
    1: 'BOOLEAN',
    2: 'INTEGER',
    3: 'BIT STRING',
    4: 'OCTET STRING',
    5: 'NULL',
    6: 'OBJECT IDENTIFIER',
    12: 'UTF8String',
    18: 'NumericString',
    19: 'PrintableString',
    20: 'TeletexString',
    22: 'IA5String',
    23: 'UTCTime',
    24: 'GeneralizedTime',
    26: 'VisibleString',
    28: 'UniversalString',
    30: 'BMPString',
    48: 'SEQUENCE',
    49: 'SET',
  };
  const u = universal[tag];
  if (u) return u;
  if (tag < 0x100 && (tag & 0xc0) === CLASS_CONTEXT) {
    return `[${tag & 0x1f}]${tag & CONSTRUCTED ? ' (constructed)' : ' (primitive)'}`;
  }
  return `tag 0x${tag.toString(16)}`;
}

/**
 * A cursor over `bytes[pos, end)`. Methods that read advance the cursor; every method takes a
 * `what` naming the field being read, which the error message starts with.
 */
export class DerReader {
  readonly bytes: Uint8Array;
  private pos: number;
  private readonly limit: number;
  readonly depth: number;

  /**
   * @param bytes the whole input (offsets in errors are relative to it)
   * @param start first offset this reader may read (default 0)
   * @param end offset just past the last byte this reader may read (default bytes.length)
   * @param depth nesting depth of this reader (0 for the outermost)
   */
  constructor(bytes: Uint8Array, start = 0, end = bytes.length, depth = 0) {
    if (depth > MAX_DEPTH) derError(undefined, `nesting deeper than ${MAX_DEPTH} levels`, start);
    this.bytes = bytes;
    this.pos = start;
    this.limit = end;
    this.depth = depth;
  }

  /** Absolute offset of the next byte to read. */
  get offset(): number {
    return this.pos;
  }

  /** Bytes left in this reader. */
  get remaining(): number {
    return this.limit - this.pos;
  }

  atEnd(): boolean {
    return this.pos >= this.limit;
  }

  /** Throws unless every byte of this reader has been read. */
  end(what: string): void {
    if (this.pos < this.limit) {
      derError(what, `${this.limit - this.pos} unexpected byte(s) after the last field`, this.pos);
    }
  }

  /** The tag of the next TLV without reading it, or undefined at the end. Validates the tag. */
  peekTag(): number | undefined {
    if (this.pos >= this.limit) return undefined;
    const first = this.bytes[this.pos]!;
    if ((first & 0x1f) !== 0x1f) return first;
    return this.readIdentifier(this.pos, undefined).tag;
  }

  /** Reads the next TLV, whatever its tag. */
  next(what: string): Tlv {
    const start = this.pos;
    if (start >= this.limit) derError(what, 'expected a value but the input ended', start);
    const id = this.readIdentifier(start, what);
    let p = id.next;
    if (p >= this.limit) derError(what, 'the input ended inside a tag-length header', p);
    const first = this.bytes[p++]!;
    let length: number;
    if (first < 0x80) {
      length = first;
    } else if (first === 0x80) {
      // X.690 §10.1: DER uses the definite form only.
      derError(what, 'indefinite length (BER, not DER)', p - 1);
    } else if (first === 0xff) {
      // X.690 §8.1.3.5 (c): 0xFF is reserved.
      derError(what, 'reserved length octet 0xFF', p - 1);
    } else {
      const n = first & 0x7f;
      if (n > MAX_LENGTH_OCTETS) derError(what, `length field of ${n} octets is too long`, p - 1);
      if (p + n > this.limit) derError(what, 'the input ended inside a length field', p);
      if (this.bytes[p] === 0) {
        // X.690 §10.1: the minimum number of octets; a leading zero octet is not minimal.
        derError(what, 'length is not in minimal form (leading zero octet)', p);
      }
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + this.bytes[p + i]!;
      p += n;
      // X.690 §10.1: lengths below 128 must use the short form.
      if (length < 0x80)
        derError(what, `length ${length} uses the long form (DER requires the short form)`, p - n - 1);
    }
    const contentStart = p;
    if (length > this.limit - contentStart) {
      derError(
        what,
        `length ${length} runs past the end of the enclosing value (${this.limit - contentStart} byte(s) left)`,
        start,
      );
    }
    const end = contentStart + length;
    this.pos = end;
    return {
      tag: id.tag,
      cls: id.cls,
      constructed: id.constructed,
      number: id.number,
      start,
      contentStart,
      end,
      content: this.bytes.subarray(contentStart, end),
      der: this.bytes.subarray(start, end),
    };
  }

  /** Reads the next TLV and throws unless its tag is `tag`. */
  expect(tag: number, what: string): Tlv {
    // The tag is checked before the length, so that garbage reads as "expected X but found Y".
    const found = this.peekTag();
    if (found !== undefined && found !== tag) {
      derError(what, `expected ${tagName(tag)} but found ${tagName(found)}`, this.pos);
    }
    return this.next(what);
  }

  /** Reads the next TLV if its tag is `tag`; otherwise reads nothing and returns undefined. */
  optional(tag: number, what: string): Tlv | undefined {
    if (this.peekTag() !== tag) return undefined;
    return this.next(what);
  }

  /** A reader over the contents of a constructed TLV (one level deeper). */
  enter(tlv: Tlv, what: string): DerReader {
    if (!tlv.constructed)
      derError(what, `${tagName(tlv.tag)} is primitive, expected a constructed value`, tlv.start);
    if (this.depth + 1 > MAX_DEPTH) derError(what, `nesting deeper than ${MAX_DEPTH} levels`, tlv.start);
    return new DerReader(this.bytes, tlv.contentStart, tlv.end, this.depth + 1);
  }

  /**
   * A reader over bytes that are themselves DER (the contents of an OCTET STRING or a BIT
   * STRING holding an encoded structure), one level deeper.
   */
  inner(start: number, end: number, what: string): DerReader {
    if (this.depth + 1 > MAX_DEPTH) derError(what, `nesting deeper than ${MAX_DEPTH} levels`, start);
    return new DerReader(this.bytes, start, end, this.depth + 1);
  }

  /** Reads a SEQUENCE and returns a reader over its contents. */
  sequence(what: string): DerReader {
    return this.enter(this.expect(TAG.SEQUENCE, what), what);
  }

  /** Reads a SET and returns a reader over its contents. */
  set(what: string): DerReader {
    return this.enter(this.expect(TAG.SET, what), what);
  }

  /** If the next TLV is the explicit context tag [n] (constructed), reads it and returns a reader over it. */
  optionalExplicit(n: number, what: string): DerReader | undefined {
    const tlv = this.optional(contextTag(n, true), what);
    return tlv ? this.enter(tlv, what) : undefined;
  }

  /** Reads an INTEGER; returns its content octets (two's complement, big-endian), checked minimal. */
  integer(what: string): Uint8Array {
    const tlv = this.expect(TAG.INTEGER, what);
    checkInteger(tlv, what);
    return tlv.content;
  }

  /** Reads a non-negative INTEGER no larger than `max` (at most Number.MAX_SAFE_INTEGER). */
  smallInteger(what: string, max = Number.MAX_SAFE_INTEGER): number {
    const tlv = this.expect(TAG.INTEGER, what);
    return integerValue(tlv, what, max);
  }

  /** Reads a BOOLEAN. */
  boolean(what: string): boolean {
    return booleanValue(this.expect(TAG.BOOLEAN, what), what);
  }

  /** Reads a NULL. */
  null(what: string): void {
    const tlv = this.expect(TAG.NULL, what);
    if (tlv.content.length !== 0) derError(what, 'NULL has contents', tlv.start);
  }

  /** Reads an OBJECT IDENTIFIER as dotted text. */
  oid(what: string): string {
    const tlv = this.expect(TAG.OID, what);
    return decodeOid(tlv.content, what, tlv.contentStart);
  }

  /** Reads an OCTET STRING; returns its contents (a view). */
  octetString(what: string): Uint8Array {
    return this.expect(TAG.OCTET_STRING, what).content;
  }

  /** Reads a BIT STRING. */
  bitString(what: string): BitString {
    return bitStringValue(this.expect(TAG.BIT_STRING, what), what);
  }

  /** Reads a UTCTime or a GeneralizedTime (RFC 5280 §4.1.2.5 forms). */
  time(what: string): Date {
    const tlv = this.next(what);
    if (tlv.tag !== TAG.UTC_TIME && tlv.tag !== TAG.GENERALIZED_TIME) {
      derError(what, `expected UTCTime or GeneralizedTime but found ${tagName(tlv.tag)}`, tlv.start);
    }
    return timeValue(tlv, what);
  }

  /** Reads one of the string types; returns its tag and its text. */
  string(what: string): { tag: number; value: string } {
    const tlv = this.next(what);
    if (!isStringTag(tlv.tag))
      derError(what, `expected a string type but found ${tagName(tlv.tag)}`, tlv.start);
    return { tag: tlv.tag, value: stringValue(tlv, what) };
  }

  private readIdentifier(
    start: number,
    what: string | undefined,
  ): { tag: number; cls: number; constructed: boolean; number: number; next: number } {
    const first = this.bytes[start]!;
    const cls = first >> 6;
    const constructed = (first & CONSTRUCTED) !== 0;
    let number = first & 0x1f;
    let p = start + 1;
    // X.680 §8.6 (Table 1): UNIVERSAL 0 is reserved for the encoding rules (BER's end-of-contents
    // octets, X.690 §8.1.5), never a value's tag; DER has no end-of-contents at all.
    if ((first & 0xdf) === 0)
      derError(what, 'universal tag 0 is reserved (end-of-contents), not a value', start);
    if (number !== 0x1f) return { tag: first, cls, constructed, number, next: p };
    // High-tag-number form (X.690 §8.1.2.4): base-128 octets, high bit set on all but the last.
    number = 0;
    for (let count = 0; ; count++) {
      if (p >= this.limit) derError(what, 'the input ended inside a tag', p);
      const b = this.bytes[p++]!;
      // X.690 §8.1.2.4.2 (c): the first subsequent octet must not be 0x80 (not minimal).
      if (count === 0 && b === 0x80) derError(what, 'tag number is not in minimal form', start);
      number = number * 128 + (b & 0x7f);
      if (number > MAX_TAG_NUMBER) derError(what, `tag number above ${MAX_TAG_NUMBER}`, start);
      if ((b & 0x80) === 0) break;
    }
    // X.690 §8.1.2.3: numbers below 31 must use the one-octet form.
    if (number < 0x1f) derError(what, `tag number ${number} uses the high-tag-number form`, start);
    return { tag: (first & 0xe0) * 0x200000 + number, cls, constructed, number, next: p };
  }
}

export interface BitString {
  /** Number of unused bits in the last octet (0–7). */
  unusedBits: number;
  /** The octets holding the bits (a view), without the unused-bits octet. */
  bytes: Uint8Array;
  /** Absolute offset of `bytes[0]` in the reader's input. */
  offset: number;
}

/** Checks the X.690 §8.3 / §10 rules for an INTEGER's contents. */
export function checkInteger(tlv: Tlv, what: string): void {
  const c = tlv.content;
  // X.690 §8.3.1: one or more octets.
  if (c.length === 0) derError(what, 'INTEGER has no contents', tlv.start);
  // X.690 §8.3.2: the first nine bits must not be all zeros or all ones (minimal encoding).
  if (c.length > 1 && ((c[0] === 0x00 && c[1]! < 0x80) || (c[0] === 0xff && c[1]! >= 0x80))) {
    derError(what, 'INTEGER is not minimally encoded', tlv.start);
  }
}

/** The value of a non-negative INTEGER TLV (any tag: implicit tags reuse the encoding). */
export function integerValue(tlv: Tlv, what: string, max = Number.MAX_SAFE_INTEGER): number {
  checkInteger(tlv, what);
  const c = tlv.content;
  if (c[0]! >= 0x80) derError(what, 'negative INTEGER where a non-negative one is required', tlv.start);
  let value = 0;
  for (const b of c) {
    value = value * 256 + b;
    if (value > max) derError(what, `INTEGER is larger than ${max}`, tlv.start);
  }
  return value;
}

/** The value of a BOOLEAN TLV. */
export function booleanValue(tlv: Tlv, what: string): boolean {
  const c = tlv.content;
  if (c.length !== 1) derError(what, `BOOLEAN has ${c.length} content octets, expected 1`, tlv.start);
  // X.690 §11.1: DER encodes TRUE as 0xFF and FALSE as 0x00.
  if (c[0] === 0xff) return true;
  if (c[0] === 0x00) return false;
  return derError(
    what,
    `BOOLEAN is 0x${c[0]!.toString(16).padStart(2, '0')}; DER allows only 0x00 and 0xFF`,
    tlv.start,
  );
}

/** The value of a BIT STRING TLV (any tag: implicit tags reuse the encoding). */
export function bitStringValue(tlv: Tlv, what: string): BitString {
  const c = tlv.content;
  // X.690 §8.6.2: the initial octet gives the number of unused bits.
  if (c.length === 0) derError(what, 'BIT STRING has no unused-bits octet', tlv.start);
  const unusedBits = c[0]!;
  if (unusedBits > 7)
    derError(what, `BIT STRING declares ${unusedBits} unused bits (at most 7)`, tlv.contentStart);
  // X.690 §8.6.2.3: an empty bit string has zero unused bits.
  if (c.length === 1 && unusedBits !== 0)
    derError(what, 'empty BIT STRING declares unused bits', tlv.contentStart);
  // X.690 §11.2.1: in DER the unused bits are zero.
  if (unusedBits > 0 && (c[c.length - 1]! & ((1 << unusedBits) - 1)) !== 0) {
    derError(what, 'BIT STRING has non-zero unused bits', tlv.end - 1);
  }
  return { unusedBits, bytes: c.subarray(1), offset: tlv.contentStart + 1 };
}

/**
 * Dotted text of an OID's content octets (X.690 §8.19). `offset` is the absolute offset of the
 * first content octet, for messages. Arcs beyond 2^53 (UUID OIDs under 2.25) are exact: they are
 * computed with BigInt.
 */
export function decodeOid(c: Uint8Array, what: string, offset: number): string {
  if (c.length === 0) derError(what, 'OBJECT IDENTIFIER has no contents', offset);
  // X.690 §8.19.2: the last octet of each sub-identifier has bit 8 clear.
  if (c[c.length - 1]! & 0x80)
    derError(what, 'OBJECT IDENTIFIER ends inside a sub-identifier', offset + c.length - 1);
  let text = '';
  let i = 0;
  let first = true;
  while (i < c.length) {
    // X.690 §8.19.2: the leading octet of a sub-identifier is never 0x80 (minimal form).
    if (c[i] === 0x80) derError(what, 'OBJECT IDENTIFIER sub-identifier is not in minimal form', offset + i);
    const arcStart = i;
    let value = 0;
    let big: bigint | undefined;
    for (;;) {
      if (i - arcStart >= MAX_OID_ARC_OCTETS) {
        derError(
          what,
          `OBJECT IDENTIFIER sub-identifier is longer than ${MAX_OID_ARC_OCTETS} octets (the largest arcs in use, UUIDs, take 19)`,
          offset + arcStart,
        );
      }
      const b = c[i++]!;
      if (big !== undefined) {
        big = big * 128n + BigInt(b & 0x7f);
      } else {
        value = value * 128 + (b & 0x7f);
        // Past 2^46 the next step could lose precision: continue exactly in BigInt.
        if (value >= 2 ** 46) big = BigInt(value);
      }
      if ((b & 0x80) === 0) break;
    }
    if (first) {
      // X.690 §8.19.4: the first sub-identifier packs two arcs: 40 * X + Y, X in 0..2.
      first = false;
      if (big !== undefined) text = `2.${big - 80n}`;
      else if (value < 40) text = `0.${value}`;
      else if (value < 80) text = `1.${value - 40}`;
      else text = `2.${value - 80}`;
    } else {
      text += `.${big ?? value}`;
    }
  }
  return text;
}

/** The DER content octets of an OID given as dotted text (for tests and constant tables). */
export function encodeOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map((a) => BigInt(a));
  if (arcs.length < 2) throw new RangeError(`OID ${dotted} has fewer than two arcs`);
  const out: number[] = [];
  const push = (v: bigint) => {
    const stack: number[] = [Number(v & 0x7fn)];
    v >>= 7n;
    while (v > 0n) {
      stack.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(...stack.reverse());
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  return Uint8Array.from(out);
}

const DIGIT0 = 0x30;

function twoDigits(c: Uint8Array, i: number): number {
  const a = c[i]! - DIGIT0;
  const b = c[i + 1]! - DIGIT0;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

/**
 * The instant of a UTCTime or GeneralizedTime TLV, in the only forms RFC 5280 §4.1.2.5 allows:
 * YYMMDDHHMMSSZ (years 50–99 are 19xx, 00–49 are 20xx) and YYYYMMDDHHMMSSZ. No fractional
 * seconds, no offsets, no missing seconds.
 */
export function timeValue(tlv: Tlv, what: string): Date {
  const c = tlv.content;
  const utc = tlv.tag === TAG.UTC_TIME;
  const expectedLength = utc ? 13 : 15;
  const form = utc ? 'YYMMDDHHMMSSZ' : 'YYYYMMDDHHMMSSZ';
  const kind = utc ? 'UTCTime' : 'GeneralizedTime';
  const shown = () => JSON.stringify(Buffer.from(c).toString('latin1'));
  if (c.length !== expectedLength || c[c.length - 1] !== 0x5a /* Z */) {
    derError(what, `${kind} ${shown()} is not in the form ${form} (RFC 5280 §4.1.2.5)`, tlv.start);
  }
  let year: number;
  let i: number;
  if (utc) {
    const yy = twoDigits(c, 0);
    // RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY, YY < 50 is 20YY.
    year = yy < 0 ? -1 : yy >= 50 ? 1900 + yy : 2000 + yy;
    i = 2;
  } else {
    const hi = twoDigits(c, 0);
    const lo = twoDigits(c, 2);
    year = hi < 0 || lo < 0 ? -1 : hi * 100 + lo;
    i = 4;
  }
  const month = twoDigits(c, i);
  const day = twoDigits(c, i + 2);
  const hour = twoDigits(c, i + 4);
  const minute = twoDigits(c, i + 6);
  const second = twoDigits(c, i + 8);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) {
    derError(what, `${kind} ${shown()} contains a non-digit`, tlv.start);
  }
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  // Leap seconds (60) are not representable in a Date and X.680 §46 does not allow them here.
  if (daysInMonth === undefined || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    derError(what, `${kind} ${shown()} is not a valid date and time`, tlv.start);
  }
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date;
}

/** True for the tags of the string types {@link stringValue} decodes. */
export function isStringTag(tag: number): boolean {
  switch (tag) {
    case TAG.UTF8_STRING:
    case TAG.NUMERIC_STRING:
    case TAG.PRINTABLE_STRING:
    case TAG.TELETEX_STRING:
    case TAG.IA5_STRING:
    case TAG.VISIBLE_STRING:
    case TAG.UNIVERSAL_STRING:
    case TAG.BMP_STRING:
      return true;
    default:
      return false;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * PrintableString's character set (X.680 §41.4): A–Z a–z 0–9 space ' ( ) + , - . / : = ?
 * plus '*' and '&', which are not in it but appear in certificates issued by real CAs (Go's
 * crypto/x509 accepts both for the same reason).
 */
const PRINTABLE = (() => {
  const t = new Uint8Array(128);
  for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?*&") {
    t[ch.charCodeAt(0)] = 1;
  }
  return t;
})();

/** Latin-1 text of bytes already known to be 7-bit or to be read as Latin-1. */
function latin1(c: Uint8Array): string {
  return Buffer.from(c.buffer, c.byteOffset, c.byteLength).toString('latin1');
}

/**
 * The text of a string-type TLV, checked against its character set.
 * TeletexString (T.61) is read as Latin-1, as OpenSSL and Go do: real certificates use it that way.
 */
export function stringValue(tlv: Tlv, what: string): string {
  const c = tlv.content;
  const at = tlv.contentStart;
  switch (tlv.tag) {
    case TAG.UTF8_STRING:
      try {
        return utf8.decode(c);
      } catch {
        return derError(what, 'UTF8String is not valid UTF-8', at);
      }
    case TAG.PRINTABLE_STRING:
      for (let i = 0; i < c.length; i++) {
        const b = c[i]!;
        if (b >= 0x80 || PRINTABLE[b] === 0) {
          derError(
            what,
            `PrintableString contains a character outside its set (0x${b.toString(16)})`,
            at + i,
          );
        }
      }
      return latin1(c);
    case TAG.NUMERIC_STRING:
      // X.680 §41.2: digits and space.
      for (let i = 0; i < c.length; i++) {
        const b = c[i]!;
        if (b !== 0x20 && (b < 0x30 || b > 0x39))
          derError(what, 'NumericString contains a non-digit', at + i);
      }
      return latin1(c);
    case TAG.IA5_STRING:
      // IA5 is 7-bit ASCII (X.680 §41.2, T.50).
      for (let i = 0; i < c.length; i++) {
        if (c[i]! >= 0x80) derError(what, 'IA5String contains a non-ASCII byte', at + i);
      }
      return latin1(c);
    case TAG.VISIBLE_STRING:
      // VisibleString is printable ASCII, 0x20–0x7E (X.680 §41.2, ISO 646).
      for (let i = 0; i < c.length; i++) {
        const b = c[i]!;
        if (b < 0x20 || b > 0x7e) derError(what, 'VisibleString contains a non-printable byte', at + i);
      }
      return latin1(c);
    case TAG.TELETEX_STRING:
      return latin1(c);
    case TAG.BMP_STRING: {
      // UCS-2 / UTF-16 big-endian (X.680 §41.16).
      if (c.length % 2 !== 0) derError(what, `BMPString has an odd length (${c.length})`, tlv.start);
      const units = new Array<number>(c.length / 2);
      for (let i = 0; i < c.length; i += 2) {
        const u = (c[i]! << 8) | c[i + 1]!;
        units[i / 2] = u;
      }
      for (let k = 0; k < units.length; k++) {
        const u = units[k]!;
        if (u >= 0xd800 && u <= 0xdbff) {
          const lo = units[k + 1];
          if (lo === undefined || lo < 0xdc00 || lo > 0xdfff)
            derError(what, 'BMPString has an unpaired surrogate', at + 2 * k);
          k++;
        } else if (u >= 0xdc00 && u <= 0xdfff) {
          derError(what, 'BMPString has an unpaired surrogate', at + 2 * k);
        }
      }
      return fromCharCodes(units);
    }
    case TAG.UNIVERSAL_STRING: {
      // UCS-4 big-endian (X.680 §41.16).
      if (c.length % 4 !== 0)
        derError(what, `UniversalString length ${c.length} is not a multiple of 4`, tlv.start);
      let s = '';
      for (let i = 0; i < c.length; i += 4) {
        const cp = ((c[i]! << 24) | (c[i + 1]! << 16) | (c[i + 2]! << 8) | c[i + 3]!) >>> 0;
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          derError(what, `UniversalString holds an invalid code point 0x${cp.toString(16)}`, at + i);
        }
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      return derError(what, `${tagName(tlv.tag)} is not a string type`, tlv.start);
  }
}

/** String.fromCharCode over many code units without exceeding the argument limit. */
function fromCharCodes(units: number[]): string {
  let s = '';
  // 8192 arguments per call stays far below every engine's argument-count limit.
  for (let i = 0; i < units.length; i += 8192) s += String.fromCharCode(...units.slice(i, i + 8192));
  return s;
}
