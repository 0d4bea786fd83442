/**
 * Decoders for the extensions the model knows (RFC 5280 §4.2) and for GeneralName.
 * Each decoder reads the contents of the extnValue OCTET STRING and must consume all of it.
 */

import {
  bitStringValue,
  CLASS_CONTEXT,
  CONSTRUCTED,
  checkInteger,
  type DerReader,
  decodeOid,
  integerValue,
  stringValue,
  TAG,
  type Tlv,
  tagName,
} from '../der/reader.js';
import { ParseError } from '../errors.js';
import { nameFromTlv } from './name.js';
import { OID } from './oids.js';
import type {
  AccessDescription,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Extension,
  GeneralName,
  GeneralSubtree,
  KeyUsageName,
  NameConstraints,
} from './types.js';

/** Throws a certificate-structure error: `<what>: <problem> at offset N`. */
export function certError(what: string, problem: string, offset: number): never {
  throw new ParseError(`${what}: ${problem} at offset ${offset}`, { code: 'ERR_CERTIFICATE' });
}

/** Where a GeneralName appears: the iPAddress form differs (RFC 5280 §4.2.1.6 vs §4.2.1.10). */
export type GeneralNameContext = 'name' | 'constraint';

/** Text of an implicitly tagged IA5String (rfc822Name, dNSName, URI). */
function ia5(tlv: Tlv, what: string): string {
  if (tlv.constructed) certError(what, `${tagName(tlv.tag)} must be primitive`, tlv.start);
  return stringValue({ ...tlv, tag: TAG.IA5_STRING }, what);
}

/** Reads one GeneralName (RFC 5280 §4.2.1.6). */
export function readGeneralName(r: DerReader, what: string, context: GeneralNameContext): GeneralName {
  const tlv = r.next(what);
  if ((tlv.tag & 0xc0) !== CLASS_CONTEXT || tlv.tag > 0xff) {
    certError(
      what,
      `expected a GeneralName (a context tag [0]–[8]) but found ${tagName(tlv.tag)}`,
      tlv.start,
    );
  }
  const n = tlv.number;
  const constructed = (tlv.tag & CONSTRUCTED) !== 0;
  // otherName, x400Address, ediPartyName and directoryName are constructed; the rest primitive.
  const wantConstructed = n === 0 || n === 3 || n === 4 || n === 5;
  if (n > 8 || constructed !== wantConstructed) {
    certError(what, `unexpected ${tagName(tlv.tag)} in a GeneralName`, tlv.start);
  }
  switch (n) {
    case 1:
      return { type: 'email', value: ia5(tlv, `${what} rfc822Name`) };
    case 2:
      return { type: 'dns', value: ia5(tlv, `${what} dNSName`) };
    case 4: {
      // directoryName is [4] EXPLICIT Name (the CHOICE forces explicit tagging, X.680 §31.2.7).
      const inner = r.enter(tlv, `${what} directoryName`);
      const seq = inner.expect(TAG.SEQUENCE, `${what} directoryName`);
      const name = nameFromTlv(inner, seq, `${what} directoryName`);
      inner.end(`${what} directoryName`);
      return { type: 'dirName', name };
    }
    case 6:
      return { type: 'uri', value: ia5(tlv, `${what} uniformResourceIdentifier`) };
    case 7: {
      const len = tlv.content.length;
      // RFC 5280 §4.2.1.6: 4 or 16 octets; §4.2.1.10: address and mask, 8 or 32 octets.
      const ok = context === 'name' ? len === 4 || len === 16 : len === 8 || len === 32;
      if (!ok) {
        const expected = context === 'name' ? '4 or 16' : '8 or 32 (address and mask)';
        certError(`${what} iPAddress`, `${len} octets, expected ${expected}`, tlv.start);
      }
      return { type: 'ip', bytes: tlv.content };
    }
    case 8:
      return {
        type: 'registeredID',
        value: decodeOid(tlv.content, `${what} registeredID`, tlv.contentStart),
      };
    default:
      // otherName [0], x400Address [3], ediPartyName [5]: kept as DER; matching ignores them.
      return { type: 'other', tag: tlv.tag, der: tlv.der };
  }
}

/** Reads GeneralNames (SEQUENCE SIZE (1..MAX) OF GeneralName) from the contents of `seq`. */
function readGeneralNames(
  seq: DerReader,
  what: string,
  context: GeneralNameContext,
  at: number,
): GeneralName[] {
  const names: GeneralName[] = [];
  // RFC 5280 §4.2.1.6: GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName.
  if (seq.atEnd()) certError(what, 'empty sequence of names (at least one is required)', at);
  while (!seq.atEnd()) names.push(readGeneralName(seq, what, context));
  return names;
}

/** subjectAltName (RFC 5280 §4.2.1.6). */
export function decodeSubjectAltName(
  r: DerReader,
  critical: boolean,
): { critical: boolean; names: GeneralName[] } {
  const what = 'subjectAltName';
  const at = r.offset;
  const seq = r.sequence(what);
  r.end(what);
  return { critical, names: readGeneralNames(seq, what, 'name', at) };
}

/** basicConstraints (RFC 5280 §4.2.1.9). */
export function decodeBasicConstraints(r: DerReader, critical: boolean): BasicConstraints {
  const what = 'basicConstraints';
  const seq = r.sequence(what);
  r.end(what);
  // cA BOOLEAN DEFAULT FALSE. DER would omit an explicit FALSE; we accept it, as Go and OpenSSL
  // do, because it is unambiguous and some CAs encode it.
  const caTlv = seq.optional(TAG.BOOLEAN, `${what} cA`);
  const ca = caTlv ? booleanOf(caTlv, `${what} cA`) : false;
  const result: BasicConstraints = { critical, ca };
  const pathTlv = seq.optional(TAG.INTEGER, `${what} pathLenConstraint`);
  // pathLenConstraint INTEGER (0..MAX); any safe integer is kept, the verifier compares it.
  if (pathTlv) result.pathLen = integerValue(pathTlv, `${what} pathLenConstraint`);
  seq.end(what);
  return result;
}

function booleanOf(tlv: Tlv, what: string): boolean {
  const c = tlv.content;
  if (c.length !== 1 || (c[0] !== 0 && c[0] !== 0xff)) {
    certError(what, 'BOOLEAN must be one octet, 0x00 or 0xFF', tlv.start);
  }
  return c[0] === 0xff;
}

const KEY_USAGES: readonly KeyUsageName[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

/** keyUsage (RFC 5280 §4.2.1.3). Bits beyond decipherOnly are ignored. */
export function decodeKeyUsage(
  r: DerReader,
  critical: boolean,
): { critical: boolean; usages: ReadonlySet<KeyUsageName> } {
  const what = 'keyUsage';
  const bits = r.bitString(what);
  r.end(what);
  const usages = new Set<KeyUsageName>();
  for (let i = 0; i < KEY_USAGES.length; i++) {
    const byte = bits.bytes[i >> 3];
    if (byte !== undefined && byte & (0x80 >> (i & 7))) usages.add(KEY_USAGES[i]!);
  }
  return { critical, usages };
}

/** extKeyUsage (RFC 5280 §4.2.1.12). */
export function decodeExtKeyUsage(r: DerReader, critical: boolean): { critical: boolean; oids: string[] } {
  const what = 'extKeyUsage';
  const at = r.offset;
  const seq = r.sequence(what);
  r.end(what);
  const oids: string[] = [];
  // ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId.
  if (seq.atEnd()) certError(what, 'empty list of key purposes', at);
  while (!seq.atEnd()) oids.push(seq.oid(`${what} KeyPurposeId`));
  return { critical, oids };
}

/** subjectKeyIdentifier (RFC 5280 §4.2.1.2). */
export function decodeSubjectKeyIdentifier(r: DerReader): Uint8Array {
  const value = r.octetString('subjectKeyIdentifier');
  r.end('subjectKeyIdentifier');
  return value;
}

/** authorityKeyIdentifier (RFC 5280 §4.2.1.1). */
export function decodeAuthorityKeyIdentifier(r: DerReader, critical: boolean): AuthorityKeyIdentifier {
  const what = 'authorityKeyIdentifier';
  const seq = r.sequence(what);
  r.end(what);
  const result: AuthorityKeyIdentifier = { critical };
  // keyIdentifier [0] IMPLICIT OCTET STRING
  const kid = seq.optional(CLASS_CONTEXT | 0, `${what} keyIdentifier`);
  if (kid) result.keyIdentifier = kid.content;
  // authorityCertIssuer [1] IMPLICIT GeneralNames
  const issuer = seq.optional(CLASS_CONTEXT | CONSTRUCTED | 1, `${what} authorityCertIssuer`);
  if (issuer) {
    const names = seq.enter(issuer, `${what} authorityCertIssuer`);
    result.authorityCertIssuer = readGeneralNames(names, `${what} authorityCertIssuer`, 'name', issuer.start);
  }
  // authorityCertSerialNumber [2] IMPLICIT CertificateSerialNumber
  const serial = seq.optional(CLASS_CONTEXT | 2, `${what} authorityCertSerialNumber`);
  if (serial) {
    checkInteger(serial, `${what} authorityCertSerialNumber`);
    result.authorityCertSerialNumber = serial.content;
  }
  seq.end(what);
  return result;
}

/** nameConstraints (RFC 5280 §4.2.1.10). */
export function decodeNameConstraints(r: DerReader, critical: boolean): NameConstraints {
  const what = 'nameConstraints';
  const at = r.offset;
  const seq = r.sequence(what);
  r.end(what);
  const result: NameConstraints = { critical };
  const permitted = seq.optional(CLASS_CONTEXT | CONSTRUCTED | 0, `${what} permittedSubtrees`);
  if (permitted) result.permitted = readSubtrees(seq, permitted, `${what} permittedSubtrees`);
  const excluded = seq.optional(CLASS_CONTEXT | CONSTRUCTED | 1, `${what} excludedSubtrees`);
  if (excluded) result.excluded = readSubtrees(seq, excluded, `${what} excludedSubtrees`);
  seq.end(what);
  // RFC 5280 §4.2.1.10: "Conforming CAs MUST NOT issue certificates where name constraints is an
  // empty sequence" — at least one of the two fields is present.
  if (!permitted && !excluded)
    certError(what, 'neither permittedSubtrees nor excludedSubtrees is present', at);
  return result;
}

function readSubtrees(parent: DerReader, tlv: Tlv, what: string): GeneralSubtree[] {
  const list = parent.enter(tlv, what);
  const out: GeneralSubtree[] = [];
  // GeneralSubtrees ::= SEQUENCE SIZE (1..MAX) OF GeneralSubtree.
  if (list.atEnd()) certError(what, 'empty list of subtrees', tlv.start);
  while (!list.atEnd()) {
    const sub = list.sequence(`${what} GeneralSubtree`);
    const base = readGeneralName(sub, `${what} base`, 'constraint');
    // minimum [0] BaseDistance DEFAULT 0, maximum [1] BaseDistance OPTIONAL (kept for the policy).
    const min = sub.optional(CLASS_CONTEXT | 0, `${what} minimum`);
    const max = sub.optional(CLASS_CONTEXT | 1, `${what} maximum`);
    sub.end(`${what} GeneralSubtree`);
    const subtree: GeneralSubtree = { base, minimum: min ? integerValue(min, `${what} minimum`) : 0 };
    if (max) subtree.maximum = integerValue(max, `${what} maximum`);
    out.push(subtree);
  }
  return out;
}

/** authorityInfoAccess (RFC 5280 §4.2.2.1). */
export function decodeAuthorityInfoAccess(
  r: DerReader,
  critical: boolean,
): { critical: boolean; caIssuers: string[]; ocsp: string[]; all: AccessDescription[] } {
  const what = 'authorityInfoAccess';
  const at = r.offset;
  const seq = r.sequence(what);
  r.end(what);
  const all: AccessDescription[] = [];
  const caIssuers: string[] = [];
  const ocsp: string[] = [];
  // AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF AccessDescription.
  if (seq.atEnd()) certError(what, 'empty list of access descriptions', at);
  while (!seq.atEnd()) {
    const ad = seq.sequence(`${what} AccessDescription`);
    const method = ad.oid(`${what} accessMethod`);
    const location = readGeneralName(ad, `${what} accessLocation`, 'name');
    ad.end(`${what} AccessDescription`);
    all.push({ method, location });
    if (location.type === 'uri') {
      if (method === OID.caIssuers) caIssuers.push(location.value);
      else if (method === OID.ocsp) ocsp.push(location.value);
    }
  }
  return { critical, caIssuers, ocsp, all };
}

/** certificatePolicies (RFC 5280 §4.2.1.4): the policy OIDs; qualifiers are skipped. */
export function decodeCertificatePolicies(
  r: DerReader,
  critical: boolean,
): { critical: boolean; oids: string[] } {
  const what = 'certificatePolicies';
  const at = r.offset;
  const seq = r.sequence(what);
  r.end(what);
  const oids: string[] = [];
  // certificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation.
  if (seq.atEnd()) certError(what, 'empty list of policies', at);
  while (!seq.atEnd()) {
    const info = seq.sequence(`${what} PolicyInformation`);
    oids.push(info.oid(`${what} policyIdentifier`));
    // policyQualifiers SEQUENCE SIZE (1..MAX) OF PolicyQualifierInfo OPTIONAL: read as one
    // SEQUENCE, not interpreted (RFC 5280 §4.2.1.4 discourages them; no verifier decision uses them).
    if (!info.atEnd()) info.sequence(`${what} policyQualifiers`);
    info.end(`${what} PolicyInformation`);
  }
  return { critical, oids };
}

/** Checks a BIT STRING TLV read under an implicit tag (issuerUniqueID, subjectUniqueID). */
export function checkImplicitBitString(tlv: Tlv, what: string): void {
  bitStringValue(tlv, what);
}

/**
 * A list of extensions as CRLs, CRL entries and OCSP responses carry them (Extensions, RFC 5280
 * §4.1): each value left undecoded for the caller, which knows which of them it understands.
 */
export function readExtensionList(r: DerReader, what: string): Extension[] {
  const out: Extension[] = [];
  const seq = r.sequence(what);
  while (!seq.atEnd()) {
    const e = seq.sequence(`${what} Extension`);
    const oid = e.oid(`${what} extnID`);
    const critical = e.peekTag() === TAG.BOOLEAN ? e.boolean(`${what} critical`) : false;
    const value = e.octetString(`${what} extnValue`);
    e.end(`${what} Extension`);
    out.push({ oid, critical, value });
  }
  return out;
}
