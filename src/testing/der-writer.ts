/**
 * A small DER writer for building test certificates (ITU-T X.690 §8 and §10).
 *
 * Every function returns the complete encoding (tag, length, contents) as a Buffer, so pieces
 * compose by nesting: `sequence(integer(1n), oid('2.5.4.3'))`. Nothing here validates its input
 * beyond what is needed to produce bytes: the factory must be able to make bad encodings on
 * purpose, so `integer(bytes)`, `tlv()` and `raw()` pass content through untouched.
 */
// Identifier octets (X.690 §8.1.2): the reader's tables, so that both sides speak one language.
import { CLASS_CONTEXT, CONSTRUCTED, TAG } from '../der/reader.js';

type Bytes = Uint8Array;

/** The length octets in DER's definite, minimal form (X.690 §10.1, §8.1.3). */
export function encodeLength(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`bad DER length ${length}`);
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/**
 * One TLV with a single-octet identifier (tag numbers up to 30, which is all X.509 needs).
 * `tag` is the whole identifier octet: class | constructed | number.
 */
export function tlv(tag: number, content: Bytes): Buffer {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xff || (tag & 0x1f) === 0x1f) {
    throw new RangeError(`tlv(): identifier octet ${tag} is not a single-octet tag`);
  }
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** Bytes passed through unchanged (an already-encoded element, or deliberately broken bytes). */
export function raw(bytes: Bytes): Buffer {
  return Buffer.from(bytes);
}

/** Concatenation of already-encoded elements (the contents of a constructed value). */
export function concat(...items: Bytes[]): Buffer {
  return Buffer.concat(items);
}

/** SEQUENCE / SEQUENCE OF: the elements in the order given. */
export function sequence(...items: Bytes[]): Buffer {
  return tlv(TAG.SEQUENCE, Buffer.concat(items));
}

/** SET OF in DER order: elements sorted by their encodings (X.690 §11.6). */
export function set(...items: Bytes[]): Buffer {
  const sorted = [...items].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return tlv(TAG.SET, Buffer.concat(sorted));
}

/** A SET with its elements in the order given (not DER when they are out of order: for bad-input tests). */
export function setUnsorted(...items: Bytes[]): Buffer {
  return tlv(TAG.SET, Buffer.concat(items));
}

/** BOOLEAN; DER requires 0xFF for TRUE (X.690 §11.1). `rawByte` writes any other octet on purpose. */
export function boolean(value: boolean, rawByte?: number): Buffer {
  return tlv(TAG.BOOLEAN, Buffer.from([rawByte ?? (value ? 0xff : 0x00)]));
}

/** NULL. */
export function nul(): Buffer {
  return tlv(TAG.NULL, Buffer.alloc(0));
}

/** The minimal two's-complement content octets of an integer (X.690 §8.3.2). */
export function integerContent(value: bigint): Buffer {
  if (value >= 0n) {
    let hex = value.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    const b = Buffer.from(hex, 'hex');
    return b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
  }
  // Smallest n with -(2^(8n-1)) <= value, then the n-byte two's complement.
  let n = 1;
  while (value < -(1n << BigInt(8 * n - 1))) n++;
  let hex = ((1n << BigInt(8 * n)) + value).toString(16);
  hex = hex.padStart(2 * n, '0');
  return Buffer.from(hex, 'hex');
}

/**
 * INTEGER. A number or bigint is encoded minimally; a Uint8Array is used as the content octets
 * exactly as given (so leading zeros, negative serials or an empty INTEGER can be made on purpose).
 */
export function integer(value: bigint | number | Bytes): Buffer {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`integer(): ${value} is not a safe integer`);
    value = BigInt(value);
  }
  return tlv(TAG.INTEGER, typeof value === 'bigint' ? integerContent(value) : Buffer.from(value));
}

/** The content octets of an OBJECT IDENTIFIER from its dotted form (X.690 §8.19). */
export function oidContent(dotted: string): Buffer {
  const arcs = dotted.split('.').map((s) => {
    if (!/^\d+$/.test(s)) throw new SyntaxError(`oid(): '${dotted}' is not a dotted OID`);
    return BigInt(s);
  });
  if (arcs.length < 2) throw new SyntaxError(`oid(): '${dotted}' needs at least two arcs`);
  const [a, b] = arcs as [bigint, bigint];
  if (a > 2n || (a < 2n && b > 39n)) throw new SyntaxError(`oid(): '${dotted}' has bad first arcs`);
  const out: number[] = [];
  for (const arc of [a * 40n + b, ...arcs.slice(2)]) {
    const group: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) group.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...group);
  }
  return Buffer.from(out);
}

/** OBJECT IDENTIFIER from a dotted string, e.g. '1.2.840.113549.1.1.11'. */
export function oid(dotted: string): Buffer {
  return tlv(TAG.OID, oidContent(dotted));
}

/** BIT STRING with the given content and number of unused bits in the last octet (0..7). */
export function bitString(bytes: Bytes, unusedBits = 0): Buffer {
  if (unusedBits < 0 || unusedBits > 7) throw new RangeError('bitString(): unusedBits must be 0..7');
  return tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

/**
 * A named-bit BIT STRING (KeyUsage) from bit positions (0 = most significant bit of the first
 * octet). DER drops trailing zero bits (X.690 §11.2.2), so the length follows the highest bit set.
 */
export function namedBits(bits: number[]): Buffer {
  if (bits.length === 0) return bitString(Buffer.alloc(0), 0);
  const high = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(high / 8) + 1);
  for (const bit of bits) bytes[Math.floor(bit / 8)]! |= 0x80 >> (bit % 8);
  return bitString(bytes, 7 - (high % 8));
}

/** OCTET STRING. */
export function octetString(bytes: Bytes): Buffer {
  return tlv(TAG.OCTET_STRING, bytes);
}

/** A string type with any universal tag; a string is written as UTF-8, bytes as given. */
export function stringOf(tag: number, value: string | Bytes): Buffer {
  return tlv(tag, typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
}

export function utf8String(value: string | Bytes): Buffer {
  return stringOf(TAG.UTF8_STRING, value);
}

/** PrintableString. Not checked against its alphabet (X.680 §41.4), so bad ones can be made. */
export function printableString(value: string | Bytes): Buffer {
  return stringOf(TAG.PRINTABLE_STRING, value);
}

/** IA5String. Not checked for ASCII, so bad ones can be made. */
export function ia5String(value: string | Bytes): Buffer {
  return stringOf(TAG.IA5_STRING, value);
}

/** BMPString (UTF-16BE), found in old certificates. */
export function bmpString(value: string): Buffer {
  const b = Buffer.from(value, 'utf16le');
  b.swap16();
  return tlv(TAG.BMP_STRING, b);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** UTCTime 'YYMMDDHHMMSSZ' (RFC 5280 §4.1.2.5.1: seconds always, Zulu always). Years 1950..2049. */
export function utcTime(date: Date): Buffer {
  const y = date.getUTCFullYear();
  if (y < 1950 || y > 2049) throw new RangeError(`utcTime(): year ${y} is outside 1950..2049`);
  const s = `${pad(y % 100)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(
    date.getUTCMinutes(),
  )}${pad(date.getUTCSeconds())}Z`;
  return tlv(TAG.UTC_TIME, Buffer.from(s, 'ascii'));
}

/** GeneralizedTime 'YYYYMMDDHHMMSSZ' (RFC 5280 §4.1.2.5.2: no fractional seconds, Zulu). */
export function generalizedTime(date: Date): Buffer {
  const y = date.getUTCFullYear();
  if (y < 0 || y > 9999) throw new RangeError(`generalizedTime(): year ${y} is outside 0..9999`);
  const s = `${pad(y, 4)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(
    date.getUTCMinutes(),
  )}${pad(date.getUTCSeconds())}Z`;
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(s, 'ascii'));
}

/** The Time CHOICE as RFC 5280 §4.1.2.5 requires: UTCTime through 2049, GeneralizedTime from 2050. */
export function time(date: Date): Buffer {
  const y = date.getUTCFullYear();
  return y >= 1950 && y <= 2049 ? utcTime(date) : generalizedTime(date);
}

/** EXPLICIT context tag [n]: a constructed [n] wrapping the given encoded elements. */
export function explicit(n: number, ...inner: Bytes[]): Buffer {
  if (n < 0 || n > 30) throw new RangeError('explicit(): tag number must be 0..30');
  return tlv(CLASS_CONTEXT | CONSTRUCTED | n, Buffer.concat(inner));
}

/**
 * IMPLICIT context tag [n]: the given encoded element with its identifier octet replaced by
 * context [n], keeping its constructed bit (so `implicit(0, sequence(...))` is constructed and
 * `implicit(2, ia5String('x'))` is primitive, as X.690 §8.14 says).
 */
export function implicit(n: number, element: Bytes): Buffer {
  if (n < 0 || n > 30) throw new RangeError('implicit(): tag number must be 0..30');
  const out = Buffer.from(element);
  if (out.length < 2) throw new RangeError('implicit(): element is not an encoded TLV');
  out[0] = CLASS_CONTEXT | (out[0]! & CONSTRUCTED) | n;
  return out;
}

/** A primitive context-tagged value [n] with the given content octets (IMPLICIT of a primitive type). */
export function contextPrimitive(n: number, content: Bytes): Buffer {
  if (n < 0 || n > 30) throw new RangeError('contextPrimitive(): tag number must be 0..30');
  return tlv(CLASS_CONTEXT | n, content);
}

/** PEM armour for DER bytes (RFC 7468 §2: base64 lines of 64 characters). */
export function toPem(der: Bytes, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * A minimal reader for the factory's own needs (finding the parts of SPKI and certificates it
 * just wrote); it trusts its input and is not the project's DER parser.
 */
export function readTlv(buf: Bytes, offset = 0): { tag: number; start: number; end: number; next: number } {
  const tag = buf[offset]!;
  let len = buf[offset + 1]!;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  return { tag, start, end: start + len, next: start + len };
}

/** The encoded children of a constructed element. */
export function children(element: Bytes): Buffer[] {
  const { start, end } = readTlv(element, 0);
  const out: Buffer[] = [];
  for (let off = start; off < end; ) {
    const t = readTlv(element, off);
    out.push(Buffer.from(element.subarray(off, t.next)));
    off = t.next;
  }
  return out;
}
