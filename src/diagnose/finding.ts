/**
 * Findings: what diagnosis says about an endpoint, one cause each, with a severity, a code, a
 * sentence and a fix written for this case.
 *
 * `findingFor(err)` turns any error the library throws into its finding, from the error's
 * fields only, so that the library and `certainly check` say the same thing: the sentence is
 * `err.message` and the fix is `err.hint` (the verifier writes both for the case at hand: the
 * names, the dates, the URL, the serverName to use). Only where the error carries no hint does
 * the finding write its own fix; the code may be more precise than `err.code` where the fields
 * justify it (an IP literal against a certificate for host names is IP_ADDRESS_MISMATCH).
 */
import net from 'node:net';
import { ConnectionError, ConnectTimeout, SSLError, VERIFY_CODES, type VerifyCode } from '../errors.js';
import { noSubjectAltNameHint, parseReferenceName, type ReferenceName } from '../verify/identity.js';
import type { CertificateSummary } from '../x509/types.js';
import { FINDING_CODES, type FindingCode, type Severity } from './codes.js';

export interface Finding {
  severity: Severity;
  code: FindingCode;
  /** One sentence: what is wrong (or worth knowing), with the facts. */
  message: string;
  /** What to do about it, for this case. */
  fix: string;
  /** Position in the chain as sent of the certificate concerned (0 = the server's own). */
  position?: number;
  /** For findings about a verification failure: the verifier's code. */
  verifyCode?: VerifyCode;
  /** A name the certificate carries that could be verified instead (serverName), when one helps. */
  serverName?: string;
}

export interface FindingContext {
  /** The name that was verified, when the error does not say (it is in `expected` when it does). */
  name?: string;
}

/** Fixes for verification failures whose error carries no hint (the verifier's hints come first). */
const FALLBACK_FIX: Partial<Record<VerifyCode, (err: SSLError, ctx: FindingContext) => string>> = {
  // The verifier's own text (its errors carry it; this is for errors built without a hint).
  NO_SUBJECT_ALT_NAME: (err, ctx) => noSubjectAltNameHint(referenceOrNothing(err.expected ?? ctx.name)),
  NO_CERTIFICATE: () => 'The server is misconfigured: it must present a certificate (and its chain).',
  HANDSHAKE_FAILED: () =>
    'Check that the server speaks TLS 1.2 or 1.3 on that port (not plain HTTP) and accepts the name sent as SNI.',
};

function referenceOrNothing(name: string | undefined): ReferenceName | undefined {
  if (name === undefined) return undefined;
  try {
    return parseReferenceName(name);
  } catch {
    return undefined;
  }
}

/** The certificate's host names a person can type (wildcards become www.), as identity.ts suggests them. */
function concreteNames(presented: readonly string[]): string[] {
  const dns = presented.filter((p) => net.isIP(p) === 0 && /^[A-Za-z0-9*_.-]+$/.test(p));
  const plain = dns.filter((d) => !d.startsWith('*.')).map((d) => d.toLowerCase());
  const wild = dns.filter((d) => d.startsWith('*.')).map((d) => `www${d.slice(1).toLowerCase()}`);
  return [...plain, ...wild];
}

function isEmptySubject(c: CertificateSummary | undefined): boolean {
  return c !== undefined && c.subject === '';
}

/** The finding for a verification failure, from the error's fields. */
function sslFinding(err: SSLError, ctx: FindingContext): Finding {
  let code: FindingCode = err.code;
  let serverName: string | undefined;
  if (err.code === 'HOSTNAME_MISMATCH' && err.expected !== undefined && net.isIP(err.expected) !== 0) {
    const names = concreteNames(err.presented ?? []);
    if (names.length > 0) {
      code = 'IP_ADDRESS_MISMATCH';
      serverName = names[0];
    }
  }
  if (err.code === 'PROFILE_VIOLATION' && err.position === 0 && isEmptySubject(err.certificate)) {
    code = 'EMPTY_SUBJECT';
  }
  const fix =
    err.hint ??
    FALLBACK_FIX[err.code]?.(err, ctx) ??
    `${capitalise(VERIFY_CODES[err.code]?.meaning ?? 'verification failed')}: see the message for the certificate concerned.`;
  return {
    severity: 'error',
    code,
    message: err.message,
    fix,
    ...(err.position !== undefined ? { position: err.position } : {}),
    verifyCode: err.code,
    ...(serverName ? { serverName } : {}),
  };
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * The finding for an error the library threw (SSLError, ConnectionError, ConnectTimeout) or any
 * other error. The same error always gives the same finding; `context` only fills in what the
 * error does not carry.
 */
export function findingFor(err: unknown, context: FindingContext = {}): Finding {
  if (err instanceof SSLError) return sslFinding(err, context);
  if (err instanceof ConnectTimeout) {
    return {
      severity: 'error',
      code: 'CONNECT_TIMEOUT',
      message: err.message,
      fix: err.hint ?? 'Check that the server is reachable from here and speaks TLS on that port.',
    };
  }
  if (err instanceof ConnectionError) {
    // ERR_CONNECTION_NOTFOUND from certainly; ENOTFOUND, the system's code, from an adapter.
    const dns = /^(?:ERR_CONNECTION_|E)(NOTFOUND|AGAIN|AI_AGAIN|NODATA)$/.test(err.code);
    return {
      severity: 'error',
      code: dns ? 'DNS_FAILED' : 'CONNECTION_FAILED',
      message: err.message,
      fix:
        err.hint ??
        (dns
          ? "Check the host name for typos, and this machine's DNS (the resolver, a VPN, /etc/hosts); --connect-to HOST:PORT (connectTo) dials an address you know while still verifying the name."
          : 'Check the host and port, and that nothing (a firewall, a VPN, a stopped service) stands in the way.'),
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return {
    severity: 'error',
    code: 'CONNECTION_FAILED',
    message,
    fix: (err as { hint?: string } | undefined)?.hint ?? 'See the message.',
  };
}

/** Severity order, most severe first (for sorting and the overall status). */
export const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Default severity of a code (FINDING_CODES). */
export function severityOf(code: FindingCode): Severity {
  return FINDING_CODES[code].severity;
}
