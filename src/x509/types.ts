/**
 * The certificate model: the shape every other module relies on.
 * Parsing lives in certificate.ts; this file has types only.
 */

import type { CertificateSummary } from '../errors.js';

/** One attribute of a relative distinguished name. */
export interface NameAttribute {
  /** Dotted OID, e.g. '2.5.4.3' for commonName. */
  oid: string;
  /** Short name when known ('CN', 'O', 'OU', 'C', 'L', 'ST', 'emailAddress', 'DC', …), else the OID. */
  type: string;
  /** The DER tag of the value (12 UTF8String, 19 PrintableString, 22 IA5String, …). */
  tag: number;
  /** The value decoded as text (a value that is not a string type is a parse error: x509/name.ts). */
  value: string;
}

/** An X.501 Name (issuer or subject). */
export interface Name {
  /** The exact DER encoding of the Name SEQUENCE. */
  der: Uint8Array;
  /** RDNs in encoded order; each RDN is a set of attributes. */
  rdns: NameAttribute[][];
  /**
   * A comparison key following RFC 5280 §7.1 in spirit: string values case-folded, leading/
   * trailing space removed and inner runs of space collapsed; two names with equal keys match.
   */
  key: string;
  /** Readable form, most significant first as OpenSSL prints it: 'C=US, O=Example, CN=example.com'. */
  text: string;
  /** First commonName value, if any. */
  commonName?: string;
}

/** A GeneralName (RFC 5280 §4.2.1.6). */
export type GeneralName =
  | { type: 'dns'; value: string }
  /** 4 or 16 bytes in a SAN; 8 or 32 (address then mask) in a name constraint. */
  | { type: 'ip'; bytes: Uint8Array }
  | { type: 'email'; value: string }
  | { type: 'uri'; value: string }
  | { type: 'dirName'; name: Name }
  | { type: 'registeredID'; value: string }
  | { type: 'other'; tag: number; der: Uint8Array };

export interface GeneralSubtree {
  base: GeneralName;
  /** Always 0 in valid certificates; other values are kept so the policy can reject them. */
  minimum: number;
  maximum?: number;
}

/** A raw extension as it appears in the certificate. */
export interface Extension {
  oid: string;
  critical: boolean;
  /** The contents of the extnValue OCTET STRING. */
  value: Uint8Array;
}

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

export interface AlgorithmIdentifier {
  oid: string;
  /** The DER of the parameters, if present (absent and NULL are different things). */
  parameters?: Uint8Array;
  /** The exact DER of the whole AlgorithmIdentifier, for comparing inner and outer. */
  der: Uint8Array;
}

export interface SignatureAlgorithm extends AlgorithmIdentifier {
  /** Readable name: 'sha256WithRSAEncryption', 'ecdsa-with-SHA256', 'Ed25519', 'RSASSA-PSS', … */
  name: string;
  /** The digest, when the algorithm fixes one ('sha1', 'sha256', …); undefined for Ed25519. */
  hash?: 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
  /** The key type that can produce it. */
  keyType: 'rsa' | 'rsa-pss' | 'ec' | 'ed25519' | 'ed448' | 'dsa' | 'unknown';
  /**
   * For RSASSA-PSS (keyType 'rsa-pss'; such a signature may come from an 'rsa' or an 'rsa-pss'
   * key): the parameters (RFC 4055 §3.1), defaults filled in. `hash` above equals `pss.hash`.
   */
  pss?: { hash: string; mgf1Hash: string; saltLength: number; trailerField: number };
}

export interface PublicKeyInfo {
  /** 'rsa', 'ec', 'ed25519', 'ed448', 'rsa-pss', 'dsa' or 'unknown'. */
  type: 'rsa' | 'rsa-pss' | 'ec' | 'ed25519' | 'ed448' | 'dsa' | 'unknown';
  algorithm: AlgorithmIdentifier;
  /** For EC keys: 'P-256', 'P-384', 'P-521', or the curve OID if unknown. */
  curve?: string;
  /** Key size in bits (RSA modulus length; curve size for EC; 256 for Ed25519). 0 if unknown. */
  bits: number;
  /** The exact DER of the SubjectPublicKeyInfo (what SPKI pins hash). */
  der: Uint8Array;
}

export interface BasicConstraints {
  critical: boolean;
  ca: boolean;
  pathLen?: number;
}

export interface AuthorityKeyIdentifier {
  critical: boolean;
  keyIdentifier?: Uint8Array;
  authorityCertIssuer?: GeneralName[];
  authorityCertSerialNumber?: Uint8Array;
}

export interface NameConstraints {
  critical: boolean;
  permitted?: GeneralSubtree[];
  excluded?: GeneralSubtree[];
}

export interface AccessDescription {
  method: string;
  location: GeneralName;
}

/** A parsed X.509 v1/v2/v3 certificate. Immutable. */
export interface Certificate {
  /** The whole certificate, DER. */
  readonly der: Uint8Array;
  /** The TBSCertificate, DER (what the signature covers). */
  readonly tbsDer: Uint8Array;
  readonly version: 1 | 2 | 3;
  /** The serial's content octets as encoded (two's complement, big-endian). */
  readonly serial: Uint8Array;
  /** Serial as lower-case hex, no separators. */
  readonly serialHex: string;
  /** The outer signatureAlgorithm. */
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** The TBSCertificate's signature field; must equal the outer one. */
  readonly tbsSignatureAlgorithm: SignatureAlgorithm;
  readonly signature: Uint8Array;
  readonly issuer: Name;
  readonly subject: Name;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: PublicKeyInfo;
  readonly hasIssuerUniqueId: boolean;
  readonly hasSubjectUniqueId: boolean;
  /** All extensions, in order. */
  readonly extensions: readonly Extension[];
  /** OIDs of extensions that appear more than once (RFC 5280 §4.2 forbids it). */
  readonly duplicateExtensions: readonly string[];
  /** OIDs of critical extensions this model does not decode. */
  readonly unknownCriticalExtensions: readonly string[];

  readonly subjectAltName?: { critical: boolean; names: GeneralName[] };
  readonly basicConstraints?: BasicConstraints;
  readonly keyUsage?: { critical: boolean; usages: ReadonlySet<KeyUsageName> };
  readonly extKeyUsage?: { critical: boolean; oids: string[] };
  readonly subjectKeyIdentifier?: Uint8Array;
  readonly authorityKeyIdentifier?: AuthorityKeyIdentifier;
  readonly nameConstraints?: NameConstraints;
  readonly authorityInfoAccess?: {
    critical: boolean;
    caIssuers: string[];
    ocsp: string[];
    all: AccessDescription[];
  };
  readonly certificatePolicies?: { critical: boolean; oids: string[] };

  /** SHA-256 of the DER, lower-case hex. */
  readonly fingerprintSha256: string;
  /** SHA-256 of the SubjectPublicKeyInfo DER, base64 (curl's pin format without 'sha256//'). */
  readonly spkiSha256: string;
  /** True when subject and issuer names match (a candidate self-issued certificate). */
  readonly selfIssued: boolean;

  /** A plain-object summary for errors, Response.tls and the CLI. */
  summary(): CertificateSummary;
  /** PEM text of the certificate. */
  toPEM(): string;
}

/** A JSON-safe description of a certificate; declared in errors.ts, which imports nothing. */
export type { CertificateSummary };
