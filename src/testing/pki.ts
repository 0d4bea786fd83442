/**
 * The certificate factory (used by the tests through test/support/pki.ts, and by `certainly demo`): builds X.509 certificates at run time, good ones and bad ones on purpose.
 *
 * Node can parse certificates but not make them, so this module writes the TBSCertificate with
 * der-writer.ts and signs it with node:crypto. Everything is synchronous.
 *
 * Keys: EC and Ed25519 keys cost well under a millisecond, so every certificate gets a fresh one.
 * RSA keys are slow (tens of ms for 2048 bits, seconds for 4096), so they come from a small
 * module-level pool per size. A pooled key is never shared with the certificate's own issuer
 * chain (so a certificate never verifies itself by accident), but unrelated certificates may share
 * one. Pass `freshKey: true` for a brand-new key, or `key` to reuse a specific one.
 *
 * Names: the subject string is 'TYPE=value' pairs separated by ',' (RFC 4514 escapes: '\,',
 * '\+', '\\', '\XX'; '+' joins attributes into one multi-valued RDN; a value '#hex' is the DER
 * of the value itself). Unlike RFC 4514, attributes are encoded in the order written, which is
 * the order OpenSSL prints them: 'C=US, O=Example, CN=example.com'.
 */

import {
  constants,
  createHash,
  generateKeyPairSync,
  type KeyObject,
  privateEncrypt,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import { isIP } from 'node:net';
import { ATTRIBUTE_NAMES, EKU_NAMES, HASH_ALGORITHMS, OID, SIGNATURE_ALGORITHMS } from '../x509/oids.js';
import {
  bitString,
  boolean,
  children,
  contextPrimitive,
  explicit,
  ia5String,
  integer,
  namedBits,
  nul,
  octetString,
  oid,
  oidContent,
  printableString,
  readTlv,
  sequence,
  set,
  time,
  toPem,
  utf8String,
} from './der-writer.js';

/**
 * Key types. Beyond the usual ones: 'rsa512' (a weak key, for WEAK_KEY tests), 'p521', and
 * 'ed448' (valid X.509, outside the webpki profile).
 */
export type KeyType =
  | 'rsa2048'
  | 'rsa1024'
  | 'rsa3072'
  | 'rsa4096'
  | 'rsa512'
  | 'p256'
  | 'p384'
  | 'p521'
  | 'ed25519'
  | 'ed448';
export type HashName = 'sha256' | 'sha384' | 'sha512' | 'sha1' | 'md5';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  type: KeyType;
}

export interface CertOptions {
  /** 'CN=Test Root, O=certainly tests' (see the module comment for the syntax). */
  subject?: string;
  /** Shorthand for subject 'CN=<cn>'. */
  cn?: string;
  /** An empty subject Name (SEQUENCE {}), for "no subject" tests. */
  emptySubject?: boolean;
  /** The subject Name as raw DER (wins over subject, cn and emptySubject). */
  subjectDer?: Uint8Array;
  /**
   * 'DNS:a.example', 'IP:10.0.0.6', 'IP:::1', 'email:a@b.c', 'URI:https://x', 'DN:CN=x, O=y',
   * 'RID:1.2.3', 'raw:<hex of a whole GeneralName>'; a bare string is IP if it parses as one, else
   * DNS. [] = no SAN extension at all. Default for leaves: localhost, 127.0.0.1, ::1 (the names the
   * loopback servers answer on); none for CAs.
   */
  sans?: string[];
  sanCritical?: boolean;
  /** Default: now - 1 hour (whole seconds). */
  notBefore?: Date;
  /** Default: now + 30 days (whole seconds). */
  notAfter?: Date;
  /** Raw Time elements, to write encodings RFC 5280 forbids (e.g. GeneralizedTime before 2050). */
  notBeforeDer?: Uint8Array;
  notAfterDer?: Uint8Array;
  /** Default 'p256'. */
  keyType?: KeyType;
  /** Reuse a specific key (cross-signing tests). */
  key?: KeyPair;
  /** Generate a new key instead of taking one from the RSA pool. */
  freshKey?: boolean;
  /** Default sha256. Ignored for Ed25519/Ed448 (no separate hash). No md5 for EC. */
  hash?: HashName;
  /**
   * For an RSA signer: sign with RSASSA-PSS (RFC 4055 parameters: the same hash for the message
   * and MGF1, salt length = hash length, as TLS and webpki expect) instead of PKCS#1 v1.5.
   * The subject key stays an rsaEncryption key. Not with md5.
   */
  rsaPss?: boolean;
  /** Default: true for createRoot and intermediate(), false for issue() and selfSigned(). */
  ca?: boolean;
  pathLen?: number;
  /** false = omit. Default: CA { ca: true, critical: true }, leaf { ca: false, critical: true }. */
  basicConstraints?: false | { ca: boolean; pathLen?: number; critical?: boolean };
  /** false = omit. Default CA ['keyCertSign','cRLSign'], leaf ['digitalSignature'] (+keyEncipherment for RSA). */
  keyUsage?: false | string[];
  /** Default true (RFC 5280 §4.2.1.3: SHOULD be critical). */
  keyUsageCritical?: boolean;
  /** 'serverAuth','clientAuth','codeSigning','emailProtection','timeStamping','ocspSigning','any', or OIDs. */
  eku?: false | string[];
  ekuCritical?: boolean;
  aia?: { caIssuers?: string[]; ocsp?: string[] };
  /** certificatePolicies: policy OIDs ('any' = anyPolicy 2.5.29.32.0), no qualifiers. */
  policies?: string[];
  /**
   * RFC 7633 TLS Feature extension: the TLS extension numbers the server must use; [5]
   * (status_request) is "must-staple". Non-critical, as RFC 7633 §6 recommends.
   */
  tlsFeature?: number[];
  policiesCritical?: boolean;
  /** Same forms as sans; IP as 'IP:10.0.0.0/8' or 'IP:10.0.0.0/255.0.0.0'. [] writes an empty list. */
  nameConstraints?: { permitted?: string[]; excluded?: string[]; critical?: boolean };
  /** Default true: SKI = SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1). */
  ski?: boolean;
  /** Default true: AKI keyIdentifier = the issuer's SKI. */
  aki?: boolean;
  /** Use this SKI value instead of the computed one. */
  skiValue?: Uint8Array;
  /** Use this AKI keyIdentifier instead of the issuer's SKI (broken-link tests). */
  akiValue?: Uint8Array;
  /** Default: 16 random bytes, positive. A Uint8Array is written as the INTEGER's content octets as-is. */
  serial?: bigint | Uint8Array;
  /** v1 = no version field and no extensions; v2 writes version 1 (v2) with no extensions. */
  version?: 1 | 2 | 3;
  /** Extra raw extensions, appended after the built ones (`value` = the extnValue contents). */
  extensions?: { oid: string; critical?: boolean; value: Uint8Array }[];
  /** Override the issuer field (for broken-link tests). */
  issuerName?: string;
  /** Override the issuer field with raw DER. */
  issuerDer?: Uint8Array;
  /** Sign with a different key than the issuer's (bad-signature tests). */
  signWith?: KeyPair;
  /** Flip a bit of the signature value. */
  corruptSignature?: boolean;
  /** Raw AlgorithmIdentifier DER for the TBSCertificate's signature field (inner/outer mismatch tests). */
  tbsSignatureAlgorithm?: Uint8Array;
  /** Raw AlgorithmIdentifier DER for the outer signatureAlgorithm field. */
  signatureAlgorithm?: Uint8Array;
  /** Raw SubjectPublicKeyInfo DER to write instead of the key's own (the key still signs children). */
  spkiDer?: Uint8Array;
}

export interface Issued {
  der: Buffer;
  pem: string;
  key: KeyPair;
  /** The private key as PKCS#8 PEM. */
  keyPem: string;
  subjectDer: Buffer;
  issuerDer: Buffer;
  spkiDer: Buffer;
  tbsDer: Buffer;
  /** The serial's content octets as written. */
  serial: Buffer;
  /** The SKI written into the certificate, if any. */
  ski?: Buffer;
  /** The validity actually written (whole seconds). */
  notBefore: Date;
  notAfter: Date;
  /** Whether the certificate was built as a CA (basicConstraints cA). */
  isCA: boolean;
  options: CertOptions;
  issuer?: Issued;
  /** Node's parse, for cross-checks. Lazy: throws on access if node cannot parse a broken certificate. */
  readonly x509: X509Certificate;
}

/** `name -> OID` from one of the parser's `OID -> name` tables (src/x509/oids.ts): one table, both ways. */
function byName(
  table: Readonly<Record<string, string>>,
  key: (name: string) => string = (n) => n,
): Record<string, string> {
  return Object.fromEntries(Object.entries(table).map(([o, name]) => [key(name), o]));
}

/** Attribute types by OpenSSL's short name, lower case ('cn', 'o', 'emailaddress', …). */
const ATTRIBUTE_SHORT = byName(ATTRIBUTE_NAMES, (n) => n.toLowerCase());
/** Attribute types a subject string may name: the short names, and the long forms OpenSSL accepts. */
const ATTRIBUTE_OIDS: Record<string, string> = {
  ...ATTRIBUTE_SHORT,
  commonname: ATTRIBUTE_SHORT.cn!,
  surname: ATTRIBUTE_SHORT.sn!,
  s: ATTRIBUTE_SHORT.st!,
  givenname: ATTRIBUTE_SHORT.gn!,
  email: ATTRIBUTE_SHORT.emailaddress!,
};
const ATTR = {
  CN: ATTRIBUTE_SHORT.cn!,
  O: ATTRIBUTE_SHORT.o!,
  C: ATTRIBUTE_SHORT.c!,
  serialNumber: ATTRIBUTE_SHORT.serialnumber!,
  emailAddress: ATTRIBUTE_SHORT.emailaddress!,
  DC: ATTRIBUTE_SHORT.dc!,
};

/** Extended key usages by name (RFC 5280 §4.2.1.12), with the aliases OpenSSL accepts. */
const EKU_BY_NAME = byName(EKU_NAMES);
const EKU_OIDS: Record<string, string> = {
  ...EKU_BY_NAME,
  ocspSigning: EKU_BY_NAME.OCSPSigning!,
  any: EKU_BY_NAME.anyExtendedKeyUsage!,
};
/** Signature algorithms by the parser's names ('sha256WithRSAEncryption', 'ecdsa-with-SHA256'). */
const SIGNATURE_OIDS = byName(
  Object.fromEntries(Object.entries(SIGNATURE_ALGORITHMS).map(([o, a]) => [o, a.name])),
);
/** Digest algorithms by name ('sha256'), for PSS parameters and DigestInfo. */
const HASH_OIDS = byName(HASH_ALGORITHMS);

/** KeyUsage bit positions (RFC 5280 §4.2.1.3). */
const KEY_USAGE_BITS: Record<string, number> = {
  digitalSignature: 0,
  nonRepudiation: 1,
  contentCommitment: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
};

// ---------------------------------------------------------------------------------------------
// Names

/** One attribute as parsed from a subject string. */
export interface DnAttribute {
  oid: string;
  /** The value text, or undefined when the value was given as '#hex' DER. */
  value?: string;
  /** The encoded value (tag, length, contents). */
  der: Buffer;
}

/**
 * The string type an attribute gets: RFC 5280 Appendix A fixes PrintableString for
 * countryName and serialNumber and IA5String for emailAddress and domainComponent (RFC 4519);
 * everything else is UTF8String, as RFC 5280 §4.1.2.6 asks of new certificates.
 */
function encodeAttributeValue(attrOid: string, value: string): Buffer {
  if (attrOid === ATTR.C || attrOid === ATTR.serialNumber) return printableString(value);
  if (attrOid === ATTR.emailAddress || attrOid === ATTR.DC) return ia5String(value);
  return utf8String(value);
}

function splitUnescaped(text: string, seps: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      cur += ch + text[i + 1];
      i++;
    } else if (seps.includes(ch)) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function unescapeValue(v: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const ch = v[i]!;
    if (ch === '\\' && /^[0-9a-fA-F]{2}$/.test(v.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (ch === '\\' && i + 1 < v.length) {
      bytes.push(...Buffer.from(v[i + 1]!, 'utf8'));
      i++;
    } else bytes.push(...Buffer.from(ch, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Parses a subject string into RDNs (each a list of attributes), in the order written. */
export function parseDn(text: string): DnAttribute[][] {
  if (text.trim() === '') return [];
  return splitUnescaped(text, ',;').map((rdn) =>
    splitUnescaped(rdn, '+').map((atv) => {
      const eq = atv.indexOf('=');
      if (eq < 0) throw new SyntaxError(`subject '${text}': '${atv.trim()}' is not TYPE=value`);
      const type = atv.slice(0, eq).trim();
      const attrOid = /^\d+(\.\d+)+$/.test(type) ? type : ATTRIBUTE_OIDS[type.toLowerCase()];
      if (!attrOid) throw new SyntaxError(`subject '${text}': unknown attribute type '${type}' (use an OID)`);
      let rawValue = atv.slice(eq + 1);
      // Leading and trailing unescaped spaces are not part of the value (RFC 4514 §3).
      rawValue = rawValue.replace(/^ +/, '');
      if (!rawValue.endsWith('\\ ')) rawValue = rawValue.replace(/ +$/, '');
      if (/^#([0-9a-fA-F]{2})+$/.test(rawValue)) {
        return { oid: attrOid, der: Buffer.from(rawValue.slice(1), 'hex') };
      }
      const value = unescapeValue(rawValue);
      return { oid: attrOid, value, der: encodeAttributeValue(attrOid, value) };
    }),
  );
}

/** The DER of an X.501 Name from a subject string ('' = the empty Name). */
export function encodeName(text: string): Buffer {
  return sequence(...parseDn(text).map((rdn) => set(...rdn.map((a) => sequence(oid(a.oid), a.der)))));
}

// ---------------------------------------------------------------------------------------------
// IP addresses and general names

/** The 4 or 16 octets of an IPv4 or IPv6 address, or undefined if `s` is not one. */
export function ipBytes(s: string): Buffer | undefined {
  const kind = isIP(s);
  if (kind === 4) return Buffer.from(s.split('.').map(Number));
  if (kind !== 6) return undefined;
  let text = s;
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    tail = v4[1]!.split('.').map(Number);
    text = `${text.slice(0, v4.index)}0:0`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const r = rest === undefined ? [] : rest ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill('0'), ...r];
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  if (tail.length) out.set(tail, 12);
  return out;
}

function maskBytes(prefix: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < prefix; i++) out[i >> 3]! |= 0x80 >> (i & 7);
  return out;
}

/** 'IP:10.0.0.0/8' or '10.0.0.0/255.0.0.0' → address then mask (RFC 5280 §4.2.1.10). */
function ipConstraintBytes(spec: string): Buffer | undefined {
  const slash = spec.lastIndexOf('/');
  if (slash < 0) return undefined;
  const addr = ipBytes(spec.slice(0, slash));
  if (!addr) return undefined;
  const m = spec.slice(slash + 1);
  const mask = /^\d+$/.test(m) ? maskBytes(Number(m), addr.length) : ipBytes(m);
  if (!mask) throw new SyntaxError(`'${spec}': bad mask`);
  return Buffer.concat([addr, mask]);
}

/**
 * One GeneralName (RFC 5280 §4.2.1.6) from the text forms listed at CertOptions.sans.
 * Values are written as given (no IA5 or syntax check), so bad names can be made on purpose.
 */
export function generalName(spec: string): Buffer {
  const m = /^([A-Za-z]+):(.*)$/s.exec(spec);
  const bareIp = isIP(spec) !== 0 || (spec.includes('/') && isIP(spec.slice(0, spec.lastIndexOf('/'))) !== 0);
  const kind = m && !bareIp ? m[1]!.toLowerCase() : '';
  const value = m && kind ? m[2]! : spec;
  switch (kind) {
    case 'dns':
      return contextPrimitive(2, Buffer.from(value, 'utf8'));
    case 'email':
    case 'rfc822':
      return contextPrimitive(1, Buffer.from(value, 'utf8'));
    case 'uri':
      return contextPrimitive(6, Buffer.from(value, 'utf8'));
    case 'dn':
    case 'dirname':
      return explicit(4, encodeName(value));
    case 'rid':
      return contextPrimitive(8, oidContent(value));
    case 'raw':
      return Buffer.from(value, 'hex');
    case 'ip': {
      const bytes = ipConstraintBytes(value) ?? ipBytes(value);
      if (!bytes) throw new SyntaxError(`'${spec}' is not an IP address or IP/prefix`);
      return contextPrimitive(7, bytes);
    }
    case '': {
      const bytes = ipConstraintBytes(value) ?? ipBytes(value);
      return bytes ? contextPrimitive(7, bytes) : contextPrimitive(2, Buffer.from(value, 'utf8'));
    }
    default:
      throw new SyntaxError(`'${spec}': unknown general name type '${m![1]}'`);
  }
}

/** GeneralNames (a SEQUENCE OF GeneralName), e.g. the value of a SAN extension. */
export function generalNames(specs: string[]): Buffer {
  return sequence(...specs.map(generalName));
}

/** One Extension: SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET STRING }. */
export function extension(extOid: string, critical: boolean, value: Uint8Array): Buffer {
  return critical
    ? sequence(oid(extOid), boolean(true), octetString(value))
    : sequence(oid(extOid), octetString(value));
}

// ---------------------------------------------------------------------------------------------
// Keys

const RSA_BITS: Partial<Record<KeyType, number>> = {
  rsa512: 512,
  rsa1024: 1024,
  rsa2048: 2048,
  rsa3072: 3072,
  rsa4096: 4096,
};

/**
 * How many RSA keys of one size the pool keeps before it starts reusing them: enough that a
 * root, an intermediate, a leaf and a spare all differ, small enough that a run generates
 * at most a few (a 4096-bit key costs about a second here).
 */
const RSA_POOL_SIZE = 4;
const rsaPool = new Map<KeyType, { keys: KeyPair[]; next: number }>();

/** A brand-new key pair of the given type. */
export function generateKey(type: KeyType): KeyPair {
  const bits = RSA_BITS[type];
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  if (bits) pair = generateKeyPairSync('rsa', { modulusLength: bits });
  else if (type === 'p256') pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  else if (type === 'p384') pair = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  else if (type === 'p521') pair = generateKeyPairSync('ec', { namedCurve: 'P-521' });
  else if (type === 'ed25519') pair = generateKeyPairSync('ed25519');
  else if (type === 'ed448') pair = generateKeyPairSync('ed448');
  else throw new TypeError(`unknown key type '${type}'`);
  return { ...pair, type };
}

/**
 * A key of the given type that is not in `avoid`: fresh for EC and Ed25519 (cheap), from the
 * pool for RSA (see RSA_POOL_SIZE).
 */
export function pooledKey(type: KeyType, avoid: ReadonlySet<KeyObject> = new Set()): KeyPair {
  if (!RSA_BITS[type]) return generateKey(type);
  const pool = rsaPool.get(type) ?? { keys: [], next: 0 };
  rsaPool.set(type, pool);
  if (pool.keys.length < RSA_POOL_SIZE) {
    const k = generateKey(type);
    pool.keys.push(k);
    return k;
  }
  for (let i = 0; i < pool.keys.length; i++) {
    const k = pool.keys[(pool.next + i) % pool.keys.length]!;
    if (!avoid.has(k.publicKey)) {
      pool.next = (pool.next + i + 1) % pool.keys.length;
      return k;
    }
  }
  return generateKey(type);
}

/** The private key as PEM: PKCS#8 by default, optionally encrypted (AES-256-CBC) with a passphrase. */
export function keyPemOf(
  key: KeyPair,
  opts: { passphrase?: string; format?: 'pkcs8' | 'pkcs1' | 'sec1' } = {},
): string {
  const type = opts.format ?? 'pkcs8';
  if (opts.passphrase === undefined) return key.privateKey.export({ type, format: 'pem' }) as string;
  return key.privateKey.export({
    type,
    format: 'pem',
    cipher: 'aes-256-cbc',
    passphrase: opts.passphrase,
  }) as string;
}

function spkiOf(key: KeyPair): Buffer {
  return key.publicKey.export({ type: 'spki', format: 'der' });
}

/** SHA-1 of the subjectPublicKey BIT STRING's value (RFC 5280 §4.2.1.2, method 1). */
export function keyIdOf(spkiDer: Uint8Array): Buffer {
  const [, bits] = children(spkiDer);
  const t = readTlv(bits!, 0);
  return createHash('sha1')
    .update(bits!.subarray(t.start + 1, t.end))
    .digest();
}

// ---------------------------------------------------------------------------------------------
// Signatures

const HASH_BYTES: Record<HashName, number> = { md5: 16, sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

/** RSASSA-PSS-params (RFC 4055 §3.1) with explicit hash, MGF1 with the same hash, salt = hash length. */
function pssAlgorithm(hash: HashName): Buffer {
  if (hash === 'md5') throw new TypeError('RSASSA-PSS with md5 is not defined; use sha1 or a SHA-2 hash');
  const hashAlg = sequence(oid(HASH_OIDS[hash]!), nul());
  return sequence(
    oid(OID.rsassaPss),
    sequence(
      explicit(0, hashAlg),
      explicit(1, sequence(oid(OID.mgf1), hashAlg)),
      explicit(2, integer(HASH_BYTES[hash])),
    ),
  );
}

function signatureAlgorithmFor(key: KeyPair, hash: HashName, pss: boolean): Buffer {
  if (key.type === 'ed25519') return sequence(oid(OID.ed25519)); // RFC 8410 §3: parameters absent
  if (key.type === 'ed448') return sequence(oid(OID.ed448));
  if (RSA_BITS[key.type]) {
    if (pss) return pssAlgorithm(hash);
    return sequence(oid(SIGNATURE_OIDS[`${hash}WithRSAEncryption`]!), nul()); // RFC 8017 A.2.4: parameters NULL
  }
  const o = hash === 'md5' ? undefined : SIGNATURE_OIDS[`ecdsa-with-${hash.toUpperCase()}`];
  if (!o) throw new TypeError(`ECDSA with ${hash} has no algorithm identifier; use sha1 or a SHA-2 hash`);
  return sequence(oid(o)); // RFC 5758 §3.2: parameters absent
}

function signBytes(data: Buffer, key: KeyPair, hash: HashName, pss: boolean): Buffer {
  if (key.type === 'ed25519' || key.type === 'ed448') return sign(null, data, key.privateKey);
  if (!RSA_BITS[key.type]) return sign(hash, data, { key: key.privateKey, dsaEncoding: 'der' });
  if (pss) {
    const opts = {
      key: key.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: HASH_BYTES[hash],
    };
    return sign(hash, data, opts);
  }
  try {
    return sign(hash, data, key.privateKey);
  } catch {
    // Some OpenSSL builds refuse MD5/SHA-1 signatures: build the PKCS#1 v1.5 DigestInfo by hand
    // (RFC 8017 §9.2) and apply the private key to it directly.
    const digestInfo = sequence(
      sequence(oid(HASH_OIDS[hash]!), nul()),
      octetString(createHash(hash).update(data).digest()),
    );
    return privateEncrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo);
  }
}

// ---------------------------------------------------------------------------------------------
// Certificates

let counter = 0;
const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** What the loopback servers answer on (servers.ts), so a default leaf works with all of them. */
const DEFAULT_LEAF_SANS = ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'];

function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

function defaultSerial(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01; // positive (RFC 5280 §4.1.2.2) and exactly 16 octets
  return b;
}

function ancestorsKeys(issuer: Issued | undefined): Set<KeyObject> {
  const out = new Set<KeyObject>();
  for (let c = issuer; c; c = c.issuer) {
    out.add(c.key.publicKey);
    if (c.options.signWith) out.add(c.options.signWith.publicKey);
  }
  return out;
}

function build(
  opts: CertOptions,
  issuer: Issued | undefined,
  role: 'root' | 'intermediate' | 'leaf',
): Issued {
  const n = ++counter;
  const bc = opts.basicConstraints;
  const isCA = opts.ca ?? (bc ? bc.ca : role !== 'leaf');
  const keyType = opts.key?.type ?? opts.keyType ?? 'p256';
  const key = opts.key ?? (opts.freshKey ? generateKey(keyType) : pooledKey(keyType, ancestorsKeys(issuer)));
  const hash = opts.hash ?? 'sha256';
  const version = opts.version ?? 3;

  const sans = opts.sans ?? (isCA ? [] : DEFAULT_LEAF_SANS);
  let subjectDer: Buffer;
  if (opts.subjectDer) subjectDer = Buffer.from(opts.subjectDer);
  else if (opts.emptySubject) subjectDer = sequence();
  else if (opts.subject !== undefined) subjectDer = encodeName(opts.subject);
  else if (opts.cn !== undefined) subjectDer = sequence(set(sequence(oid(ATTR.CN), utf8String(opts.cn))));
  else {
    const label = role === 'root' ? 'Root' : isCA ? 'Intermediate' : 'Leaf';
    const dns = sans.find((s) => /^dns:/i.test(s))?.slice(4);
    const cn = !isCA && dns ? dns : `certainly Test ${label} ${n}`;
    subjectDer = sequence(
      set(sequence(oid(ATTR.CN), utf8String(cn))),
      set(sequence(oid(ATTR.O), utf8String('certainly tests'))),
    );
  }

  let issuerDer: Buffer;
  if (opts.issuerDer) issuerDer = Buffer.from(opts.issuerDer);
  else if (opts.issuerName !== undefined) issuerDer = encodeName(opts.issuerName);
  else issuerDer = issuer ? issuer.subjectDer : subjectDer;

  const spkiDer = opts.spkiDer ? Buffer.from(opts.spkiDer) : spkiOf(key);
  const signer = opts.signWith ?? issuer?.key ?? key;
  const pss = opts.rsaPss ?? false;
  const sigAlg = signatureAlgorithmFor(signer, hash, pss);

  const notBefore = wholeSeconds(opts.notBefore ?? new Date(Date.now() - HOUR));
  const notAfter = wholeSeconds(opts.notAfter ?? new Date(Date.now() + 30 * DAY));
  const serial =
    opts.serial === undefined
      ? defaultSerial()
      : typeof opts.serial === 'bigint'
        ? integer(opts.serial).subarray(2)
        : Buffer.from(opts.serial);

  // Extensions, in the order OpenSSL's `x509 -text` shows for typical CA output.
  const exts: Buffer[] = [];
  let ski: Buffer | undefined;
  if (version === 3) {
    if (bc !== false) {
      const ca = bc ? bc.ca : isCA;
      const pathLen = bc?.pathLen ?? opts.pathLen;
      const body = sequence(
        ...(ca ? [boolean(true)] : []),
        ...(pathLen !== undefined ? [integer(pathLen)] : []),
      );
      exts.push(extension(OID.basicConstraints, bc ? (bc.critical ?? true) : true, body));
    }
    const ku = opts.keyUsage ?? (isCA ? ['keyCertSign', 'cRLSign'] : leafKeyUsage(key));
    if (ku !== false) {
      const bits = ku.map((u) => {
        const b = KEY_USAGE_BITS[u];
        if (b === undefined) throw new SyntaxError(`unknown key usage '${u}'`);
        return b;
      });
      exts.push(extension(OID.keyUsage, opts.keyUsageCritical ?? true, namedBits(bits)));
    }
    const eku = opts.eku ?? (isCA ? false : ['serverAuth', 'clientAuth']);
    if (eku !== false) {
      const body = sequence(...eku.map((e) => oid(EKU_OIDS[e] ?? e)));
      exts.push(extension(OID.extKeyUsage, opts.ekuCritical ?? false, body));
    }
    if (sans.length > 0)
      exts.push(extension(OID.subjectAltName, opts.sanCritical ?? false, generalNames(sans)));
    if (opts.nameConstraints) {
      const { permitted, excluded, critical } = opts.nameConstraints;
      const subtrees = (list: string[]) => list.map((s) => sequence(generalName(s)));
      const body = sequence(
        ...(permitted ? [explicit(0, ...subtrees(permitted))] : []),
        ...(excluded ? [explicit(1, ...subtrees(excluded))] : []),
      );
      // RFC 5280 §4.2.1.10: conforming CAs MUST mark this extension critical.
      exts.push(extension(OID.nameConstraints, critical ?? true, body));
    }
    if (opts.ski ?? true) {
      ski = opts.skiValue ? Buffer.from(opts.skiValue) : keyIdOf(spkiDer);
      exts.push(extension(OID.subjectKeyIdentifier, false, octetString(ski)));
    }
    if (opts.aki ?? true) {
      const keyId = opts.akiValue
        ? Buffer.from(opts.akiValue)
        : issuer
          ? (issuer.ski ?? keyIdOf(issuer.spkiDer))
          : (ski ?? keyIdOf(spkiDer));
      exts.push(extension(OID.authorityKeyIdentifier, false, sequence(contextPrimitive(0, keyId))));
    }
    if (opts.aia) {
      const ad = (method: string, uri: string) =>
        sequence(oid(method), contextPrimitive(6, Buffer.from(uri)));
      const body = sequence(
        ...(opts.aia.ocsp ?? []).map((u) => ad(OID.ocsp, u)),
        ...(opts.aia.caIssuers ?? []).map((u) => ad(OID.caIssuers, u)),
      );
      exts.push(extension(OID.authorityInfoAccess, false, body));
    }
    if (opts.tlsFeature) {
      exts.push(extension('1.3.6.1.5.5.7.1.24', false, sequence(...opts.tlsFeature.map((n) => integer(n)))));
    }
    if (opts.policies) {
      const body = sequence(...opts.policies.map((p) => sequence(oid(p === 'any' ? OID.anyPolicy : p))));
      exts.push(extension(OID.certificatePolicies, opts.policiesCritical ?? false, body));
    }
  }
  // Extra extensions are written even in a v1/v2 certificate, which makes a bad one on purpose.
  for (const e of opts.extensions ?? []) exts.push(extension(e.oid, e.critical ?? false, e.value));

  const tbsDer = sequence(
    ...(version === 1 ? [] : [explicit(0, integer(version - 1))]),
    integer(serial),
    opts.tbsSignatureAlgorithm ? Buffer.from(opts.tbsSignatureAlgorithm) : sigAlg,
    issuerDer,
    sequence(
      opts.notBeforeDer ? Buffer.from(opts.notBeforeDer) : time(notBefore),
      opts.notAfterDer ? Buffer.from(opts.notAfterDer) : time(notAfter),
    ),
    subjectDer,
    spkiDer,
    ...(exts.length > 0 ? [explicit(3, sequence(...exts))] : []),
  );
  const signature = signBytes(tbsDer, signer, hash, pss);
  if (opts.corruptSignature) signature[signature.length - 1]! ^= 0x01;
  const der = sequence(
    tbsDer,
    opts.signatureAlgorithm ? Buffer.from(opts.signatureAlgorithm) : sigAlg,
    bitString(signature),
  );

  let parsed: X509Certificate | undefined;
  const issued: Issued = {
    der,
    pem: toPem(der),
    key,
    keyPem: keyPemOf(key),
    subjectDer,
    issuerDer,
    spkiDer,
    tbsDer,
    serial,
    ...(ski ? { ski } : {}),
    notBefore,
    notAfter,
    isCA: bc === false ? false : bc ? bc.ca : isCA,
    options: opts,
    ...(issuer ? { issuer } : {}),
    get x509(): X509Certificate {
      parsed ??= new X509Certificate(der);
      return parsed;
    },
  };
  return issued;
}

function leafKeyUsage(key: KeyPair): string[] {
  // RSA key exchange (TLS 1.2 RSA suites) needs keyEncipherment (RFC 5246 §7.4.2); EC/EdDSA do not.
  return RSA_BITS[key.type] ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'];
}

/** A self-signed CA certificate (a trust anchor). */
export function createRoot(opts: CertOptions = {}): Issued {
  return build(opts, undefined, 'root');
}

/** A certificate signed by `issuer`; a leaf unless `ca: true` (see intermediate()). */
export function issue(issuer: Issued, opts: CertOptions = {}): Issued {
  return build(opts, issuer, 'leaf');
}

/** A CA certificate signed by `issuer` (issue() with ca: true by default). */
export function intermediate(issuer: Issued, opts: CertOptions = {}): Issued {
  return build(opts, issuer, 'intermediate');
}

/** A self-signed end-entity certificate (not a CA). */
export function selfSigned(opts: CertOptions = {}): Issued {
  return build(opts, undefined, 'leaf');
}

/**
 * The same subject and key as `cert`, issued again by `issuer` (cross-signing, or a renewed
 * certificate). `overrides` replace options of the original.
 */
export function reissue(issuer: Issued, cert: Issued, overrides: CertOptions = {}): Issued {
  const {
    issuerName: _a,
    issuerDer: _b,
    signWith: _c,
    serial: _d,
    akiValue: _e,
    corruptSignature: _f,
    ...rest
  } = cert.options;
  return build(
    { ...rest, key: cert.key, subjectDer: cert.subjectDer, ...overrides },
    issuer,
    cert.isCA ? 'intermediate' : 'leaf',
  );
}

/** Concatenated PEM of the certificates, in the order given. */
export function pemOf(...certs: Issued[]): string {
  return certs.map((c) => c.pem).join('');
}

/** A root, an intermediate it signs, and a leaf the intermediate signs. */
export function standardPki(opts: { leaf?: CertOptions; keyType?: KeyType } = {}): {
  root: Issued;
  intermediate: Issued;
  leaf: Issued;
} {
  const kt = opts.keyType ? { keyType: opts.keyType } : {};
  const root = createRoot(kt);
  const inter = intermediate(root, kt);
  const leaf = issue(inter, { ...kt, ...opts.leaf });
  return { root, intermediate: inter, leaf };
}
