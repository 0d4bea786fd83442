/**
 * The verifier's entry points.
 *
 * verifyServer() decides a connection: it builds and validates a path from the server's chain to
 * a trust anchor (path/builder.ts, policy.ts), then checks the server's identity (identity.ts).
 * The path comes first because "untrusted issuer" is the first thing a user must fix; when the
 * path fails and the name would not have matched either, the identity failure is attached as an
 * extra `candidates` entry, so that nothing is hidden.
 *
 * verifyChain() is the offline form for the public API and the CLI: PEM or DER in, a plain result
 * object out.
 */
import { ConfigError, ParseError, SSLError } from '../errors.js';
import { BUNDLED_SOURCE, loadBundled } from '../trust/bundled.js';
import { isUserFileSource } from '../trust/source.js';
import type { TrustAnchor, TrustAnchors } from '../trust/types.js';
import { parseCertificate } from '../x509/certificate.js';
import { MAX_OCSP_RESPONSE_BYTES } from '../x509/ocsp.js';
import { parsePem } from '../x509/pem.js';
import type { Certificate, CertificateSummary, KeyUsageName } from '../x509/types.js';
import { type AiaOption, type AiaOptions, type ResolvedAia, resolveAia } from './aia.js';
import { anchorsFrom, combineAnchors } from './anchors.js';
import { type Crl, readCrls } from './crl.js';
import { defaultVerifier, type SignatureVerifier } from './crypto.js';
import { parseReferenceName, type ReferenceName, verifyIdentity } from './identity.js';
import { Budget, type BudgetLimits } from './path/budget.js';
import { DEFAULT_MAX_DEPTH, PathBuilder } from './path/builder.js';
import { EKU_BY_NAME, type PolicyContext, type Purpose } from './policy.js';
import {
  type OnlineOcsp,
  REVOCATION_MODES,
  type RevocationMode,
  type RevocationReport,
} from './revocation.js';

export { anchorsFrom, combineAnchors } from './anchors.js';
export { type Crl, parseCrl, readCrls } from './crl.js';
export { CachingVerifier, clearCryptoCaches, nodeVerifier, type SignatureVerifier } from './crypto.js';
export { Budget, type BudgetLimits, DEFAULT_BUDGET } from './path/budget.js';
export { DEFAULT_MAX_DEPTH, selfSignedHint } from './path/builder.js';
export type { OnlineOcsp, RevocationCheck, RevocationMode, RevocationReport } from './revocation.js';

export interface VerifyServerOptions {
  /** The chain as the server sent it: leaf first, the rest in any order; extras and duplicates allowed. */
  chain: readonly Certificate[];
  /** The name to verify (host name or IP address). Undefined: no identity check. */
  name?: ReferenceName | string;
  /** The anchors to build to. */
  trust: TrustAnchors;
  /** Verification time; if undefined, now. Fractions of a second are dropped (RFC 5280 §4.1.2.5 has whole seconds). */
  time?: Date;
  /** What the leaf must be good for; if undefined, 'serverAuth'. */
  purpose?: Purpose;
  /** Extended key usages (names such as 'serverAuth', or OIDs) the leaf must list when it has the extension. */
  requiredEku?: string[];
  /** Key usages the leaf must assert when it has the extension. */
  requiredKeyUsage?: KeyUsageName[];
  /** Most intermediates (not counting self-issued ones) in a path; if undefined, {@link DEFAULT_MAX_DEPTH}. */
  maxDepth?: number;
  /** Limits on the search; unset fields take {@link DEFAULT_BUDGET}'s values. */
  budget?: Partial<BudgetLimits>;
  /** Signature checks; if undefined, node:crypto with a process-wide result cache. */
  verifier?: SignatureVerifier;
  /**
   * When true (the default), hygiene rules of the profile (policy.ts) only produce notes on paths
   * that end at an anchor every source of which is a user file ('file:', 'dir:', 'env:').
   * False: the profile is enforced for every anchor.
   */
  relaxPrivateAnchors?: boolean;
  /** CRLs to check the path against (crl.ts: only these, nothing is fetched); if undefined, none. */
  crls?: readonly Crl[];
  /**
   * What to do about revocation (revocation.ts): 'off'; 'soft' (the default: use what is present,
   * an unusable source makes the status unknown, recorded, not an error); 'hard' (the leaf's
   * status is required, and any unusable source fails with REVOCATION_UNKNOWN).
   */
  revocation?: RevocationMode;
  /**
   * The OCSP response the server stapled (DER), checked for the leaf (ocsp.ts). null: the
   * connection asked for one and the server sent none (a must-staple leaf then fails);
   * undefined: not a connection, so must-staple is not checked.
   */
  staple?: Uint8Array | null;
  /**
   * Online OCSP for the leaf: the response fetched from its responder, or why there is none
   * (tls/ocsp-fetch.ts fetches it). Used only when no staple was sent; undefined: off.
   */
  online?: OnlineOcsp;
}

export interface VerifiedPath {
  /** Leaf first, excluding the anchor (a leaf that is itself the anchor is listed once). */
  path: Certificate[];
  anchor: TrustAnchor;
  /** Things worth knowing that did not fail verification (relaxed rules, unknown revocation status, …). */
  notes: string[];
  /** What was checked for revocation, and how (revocation.ts). */
  revocation: RevocationReport;
}

/** Is every source of this anchor a file the user configured? */
export function isUserFileAnchor(anchor: TrustAnchor): boolean {
  return anchor.sources.length > 0 && anchor.sources.every(isUserFileSource);
}

/** RFC 5280 §4.1.2.5: validity has whole seconds, so the verification time is floored to one (x509-limbo notbefore-fractional). */
function wholeSeconds(time: Date): Date {
  return new Date(Math.floor(time.getTime() / 1000) * 1000);
}

function ekuOid(name: string): string {
  const oid = EKU_BY_NAME[name] ?? name;
  if (!/^\d+(\.\d+)+$/.test(oid))
    throw new ConfigError(`requiredEku: '${name}' is neither a known extended key usage nor an OID`);
  return oid;
}

/** Checks a `revocation` option's value. Throws ConfigError. */
export function revocationMode(value: unknown): RevocationMode {
  if (value === undefined) return 'soft';
  if (typeof value === 'string' && (REVOCATION_MODES as readonly string[]).includes(value))
    return value as RevocationMode;
  throw new ConfigError(
    `revocation: ${JSON.stringify(value) ?? String(value)} is not one of ${REVOCATION_MODES.map((m) => `'${m}'`).join(', ')}`,
    { code: 'ERR_REVOCATION_OPTION' },
  );
}

/**
 * Online OCSP's bounds. Time: Firefox's (security.OCSP.timeoutMilliseconds.soft 2 s, .hard 10 s):
 * under 'soft' a slow responder must not hold every new connection for long, under 'hard' the
 * answer is required. Size: the largest OCSP response read (x509/ocsp.ts, 64 KiB).
 */
export const OCSP_ONLINE_TIMEOUT_SOFT_MS = 2_000;
export const OCSP_ONLINE_TIMEOUT_HARD_MS = 10_000;

/** `revocation: { mode, online }`: online OCSP when nothing is stapled. */
export interface RevocationOptions {
  /** 'soft' (default) or 'hard'. */
  mode?: 'soft' | 'hard';
  /**
   * Fetch the leaf's OCSP response from its responder (AIA OCSP URL, http) when the server staples
   * none: true, or { allowPrivate, timeout (ms), maxBytes } as for `aia`. Default false.
   */
  online?: boolean | AiaOptions;
}

/** The `revocation` option: a mode, or { mode, online }. */
export type RevocationOption = RevocationMode | RevocationOptions;

/** The `revocation` option, checked: the mode, and online OCSP's settings when it is on. */
export interface ResolvedRevocation {
  mode: RevocationMode;
  online?: ResolvedAia;
}

/** Checks a `revocation` option (a mode, or { mode, online }). Throws ConfigError ERR_REVOCATION_OPTION. */
export function resolveRevocation(value: unknown): ResolvedRevocation {
  if (typeof value !== 'object' || value === null) return { mode: revocationMode(value) };
  const bad = (why: string) =>
    new ConfigError(`revocation ${why}`, {
      code: 'ERR_REVOCATION_OPTION',
      hint: "Use revocation: 'soft' | 'hard' | 'off', or { mode: 'soft' | 'hard', online: true }.",
    });
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'mode' && k !== 'online') throw bad(`has an unknown key "${k}" (it takes mode and online)`);
  }
  if (o.mode !== undefined && o.mode !== 'soft' && o.mode !== 'hard')
    throw bad(`.mode must be 'soft' or 'hard', not ${JSON.stringify(o.mode) ?? String(o.mode)}`);
  const mode = (o.mode ?? 'soft') as 'soft' | 'hard';
  if (o.online === undefined || o.online === false) return { mode };
  let online: ResolvedAia | undefined;
  try {
    online = resolveAia(o.online as AiaOption);
  } catch (err) {
    throw bad(`.online: ${(err as Error).message.replace(/^aia /, '')}`);
  }
  const given = typeof o.online === 'object' ? (o.online as AiaOptions) : {};
  return {
    mode,
    online: {
      allowPrivate: online!.allowPrivate,
      timeout: given.timeout ?? (mode === 'hard' ? OCSP_ONLINE_TIMEOUT_HARD_MS : OCSP_ONLINE_TIMEOUT_SOFT_MS),
      maxBytes: given.maxBytes ?? MAX_OCSP_RESPONSE_BYTES,
    },
  };
}

/** Verifies a server's chain and (if `name` is given) its identity. Throws SSLError. */
export function verifyServer(opts: VerifyServerOptions): VerifiedPath {
  const chain = opts.chain;
  if (chain.length === 0) {
    throw new SSLError('the server sent no certificate', {
      code: 'NO_CERTIFICATE',
      hint: 'The server must be configured with a certificate (and its chain).',
    });
  }
  const ref =
    opts.name === undefined
      ? undefined
      : typeof opts.name === 'string'
        ? parseReferenceName(opts.name)
        : opts.name;
  const time = wholeSeconds(opts.time ?? new Date());
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 0)
    throw new ConfigError('maxDepth must be a non-negative integer');
  const ctx: PolicyContext = {
    purpose: opts.purpose ?? 'serverAuth',
    requiredEku: (opts.requiredEku ?? []).map(ekuOid),
    requiredKeyUsage: opts.requiredKeyUsage ?? [],
    time,
  };

  const leaf = chain[0]!;
  const positions = new Map<string, number>();
  const pool: Certificate[] = [];
  chain.forEach((cert, i) => {
    if (positions.has(cert.fingerprintSha256)) return;
    positions.set(cert.fingerprintSha256, i);
    if (i > 0) pool.push(cert);
  });
  const summaries = chain.map((c) => c.summary());
  const relax = opts.relaxPrivateAnchors ?? true;

  const builder = new PathBuilder({
    leaf,
    pool,
    positions,
    trust: opts.trust,
    ctx,
    maxDepth,
    budget: new Budget(opts.budget),
    verifier: opts.verifier ?? defaultVerifier,
    relaxHygiene: relax ? isUserFileAnchor : () => false,
    chain: summaries,
    ...(opts.crls ? { crls: opts.crls } : {}),
    revocation: revocationMode(opts.revocation),
    ...(opts.staple !== undefined ? { staple: opts.staple } : {}),
    ...(opts.online ? { online: opts.online } : {}),
  });

  let verified: VerifiedPath;
  try {
    const built = builder.build();
    verified = { path: built.path, anchor: built.anchor, notes: built.notes, revocation: built.revocation };
    for (const c of built.revocation.certificates) {
      if (c.status === 'unknown')
        verified.notes.push(
          `the revocation status of certificate ${c.depth} of the path ("${c.subject}") is unknown: ${(c.reasons ?? []).join('; ')}`,
        );
    }
  } catch (err) {
    if (err instanceof SSLError && ref !== undefined && err.code !== 'BUDGET_EXCEEDED') {
      try {
        verifyIdentity(leaf, ref);
      } catch (idErr) {
        if (idErr instanceof SSLError && err.code === 'NO_SUBJECT_ALT_NAME' && idErr.code === err.code) {
          // A CN-only leaf fails the leaf profile (CA/B BR §7.1.2.7.12) and the identity check for
          // the same reason: report it once, in identity.ts's words (the CN, the SAN entry to add,
          // `expected`), with the path's context.
          idErr.chain = err.chain ?? summaries;
          idErr.time = err.time ?? time;
          if (err.candidates) idErr.candidates = err.candidates;
          throw idErr;
        }
        if (idErr instanceof SSLError) {
          err.candidates = [
            ...(err.candidates ?? []),
            { code: idErr.code, message: idErr.message, position: 0 },
          ];
        }
      }
    }
    throw err;
  }

  if (ref !== undefined) {
    try {
      verifyIdentity(leaf, ref);
    } catch (err) {
      if (err instanceof SSLError) {
        err.chain ??= summaries;
        err.time ??= time;
      }
      throw err;
    }
  }
  return verified;
}

// ---------------------------------------------------------------------------------------------
// verifyChain: the offline API

export type CertificateInput = string | Uint8Array | Certificate;

export interface VerifyChainOptions {
  /** The chain, leaf first: PEM text (one or more certificates per string), DER bytes, or parsed certificates. */
  chain: CertificateInput[] | string;
  /** Host name or IP address to verify; if undefined, no identity check. */
  name?: string;
  /** Trusted CA certificates (PEM text or DER); if neither this nor `trust` is given, Node's bundled Mozilla roots. */
  ca?: string | Uint8Array | (string | Uint8Array)[];
  /** Anchors, for callers that have a TrustStore; combined with `ca` when both are given. */
  trust?: TrustAnchors;
  /** Verification time (Date or ISO 8601 text); if undefined, now. */
  time?: Date | string;
  purpose?: Purpose;
  requiredEku?: string[];
  requiredKeyUsage?: KeyUsageName[];
  maxDepth?: number;
  budget?: Partial<BudgetLimits>;
  relaxPrivateAnchors?: boolean;
  /** CRLs (PEM 'X509 CRL' text or DER) to check the path against; if undefined, none. */
  crls?: (string | Uint8Array)[];
  /** 'off' | 'soft' (the default) | 'hard': see {@link VerifyServerOptions.revocation}. */
  revocation?: RevocationMode;
  /** A stapled OCSP response (DER) to check for the leaf; offline, so must-staple is not enforced. */
  ocsp?: Uint8Array;
}

export type VerifyChainResult =
  | {
      ok: true;
      /** Leaf first, excluding the anchor. */
      path: CertificateSummary[];
      anchor: { subject: string; sources: string[] };
      verified: VerifiedPath;
    }
  | { ok: false; error: SSLError };

function isCertificate(x: unknown): x is Certificate {
  return typeof x === 'object' && x !== null && 'tbsDer' in x && 'summary' in x;
}

/** DER blobs from PEM text or bytes (PEM if it says BEGIN, else one DER certificate). */
function dersOf(input: string | Uint8Array): Uint8Array[] {
  if (typeof input === 'string') return parsePem(input, 'CERTIFICATE');
  const text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  if (text.includes('-----BEGIN ')) return parsePem(text, 'CERTIFICATE');
  return [input];
}

let bundled: TrustAnchors | undefined;

/** Node's bundled Mozilla roots as anchors with source 'bundled' (parsed once, by trust/bundled.ts). */
export function bundledAnchors(): TrustAnchors {
  bundled ??= anchorsFrom(loadBundled().certs, BUNDLED_SOURCE);
  return bundled;
}

/**
 * Verifies a chain offline. Never throws for a bad chain: the result says why. Throws ConfigError
 * for unusable options (a `ca` or `crls` entry that cannot be read, a bad time or EKU name), and
 * InvalidURL for a `name` that cannot be a host name or IP address.
 */
export function verifyChain(opts: VerifyChainOptions): VerifyChainResult {
  let time: Date | undefined;
  if (opts.time !== undefined) {
    time = typeof opts.time === 'string' ? new Date(opts.time) : opts.time;
    if (Number.isNaN(time.getTime()))
      throw new ConfigError(`time: '${String(opts.time)}' is not a valid date`);
  }

  // Anchors: `ca` (inline), `trust`, or the bundled roots.
  let trust: TrustAnchors;
  if (opts.ca !== undefined) {
    const inputs = Array.isArray(opts.ca) ? opts.ca : [opts.ca];
    const certs: Certificate[] = [];
    for (const input of inputs) {
      try {
        for (const der of dersOf(input)) certs.push(parseCertificate(der));
      } catch (err) {
        throw new ConfigError(`ca: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    }
    if (certs.length === 0)
      throw new ConfigError('ca: no certificate found (expected PEM "BEGIN CERTIFICATE" blocks or DER)');
    const inline = anchorsFrom(certs, 'inline');
    trust = opts.trust ? combineAnchors(opts.trust, inline) : inline;
  } else {
    trust = opts.trust ?? bundledAnchors();
  }

  let crls: Crl[] | undefined;
  if (opts.crls) {
    crls = [];
    for (const input of opts.crls) {
      try {
        crls.push(...readCrls(input));
      } catch (err) {
        throw new ConfigError(`crls: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    }
  }

  // The chain: parse what can be parsed; a broken leaf fails, broken extras are set aside.
  const inputs = typeof opts.chain === 'string' ? [opts.chain] : opts.chain;
  const chain: Certificate[] = [];
  const broken: { position: number; message: string }[] = [];
  let position = 0;
  for (const input of inputs) {
    if (isCertificate(input)) {
      chain.push(input);
      position++;
      continue;
    }
    let ders: Uint8Array[];
    try {
      ders = dersOf(input);
    } catch (err) {
      return { ok: false, error: encodingError(position, err, chain) };
    }
    for (const der of ders) {
      try {
        chain.push(parseCertificate(der));
      } catch (err) {
        if (position === 0) return { ok: false, error: encodingError(0, err, chain) };
        broken.push({ position, message: err instanceof Error ? err.message : String(err) });
      }
      position++;
    }
  }

  try {
    const verified = verifyServer({
      chain,
      trust,
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...(time ? { time } : {}),
      ...(opts.purpose ? { purpose: opts.purpose } : {}),
      ...(opts.requiredEku ? { requiredEku: opts.requiredEku } : {}),
      ...(opts.requiredKeyUsage ? { requiredKeyUsage: opts.requiredKeyUsage } : {}),
      ...(opts.maxDepth !== undefined ? { maxDepth: opts.maxDepth } : {}),
      ...(opts.budget ? { budget: opts.budget } : {}),
      ...(opts.relaxPrivateAnchors !== undefined ? { relaxPrivateAnchors: opts.relaxPrivateAnchors } : {}),
      ...(crls ? { crls } : {}),
      ...(opts.revocation !== undefined ? { revocation: opts.revocation } : {}),
      ...(opts.ocsp !== undefined ? { staple: opts.ocsp } : {}),
    });
    if (broken.length > 0) {
      verified.notes.push(
        ...broken.map(
          (b) => `certificate #${b.position} of the chain could not be parsed and was ignored: ${b.message}`,
        ),
      );
    }
    return {
      ok: true,
      path: verified.path.map((c) => c.summary()),
      anchor: { subject: verified.anchor.cert.subject.text, sources: [...verified.anchor.sources] },
      verified,
    };
  } catch (err) {
    if (err instanceof SSLError) {
      if (broken.length > 0) {
        err.candidates = [
          ...(err.candidates ?? []),
          ...broken.map((b) => ({
            code: 'BAD_ENCODING' as const,
            message: `certificate #${b.position} of the chain is malformed: ${b.message}`,
            position: b.position,
          })),
        ];
      }
      return { ok: false, error: err };
    }
    throw err; // ConfigError or InvalidURL: the options, not the chain, are wrong
  }
}

function encodingError(position: number, err: unknown, parsed: Certificate[]): SSLError {
  const detail = err instanceof Error ? err.message : String(err);
  return new SSLError(
    position === 0
      ? `the server certificate is malformed: ${detail}`
      : `certificate #${position} of the chain is malformed: ${detail}`,
    {
      code: 'BAD_ENCODING',
      position,
      chain: parsed.map((c) => c.summary()),
      hint: 'Check that the input is PEM ("-----BEGIN CERTIFICATE-----") or DER, and that it was not truncated or altered.',
      ...(err instanceof ParseError ? { cause: err } : {}),
    },
  );
}
