/**
 * X.501 Names (RFC 5280 §4.1.2.4): parsing, the comparison key, and the readable text.
 */

import { type DerReader, derError, isStringTag, stringValue, TAG, type Tlv, tagName } from '../der/reader.js';
import { ATTRIBUTE_NAMES, OID } from './oids.js';
import type { Name, NameAttribute } from './types.js';

/**
 * A parsed Name. `key` and `text` are computed on first use and cached: path building compares
 * keys of the few names it looks at, and most names are never printed.
 */
export class ParsedName implements Name {
  readonly der: Uint8Array;
  readonly rdns: NameAttribute[][];
  readonly commonName?: string;
  #key?: string;
  #text?: string;

  constructor(der: Uint8Array, rdns: NameAttribute[][]) {
    this.der = der;
    this.rdns = rdns;
    for (const rdn of rdns) {
      for (const a of rdn) {
        if (a.oid === OID.commonName && this.commonName === undefined) this.commonName = a.value;
      }
    }
  }

  /**
   * RFC 5280 §7.1 in spirit (RFC 4518 string preparation, cheaply): string values are compared
   * case-insensitively with leading and trailing white space removed and inner runs collapsed
   * to one space (and NFKC-normalised when not ASCII), whatever string type encodes them.
   * Attributes within an RDN are compared as a set.
   */
  get key(): string {
    if (this.#key === undefined) {
      const parts: string[] = [];
      for (const rdn of this.rdns) {
        const attrs = rdn.map(attributeComparisonKey);
        if (attrs.length > 1) attrs.sort();
        parts.push(attrs.join('+'));
      }
      this.#key = parts.join(',');
    }
    return this.#key;
  }

  /**
   * Readable text in encoded order, which in certificates is most significant first (C, O, …,
   * CN), as OpenSSL prints it: 'C=US, O=Example, CN=example.com'. Attributes of one RDN are
   * joined with ' + '. Special characters are escaped as RFC 4514 §2.4 does. We keep the encoded order
   * rather than RFC 4514's reversed one because that is what OpenSSL, browsers and most people
   * read; Go's String() reverses it.
   */
  get text(): string {
    if (this.#text === undefined) {
      this.#text = this.rdns.map((rdn) => rdn.map(attributeText).join(' + ')).join(', ');
    }
    return this.#text;
  }
}

/**
 * The comparison key of one attribute (type and value), as used in {@link ParsedName.key}: the
 * string value prepared as described there. Name constraints compare RDNs with it too.
 */
export function attributeComparisonKey(a: NameAttribute): string {
  return `${a.oid}${attributeKey(a)}`;
}

function attributeKey(a: NameAttribute): string {
  let v = a.value;
  // RFC 4518 §2.2 (NFKC) applies to Unicode; ASCII is already normal, so skip the cost.
  if (/[^\x00-\x7f]/.test(v)) v = v.normalize('NFKC');
  // RFC 4518 §2.6.1 (insignificant space) and §2.3 (case folding, approximated by toLowerCase).
  v = v.replace(/\s+/g, ' ').trim().toLowerCase();
  return `=${v.replace(/[\\,+]/g, '\\$&')}`;
}

function attributeText(a: NameAttribute): string {
  return `${a.type}=${escapeValue(a.value)}`;
}

/** RFC 4514 §2.4 escaping, plus control characters as \XX so that text stays on one line. */
export function escapeValue(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const ch = v[i]!;
    const code = v.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) {
      out += `\\${code.toString(16).padStart(2, '0').toUpperCase()}`;
    } else if (
      ch === ',' ||
      ch === '+' ||
      ch === '"' ||
      ch === '\\' ||
      ch === '<' ||
      ch === '>' ||
      ch === ';' ||
      (i === 0 && (ch === '#' || ch === ' ')) ||
      (i === v.length - 1 && ch === ' ')
    ) {
      out += `\\${ch}`;
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * DirectoryString (RFC 5280 §4.1.2.4 and Appendix A; X.520): the string types the attributes of a
 * Name use. IA5String, NumericString and VisibleString are not among them.
 */
const DIRECTORY_STRING: ReadonlySet<number> = new Set([
  TAG.UTF8_STRING,
  TAG.PRINTABLE_STRING,
  TAG.TELETEX_STRING,
  TAG.UNIVERSAL_STRING,
  TAG.BMP_STRING,
]);

/** Attributes whose value is an IA5String (RFC 5280 Appendix A: emailAddress; §4.1.2.4 and RFC 4519: domainComponent). */
const IA5_ATTRIBUTES: ReadonlySet<string> = new Set(['1.2.840.113549.1.9.1', '0.9.2342.19200300.100.1.25']);

/**
 * Why a value with identifier `tag` cannot be the value of attribute `oid`, or undefined when it
 * can: emailAddress and domainComponent are IA5String; the other attributes we know are
 * DirectoryString (X.520; countryName, serialNumber and dnQualifier are PrintableString, a
 * DirectoryString choice, which we do not narrow further, as neither Go nor OpenSSL does);
 * attributes we do not know must at least be a string type (their syntax is not
 * ours to know, but a Name is text). Go and OpenSSL accept any value here; a value of another
 * type (an INTEGER, a SEQUENCE) cannot be compared or shown as a name, so it is refused.
 */
function valueTypeProblem(oid: string, tag: number): string | undefined {
  if (IA5_ATTRIBUTES.has(oid)) {
    return tag === TAG.IA5_STRING
      ? undefined
      : `the value is ${tagName(tag)}, but this attribute is an IA5String (RFC 5280)`;
  }
  if (ATTRIBUTE_NAMES[oid] !== undefined) {
    return DIRECTORY_STRING.has(tag)
      ? undefined
      : `the value is ${tagName(tag)}, not a DirectoryString (UTF8String, PrintableString, TeletexString, UniversalString or BMPString; RFC 5280 §4.1.2.4)`;
  }
  return isStringTag(tag) ? undefined : `the value is ${tagName(tag)}, not a string type`;
}

/**
 * Reads a Name (SEQUENCE OF RelativeDistinguishedName) from `r`. `what` names the field
 * ('issuer', 'subject', 'subjectAltName directoryName') for messages.
 */
export function readName(r: DerReader, what: string): ParsedName {
  const tlv = r.expect(TAG.SEQUENCE, what);
  return nameFromTlv(r, tlv, what);
}

/** A Name from its SEQUENCE TLV (already read from `r`, or an implicit-tagged equivalent). */
export function nameFromTlv(r: DerReader, tlv: Tlv, what: string): ParsedName {
  const seq = r.enter(tlv, what);
  const rdns: NameAttribute[][] = [];
  while (!seq.atEnd()) {
    const set = seq.set(`${what} RDN`);
    const rdn: NameAttribute[] = [];
    // X.501: RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue.
    if (set.atEnd()) derError(`${what} RDN`, 'empty RDN (it must hold at least one attribute)', set.offset);
    while (!set.atEnd()) {
      const atv = set.sequence(`${what} attribute`);
      const oid = atv.oid(`${what} attribute type`);
      const type = ATTRIBUTE_NAMES[oid] ?? oid;
      const valueTlv = atv.next(`${what} ${type}`);
      atv.end(`${what} ${type}`);
      const problem = valueTypeProblem(oid, valueTlv.tag);
      if (problem !== undefined) derError(`${what} ${type}`, problem, valueTlv.start);
      rdn.push({ oid, type, tag: valueTlv.tag, value: stringValue(valueTlv, `${what} ${type}`) });
    }
    rdns.push(rdn);
  }
  return new ParsedName(tlv.der, rdns);
}
