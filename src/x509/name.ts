/**
 * X.501 Names (RFC 5280 §4.1.2.4): parsing, the comparison key, and the readable text.
 */

import { type DerReader, derError, isStringTag, stringValue, TAG, type Tlv } from '../der/reader.js';
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
   * to one space (and NFKC-normalised when not ASCII), whatever string type encodes them;
   * non-string values compare by their DER. Attributes within an RDN are compared as a set.
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
   * joined with ' + '. Special characters are escaped as RFC 4514 §2.4 does; values that are not
   * strings print as '#' and the hex of their DER (RFC 4514 §2.4). We keep the encoded order
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

/** Raw DER of non-string attribute values, kept for key/text (not part of NameAttribute). */
const rawValues = new WeakMap<NameAttribute, Uint8Array>();

/**
 * The comparison key of one attribute (type and value), as used in {@link ParsedName.key}: string
 * values prepared as described there, other values as the hex of their DER (so two different
 * non-string values never compare equal). Name constraints compare RDNs with it too.
 */
export function attributeComparisonKey(a: NameAttribute): string {
  return `${a.oid}${attributeKey(a)}`;
}

function attributeKey(a: NameAttribute): string {
  const raw = rawValues.get(a);
  if (raw) return `#${Buffer.from(raw).toString('hex')}`;
  let v = a.value;
  // RFC 4518 §2.2 (NFKC) applies to Unicode; ASCII is already normal, so skip the cost.
  if (/[^\x00-\x7f]/.test(v)) v = v.normalize('NFKC');
  // RFC 4518 §2.6.1 (insignificant space) and §2.3 (case folding, approximated by toLowerCase).
  v = v.replace(/\s+/g, ' ').trim().toLowerCase();
  return `=${v.replace(/[\\,+]/g, '\\$&')}`;
}

function attributeText(a: NameAttribute): string {
  const raw = rawValues.get(a);
  if (raw) return `${a.type}=#${Buffer.from(raw).toString('hex')}`;
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
      let attr: NameAttribute;
      if (isStringTag(valueTlv.tag)) {
        attr = { oid, type, tag: valueTlv.tag, value: stringValue(valueTlv, `${what} ${type}`) };
      } else {
        attr = { oid, type, tag: valueTlv.tag, value: '' };
        rawValues.set(attr, valueTlv.der);
      }
      rdn.push(attr);
    }
    rdns.push(rdn);
  }
  return new ParsedName(tlv.der, rdns);
}
