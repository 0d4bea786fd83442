/**
 * Revocation of a built path: what was checked, how, and whether the path may be used.
 *
 * Sources, in the order they are used: the OCSP response the server stapled (leaf only), or, when
 * none was stapled and online OCSP is on, the response fetched from the leaf's responder
 * (tls/ocsp-fetch.ts fetches it; it is checked here like a staple); then the CRLs the caller gave
 * (every certificate of the path). Nothing is fetched here (pure).
 *
 * Modes (decided here, after Firefox, curl --cert-status and OpenSSL with CRL checking on):
 *  - 'off': nothing is checked, must-staple included (the user said so in code).
 *  - 'soft' (the default): use what is present. A revoked certificate fails the path whatever the
 *    source; a source that cannot be used (bad signature, wrong issuer, stale, a scope that does
 *    not cover the certificate) leaves the status "unknown", recorded in the report and as a note,
 *    never "good". A must-staple leaf (RFC 7633) without a usable staple fails (Firefox).
 *  - 'hard': the leaf's status is required (a good staple or a usable CRL of its issuer), and any
 *    source present but unusable fails with REVOCATION_UNKNOWN. Intermediates are checked when a
 *    CRL of their issuer is given (a stapled response covers the leaf only).
 */
import type { VerifyCode } from '../errors.js';
import { parseOcspResponse } from '../x509/ocsp.js';
import type { Certificate } from '../x509/types.js';
import { type Crl, crlProblem, crlScopeProblem, crlSignedBy, revocationOf } from './crl.js';
import { checkOcspResponse } from './ocsp.js';
import { checkSignatureAlgorithm } from './policy.js';

export type RevocationMode = 'off' | 'soft' | 'hard';

export const REVOCATION_MODES: readonly RevocationMode[] = ['off', 'soft', 'hard'];

/** The status of one certificate of the path. */
export interface RevocationCheck {
  /** Index in the path: 0 is the server's certificate. */
  depth: number;
  /** The certificate's subject (RFC 4514 text). */
  subject: string;
  /** 'unchecked': no source was present for it. */
  status: 'good' | 'revoked' | 'unknown' | 'unchecked';
  /** Where the status came from; absent when unchecked, or unknown with no source usable. */
  source?: 'staple' | 'crl' | 'online';
  /** Why the status is unknown (each unusable source, in a sentence). */
  reasons?: string[];
  /** For 'revoked': when, and the reason the CA gave (RFC 5280 §5.3.1 name), if any. */
  revokedAt?: Date;
  revocationReason?: string;
  /** The times of the response or CRL used. */
  thisUpdate?: Date;
  nextUpdate?: Date;
  /** OCSP only: when the responder signed, and who it was (the issuer or a delegated responder). */
  producedAt?: Date;
  responder?: string;
  /** Online OCSP: the responder URL asked, and whether the answer came from the cache. */
  url?: string;
  cached?: boolean;
}

/** An OCSP response fetched from the leaf's responder (online OCSP), or why there is none. */
export interface OnlineOcsp {
  /** The responder URL asked (from the leaf's AIA extension); absent when it names none. */
  url?: string;
  /** The response (DER), when one came. */
  response?: Uint8Array;
  /** Why no response came (network, HTTP status, size, time), in a sentence. */
  problem?: string;
  /** The response came from the cache (fetched earlier, still before its nextUpdate). */
  cached?: boolean;
}

/** What was checked for a connection or a chain (`r.tls.revocation`). */
export interface RevocationReport {
  mode: RevocationMode;
  /** The server's certificate asks for a stapled OCSP response (RFC 7633 TLS Feature status_request). */
  mustStaple: boolean;
  /** Whether the server stapled an OCSP response: undefined when not a connection (offline). */
  stapled?: boolean;
  /** One entry per certificate of the path, leaf first (empty when mode is 'off'). */
  certificates: RevocationCheck[];
}

export interface RevocationInput {
  mode: RevocationMode;
  crls?: readonly Crl[];
  /**
   * The OCSP response the server stapled (DER); null when this is a connection that asked for
   * one and got none; undefined when there is no connection (offline: no must-staple check).
   */
  staple?: Uint8Array | null;
  /** Online OCSP for the leaf, used when no staple was sent (undefined: online OCSP is off). */
  online?: OnlineOcsp;
  time: Date;
  /** Called before each signature check (the path budget). */
  spend: () => void;
}

export interface RevocationFailure {
  code: VerifyCode;
  /** Index in the path of the certificate concerned. */
  depth: number;
  message: string;
  hint: string;
}

/** RFC 5280 §5.3.1 CRLReason names, by value (7 is unused). */
export const REVOCATION_REASONS: Readonly<Record<number, string>> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

/** The status of `cert` (issued by `issuer`) from the CRLs that name `issuer`. */
function fromCrls(
  cert: Certificate,
  issuer: Certificate,
  depth: number,
  input: RevocationInput,
): RevocationCheck {
  const base = { depth, subject: cert.subject.text };
  const reasons: string[] = [];
  let good: Crl | undefined;
  for (const crl of input.crls ?? []) {
    if (crl.issuer.key !== issuer.subject.key) continue;
    input.spend();
    const why =
      checkSignatureAlgorithm(crl.signatureAlgorithm)?.message ??
      crlProblem(crl, issuer, input.time) ??
      (crlSignedBy(crl, issuer) ? undefined : "its signature does not verify with the issuer's key") ??
      crlScopeProblem(crl, cert);
    if (why) {
      reasons.push(
        `the CRL of "${issuer.subject.text}" (thisUpdate ${crl.thisUpdate.toISOString()}) cannot be used, as ${why}`,
      );
      continue;
    }
    const entry = revocationOf(crl, cert);
    if (entry) {
      const code = reasonCodeOf(entry.extensions);
      return {
        ...base,
        status: 'revoked',
        source: 'crl',
        revokedAt: entry.date,
        ...(code !== undefined ? { revocationReason: code } : {}),
        thisUpdate: crl.thisUpdate,
        ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate } : {}),
      };
    }
    good ??= crl;
  }
  if (good) {
    return {
      ...base,
      status: 'good',
      source: 'crl',
      thisUpdate: good.thisUpdate,
      ...(good.nextUpdate ? { nextUpdate: good.nextUpdate } : {}),
    };
  }
  if (reasons.length > 0) return { ...base, status: 'unknown', source: 'crl', reasons };
  return { ...base, status: 'unchecked' };
}

/** The status of the leaf `cert` from a stapled OCSP response; undefined when none was stapled. */
function fromStaple(
  cert: Certificate,
  issuer: Certificate,
  input: RevocationInput,
): RevocationCheck | undefined {
  if (!input.staple) return undefined;
  return fromOcsp(cert, issuer, input.staple, input, { source: 'staple' }, 'the stapled OCSP response');
}

/** The status of the leaf from online OCSP, when it is on and nothing was stapled. */
function fromOnline(
  cert: Certificate,
  input: RevocationInput,
  issuer: Certificate,
): RevocationCheck | undefined {
  const online = input.online;
  if (!online || input.staple) return undefined;
  const where = {
    source: 'online' as const,
    ...(online.url ? { url: online.url } : {}),
    ...(online.cached ? { cached: true } : {}),
  };
  if (!online.response) {
    return {
      depth: 0,
      subject: cert.subject.text,
      ...where,
      status: 'unknown',
      reasons: [
        online.url
          ? `the OCSP responder at ${online.url} gave no usable answer: ${online.problem ?? 'no response'}`
          : `no OCSP response could be fetched: ${online.problem ?? 'the certificate names no OCSP responder'}`,
      ],
    };
  }
  return fromOcsp(cert, issuer, online.response, input, where, `the OCSP response from ${online.url}`);
}

/** What one OCSP response (stapled or fetched) says about the leaf. */
function fromOcsp(
  cert: Certificate,
  issuer: Certificate,
  der: Uint8Array,
  input: RevocationInput,
  where: Pick<RevocationCheck, 'source' | 'url' | 'cached'>,
  label: string,
): RevocationCheck {
  const base = { depth: 0, subject: cert.subject.text, ...where };
  let verdict: ReturnType<typeof checkOcspResponse>;
  try {
    verdict = checkOcspResponse(parseOcspResponse(der), cert, issuer, input.time, input.spend);
  } catch (err) {
    verdict = { ok: false, problem: `it is malformed (${(err as Error).message})` };
  }
  if (!verdict.ok)
    return {
      ...base,
      status: 'unknown',
      reasons: [`${label} cannot be used, as ${verdict.problem}`],
    };
  const { single } = verdict;
  const times = {
    producedAt: verdict.producedAt,
    thisUpdate: single.thisUpdate,
    ...(single.nextUpdate ? { nextUpdate: single.nextUpdate } : {}),
    responder: verdict.responder,
  };
  if (single.status === 'revoked') {
    const reason = single.revocationReason;
    return {
      ...base,
      status: 'revoked',
      ...(single.revocationTime ? { revokedAt: single.revocationTime } : {}),
      ...(reason !== undefined ? { revocationReason: REVOCATION_REASONS[reason] ?? `reason ${reason}` } : {}),
      ...times,
    };
  }
  if (single.status === 'unknown') {
    return {
      ...base,
      status: 'unknown',
      reasons: [`${label} (from ${verdict.responder}) says the responder does not know this certificate`],
      ...times,
    };
  }
  return { ...base, status: 'good', ...times };
}

/** The leaf's status from the staple and the CRLs together: revoked by either wins, then good by either. */
function combine(staple: RevocationCheck | undefined, crl: RevocationCheck): RevocationCheck {
  if (!staple || crl.status === 'revoked') return crl;
  if (staple.status === 'good' || staple.status === 'revoked') return staple;
  if (crl.status === 'good') return crl;
  return { ...staple, reasons: [...(staple.reasons ?? []), ...(crl.reasons ?? [])] };
}

/** The reasonCode entry extension (RFC 5280 §5.3.1) as its name, if present and readable. */
function reasonCodeOf(extensions: readonly { oid: string; value: Uint8Array }[]): string | undefined {
  const ext = extensions.find((e) => e.oid === '2.5.29.21');
  // ENUMERATED, one content octet for every defined value.
  if (ext?.value.length !== 3 || ext.value[0] !== 0x0a || ext.value[1] !== 1) return undefined;
  return REVOCATION_REASONS[ext.value[2]!] ?? `reason ${ext.value[2]}`;
}

/** A sentence for a revoked certificate's status. */
export function revokedText(check: RevocationCheck): string {
  const when = check.revokedAt ? ` on ${check.revokedAt.toISOString()}` : '';
  const why = check.revocationReason ? ` (reason: ${check.revocationReason})` : '';
  return `was revoked${when}${why}`;
}

/**
 * Checks the revocation status of every certificate of `path` (leaf first, anchor excluded; each
 * is issued by the next one, the last by `anchor`). Returns the report, and the failure when the
 * path may not be used.
 */
export function checkRevocation(
  path: readonly Certificate[],
  anchor: Certificate,
  input: RevocationInput,
  describe: (depth: number) => string,
): { report: RevocationReport; failure?: RevocationFailure } {
  const leaf = path[0]!;
  const report: RevocationReport = {
    mode: input.mode,
    mustStaple: mustStaple(leaf),
    ...(input.staple !== undefined ? { stapled: input.staple !== null } : {}),
    certificates: [],
  };
  if (input.mode === 'off') return { report };
  for (let i = 0; i < path.length; i++) {
    const cert = path[i]!;
    const issuer = path[i + 1] ?? anchor;
    if (cert === issuer) break; // a leaf that is itself the anchor
    const crl = fromCrls(cert, issuer, i, input);
    const check =
      i === 0 ? combine(fromStaple(cert, issuer, input) ?? fromOnline(cert, input, issuer), crl) : crl;
    report.certificates.push(check);
    if (check.status === 'revoked') {
      const from =
        check.source === 'staple'
          ? `stapled OCSP response from ${check.responder}`
          : check.source === 'online'
            ? `OCSP response from ${check.responder}, fetched from ${check.url}`
            : `CRL of "${issuer.subject.text}"`;
      return {
        report,
        failure: {
          code: 'CERT_REVOKED',
          depth: i,
          message: `the ${describe(i)} ${revokedText(check)} (${from}, serial ${cert.serialHex})`,
          hint: 'The certificate has been revoked by its CA: the server must be given a new one.',
        },
      };
    }
  }
  const failure =
    mustStapleFailure(report, input, describe) ??
    (input.mode === 'hard' ? hardFailure(report, describe) : undefined);
  return failure ? { report, failure } : { report };
}

/**
 * RFC 7633 §4.2.3: a client that asked for the status of a must-staple certificate "MUST treat a
 * certificate with a TLS feature extension ... as invalid" without it. A staple that cannot be
 * used is no staple; one whose status is unknown establishes nothing either.
 */
function mustStapleFailure(
  report: RevocationReport,
  input: RevocationInput,
  describe: (depth: number) => string,
): RevocationFailure | undefined {
  if (!report.mustStaple || input.staple === undefined) return undefined;
  const leaf = report.certificates[0];
  if (leaf?.source === 'staple' && leaf.status === 'good') return undefined;
  const why =
    input.staple === null
      ? 'the server sent no OCSP response with its certificate'
      : (leaf?.reasons ?? []).filter((r) => r.includes('stapled')).join('; ') ||
        'its stapled OCSP response establishes no status';
  return {
    code: 'MUST_STAPLE_MISSING',
    depth: 0,
    message: `the ${describe(0)} requires a stapled OCSP response (TLS Feature status_request, "must-staple"), and ${why}`,
    hint: 'The server must staple a current OCSP response (nginx: ssl_stapling on; Apache: SSLUseStapling on), or be given a certificate without must-staple.',
  };
}

/** Under 'hard': the first certificate whose status is required and not established. */
function hardFailure(
  report: RevocationReport,
  describe: (depth: number) => string,
): RevocationFailure | undefined {
  for (const c of report.certificates) {
    if (c.status === 'unknown' || (c.depth === 0 && c.status === 'unchecked')) {
      const why =
        c.reasons && c.reasons.length > 0
          ? `: ${c.reasons.join('; ')}`
          : ': no stapled OCSP response and no CRL of its issuer was given';
      const online = c.source === 'online' ? ' (online OCSP was tried)' : '';
      return {
        code: 'REVOCATION_UNKNOWN',
        depth: c.depth,
        message: `the revocation status of the ${describe(c.depth)} is unknown${why}${online}`,
        hint: "revocation: 'hard' requires it: give a current CRL of its issuer, use a server that staples OCSP, or use revocation: 'soft'.",
      };
    }
  }
  return undefined;
}

/** RFC 7633 TLS Feature extension OID. */
const TLS_FEATURE = '1.3.6.1.5.5.7.1.24';

/**
 * Does `cert` carry the TLS Feature extension with status_request (5) (RFC 7633 §4, "must-staple")?
 * The extension is `SEQUENCE OF INTEGER`; a value that cannot be read counts as must-staple
 * (fail closed: a client that cannot read it cannot know the server was not required to staple).
 */
export function mustStaple(cert: Certificate): boolean {
  const ext = cert.extensions.find((e) => e.oid === TLS_FEATURE);
  if (!ext) return false;
  const v = ext.value;
  if (v.length < 2 || v[0] !== 0x30 || v[1] !== v.length - 2) return true;
  for (let i = 2; i < v.length; ) {
    if (v[i] !== 0x02) return true;
    const len = v[i + 1]!;
    if (len < 1 || len > 2 || i + 2 + len > v.length) return true;
    const n = len === 1 ? v[i + 2]! : v[i + 2]! * 256 + v[i + 3]!;
    if (n === 5) return true;
    i += 2 + len;
  }
  return false;
}
