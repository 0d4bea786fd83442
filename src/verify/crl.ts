/**
 * Certificate revocation lists given offline (RFC 5280 §5, §6.3): parsing, and the checks that
 * decide whether a CRL may be used for a certificate.
 *
 * Scope (decided here): CRLs are only consulted when the caller passes them (`crls`); nothing is
 * fetched. A certificate is checked against the CRLs that name its issuer. Fail closed: a CRL
 * that names the issuer but cannot be used for this certificate (its signature does not verify
 * with the issuer's key, its authorityKeyIdentifier names another key, it is stale or not yet
 * valid, it lacks a CRLNumber, it has an unknown critical extension, it is a delta or indirect
 * CRL, its issuingDistributionPoint does not cover this certificate, or the issuer may not sign
 * CRLs) leaves the status unknown, never "good" (revocation.ts decides what unknown means under
 * 'soft' and 'hard'). A usable CRL of the same issuer next to it still decides (an old key's CRL
 * beside the current one). When no CRL names the issuer, the status is not checked.
 */
import { booleanValue, contextTag, DerReader, derError, hexOf, TAG } from '../der/reader.js';
import { ParseError } from '../errors.js';
import { readSignatureAlgorithm } from '../x509/certificate.js';
import { decodeAuthorityKeyIdentifier, readExtensionList } from '../x509/extensions.js';
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
  /** The authorityKeyIdentifier's keyIdentifier (RFC 5280 §5.2.1), when present. */
  authorityKeyId?: Uint8Array;
  /** The issuingDistributionPoint (RFC 5280 §5.2.5), decoded, when present. */
  scope?: CrlScope;
}

/** IssuingDistributionPoint (RFC 5280 §5.2.5): which certificates and reasons a CRL covers. */
export interface CrlScope {
  /** The fullName GeneralNames of the distribution point (each GeneralName's DER), if named so. */
  fullNames?: Uint8Array[];
  /** The distribution point is named relative to the CRL issuer (not supported: fails closed). */
  relativeName: boolean;
  onlyContainsUserCerts: boolean;
  onlyContainsCACerts: boolean;
  onlySomeReasons: boolean;
  indirectCRL: boolean;
  onlyContainsAttributeCerts: boolean;
}

const CRL_EXT = {
  authorityKeyIdentifier: '2.5.29.35',
  crlNumber: '2.5.29.20',
  deltaCrlIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  freshestCrl: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
} as const;

const CERT_CRL_DISTRIBUTION_POINTS = '2.5.29.31';

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
  CRL_EXT.issuingDistributionPoint,
]);
const KNOWN_ENTRY_EXTENSIONS = new Set<string>([ENTRY_EXT.reasonCode, ENTRY_EXT.invalidityDate]);

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
      const extensions = entry.atEnd() ? [] : readExtensionList(entry, 'CRL entry extensions');
      entry.end('CRL revoked entry');
      revoked.set(hexOf(serial), { date, extensions });
    }
  }
  let extensions: Extension[] = [];
  const exts = tbs.optionalExplicit(0, 'CRL extensions');
  if (exts) {
    extensions = readExtensionList(exts, 'CRL extensions');
    exts.end('CRL extensions');
  }
  tbs.end('CRL tbsCertList');
  if (sig.unusedBits !== 0) throw new ParseError('CRL signature has unused bits', { code: 'ERR_CRL' });
  const idp = extensions.find((e) => e.oid === CRL_EXT.issuingDistributionPoint);
  const scope = idp ? readScope(idp.value) : undefined;
  const akiExt = extensions.find((e) => e.oid === CRL_EXT.authorityKeyIdentifier);
  const authorityKeyId = akiExt
    ? decodeAuthorityKeyIdentifier(new DerReader(akiExt.value), akiExt.critical).keyIdentifier
    : undefined;
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
    ...(scope ? { scope } : {}),
    ...(authorityKeyId ? { authorityKeyId } : {}),
  };
}

/** Reads an IssuingDistributionPoint extension value (RFC 5280 §5.2.5). Throws ParseError. */
function readScope(value: Uint8Array): CrlScope {
  const top = new DerReader(value);
  const idp = top.sequence('CRL issuingDistributionPoint');
  top.end('CRL issuingDistributionPoint');
  const scope: CrlScope = {
    relativeName: false,
    onlyContainsUserCerts: false,
    onlyContainsCACerts: false,
    onlySomeReasons: false,
    indirectCRL: false,
    onlyContainsAttributeCerts: false,
  };
  const dp = idp.optionalExplicit(0, 'CRL issuingDistributionPoint distributionPoint');
  if (dp) {
    const full = dp.optional(contextTag(0, true), 'CRL distributionPoint fullName');
    if (full) {
      const names = dp.enter(full, 'CRL distributionPoint fullName');
      scope.fullNames = [];
      while (!names.atEnd()) scope.fullNames.push(names.next('CRL distributionPoint GeneralName').der);
    } else {
      dp.expect(contextTag(1, true), 'CRL distributionPoint nameRelativeToCRLIssuer');
      scope.relativeName = true;
    }
    dp.end('CRL issuingDistributionPoint distributionPoint');
  }
  // The BOOLEANs are DEFAULT FALSE: DER (X.690 §11.5) forbids encoding the default.
  const flag = (n: number, what: string): boolean => {
    const tlv = idp.optional(contextTag(n, false), what);
    if (!tlv) return false;
    if (!booleanValue(tlv, what)) derError(what, 'a DEFAULT FALSE value encoded (not DER)', tlv.start);
    return true;
  };
  scope.onlyContainsUserCerts = flag(1, 'CRL onlyContainsUserCerts');
  scope.onlyContainsCACerts = flag(2, 'CRL onlyContainsCACerts');
  if (idp.optional(contextTag(3, false), 'CRL onlySomeReasons')) scope.onlySomeReasons = true;
  scope.indirectCRL = flag(4, 'CRL indirectCRL');
  scope.onlyContainsAttributeCerts = flag(5, 'CRL onlyContainsAttributeCerts');
  idp.end('CRL issuingDistributionPoint');
  return scope;
}

/**
 * Why `crl`'s issuingDistributionPoint does not cover `cert` (RFC 5280 §6.3.3 (b)), or undefined
 * when it does (or the CRL has none, so it is complete for its issuer).
 */
export function crlScopeProblem(crl: Crl, cert: Certificate): string | undefined {
  const s = crl.scope;
  if (!s) return undefined;
  if (s.indirectCRL) return 'it is an indirect CRL (issuingDistributionPoint), which is not supported';
  if (s.onlySomeReasons)
    return 'it covers only some revocation reasons (onlySomeReasons), so it cannot show the certificate is not revoked';
  if (s.onlyContainsAttributeCerts) return 'it covers only attribute certificates';
  const isCa = cert.basicConstraints?.ca === true;
  if (s.onlyContainsUserCerts && isCa) return 'it covers only end-entity certificates, and this one is a CA';
  if (s.onlyContainsCACerts && !isCa) return 'it covers only CA certificates, and this one is not';
  if (s.relativeName) return 'its distribution point is named relative to its issuer, which is not supported';
  if (s.fullNames) {
    const wanted = new Set(s.fullNames.map(hexOf));
    if (!certDistributionPoints(cert).some((n) => wanted.has(n)))
      return "its distribution point is not one of the certificate's cRLDistributionPoints (a partitioned CRL for other certificates)";
  }
  return undefined;
}

/** The DER (hex) of every fullName GeneralName in `cert`'s cRLDistributionPoints; [] if none or unreadable. */
function certDistributionPoints(cert: Certificate): string[] {
  const ext = cert.extensions.find((e) => e.oid === CERT_CRL_DISTRIBUTION_POINTS);
  if (!ext) return [];
  const out: string[] = [];
  try {
    const top = new DerReader(ext.value);
    const list = top.sequence('cRLDistributionPoints');
    while (!list.atEnd()) {
      const dp = list.sequence('DistributionPoint');
      const name = dp.optionalExplicit(0, 'DistributionPoint distributionPoint');
      const full = name?.optional(contextTag(0, true), 'fullName');
      if (full && name) {
        const names = name.enter(full, 'fullName');
        while (!names.atEnd()) out.push(hexOf(names.next('GeneralName').der));
      }
    }
  } catch {
    return out; // an unreadable extension matches nothing: the CRL is then not used (fail closed)
  }
  return out;
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
  if (hexOf(crl.signatureAlgorithm.der) !== hexOf(crl.tbsSignatureAlgorithm.der)) {
    return 'its outer signature algorithm differs from the one inside (RFC 5280 §5.1.1.2)';
  }
  // RFC 5280 §6.3.3 (f): "If a key usage extension is present in the CRL issuer's certificate,
  // verify that the cRLSign bit is set."
  // RFC 5280 §5.2.1: the CRL's authorityKeyIdentifier names the key that signed it.
  const aki = crl.authorityKeyId;
  if (aki && issuer.subjectKeyIdentifier && hexOf(aki) !== hexOf(issuer.subjectKeyIdentifier))
    return "its authorityKeyIdentifier names another key than the issuer's (wrong issuer)";
  const ku = issuer.keyUsage?.usages;
  if (ku && !ku.has('cRLSign'))
    return "its issuer's keyUsage does not allow signing CRLs (RFC 5280 §6.3.3 (f))";
  const seen = new Set<string>();
  for (const e of crl.extensions) {
    if (seen.has(e.oid)) return `it repeats the extension ${e.oid} (RFC 5280 §5.2)`;
    seen.add(e.oid);
    if (e.oid === CRL_EXT.deltaCrlIndicator) return 'it is a delta CRL, which is not supported';
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
export function revocationOf(
  crl: Crl,
  cert: Certificate,
): { date: Date; extensions: Extension[] } | undefined {
  return crl.revoked.get(hexOf(cert.serial));
}
