/**
 * The codes of diagnosis findings, in one table: default severity and a one-line meaning.
 *
 * A finding about a verification failure has the verifier's code (errors.ts VERIFY_CODES), or a
 * more precise one that the error's fields or the diagnosis justify (IP_ADDRESS_MISMATCH is a
 * HOSTNAME_MISMATCH for an IP literal; MISSING_INTERMEDIATE is an INCOMPLETE_CHAIN whose
 * intermediate was found through AIA). The other codes are diagnosis only: warnings about
 * things that work today, facts worth knowing, and connection failures.
 */
import { VERIFY_CODES, type VerifyCode } from '../errors.js';

export type Severity = 'error' | 'warning' | 'info';

interface CodeInfo {
  severity: Severity;
  meaning: string;
}

const DIAGNOSE_CODES = {
  // Refinements of a verification failure
  IP_ADDRESS_MISMATCH: {
    severity: 'error',
    meaning: 'an IP address was asked for, and the certificate does not list it (it names hosts instead)',
  },
  MISSING_INTERMEDIATE: {
    severity: 'error',
    meaning:
      'the server does not send an intermediate certificate; browsers fetch it (AIA), most other clients fail',
  },
  SYSTEM_ROOT_NOT_TRUSTED: {
    severity: 'error',
    meaning:
      "the root is in the operating system's store, not in Mozilla's list, and not in the trust used here",
  },
  PUBLIC_ROOT_NOT_TRUSTED: {
    severity: 'error',
    meaning: "the root is a public root in Mozilla's list, but the trust used here does not include it",
  },
  EMPTY_SUBJECT: { severity: 'warning', meaning: 'the server certificate has an empty subject name' },
  // Works today, but…
  CERT_EXPIRING_SOON: { severity: 'warning', meaning: 'a certificate in the path expires soon' },
  CHAIN_ORDER: {
    severity: 'warning',
    meaning:
      'the server sends its chain out of order (TLS 1.2 requires each certificate to certify the one before)',
  },
  CHAIN_EXTRA_CERTS: {
    severity: 'warning',
    meaning: 'the server sends certificates that are not part of its chain',
  },
  MANY_NAMES: {
    severity: 'warning',
    meaning: 'the server certificate lists an unusually large number of names',
  },
  LIKELY_INTERCEPTION: {
    severity: 'warning',
    meaning: 'the chain ends at a root only this machine trusts: a TLS-inspecting proxy is likely in between',
  },
  // The server and the client's certificate (mutual TLS)
  CLIENT_CERT_REQUIRED: {
    severity: 'error',
    meaning: 'the server refuses clients without a certificate, and none was given',
  },
  CLIENT_CERT_REFUSED: { severity: 'error', meaning: 'the server refuses the client certificate given' },
  CLIENT_CERT_REQUESTED: {
    severity: 'info',
    meaning: 'the server asks for a client certificate and did not refuse the connection',
  },
  CLIENT_CERT_KEPT_BACK: {
    severity: 'info',
    meaning: 'the client certificate was not sent, because the server failed verification',
  },
  // Facts
  CHAIN_INCLUDES_ROOT: {
    severity: 'info',
    meaning: 'the server sends the root certificate too (harmless, wasted bytes)',
  },
  PRIVATE_CA: { severity: 'info', meaning: 'the chain ends at a CA you configured' },
  RELAXED_RULE: {
    severity: 'info',
    meaning: 'a hygiene rule of the profile was relaxed because the root is a private CA from a file',
  },
  OPENSSL_DISAGREES: { severity: 'info', meaning: "OpenSSL's verdict on the chain differs from certainly's" },
  AIA_FETCH_FAILED: {
    severity: 'info',
    meaning: 'a caIssuers URL could not be fetched or gave nothing usable',
  },
  CHAIN_NOT_READ: {
    severity: 'info',
    meaning: 'the handshake could not be read; the chain as node:tls exposes it was used',
  },
  // The check could not be made
  DNS_FAILED: { severity: 'error', meaning: 'the host name does not resolve' },
  CONNECTION_FAILED: { severity: 'error', meaning: 'no TCP connection could be made' },
  CONNECT_TIMEOUT: {
    severity: 'error',
    meaning: 'the connection or the TLS handshake did not finish in time',
  },
} as const satisfies Record<string, CodeInfo>;

export type FindingCode = VerifyCode | keyof typeof DIAGNOSE_CODES;

/** Every finding code: the verifier's (all errors) and diagnosis's own. */
export const FINDING_CODES: Readonly<Record<FindingCode, CodeInfo>> = {
  ...(Object.fromEntries(
    Object.entries(VERIFY_CODES).map(([code, v]) => [code, { severity: 'error', meaning: v.meaning }]),
  ) as Record<VerifyCode, CodeInfo>),
  ...DIAGNOSE_CODES,
};

/** Codes that mean the endpoint could not be checked at all (exit code 2, status 'unreachable'). */
export const UNREACHABLE_CODES: ReadonlySet<FindingCode> = new Set<FindingCode>([
  'DNS_FAILED',
  'CONNECTION_FAILED',
  'CONNECT_TIMEOUT',
  'HANDSHAKE_FAILED',
]);
