/**
 * The validation policy: RFC 5280 with the CA/Browser Forum server profile ("webpki") that
 * x509-limbo encodes, written as tables.
 *
 * Three roles: the `leaf` (the peer's certificate), an `intermediate` (a CA sent by the peer) and
 * an `anchor` (a CA from the trust store, checked as a CA too: its validity, basicConstraints,
 * keyUsage, name constraints and key all apply — pyca/cryptography does the same; rustls-webpki
 * checks only the anchor's name, key and name constraints).
 *
 * Each rule is either *hard* (it protects something: a CA bit, a validity period, a key size) or
 * *hygiene* (the certificate breaks a MUST of the profile that does not change what it may do:
 * criticality flags, presence of key identifiers, serial number form). Hygiene rules are enforced
 * for every path, except that a path ending at an anchor the user supplied from a file
 * (sources 'file:', 'dir:', 'env:') reports them as notes instead (ARCHITECTURE.md, "Policy":
 * private CAs break hygiene rules all the time, and the person who trusts them said so).
 *
 * Deliberate leniency, each also said where it is chosen:
 * - A leaf without extKeyUsage is accepted (RFC 5280 §4.2.1.12: absent means any purpose; Go,
 *   rustls-webpki, pyca and OpenSSL agree), although CA/B BR §7.1.2.7.10 requires it.
 * - An anchor without subjectKeyIdentifier is accepted: Node's bundled Mozilla store has one
 *   (TWCA Global Root CA).
 * - The subject commonName is not compared with the SANs (CA/B BR §7.1.4.3): we never use it for
 *   identity (RFC 9525), and x509-limbo itself expects success for certificates whose CN is absent
 *   from their SANs (rfc5280::nc::permitted-ipv4-match, bettertls name-constraint cases).
 * - Name constraints may be non-critical (CA/B BR §7.1.2.10.8 exception to RFC 5280 §4.2.1.10).
 */
import type { VerifyCode } from '../errors.js';
import { rsaPublicNumbers } from '../x509/certificate.js';
import type { Certificate, Extension, PublicKeyInfo, SignatureAlgorithm } from '../x509/types.js';
import { pssSaltFor, rsaKeyBoundsProblem } from './crypto.js';
import { compileNameConstraints } from './path/name-constraints.js';

export type Role = 'leaf' | 'intermediate' | 'anchor';
export type Purpose = 'serverAuth' | 'clientAuth';

/** One thing wrong with one certificate. */
export interface Problem {
  code: VerifyCode;
  /** A sentence about the certificate ("its basicConstraints extension is not marked critical"). */
  message: string;
  /** Hygiene rules can be relaxed for user-supplied anchors; hard rules never. */
  hygiene: boolean;
  /** Where the rule comes from ('RFC 5280 §4.2.1.9'). */
  rule: string;
}

/** What a policy check needs to know besides the certificate. */
export interface PolicyContext {
  purpose: Purpose;
  /** Extended key usages (OIDs) the leaf must carry, besides the purpose (x509-limbo's extended_key_usage). */
  requiredEku: readonly string[];
  /** Key usages the leaf must assert, when it has the extension (x509-limbo's key_usage). */
  requiredKeyUsage: readonly string[];
  /** Validation time, whole seconds (RFC 5280 §4.1.2.5 has second granularity). */
  time: Date;
}

export const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  any: '2.5.29.37.0',
} as const;

/** x509-limbo's KnownEKUs names (RFC 5280 §4.2.1.12) -> OIDs. */
export const EKU_BY_NAME: Readonly<Record<string, string>> = {
  anyExtendedKeyUsage: EKU.any,
  serverAuth: EKU.serverAuth,
  clientAuth: EKU.clientAuth,
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
};

const EXT = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  freshestCrl: '2.5.29.46',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  subjectInfoAccess: '1.3.6.1.5.5.7.1.11',
  sctList: '1.3.6.1.4.1.11129.2.4.2',
} as const;

function problem(code: VerifyCode, message: string, rule: string, hygiene = false): Problem {
  return { code, message, hygiene, rule };
}

// ---------------------------------------------------------------------------------------------
// The extension table

type Presence = 'required' | 'optional' | 'forbidden';
type Criticality = 'critical' | 'non-critical' | 'either';

interface RoleRule {
  presence: Presence;
  criticality: Criticality;
  /**
   * Is a presence failure only hygiene? (A wrong criticality flag is always hygiene: it never
   * changes what a certificate may do. Content checks decide for themselves.)
   */
  hygiene: boolean;
  /** Citation for presence and criticality. */
  rule: string;
  /**
   * Whether the presence rule applies to this certificate (e.g. AKI is not required of
   * self-issued certificates); a required or forbidden extension is neither when it returns false.
   */
  when?: (cert: Certificate, ctx: PolicyContext) => boolean;
}

interface ExtensionRule {
  oid: string;
  name: string;
  leaf: RoleRule;
  intermediate: RoleRule;
  anchor: RoleRule;
  /** Checks of the content, run when the extension is present. */
  check?: (cert: Certificate, role: Role, ctx: PolicyContext) => Problem | undefined;
}

const any = (rule: string): RoleRule => ({
  presence: 'optional',
  criticality: 'either',
  hygiene: true,
  rule,
});
const nonCritical = (presence: Presence, rule: string, extra: Partial<RoleRule> = {}): RoleRule => ({
  presence,
  criticality: 'non-critical',
  hygiene: true,
  rule,
  ...extra,
});

/**
 * One row per extension we understand. A critical extension not in this table makes the
 * certificate unusable (RFC 5280 §4.2) — see unknownCriticalExtension(), the one place that says so.
 */
export const EXTENSION_RULES: readonly ExtensionRule[] = [
  {
    oid: EXT.basicConstraints,
    name: 'basicConstraints',
    // RFC 5280 §4.2.1.9: may appear in end-entity certificates, critical or not.
    leaf: any('RFC 5280 §4.2.1.9'),
    // RFC 5280 §4.2.1.9: "MUST appear as a critical extension in all CA certificates".
    intermediate: {
      presence: 'required',
      criticality: 'critical',
      hygiene: false,
      rule: 'RFC 5280 §4.2.1.9',
    },
    // Same for roots (CA/B BR §7.1.2.1.2). Missing on an anchor is hygiene: the anchor is a CA
    // because the user configured it as one (RFC 5280 §6.1.1 (d)).
    anchor: {
      presence: 'required',
      criticality: 'critical',
      hygiene: true,
      rule: 'RFC 5280 §4.2.1.9, CA/B BR §7.1.2.1.2',
    },
    check: (cert, role) => {
      const bc = cert.basicConstraints!;
      if (role === 'leaf') {
        // CA/B BR §7.1.2.7.8: "cA MUST be FALSE"; rustls-webpki CaUsedAsEndEntity.
        if (bc.ca) {
          return problem(
            'CA_USED_AS_LEAF',
            'it is a CA certificate (basicConstraints cA is TRUE), presented as the server certificate',
            'CA/B BR §7.1.2.7.8',
          );
        }
        return undefined;
      }
      if (!bc.ca) {
        return problem(
          'NOT_A_CA',
          'its basicConstraints extension says it is not a CA (cA is FALSE)',
          'RFC 5280 §4.2.1.9',
        );
      }
      return undefined;
    },
  },
  {
    oid: EXT.keyUsage,
    name: 'keyUsage',
    // RFC 5280 §4.2.1.3: optional in end-entity certificates ("SHOULD be critical": either).
    leaf: any('RFC 5280 §4.2.1.3'),
    // RFC 5280 §4.2.1.3: "MUST be present in certificates that contain public keys that are used to
    // validate digital signatures on other public key certificates". Absence is tolerated by
    // rustls-webpki (treated as all usages), so it is hygiene here.
    intermediate: { presence: 'required', criticality: 'either', hygiene: true, rule: 'RFC 5280 §4.2.1.3' },
    // Anchors may lack it: RFC 5280 §6.1 takes only name and key from an anchor, Node's bundled
    // store has a root without it (Chunghwa ePKI Root), and x509-limbo
    // crl::issuer-no-keyusage-extension expects such a root to work.
    anchor: any('RFC 5280 §4.2.1.3, §6.1.1 (d)'),
    check: (cert, role, ctx) => {
      const ku = cert.keyUsage!.usages;
      if (role === 'leaf') {
        // RFC 5280 §4.2.1.9: "If the cA boolean is not asserted, then the keyCertSign bit in the key
        // usage extension MUST NOT be asserted."
        if (ku.has('keyCertSign')) {
          return problem(
            'CA_USED_AS_LEAF',
            'its keyUsage asserts keyCertSign, which only CA certificates may (the server certificate must not be a CA)',
            'RFC 5280 §4.2.1.9',
          );
        }
        for (const want of ctx.requiredKeyUsage) {
          if (!ku.has(want as never)) {
            return problem('WRONG_PURPOSE', `its keyUsage does not allow ${want}`, 'RFC 5280 §4.2.1.3');
          }
        }
        return undefined;
      }
      // RFC 5280 §4.2.1.3 and §6.1.4 (n): a CA key signs certificates only with keyCertSign.
      if (!ku.has('keyCertSign')) {
        return problem(
          'NOT_A_CA',
          `its keyUsage (${[...ku].join(', ') || 'nothing'}) does not allow signing certificates (keyCertSign)`,
          'RFC 5280 §4.2.1.3, §6.1.4 (n)',
        );
      }
      return undefined;
    },
  },
  {
    oid: EXT.extKeyUsage,
    name: 'extKeyUsage',
    // CA/B BR §7.1.2.7.6: subscriber EKU "MUST NOT" be critical. Absence is allowed (see header).
    leaf: nonCritical('optional', 'CA/B BR §7.1.2.7.6'),
    // CA/B BR §7.1.2.2.x (subordinate CA EKU is non-critical); presence optional (pyca: many old
    // CAs lack it, and validators treat absence as any).
    intermediate: nonCritical('optional', 'CA/B BR §7.1.2.10.6'),
    // CA/B BR §7.1.2.1.2: root certificates "MUST NOT" carry extKeyUsage. A trusted subordinate
    // CA (an anchor that is not self-issued) is not a root: its EKU is normal (§7.1.2.10.6), and
    // refusing it would make trusting an intermediate break the chains that go through it.
    anchor: {
      presence: 'forbidden',
      criticality: 'either',
      hygiene: true,
      rule: 'CA/B BR §7.1.2.1.2',
      when: (c) => c.selfIssued,
    },
    check: (cert, role, ctx) => {
      const oids = cert.extKeyUsage!.oids;
      const purpose = EKU[ctx.purpose];
      // RFC 5280 §4.2.1.12: KeyPurposeId SEQUENCE SIZE (1..MAX).
      if (oids.length === 0)
        return problem('BAD_ENCODING', 'its extKeyUsage extension is empty', 'RFC 5280 §4.2.1.12');
      if (role === 'leaf') {
        // CA/B BR §7.1.2.7.10 and pyca: the purpose itself must be listed; anyExtendedKeyUsage does not count.
        for (const want of [purpose, ...ctx.requiredEku]) {
          if (!oids.includes(want)) {
            return problem(
              'WRONG_PURPOSE',
              `its extKeyUsage (${oids.map(ekuName).join(', ')}) does not include ${ekuName(want)}`,
              'RFC 5280 §4.2.1.12',
            );
          }
        }
        if (oids.includes(EKU.any)) {
          return problem(
            'PROFILE_VIOLATION',
            'its extKeyUsage includes anyExtendedKeyUsage, which server certificates must not',
            'CA/B BR §7.1.2.7.10',
            true,
          );
        }
        return undefined;
      }
      // A CA's EKU limits what it may issue for (CA/B BR §7.1.2.10.6; Go and pyca enforce it;
      // anyExtendedKeyUsage allows everything).
      if (!oids.includes(purpose) && !oids.includes(EKU.any)) {
        return problem(
          'WRONG_PURPOSE',
          `its extKeyUsage (${oids.map(ekuName).join(', ')}) does not allow issuing ${ekuName(purpose)} certificates`,
          'CA/B BR §7.1.2.10.6',
        );
      }
      return undefined;
    },
  },
  {
    oid: EXT.subjectAltName,
    name: 'subjectAltName',
    // CA/B BR §7.1.2.7.12: required in server certificates; criticality follows the subject
    // (RFC 5280 §4.2.1.6: critical when the subject is empty; CA/B: otherwise not critical),
    // checked in the content check. Client certificates may lack it (RFC 5280).
    leaf: {
      presence: 'required',
      criticality: 'either',
      hygiene: false,
      rule: 'CA/B BR §7.1.2.7.12',
      when: (_cert, ctx) => ctx.purpose === 'serverAuth',
    },
    intermediate: any('RFC 5280 §4.2.1.6'),
    anchor: any('RFC 5280 §4.2.1.6'),
    check: (cert, role) => {
      if (role !== 'leaf') return undefined;
      const emptySubject = cert.subject.rdns.length === 0;
      const critical = cert.subjectAltName!.critical;
      if (emptySubject && !critical) {
        return problem(
          'PROFILE_VIOLATION',
          'its subject is empty but its subjectAltName extension is not critical',
          'RFC 5280 §4.2.1.6',
          true,
        );
      }
      if (!emptySubject && critical) {
        return problem(
          'PROFILE_VIOLATION',
          'its subjectAltName extension is critical although its subject is not empty',
          'CA/B BR §7.1.2.7.12',
          true,
        );
      }
      return undefined;
    },
  },
  {
    oid: EXT.nameConstraints,
    name: 'nameConstraints',
    // RFC 5280 §4.2.1.10: "MUST be used only in a CA certificate".
    leaf: { presence: 'forbidden', criticality: 'either', hygiene: false, rule: 'RFC 5280 §4.2.1.10' },
    // RFC 5280 §4.2.1.10 says critical; CA/B BR §7.1.2.10.8 allows non-critical (see header).
    intermediate: any('CA/B BR §7.1.2.10.8'),
    anchor: any('CA/B BR §7.1.2.10.8'),
    check: (cert) => {
      const nc = cert.nameConstraints!;
      // CA/B BR §7.1.2.5.2 (and pyca): at least one subtree list must say something.
      if ((nc.permitted?.length ?? 0) === 0 && (nc.excluded?.length ?? 0) === 0) {
        return problem(
          'BAD_ENCODING',
          'its nameConstraints extension constrains nothing',
          'CA/B BR §7.1.2.5.2',
        );
      }
      const compiled = compileNameConstraints(nc);
      if (compiled.problem)
        return problem('BAD_ENCODING', `it is malformed: ${compiled.problem}`, 'RFC 5280 §4.2.1.10');
      return undefined;
    },
  },
  {
    oid: EXT.authorityKeyIdentifier,
    name: 'authorityKeyIdentifier',
    // RFC 5280 §4.2.1.1: "MUST be included in all certificates generated by conforming CAs" except
    // self-signed ones, and "MUST be marked as non-critical".
    leaf: nonCritical('required', 'RFC 5280 §4.2.1.1', { when: (c) => !c.selfIssued }),
    intermediate: nonCritical('required', 'RFC 5280 §4.2.1.1', { when: (c) => !c.selfIssued }),
    // Not required of anchors, even cross-signed ones: an anchor is trusted for its name and key
    // (RFC 5280 §6.1.1 (d)), and x509-limbo cve::cve-2024-0567 expects a trusted cross-signed root
    // without one to work (rfc5280::aki::cross-signed-root-missing-aki expects the opposite).
    anchor: nonCritical('optional', 'RFC 5280 §4.2.1.1'),
    check: (cert, role) => {
      const aki = cert.authorityKeyIdentifier!;
      // RFC 5280 §4.2.1.1 ("The keyIdentifier field … MUST be included"); CA/B BR §7.1.2.11.1
      // forbids authorityCertIssuer and authorityCertSerialNumber in subordinate CA certificates.
      if (aki.keyIdentifier === undefined) {
        return problem(
          'PROFILE_VIOLATION',
          'its authorityKeyIdentifier has no keyIdentifier',
          'RFC 5280 §4.2.1.1, CA/B BR §7.1.2.1.3',
          true,
        );
      }
      // Not for anchors: Node's bundled Mozilla store has roots with both fields (QuoVadis Root CA 2
      // and 3, Certigna), and refusing them would refuse real sites.
      if (
        role === 'intermediate' &&
        (aki.authorityCertIssuer !== undefined || aki.authorityCertSerialNumber !== undefined)
      ) {
        return problem(
          'PROFILE_VIOLATION',
          'its authorityKeyIdentifier names the issuer by name and serial number, which CA certificates must not',
          'CA/B BR §7.1.2.11.1',
          true,
        );
      }
      // CA/B BR §7.1.2.1.3: in a root, keyIdentifier "MUST be identical to the subjectKeyIdentifier".
      if (role === 'anchor' && cert.selfIssued && cert.subjectKeyIdentifier !== undefined) {
        if (!bytesEqual(aki.keyIdentifier, cert.subjectKeyIdentifier)) {
          return problem(
            'PROFILE_VIOLATION',
            'it is self-issued but its authorityKeyIdentifier differs from its subjectKeyIdentifier',
            'CA/B BR §7.1.2.1.3',
            true,
          );
        }
      }
      return undefined;
    },
  },
  {
    oid: EXT.subjectKeyIdentifier,
    name: 'subjectKeyIdentifier',
    // RFC 5280 §4.2.1.2: "MUST be marked as non-critical"; SHOULD in end-entity certificates.
    leaf: nonCritical('optional', 'RFC 5280 §4.2.1.2'),
    // RFC 5280 §4.2.1.2: "this extension MUST appear in all conforming CA certificates".
    intermediate: nonCritical('required', 'RFC 5280 §4.2.1.2'),
    // Not required of anchors: see the header (TWCA Global Root CA in Node's bundle lacks it).
    anchor: nonCritical('optional', 'RFC 5280 §4.2.1.2'),
  },
  {
    oid: EXT.authorityInfoAccess,
    name: 'authorityInfoAccess',
    // RFC 5280 §4.2.2.1: "Conforming CAs MUST mark this extension as non-critical."
    leaf: nonCritical('optional', 'RFC 5280 §4.2.2.1'),
    intermediate: nonCritical('optional', 'RFC 5280 §4.2.2.1'),
    anchor: nonCritical('optional', 'RFC 5280 §4.2.2.1'),
    check: (cert) =>
      // CA/B BR §7.1.2.7.7: "The AuthorityInfoAccessSyntax MUST contain one or more AccessDescriptions."
      (cert.authorityInfoAccess?.all.length ?? 0) === 0
        ? problem('BAD_ENCODING', 'its authorityInfoAccess extension is empty', 'CA/B BR §7.1.2.7.7')
        : undefined,
  },
  {
    oid: EXT.policyConstraints,
    name: 'policyConstraints',
    // RFC 5280 §4.2.1.11: "Conforming CAs MUST mark this extension as critical."
    leaf: { presence: 'optional', criticality: 'critical', hygiene: true, rule: 'RFC 5280 §4.2.1.11' },
    intermediate: {
      presence: 'optional',
      criticality: 'critical',
      hygiene: true,
      rule: 'RFC 5280 §4.2.1.11',
    },
    anchor: { presence: 'optional', criticality: 'critical', hygiene: true, rule: 'RFC 5280 §4.2.1.11' },
    check: (cert) => {
      // We do not process certificate policies (RFC 5280 §6.1.3 (d)–(f)): with no policy required
      // by the caller, only requireExplicitPolicy could change the outcome, so a certificate that
      // sets it cannot be evaluated (rustls-webpki rejects every critical policy extension).
      const ext = findExtension(cert, EXT.policyConstraints)!;
      if (requiresExplicitPolicy(ext.value)) {
        return problem(
          'UNSUPPORTED_CRITICAL_EXTENSION',
          'its policyConstraints extension requires an explicit certificate policy, and certificate policies are not evaluated',
          'RFC 5280 §4.2.1.11, §6.1.5 (a)',
        );
      }
      return undefined;
    },
  },
  // Understood and accepted in any role, critical or not: they only matter to certificate policy
  // processing (which, as above, cannot change the outcome here) or to revocation.
  {
    oid: EXT.certificatePolicies,
    name: 'certificatePolicies',
    leaf: any('RFC 5280 §4.2.1.4'),
    intermediate: any('RFC 5280 §4.2.1.4'),
    anchor: any('RFC 5280 §4.2.1.4'),
  },
  {
    oid: EXT.policyMappings,
    name: 'policyMappings',
    leaf: any('RFC 5280 §4.2.1.5'),
    intermediate: any('RFC 5280 §4.2.1.5'),
    anchor: any('RFC 5280 §4.2.1.5'),
  },
  {
    oid: EXT.inhibitAnyPolicy,
    name: 'inhibitAnyPolicy',
    leaf: any('RFC 5280 §4.2.1.14'),
    intermediate: any('RFC 5280 §4.2.1.14'),
    anchor: any('RFC 5280 §4.2.1.14'),
  },
  {
    oid: EXT.crlDistributionPoints,
    name: 'cRLDistributionPoints',
    leaf: any('RFC 5280 §4.2.1.13'),
    intermediate: any('RFC 5280 §4.2.1.13'),
    anchor: any('RFC 5280 §4.2.1.13'),
  },
  // Informational, and "MUST be marked as non-critical" (RFC 5280 §4.2.1.7, §4.2.1.15, §4.2.2.2;
  // RFC 6962 §3.3 for SCTs): understood as long as they are not critical.
  {
    oid: EXT.issuerAltName,
    name: 'issuerAltName',
    leaf: nonCritical('optional', 'RFC 5280 §4.2.1.7'),
    intermediate: nonCritical('optional', 'RFC 5280 §4.2.1.7'),
    anchor: nonCritical('optional', 'RFC 5280 §4.2.1.7'),
  },
  {
    oid: EXT.freshestCrl,
    name: 'freshestCRL',
    leaf: nonCritical('optional', 'RFC 5280 §4.2.1.15'),
    intermediate: nonCritical('optional', 'RFC 5280 §4.2.1.15'),
    anchor: nonCritical('optional', 'RFC 5280 §4.2.1.15'),
  },
  {
    oid: EXT.subjectInfoAccess,
    name: 'subjectInfoAccess',
    leaf: nonCritical('optional', 'RFC 5280 §4.2.2.2'),
    intermediate: nonCritical('optional', 'RFC 5280 §4.2.2.2'),
    anchor: nonCritical('optional', 'RFC 5280 §4.2.2.2'),
  },
  {
    oid: EXT.sctList,
    name: 'signedCertificateTimestampList',
    leaf: nonCritical('optional', 'RFC 6962 §3.3'),
    intermediate: nonCritical('optional', 'RFC 6962 §3.3'),
    anchor: nonCritical('optional', 'RFC 6962 §3.3'),
  },
];

const RULES_BY_OID = new Map(EXTENSION_RULES.map((r) => [r.oid, r]));

function findExtension(cert: Certificate, oid: string): Extension | undefined {
  for (const e of cert.extensions) if (e.oid === oid) return e;
  return undefined;
}

/**
 * policyConstraints ::= SEQUENCE { requireExplicitPolicy [0] SkipCerts OPTIONAL, … }: is [0] there?
 * A two-byte look suffices: the SEQUENCE header, then the first element's tag. Malformed input
 * counts as "requires" (fail closed).
 */
function requiresExplicitPolicy(value: Uint8Array): boolean {
  if (value.length < 2 || value[0] !== 0x30) return true;
  const lenByte = value[1]!;
  const headerLength = lenByte < 0x80 ? 2 : 2 + (lenByte & 0x7f);
  if (headerLength >= value.length) return false; // empty SEQUENCE: nothing required
  return value[headerLength] === 0x80;
}

/**
 * The one place where unknown critical extensions are refused (RFC 5280 §4.2: "A certificate-using
 * system MUST reject the certificate if it encounters a critical extension it does not recognize").
 */
export function unknownCriticalExtension(cert: Certificate): Problem | undefined {
  for (const e of cert.extensions) {
    if (e.critical && !RULES_BY_OID.has(e.oid)) {
      return problem(
        'UNSUPPORTED_CRITICAL_EXTENSION',
        `it has a critical extension that is not understood (${e.oid})`,
        'RFC 5280 §4.2',
      );
    }
  }
  return undefined;
}

/** Applies the extension table for one role. */
export function checkExtensions(cert: Certificate, role: Role, ctx: PolicyContext): Problem[] {
  const out: Problem[] = [];
  const present = new Map<string, Extension>();
  for (const e of cert.extensions) if (!present.has(e.oid)) present.set(e.oid, e);
  for (const rule of EXTENSION_RULES) {
    const r = rule[role];
    const ext = present.get(rule.oid);
    const applies = r.when ? r.when(cert, ctx) : true;
    if (ext === undefined) {
      if (r.presence === 'required' && applies) {
        out.push(missing(rule, role, r));
      }
      continue;
    }
    if (r.presence === 'forbidden' && applies) {
      out.push(
        problem(
          'PROFILE_VIOLATION',
          `it carries the ${rule.name} extension, which ${roleText(role)} must not have`,
          r.rule,
          r.hygiene,
        ),
      );
      // The content is still checked: a relaxed anchor's extKeyUsage still limits what it may issue.
    } else if (r.criticality === 'critical' && !ext.critical) {
      out.push(
        problem('PROFILE_VIOLATION', `its ${rule.name} extension is not marked critical`, r.rule, true),
      );
    } else if (r.criticality === 'non-critical' && ext.critical) {
      out.push(problem('PROFILE_VIOLATION', `its ${rule.name} extension is marked critical`, r.rule, true));
    }
    const p = rule.check?.(cert, role, ctx);
    if (p) out.push(p);
  }
  const unknown = unknownCriticalExtension(cert);
  if (unknown) out.push(unknown);
  return out;
}

function missing(rule: ExtensionRule, role: Role, r: RoleRule): Problem {
  if (rule.oid === EXT.basicConstraints) {
    return problem('NOT_A_CA', 'it has no basicConstraints extension, so it is not a CA', r.rule, r.hygiene);
  }
  if (rule.oid === EXT.subjectAltName) {
    return problem(
      'NO_SUBJECT_ALT_NAME',
      'it has no subjectAltName extension; server certificates must name their hosts there',
      r.rule,
      r.hygiene,
    );
  }
  return problem(
    'PROFILE_VIOLATION',
    `it lacks the ${rule.name} extension, which ${roleText(role)} must have`,
    r.rule,
    r.hygiene,
  );
}

function roleText(role: Role): string {
  switch (role) {
    case 'leaf':
      return 'a server certificate';
    case 'intermediate':
      return 'an intermediate CA certificate';
    case 'anchor':
      return 'a root certificate';
  }
}

function ekuName(oid: string): string {
  for (const [name, o] of Object.entries(EKU_BY_NAME)) if (o === oid) return name;
  return oid;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Keys and signature algorithms (CA/B BR §6.1.5, §7.1.3)

/** RSA modulus minimum (CA/B BR §6.1.5: "at least 2048 bits"). */
export const MIN_RSA_BITS = 2048;

const NULL_PARAMS = [0x05, 0x00];

/** CA/B BR §6.1.5 and §7.1.3.1: the public keys a certificate may carry. */
export function checkPublicKey(pk: PublicKeyInfo): Problem | undefined {
  const rule = 'CA/B BR §6.1.5, §7.1.3.1';
  switch (pk.type) {
    case 'rsa': {
      // CA/B BR §7.1.3.1.1: rsaEncryption with NULL parameters.
      const params = pk.algorithm.parameters;
      if (params === undefined || !bytesEqual(params, Uint8Array.from(NULL_PARAMS))) {
        return problem(
          'WEAK_KEY',
          'its RSA public key algorithm identifier lacks the NULL parameters',
          'CA/B BR §7.1.3.1.1',
        );
      }
      if (pk.bits < MIN_RSA_BITS) {
        return problem(
          'WEAK_KEY',
          `its RSA key has ${pk.bits} bits; at least ${MIN_RSA_BITS} are required`,
          rule,
        );
      }
      // CA/B BR §6.1.5: "the modulus size, in bits, is evenly divisible by 8".
      if (pk.bits % 8 !== 0) {
        return problem('WEAK_KEY', `its RSA key has ${pk.bits} bits, which is not a multiple of 8`, rule);
      }
      // Upper bounds on modulus and exponent: they set the cost of every signature check (crypto.ts).
      const numbers = rsaPublicNumbers(pk);
      const bounds = numbers && rsaKeyBoundsProblem(numbers.modulusBits, numbers.exponent);
      if (bounds) return problem('WEAK_KEY', bounds, 'ring RSA bounds, Go CVE-2023-29409');
      return undefined;
    }
    case 'ec':
      // CA/B BR §6.1.5 / §7.1.3.1.2: P-256, P-384 or P-521, as a named curve.
      if (pk.curve === 'P-256' || pk.curve === 'P-384' || pk.curve === 'P-521') return undefined;
      return problem(
        'WEAK_KEY',
        `its EC key is on ${pk.curve ?? 'an explicitly encoded curve'}; only the named curves P-256, P-384 and P-521 are accepted`,
        rule,
      );
    case 'ed25519':
      // Not in the CA/B BR, accepted for private PKIs (RFC 8410); rustls-webpki accepts it too.
      return undefined;
    default:
      return problem('WEAK_KEY', `its public key is of a kind that is not accepted (${pk.type})`, rule);
  }
}

const RSA_PKCS1 = new Set(['1.2.840.113549.1.1.11', '1.2.840.113549.1.1.12', '1.2.840.113549.1.1.13']);
const ECDSA_SHA2 = new Set(['1.2.840.10045.4.3.2', '1.2.840.10045.4.3.3', '1.2.840.10045.4.3.4']);
const RSA_PSS = '1.2.840.113549.1.1.10';
const ED25519 = '1.3.101.112';

/**
 * The signature algorithms accepted on certificates we verify (CA/B BR §7.1.3.2, plus Ed25519):
 * RSA PKCS#1 v1.5 with SHA-256/384/512 (parameters NULL or absent: RFC 4055 §5 "MUST accept the
 * parameters being absent as well as present"), RSASSA-PSS with SHA-256/384/512, MGF1 with the
 * same hash and a salt as long as the hash (CA/B BR §7.1.3.2.1), ECDSA with SHA-256/384/512
 * (parameters absent, RFC 5758 §3.2), and Ed25519 (parameters absent, RFC 8410 §3).
 * Curve and hash need not pair up (P-384 with SHA-256 happens in real chains; rustls-webpki allows it).
 */
export function checkSignatureAlgorithm(alg: SignatureAlgorithm): Problem | undefined {
  const rule = 'CA/B BR §7.1.3.2';
  const weak = (why: string): Problem =>
    problem('WEAK_ALGORITHM', `it is signed with ${alg.name}, ${why}`, rule);
  if (alg.hash === 'md5' || alg.hash === 'sha1')
    return weak(`and ${alg.hash.toUpperCase()} signatures are no longer accepted`);
  if (RSA_PKCS1.has(alg.oid)) {
    if (alg.parameters === undefined || bytesEqual(alg.parameters, Uint8Array.from(NULL_PARAMS)))
      return undefined;
    return weak('with parameters that RFC 4055 §5 does not allow');
  }
  if (ECDSA_SHA2.has(alg.oid) || alg.oid === ED25519) {
    return alg.parameters === undefined ? undefined : weak('with parameters where none are allowed');
  }
  if (alg.oid === RSA_PSS) {
    const pss = alg.pss;
    if (pss === undefined) return weak('without usable RSASSA-PSS parameters');
    const salt = pssSaltFor(pss.hash);
    if (salt === undefined) return weak(`and its PSS hash ${pss.hash} is not accepted`);
    if (pss.mgf1Hash !== pss.hash || pss.saltLength !== salt || pss.trailerField !== 1) {
      return weak(`with PSS parameters other than MGF1-${pss.hash} and a ${salt}-byte salt`);
    }
    return undefined;
  }
  return weak('which is not an accepted signature algorithm');
}

// ---------------------------------------------------------------------------------------------
// The certificate as a whole

/** RFC 5280 §4.1.2.2: serial numbers are at most 20 octets. */
const MAX_SERIAL_OCTETS = 20;

/** Validity at `time` (RFC 5280 §4.1.2.5: both ends inclusive). */
export function checkValidity(cert: Certificate, time: Date): Problem | undefined {
  const t = time.getTime();
  if (t < cert.notBefore.getTime()) {
    return problem(
      'CERT_NOT_YET_VALID',
      `it is not valid until ${cert.notBefore.toISOString()} (the time used is ${time.toISOString()})`,
      'RFC 5280 §4.1.2.5',
    );
  }
  if (t > cert.notAfter.getTime()) {
    return problem(
      'CERT_EXPIRED',
      `it expired at ${cert.notAfter.toISOString()} (the time used is ${time.toISOString()})`,
      'RFC 5280 §4.1.2.5',
    );
  }
  return undefined;
}

/**
 * Every issuer-independent check of one certificate in one role, hard problems first.
 * `verifyOwnSignature` is false only for anchors and for a leaf that is itself an anchor: their
 * own signature is never checked, so its algorithm does not matter.
 */
export function checkCertificate(
  cert: Certificate,
  role: Role,
  ctx: PolicyContext,
  verifyOwnSignature = role !== 'anchor',
): Problem[] {
  const out: Problem[] = [];
  // RFC 5280 §4.1.1.2: signatureAlgorithm "MUST contain the same algorithm identifier as the
  // signature field in the sequence tbsCertificate".
  if (!bytesEqual(cert.signatureAlgorithm.der, cert.tbsSignatureAlgorithm.der)) {
    out.push(
      problem(
        'BAD_ENCODING',
        'its outer signatureAlgorithm differs from the signature field inside the signed part',
        'RFC 5280 §4.1.1.2',
      ),
    );
  }
  // RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a particular extension."
  if (cert.duplicateExtensions.length > 0) {
    out.push(
      problem(
        'BAD_ENCODING',
        `it repeats the extension ${cert.duplicateExtensions.join(', ')}`,
        'RFC 5280 §4.2',
      ),
    );
  }
  const validity = checkValidity(cert, ctx.time);
  if (validity) out.push(validity);
  const key = checkPublicKey(cert.publicKey);
  if (key) out.push(key);
  if (verifyOwnSignature) {
    const sig = checkSignatureAlgorithm(cert.signatureAlgorithm);
    if (sig) out.push(sig);
  }
  // RFC 5280 §4.1.2.4: "The issuer field MUST contain a non-empty distinguished name".
  if (cert.issuer.rdns.length === 0) {
    out.push(problem('PROFILE_VIOLATION', 'its issuer name is empty', 'RFC 5280 §4.1.2.4'));
  }
  // RFC 5280 §4.1.2.6: a CA's subject "MUST be populated with a non-empty distinguished name".
  if (role !== 'leaf' && cert.subject.rdns.length === 0) {
    out.push(
      problem('PROFILE_VIOLATION', 'it is a CA certificate with an empty subject name', 'RFC 5280 §4.1.2.6'),
    );
  }
  out.push(...checkExtensions(cert, role, ctx));
  // CA/B BR §7.1.1: "Certificates MUST be of type X.509 v3." RFC 5280 §6.1.4 (k) lets a v1 or v2
  // anchor be a CA by configuration, so for anchors this is hygiene like the rest.
  if (cert.version !== 3) {
    out.push(
      problem(
        'PROFILE_VIOLATION',
        `it is an X.509 version ${cert.version} certificate; version 3 is required`,
        'CA/B BR §7.1.1',
        true,
      ),
    );
  }
  // RFC 5280 §4.1.2.8: conforming CAs "MUST NOT generate certificates with unique identifiers".
  if (cert.hasIssuerUniqueId || cert.hasSubjectUniqueId) {
    out.push(
      problem(
        'PROFILE_VIOLATION',
        'it carries issuer or subject unique identifiers',
        'RFC 5280 §4.1.2.8',
        true,
      ),
    );
  }
  // RFC 5280 §4.1.2.2: "a positive integer … Conforming CAs MUST NOT use serialNumber values longer
  // than 20 octets." Not checked for anchors: trust stores hold roots with serial 0 (pyca notes
  // this of certifi). 21 octets are let through when the first is a 0x00 sign octet in front of
  // 20 octets of randomness, as pyca does.
  if (role !== 'anchor') {
    const s = serialProblem(cert.serial);
    if (s) out.push(problem('PROFILE_VIOLATION', s, 'RFC 5280 §4.1.2.2', true));
  }
  // Hard problems first, so that the first problem is the one that matters most.
  out.sort((a, b) => Number(a.hygiene) - Number(b.hygiene));
  return out;
}

function serialProblem(serial: Uint8Array): string | undefined {
  if (serial.length === 0) return 'its serial number is empty';
  if (serial[0]! & 0x80) return 'its serial number is negative';
  if (serial.every((b) => b === 0)) return 'its serial number is zero';
  const significant = serial[0] === 0 ? serial.length - 1 : serial.length;
  if (significant > MAX_SERIAL_OCTETS)
    return `its serial number is ${significant} octets long, more than ${MAX_SERIAL_OCTETS}`;
  return undefined;
}
