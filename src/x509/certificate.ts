/**
 * Parsing an X.509 certificate (RFC 5280 §4.1) into the model of types.ts.
 *
 * Structure is checked strictly (DER, field order, field types, versions); policy is not (the
 * verifier decides about weak algorithms, serial lengths, unknown critical extensions, …), so
 * that a certificate the verifier rejects can still be parsed and described.
 * Derived values that cost a hash (fingerprints) are computed on first use and cached.
 */

import { createHash } from 'node:crypto';
import {
  bitStringValue,
  booleanValue,
  type DerReader,
  hexOf,
  DerReader as Reader,
  TAG,
  type Tlv,
} from '../der/reader.js';
import { ParseError } from '../errors.js';
import {
  certError,
  decodeAuthorityInfoAccess,
  decodeAuthorityKeyIdentifier,
  decodeBasicConstraints,
  decodeCertificatePolicies,
  decodeExtKeyUsage,
  decodeKeyUsage,
  decodeNameConstraints,
  decodeSubjectAltName,
  decodeSubjectKeyIdentifier,
} from './extensions.js';
import { ipToString } from './ip.js';
import { type ParsedName, readName } from './name.js';
import { CURVES, EXTENSION_NAMES, HASH_ALGORITHMS, OID, SIGNATURE_ALGORITHMS } from './oids.js';
import { toPem } from './pem.js';
import type {
  AlgorithmIdentifier,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  CertificateSummary,
  Extension,
  GeneralName,
  KeyUsageName,
  NameConstraints,
  PublicKeyInfo,
  SignatureAlgorithm,
} from './types.js';

/**
 * Parses one DER certificate. The input must be exactly one certificate (no trailing bytes).
 * The bytes are copied, so the caller may reuse its buffer.
 *
 * @throws ParseError code 'ERR_CERTIFICATE' naming the field and the offset of what is wrong.
 */
export function parseCertificate(der: Uint8Array): Certificate {
  try {
    return new ParsedCertificate(new Uint8Array(der));
  } catch (err) {
    if (err instanceof ParseError && (err.code === 'ERR_DER' || err.code === 'ERR_CERTIFICATE')) {
      throw new ParseError(`malformed certificate: ${err.message}`, {
        code: 'ERR_CERTIFICATE',
        cause: err,
        hint: 'The certificate is not valid DER X.509; check that the file holds what you expect.',
      });
    }
    // Not reachable for any input by design; if a bug makes it so, report a typed error anyway.
    throw new ParseError(`internal error while parsing a certificate: ${String(err)}`, {
      code: 'ERR_CERTIFICATE',
      cause: err,
    });
  }
}

/** A GeneralName as text: 'DNS:example.com', 'IP:10.0.0.6', 'email:…', 'URI:…', 'DirName:…'. */
export function generalNameToString(n: GeneralName): string {
  switch (n.type) {
    case 'dns':
      return `DNS:${n.value}`;
    case 'ip':
      return `IP:${ipToString(n.bytes)}`;
    case 'email':
      return `email:${n.value}`;
    case 'uri':
      return `URI:${n.value}`;
    case 'dirName':
      return `DirName:${n.name.text}`;
    case 'registeredID':
      return `RID:${n.value}`;
    case 'other':
      return n.tag === 0xa0 ? 'othername:<unsupported>' : `GeneralName[${n.tag & 0x1f}]:<unsupported>`;
  }
}

class ParsedCertificate implements Certificate {
  readonly der: Uint8Array;
  readonly tbsDer: Uint8Array;
  readonly version: 1 | 2 | 3;
  readonly serial: Uint8Array;
  readonly signatureAlgorithm: SignatureAlgorithm;
  readonly tbsSignatureAlgorithm: SignatureAlgorithm;
  readonly signature: Uint8Array;
  readonly issuer: ParsedName;
  readonly subject: ParsedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: PublicKeyInfo;
  readonly hasIssuerUniqueId: boolean = false;
  readonly hasSubjectUniqueId: boolean = false;
  readonly extensions: readonly Extension[] = [];
  readonly duplicateExtensions: readonly string[] = [];
  readonly unknownCriticalExtensions: readonly string[] = [];

  declare readonly subjectAltName?: { critical: boolean; names: GeneralName[] };
  declare readonly basicConstraints?: BasicConstraints;
  declare readonly keyUsage?: { critical: boolean; usages: ReadonlySet<KeyUsageName> };
  declare readonly extKeyUsage?: { critical: boolean; oids: string[] };
  declare readonly subjectKeyIdentifier?: Uint8Array;
  declare readonly authorityKeyIdentifier?: AuthorityKeyIdentifier;
  declare readonly nameConstraints?: NameConstraints;
  declare readonly authorityInfoAccess?: {
    critical: boolean;
    caIssuers: string[];
    ocsp: string[];
    all: { method: string; location: GeneralName }[];
  };
  declare readonly certificatePolicies?: { critical: boolean; oids: string[] };

  #fingerprint?: string;
  #spki?: string;
  #serialHex?: string;
  #selfIssued?: boolean;

  constructor(bytes: Uint8Array) {
    this.der = bytes;
    const top = new Reader(bytes);
    const certTlv = top.expect(TAG.SEQUENCE, 'Certificate');
    top.end('Certificate');
    const cert = top.enter(certTlv, 'Certificate');

    const tbsTlv = cert.expect(TAG.SEQUENCE, 'tbsCertificate');
    this.tbsDer = tbsTlv.der;
    const tbs = cert.enter(tbsTlv, 'tbsCertificate');

    // version [0] EXPLICIT Version DEFAULT v1. An explicit v1 (0) breaks DER's DEFAULT rule but
    // is unambiguous; it is accepted, as Go and OpenSSL accept it.
    const versionReader = tbs.optionalExplicit(0, 'version');
    let version = 1;
    if (versionReader) {
      const at = versionReader.offset;
      const v = versionReader.smallInteger('version');
      versionReader.end('version');
      // RFC 5280 §4.1.2.1: v1(0), v2(1), v3(2).
      if (v > 2) certError('version', `unknown version ${v + 1} (value ${v}; only 1, 2 and 3 exist)`, at);
      version = v + 1;
    }
    this.version = version as 1 | 2 | 3;
    this.serial = tbs.integer('serialNumber');
    this.tbsSignatureAlgorithm = readSignatureAlgorithm(tbs, 'signature');
    this.issuer = readName(tbs, 'issuer');
    const validity = tbs.sequence('validity');
    this.notBefore = validity.time('validity notBefore');
    this.notAfter = validity.time('validity notAfter');
    validity.end('validity');
    this.subject = readName(tbs, 'subject');
    this.publicKey = readPublicKey(tbs);

    // issuerUniqueID [1] IMPLICIT BIT STRING, subjectUniqueID [2] IMPLICIT BIT STRING: v2 and v3
    // only (RFC 5280 §4.1.2.8).
    const issuerUid = tbs.optional(0x81, 'issuerUniqueID');
    if (issuerUid) {
      if (version < 2) certError('issuerUniqueID', 'present in a version 1 certificate', issuerUid.start);
      bitStringValue(issuerUid, 'issuerUniqueID');
      this.hasIssuerUniqueId = true;
    }
    const subjectUid = tbs.optional(0x82, 'subjectUniqueID');
    if (subjectUid) {
      if (version < 2) certError('subjectUniqueID', 'present in a version 1 certificate', subjectUid.start);
      bitStringValue(subjectUid, 'subjectUniqueID');
      this.hasSubjectUniqueId = true;
    }
    const extAt = tbs.offset;
    const exts = tbs.optionalExplicit(3, 'extensions');
    if (exts) {
      // RFC 5280 §4.1.2.9: extensions appear only in version 3.
      if (version !== 3) certError('extensions', `present in a version ${version} certificate`, extAt);
      this.readExtensions(exts);
    }
    tbs.end('tbsCertificate');

    this.signatureAlgorithm = readSignatureAlgorithm(cert, 'signatureAlgorithm');
    const sigAt = cert.offset;
    const sig = cert.bitString('signatureValue');
    // Every signature algorithm here produces whole octets.
    if (sig.unusedBits !== 0)
      certError('signatureValue', `BIT STRING has ${sig.unusedBits} unused bits`, sigAt);
    this.signature = sig.bytes;
    cert.end('Certificate');
  }

  private readExtensions(r: DerReader): void {
    const at = r.offset;
    const list = r.sequence('extensions');
    r.end('extensions');
    // Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension (RFC 5280 §4.1).
    if (list.atEnd()) certError('extensions', 'the extensions field is present but empty', at);
    const extensions: Extension[] = [];
    const duplicates = new Set<string>();
    const unknownCritical: string[] = [];
    const seen = new Set<string>();
    const self = this as Mutable<ParsedCertificate>;
    while (!list.atEnd()) {
      const e = list.sequence('extension');
      const oid = e.oid('extension extnID');
      const name = EXTENSION_NAMES[oid] ?? `extension ${oid}`;
      // critical BOOLEAN DEFAULT FALSE; an explicit FALSE is accepted (see basicConstraints).
      const critTlv = e.optional(TAG.BOOLEAN, `${name} critical`);
      const critical = critTlv ? booleanValue(critTlv, `${name} critical`) : false;
      const valueTlv: Tlv = e.expect(TAG.OCTET_STRING, `${name} extnValue`);
      e.end(name);
      extensions.push({ oid, critical, value: valueTlv.content });
      // RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a particular
      // extension." Recorded for the verifier; the first instance is the one decoded.
      if (seen.has(oid)) {
        duplicates.add(oid);
        continue;
      }
      seen.add(oid);
      const v = list.inner(valueTlv.contentStart, valueTlv.end, name);
      switch (oid) {
        case OID.subjectAltName:
          self.subjectAltName = decodeSubjectAltName(v, critical);
          break;
        case OID.basicConstraints:
          self.basicConstraints = decodeBasicConstraints(v, critical);
          break;
        case OID.keyUsage:
          self.keyUsage = decodeKeyUsage(v, critical);
          break;
        case OID.extKeyUsage:
          self.extKeyUsage = decodeExtKeyUsage(v, critical);
          break;
        case OID.subjectKeyIdentifier:
          self.subjectKeyIdentifier = decodeSubjectKeyIdentifier(v);
          break;
        case OID.authorityKeyIdentifier:
          self.authorityKeyIdentifier = decodeAuthorityKeyIdentifier(v, critical);
          break;
        case OID.nameConstraints:
          self.nameConstraints = decodeNameConstraints(v, critical);
          break;
        case OID.authorityInfoAccess:
          self.authorityInfoAccess = decodeAuthorityInfoAccess(v, critical);
          break;
        case OID.certificatePolicies:
          self.certificatePolicies = decodeCertificatePolicies(v, critical);
          break;
        default:
          if (critical) unknownCritical.push(oid);
      }
    }
    self.extensions = extensions;
    self.duplicateExtensions = [...duplicates];
    self.unknownCriticalExtensions = unknownCritical;
  }

  get serialHex(): string {
    if (this.#serialHex === undefined) {
      // Without the sign-only leading 00 octet, as OpenSSL and browsers show serials.
      const s = this.serial;
      const body = s.length > 1 && s[0] === 0 ? s.subarray(1) : s;
      this.#serialHex = hexOf(body);
    }
    return this.#serialHex;
  }

  get fingerprintSha256(): string {
    this.#fingerprint ??= createHash('sha256').update(this.der).digest('hex');
    return this.#fingerprint;
  }

  get spkiSha256(): string {
    this.#spki ??= createHash('sha256').update(this.publicKey.der).digest('base64');
    return this.#spki;
  }

  get selfIssued(): boolean {
    if (this.#selfIssued === undefined) {
      // RFC 5280 §6.1: self-issued means subject and issuer names match (§7.1 comparison).
      // Identical DER is the common case and needs no key.
      this.#selfIssued =
        bytesEqual(this.subject.der, this.issuer.der) || this.subject.key === this.issuer.key;
    }
    return this.#selfIssued;
  }

  summary(): CertificateSummary {
    const s: CertificateSummary = {
      subject: this.subject.text,
      issuer: this.issuer.text,
      subjectAltNames: (this.subjectAltName?.names ?? []).map(generalNameToString),
      serial: this.serialHex,
      notBefore: this.notBefore.toISOString(),
      notAfter: this.notAfter.toISOString(),
      keyType: this.publicKey.type,
      keyBits: this.publicKey.bits,
      signatureAlgorithm: this.signatureAlgorithm.name,
      isCA: this.basicConstraints?.ca ?? false,
      fingerprintSha256: this.fingerprintSha256,
      spkiSha256: this.spkiSha256,
    };
    if (this.subject.commonName !== undefined) s.commonName = this.subject.commonName;
    // The caIssuers URLs: where a missing intermediate can be fetched from.
    const aia = this.authorityInfoAccess?.caIssuers;
    if (aia && aia.length > 0) s.aia = [...aia];
    return s;
  }

  toPEM(): string {
    return toPem(this.der, 'CERTIFICATE');
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL } (RFC 5280 §4.1.1.2). */
function readAlgorithm(r: DerReader, what: string): AlgorithmIdentifier & { paramsTlv?: Tlv } {
  const tlv = r.expect(TAG.SEQUENCE, what);
  const seq = r.enter(tlv, what);
  const oid = seq.oid(`${what} algorithm`);
  const result: AlgorithmIdentifier & { paramsTlv?: Tlv } = { oid, der: tlv.der };
  if (!seq.atEnd()) {
    const p = seq.next(`${what} parameters`);
    result.parameters = p.der;
    result.paramsTlv = p;
  }
  seq.end(what);
  return result;
}

/** A signature AlgorithmIdentifier with its name, digest and key type (also used for CRLs by verify/crl.ts). */
export function readSignatureAlgorithm(r: DerReader, what: string): SignatureAlgorithm {
  const alg = readAlgorithm(r, what);
  const { paramsTlv, ...plain } = alg;
  const known = SIGNATURE_ALGORITHMS[alg.oid];
  const result: SignatureAlgorithm = {
    ...plain,
    name: known?.name ?? alg.oid,
    keyType: known?.keyType ?? 'unknown',
  };
  if (known?.hash) result.hash = known.hash;
  if (alg.oid === OID.rsassaPss) {
    const { hashOid, ...pss } = readPssParams(r, paramsTlv, what);
    result.pss = pss;
    const h = HASH_ALGORITHMS[hashOid];
    if (h) result.hash = h;
  }
  return result;
}

const SHA1_OID = '1.3.14.3.2.26';

/**
 * RSASSA-PSS-params (RFC 4055 §3.1), every field [n] EXPLICIT with a default:
 * hashAlgorithm sha1, maskGenAlgorithm mgf1SHA1, saltLength 20, trailerField 1.
 */
function readPssParams(
  r: DerReader,
  tlv: Tlv | undefined,
  what: string,
): { hash: string; mgf1Hash: string; saltLength: number; trailerField: number; hashOid: string } {
  const name = (oid: string) => HASH_ALGORITHMS[oid] ?? oid;
  const out = { hash: 'sha1', mgf1Hash: 'sha1', saltLength: 20, trailerField: 1, hashOid: SHA1_OID };
  // Absent parameters mean all defaults (RFC 4055 §3.1 asks for them to be present; the verifier
  // rejects SHA-1 anyway).
  if (!tlv) return out;
  const w = `${what} RSASSA-PSS parameters`;
  if (tlv.tag !== TAG.SEQUENCE) certError(w, 'expected a SEQUENCE', tlv.start);
  const seq = r.enter(tlv, w);
  const hashR = seq.optionalExplicit(0, `${w} hashAlgorithm`);
  if (hashR) {
    const h = readAlgorithm(hashR, `${w} hashAlgorithm`);
    hashR.end(`${w} hashAlgorithm`);
    out.hashOid = h.oid;
    out.hash = name(h.oid);
  }
  const mgfR = seq.optionalExplicit(1, `${w} maskGenAlgorithm`);
  if (mgfR) {
    const m = readAlgorithm(mgfR, `${w} maskGenAlgorithm`);
    mgfR.end(`${w} maskGenAlgorithm`);
    if (m.oid !== OID.mgf1)
      certError(`${w} maskGenAlgorithm`, `unknown mask generation function ${m.oid}`, tlv.start);
    if (!m.paramsTlv) certError(`${w} maskGenAlgorithm`, 'MGF1 without a hash algorithm', tlv.start);
    const inner = mgfR.inner(m.paramsTlv.start, m.paramsTlv.end, `${w} MGF1 hash`);
    const mh = readAlgorithm(inner, `${w} MGF1 hash`);
    inner.end(`${w} MGF1 hash`);
    out.mgf1Hash = name(mh.oid);
  }
  const saltR = seq.optionalExplicit(2, `${w} saltLength`);
  if (saltR) {
    // A salt longer than any modulus in use (16384 bits = 2048 octets) cannot be valid.
    out.saltLength = saltR.smallInteger(`${w} saltLength`, 2048);
    saltR.end(`${w} saltLength`);
  }
  const trailerR = seq.optionalExplicit(3, `${w} trailerField`);
  if (trailerR) {
    out.trailerField = trailerR.smallInteger(`${w} trailerField`, 255);
    trailerR.end(`${w} trailerField`);
  }
  seq.end(w);
  return out;
}

/** SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) with the key's type and size. */
function readPublicKey(r: DerReader): PublicKeyInfo {
  const what = 'subjectPublicKeyInfo';
  const tlv = r.expect(TAG.SEQUENCE, what);
  const seq = r.enter(tlv, what);
  const alg = readAlgorithm(seq, `${what} algorithm`);
  const { paramsTlv, ...algorithm } = alg;
  const key = seq.bitString(`${what} subjectPublicKey`);
  seq.end(what);
  const info: PublicKeyInfo = { type: 'unknown', algorithm, bits: 0, der: tlv.der };
  switch (alg.oid) {
    case OID.rsaEncryption:
    case OID.rsassaPss: {
      info.type = alg.oid === OID.rsaEncryption ? 'rsa' : 'rsa-pss';
      const w = `${what} RSAPublicKey`;
      if (key.unusedBits !== 0) certError(w, 'BIT STRING has unused bits', key.offset - 1);
      // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 A.1.1).
      const inner = seq.inner(key.offset, key.offset + key.bytes.length, w);
      const k = inner.sequence(w);
      inner.end(w);
      const modAt = k.offset;
      const modulus = k.integer(`${w} modulus`);
      const exponent = k.integer(`${w} publicExponent`);
      k.end(w);
      if (modulus[0]! >= 0x80 || (modulus.length === 1 && modulus[0] === 0)) {
        certError(`${w} modulus`, 'not a positive integer', modAt);
      }
      if (exponent[0]! >= 0x80 || (exponent.length === 1 && exponent[0] === 0)) {
        certError(`${w} publicExponent`, 'not a positive integer', modAt);
      }
      info.bits = bitLength(modulus);
      break;
    }
    case OID.ecPublicKey: {
      info.type = 'ec';
      // ECParameters: namedCurve OID (RFC 5480 §2.1.1); implicit and specified curves are not
      // allowed in PKIX and leave the curve unknown.
      if (paramsTlv?.tag === TAG.OID) {
        const curveOid = seq
          .inner(paramsTlv.start, paramsTlv.end, `${what} namedCurve`)
          .oid(`${what} namedCurve`);
        const known = CURVES[curveOid];
        info.curve = known?.name ?? curveOid;
        info.bits = known?.bits ?? 0;
      }
      break;
    }
    case OID.ed25519:
      info.type = 'ed25519';
      info.bits = 256; // the contract's convention (types.ts); OpenSSL reports 253
      break;
    case OID.ed448:
      info.type = 'ed448';
      info.bits = 448; // the curve's name; OpenSSL reports 456 (the key's octets)
      break;
    case OID.dsa: {
      info.type = 'dsa';
      // Dss-Parms ::= SEQUENCE { p, q, g } (RFC 3279 §2.3.2); absent when inherited from the CA.
      if (paramsTlv?.tag === TAG.SEQUENCE) {
        const p = seq
          .inner(paramsTlv.start, paramsTlv.end, `${what} Dss-Parms`)
          .sequence(`${what} Dss-Parms`);
        info.bits = bitLength(p.integer(`${what} Dss-Parms p`));
      }
      break;
    }
  }
  return info;
}

/**
 * The modulus size and public exponent of an RSA key (type 'rsa' or 'rsa-pss'), read again from
 * its SubjectPublicKeyInfo (parseCertificate checked its form); undefined for other keys. The
 * verifier bounds both (verify/crypto.ts), because they set the cost of a signature check.
 */
export function rsaPublicNumbers(info: PublicKeyInfo): { modulusBits: number; exponent: bigint } | undefined {
  if (info.type !== 'rsa' && info.type !== 'rsa-pss') return undefined;
  const what = 'subjectPublicKeyInfo';
  const seq = new Reader(info.der).sequence(what);
  seq.sequence(`${what} algorithm`);
  const key = seq.bitString(`${what} subjectPublicKey`);
  const k = seq.inner(key.offset, key.offset + key.bytes.length, what).sequence(`${what} RSAPublicKey`);
  const modulus = k.integer(`${what} modulus`);
  const exponent = k.integer(`${what} publicExponent`);
  return { modulusBits: bitLength(modulus), exponent: BigInt(`0x${hexOf(exponent)}`) };
}

/** Bit length of a non-negative big-endian integer's content octets. */
function bitLength(v: Uint8Array): number {
  let i = 0;
  while (i < v.length && v[i] === 0) i++;
  if (i === v.length) return 0;
  return (v.length - i - 1) * 8 + (32 - Math.clz32(v[i]!));
}
