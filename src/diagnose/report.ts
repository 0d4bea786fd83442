/**
 * The report of one diagnosis: JSON-safe, the shape `certainly check --json` prints and
 * schema/check-report.schema.json documents (keep the two in step; a test validates real
 * reports against the schema).
 */
import type { VerifyCode } from '../errors.js';
import type { AnchorClass } from '../trust/classify.js';
import type { CertificateSummary } from '../x509/types.js';
import type { Severity } from './codes.js';
import type { Finding } from './finding.js';

/** The version of the report's shape; bumped when a field changes meaning or goes away. */
export const REPORT_SCHEMA = 'certainly-check/1';

export interface CertificateReport extends CertificateSummary {
  /** Position in the chain as sent (0 = the server's own); absent for certificates not sent. */
  position?: number;
  /** Where the certificate came from: sent by the server, fetched via AIA, or the trust store. */
  origin: 'sent' | 'aia' | 'trust-store';
  /** Whole days until notAfter at the verification time (negative: expired that many days ago). */
  daysLeft: number;
  selfIssued: boolean;
  /** 'RSA 2048', 'EC P-256', 'Ed25519', … */
  key: string;
  /** The SPKI pin in curl's --pinnedpubkey form ('sha256//…'), usable as `pin`. */
  pin: string;
}

export interface CheckReport {
  schema: typeof REPORT_SCHEMA;
  /** The target as given. */
  target: string;
  /** https://host:port/ of the target. */
  url: string;
  /** The name verified (serverName, or the URL host). */
  name: string;
  /** This machine's clock when the check ran (ISO 8601), shown to catch clock skew. */
  checkedAt: string;
  /** The verification time used (ISO 8601); equals checkedAt unless a time was given. */
  verificationTime: string;
  /** ok: verified, nothing to warn about; warning: verified, with warnings; error: verification fails; unreachable: no certificate could be checked. */
  status: 'ok' | 'warning' | 'error' | 'unreachable';
  /** The CLI's exit code for this report alone: 0 ok or warning, 1 error, 2 unreachable. */
  exitCode: 0 | 1 | 2;
  dns: {
    host: string;
    addresses: { address: string; family: 4 | 6 }[];
    ms: number;
    error?: string;
  } | null;
  connection: {
    /** The address and port dialled. */
    address: string | null;
    tcpMs: number | null;
    tlsMs: number | null;
    /** The SNI sent; null for an IP literal (RFC 6066 §3). */
    sni: string | null;
    protocol: string | null;
    cipher: string | null;
    alpn: string | null;
  } | null;
  /** The chain exactly as the server sent it, leaf first. */
  chain: CertificateReport[];
  /** 'wire': read from the handshake; 'node': as node:tls exposes it (in the order received); 'none'. */
  chainSource: 'wire' | 'node' | 'none';
  /** The verified path, leaf first, ending with the anchor; null when verification failed. */
  path: CertificateReport[] | null;
  anchor: { subject: string; sources: string[]; class: AnchorClass; description: string } | null;
  /** What the library decides for this endpoint (the same verifier, the chain as sent). */
  verification: {
    ok: boolean;
    code?: VerifyCode;
    message?: string;
    hint?: string;
    /** The failures of other candidate paths, most specific first. */
    candidates?: { code: VerifyCode; message: string; position?: number }[];
    /** Notes of a successful verification (rules relaxed for a private CA, …). */
    notes?: string[];
  };
  identity: { name: string; matched: boolean; code?: VerifyCode; message?: string } | null;
  /** OpenSSL's own verdict on the chain against the same anchors (no name check). */
  openssl: { authorized: boolean; error: string | null } | null;
  /** AIA fetches made to look for a missing intermediate; null when AIA was off or not needed. */
  aia: {
    fetches: {
      url: string;
      for: string;
      ok: boolean;
      ms: number;
      bytes?: number;
      error?: string;
      /** The certificate found, when one issued the certificate it was fetched for. */
      issuer?: CertificateReport;
    }[];
    /** Verification with the fetched intermediates added (what a browser would conclude). */
    completed: { ok: boolean; code?: VerifyCode; message?: string } | null;
  } | null;
  /**
   * What was checked for revocation (the stapled OCSP response; verify/revocation.ts), times as
   * ISO 8601 text; null when the path did not verify or revocation was not looked at.
   */
  revocation?: {
    mode: 'off' | 'soft' | 'hard';
    mustStaple: boolean;
    stapled?: boolean;
    certificates: {
      depth: number;
      subject: string;
      status: 'good' | 'revoked' | 'unknown' | 'unchecked';
      source?: 'staple' | 'crl' | 'online';
      reasons?: string[];
      revokedAt?: string;
      revocationReason?: string;
      thisUpdate?: string;
      nextUpdate?: string;
      producedAt?: string;
      responder?: string;
      /** Online OCSP: the responder URL asked, and whether the answer was cached. */
      url?: string;
      cached?: boolean;
    }[];
  } | null;
  /** Most severe first. */
  findings: Finding[];
}

export type { Finding, Severity };
