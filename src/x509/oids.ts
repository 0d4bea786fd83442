/**
 * The object identifiers the certificate model knows, as tables.
 * Sources: RFC 5280 (extensions, attributes), RFC 8017 and RFC 4055 (RSA), RFC 5758 and RFC 5480
 * (ECDSA, curves), RFC 8410 (Ed25519, Ed448), RFC 3279 and RFC 5758 (DSA), RFC 4519 and
 * RFC 4524 (attribute types), CA/Browser Forum BR §7.1.4 (EV jurisdiction attributes).
 */

import type { SignatureAlgorithm } from './types.js';

export const OID = {
  // Extensions (RFC 5280 §4.2)
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  // Access methods (RFC 5280 §4.2.2.1)
  ocsp: '1.3.6.1.5.5.7.48.1',
  caIssuers: '1.3.6.1.5.5.7.48.2',
  // Certificate policies (RFC 5280 §4.2.1.4)
  anyPolicy: '2.5.29.32.0',
  // Public key algorithms
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  ecPublicKey: '1.2.840.10045.2.1',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
  dsa: '1.2.840.10040.4.1',
  // Attribute types
  commonName: '2.5.4.3',
} as const;

/** Short names of attribute types, as OpenSSL prints them. */
export const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.13': 'description',
  '2.5.4.15': 'businessCategory',
  '2.5.4.17': 'postalCode',
  '2.5.4.41': 'name',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'initials',
  '2.5.4.44': 'generationQualifier',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym',
  '2.5.4.97': 'organizationIdentifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
  '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST',
  '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
};

type Hash = NonNullable<SignatureAlgorithm['hash']>;
type KeyType = SignatureAlgorithm['keyType'];

/** Signature algorithms: OID -> name, digest, key type. */
export const SIGNATURE_ALGORITHMS: Readonly<Record<string, { name: string; hash?: Hash; keyType: KeyType }>> =
  {
    // RSA PKCS #1 v1.5 (RFC 8017 Appendix A.2.4; RFC 4055 §5 for the SHA-2 family)
    '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', hash: 'md5', keyType: 'rsa' },
    '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', hash: 'sha1', keyType: 'rsa' },
    '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', hash: 'sha224', keyType: 'rsa' },
    '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', hash: 'sha256', keyType: 'rsa' },
    '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', hash: 'sha384', keyType: 'rsa' },
    '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', hash: 'sha512', keyType: 'rsa' },
    // RSASSA-PSS (RFC 4055 §3); the digest comes from the parameters.
    '1.2.840.113549.1.1.10': { name: 'RSASSA-PSS', keyType: 'rsa-pss' },
    // ECDSA (RFC 3279 §2.2.3 for SHA-1; RFC 5758 §3.2 for SHA-2)
    '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', hash: 'sha1', keyType: 'ec' },
    '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', hash: 'sha224', keyType: 'ec' },
    '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'sha256', keyType: 'ec' },
    '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'sha384', keyType: 'ec' },
    '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: 'sha512', keyType: 'ec' },
    // EdDSA (RFC 8410 §3)
    '1.3.101.112': { name: 'Ed25519', keyType: 'ed25519' },
    '1.3.101.113': { name: 'Ed448', keyType: 'ed448' },
    // DSA (RFC 3279 §2.2.2; RFC 5758 §3.1)
    '1.2.840.10040.4.3': { name: 'dsa-with-SHA1', hash: 'sha1', keyType: 'dsa' },
    '2.16.840.1.101.3.4.3.1': { name: 'dsa-with-SHA224', hash: 'sha224', keyType: 'dsa' },
    '2.16.840.1.101.3.4.3.2': { name: 'dsa-with-SHA256', hash: 'sha256', keyType: 'dsa' },
  };

/** Digest algorithm OIDs, as used inside RSASSA-PSS parameters (RFC 4055 §2.1, RFC 8017). */
export const HASH_ALGORITHMS: Readonly<Record<string, Hash>> = {
  '1.2.840.113549.2.5': 'md5',
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Named curves (RFC 5480 §2.1.1.1; SEC 2 for secp256k1) -> name and key size in bits. */
export const CURVES: Readonly<Record<string, { name: string; bits: number }>> = {
  '1.2.840.10045.3.1.7': { name: 'P-256', bits: 256 },
  '1.3.132.0.34': { name: 'P-384', bits: 384 },
  '1.3.132.0.35': { name: 'P-521', bits: 521 },
  '1.3.132.0.33': { name: 'P-224', bits: 224 },
  '1.2.840.10045.3.1.1': { name: 'P-192', bits: 192 },
  '1.3.132.0.10': { name: 'secp256k1', bits: 256 },
};

/** Names of well-known extended key usages (RFC 5280 §4.2.1.12), for messages. */
export const EKU_NAMES: Readonly<Record<string, string>> = {
  '2.5.29.37.0': 'anyExtendedKeyUsage',
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
};

/** Names of extensions, for messages. */
export const EXTENSION_NAMES: Readonly<Record<string, string>> = {
  '2.5.29.14': 'subjectKeyIdentifier',
  '2.5.29.15': 'keyUsage',
  '2.5.29.17': 'subjectAltName',
  '2.5.29.18': 'issuerAltName',
  '2.5.29.19': 'basicConstraints',
  '2.5.29.30': 'nameConstraints',
  '2.5.29.31': 'cRLDistributionPoints',
  '2.5.29.32': 'certificatePolicies',
  '2.5.29.33': 'policyMappings',
  '2.5.29.35': 'authorityKeyIdentifier',
  '2.5.29.36': 'policyConstraints',
  '2.5.29.37': 'extKeyUsage',
  '2.5.29.54': 'inhibitAnyPolicy',
  '1.3.6.1.5.5.7.1.1': 'authorityInfoAccess',
  '1.3.6.1.4.1.11129.2.4.2': 'signedCertificateTimestampList',
};
