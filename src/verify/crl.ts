/**
 * Certificate revocation lists given offline (RFC 5280 §5, §6.3): parsing, and the checks that
 * decide whether a CRL may be used for a certificate.
 *
 * Scope (decided here): CRLs are only consulted when the caller passes them (`crls`); nothing is
 * fetched. A certificate is checked against the CRLs whose issuer is its issuer (same name, and a
 * signature that verifies with the issuer's key — a CRL signed by another key of the same name
 * is not this issuer's); when there are none, its status is not checked. A CRL of the issuer that
 * cannot be used (stale, missing CRLNumber, unknown critical extension, delta or indirect CRL,
 * issuer not allowed to sign CRLs) fails the path: revocation was asked for and cannot be
 * established (OpenSSL's behaviour with CRL checking on; x509-limbo crl::crlnumber-missing).
 */
import { DerReader, TAG } from '../der/reader.js';
import { ParseError } from '../errors.js';
import { readSignatureAlgorithm } from '../x509/certificate.js';
import { readName } from '../x509/name.js';
import { parsePem } from '../x509/pem.js';
import type { Certificate, Extension, Name, SignatureAlgorithm } from '../x509/types.js';
import { verifySignature } from './crypto.js';

export interface Crl {
  der: Uint8Array;
  tbsDer: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  tbsSignatureAlgorithm: SignatureAlgorithm;
  signature: Uint8Array;
  version: 1 | 2;
  issuer: Name;
  thisUpdate: Date;
  nextUpdate?: Date;
  /** Revoked serial numbers (lower-case hex of the content octets) -> the entry. */
  revoked: Map<string, { date: Date; extensions: Extension[] }>;
  extensions: Extension[];
}

const CRL_EXT = {
  authorityKeyIdentifier: '2.5.29.35',
  crlNumber: '2.5.29.20',
  deltaCrlIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  freshestCrl: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
} as const;

const ENTRY_EXT = {
  reasonCode: '2.5.29.21',
  invalidityDate: '2.5.29.24',
  certificateIssuer: '2.5.29.29',
} as const;

/** CRL extensions understood here (RFC 5280 §5.2); delta and indirect CRLs are not supported. */
const KNOWN_CRL_EXTENSIONS = new Set<string>([
  CRL_EXT.authorityKeyIdentifier,
  CRL_EXT.crlNumber,
  CRL_EXT.freshestCrl,
  CRL_EXT.authorityInfoAccess,
]);
const KNOWN_ENTRY_EXTENSIONS = new Set<string>([ENTRY_EXT.reasonCode, ENTRY_EXT.invalidityDate]);

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function readExtensions(r: DerReader, what: string): Extension[] {
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

/** Parses one DER CertificateList (RFC 5280 §5.1). Throws ParseError. */
export function parseCrl(der: Uint8Array): Crl {
  const top = new DerReader(der);
  const outer = top.sequence('CRL');
  top.end('CRL');
  const tbsTlv = outer.expect(TAG.SEQUENCE, 'CRL tbsCertList');
  const tbs = outer.enter(tbsTlv, 'CRL tbsCertList');
  const signatureAlgorithm = readSignatureAlgorithm(outer, 'CRL signatureAlgorithm');
  const sig = outer.bitString('CRL signatureValue');
  outer.end('CRL');

  let version: 1 | 2 = 1;
  if (tbs.peekTag() === TAG.INTEGER) {
    const v = tbs.smallInteger('CRL version', 1);
    if (v !== 1)
      throw new ParseError('CRL version must be v2 (1) when present (RFC 5280 §5.1.2.1)', {
        code: 'ERR_CRL',
      });
    version = 2;
  }
  const tbsSignatureAlgorithm = readSignatureAlgorithm(tbs, 'CRL signature');
  const issuer = readName(tbs, 'CRL issuer');
  const thisUpdate = tbs.time('CRL thisUpdate');
  let nextUpdate: Date | undefined;
  const t = tbs.peekTag();
  if (t === TAG.UTC_TIME || t === TAG.GENERALIZED_TIME) nextUpdate = tbs.time('CRL nextUpdate');
  const revoked = new Map<string, { date: Date; extensions: Extension[] }>();
  if (tbs.peekTag() === TAG.SEQUENCE) {
    const list = tbs.sequence('CRL revokedCertificates');
    while (!list.atEnd()) {
      const entry = list.sequence('CRL revoked entry');
      const serial = entry.integer('CRL userCertificate');
      const date = entry.time('CRL revocationDate');
      const extensions = entry.atEnd() ? [] : readExtensions(entry, 'CRL entry extensions');
      entry.end('CRL revoked entry');
      revoked.set(hex(serial), { date, extensions });
    }
  }
  let extensions: Extension[] = [];
  const exts = tbs.optionalExplicit(0, 'CRL extensions');
  if (exts) {
    extensions = readExtensions(exts, 'CRL extensions');
    exts.end('CRL extensions');
  }
  tbs.end('CRL tbsCertList');
  if (sig.unusedBits !== 0) throw new ParseError('CRL signature has unused bits', { code: 'ERR_CRL' });
  return {
    der,
    tbsDer: tbsTlv.der,
    signatureAlgorithm,
    tbsSignatureAlgorithm,
    signature: sig.bytes,
    version,
    issuer,
    thisUpdate,
    ...(nextUpdate ? { nextUpdate } : {}),
    revoked,
    extensions,
  };
}

/** CRLs from PEM text ('X509 CRL' blocks) or one DER CRL. Throws ParseError. */
export function readCrls(input: string | Uint8Array): Crl[] {
  if (typeof input === 'string') return parsePem(input, 'X509 CRL').map(parseCrl);
  const text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  if (text.includes('-----BEGIN ')) return parsePem(text, 'X509 CRL').map(parseCrl);
  return [parseCrl(input)];
}

/** Why `crl` cannot be used to check certificates of `issuer` at `time`, or undefined. */
export function crlProblem(crl: Crl, issuer: Certificate, time: Date): string | undefined {
  // RFC 5280 §5.1.1.2: the outer and inner algorithms must be the same.
  if (hex(crl.signatureAlgorithm.der) !== hex(crl.tbsSignatureAlgorithm.der)) {
    return 'its outer signature algorithm differs from the one inside (RFC 5280 §5.1.1.2)';
  }
  // RFC 5280 §6.3.3 (f): "If a key usage extension is present in the CRL issuer's certificate,
  // verify that the cRLSign bit is set."
  const ku = issuer.keyUsage?.usages;
  if (ku && !ku.has('cRLSign'))
    return "its issuer's keyUsage does not allow signing CRLs (RFC 5280 §6.3.3 (f))";
  const seen = new Set<string>();
  for (const e of crl.extensions) {
    if (seen.has(e.oid)) return `it repeats the extension ${e.oid} (RFC 5280 §5.2)`;
    seen.add(e.oid);
    if (e.oid === CRL_EXT.deltaCrlIndicator) return 'it is a delta CRL, which is not supported';
    if (e.oid === CRL_EXT.issuingDistributionPoint && e.critical) {
      return 'it has an issuingDistributionPoint (a partitioned or indirect CRL), which is not supported';
    }
    if (e.critical && !KNOWN_CRL_EXTENSIONS.has(e.oid))
      return `it has a critical extension that is not understood (${e.oid})`;
  }
  // RFC 5280 §5.2.3: "CRL issuers MUST include this extension in all CRLs and MUST mark this
  // extension as non-critical."
  const number = crl.extensions.find((e) => e.oid === CRL_EXT.crlNumber);
  if (!number) return 'it has no CRLNumber extension (RFC 5280 §5.2.3)';
  if (number.critical) return 'its CRLNumber extension is marked critical (RFC 5280 §5.2.3)';
  // RFC 5280 §6.3.3 (a): a CRL applies from thisUpdate to nextUpdate.
  if (crl.thisUpdate.getTime() > time.getTime())
    return `it is not valid until ${crl.thisUpdate.toISOString()}`;
  if (crl.nextUpdate && crl.nextUpdate.getTime() < time.getTime()) {
    return `it is out of date: its next update was due at ${crl.nextUpdate.toISOString()}`;
  }
  for (const { extensions } of crl.revoked.values()) {
    for (const e of extensions) {
      if (e.oid === ENTRY_EXT.certificateIssuer) return 'it is an indirect CRL, which is not supported';
      if (e.critical && !KNOWN_ENTRY_EXTENSIONS.has(e.oid))
        return `an entry has a critical extension that is not understood (${e.oid})`;
    }
  }
  return undefined;
}

/** Is `crl` signed by the key of `issuer`? */
export function crlSignedBy(crl: Crl, issuer: Certificate): boolean {
  return verifySignature(crl.signatureAlgorithm, crl.tbsDer, crl.signature, issuer);
}

/** The revocation entry for `cert` in `crl`, if it is listed. */
export function revocationOf(crl: Crl, cert: Certificate): { date: Date } | undefined {
  return crl.revoked.get(hex(cert.serial));
}
