/**
 * Path building: from the server's certificate, through the certificates it sent (in any order,
 * with extras and duplicates), to a trust anchor.
 *
 * Depth-first search with backtracking. At each step the candidate issuers of the certificate on
 * top of the path are the anchors and the sent certificates whose subject matches its issuer
 * (RFC 5280 §7.1 name comparison, via Name.key). They are tried in this order (decided here):
 *  1. by key identifier: those whose subjectKeyIdentifier equals the certificate's
 *     authorityKeyIdentifier first, those without one of the two next, mismatches last (Go's
 *     findPotentialParents and pyca do the same, so that name collisions cannot burn the budget);
 *  2. anchors before sent certificates: a trusted issuer ends the path at once, which is how the
 *     "chain of pain" (an expired cross-signed root sent by the server) resolves itself;
 *  3. certificates valid at the verification time before expired or not-yet-valid ones;
 *  4. the order in which the server sent them.
 * A candidate is accepted as the next step when it passes the CA policy for its role, the depth
 * and pathLenConstraint limits, verifies the signature of the certificate below it, and its name
 * constraints admit the names of every certificate below it. Reaching an anchor ends the search.
 *
 * Loops are cut as RFC 4158 §5.2 and pyca suggest: no certificate twice in a path, by DER, and no
 * two certificates with the same (subject, public key) pair.
 *
 * When no path verifies, the error reported is the most specific one seen on any candidate path
 * (the highest `rank` in errors.ts; the first seen wins a tie); the others go into `candidates`.
 * Exhausting the budget ends everything at once with BUDGET_EXCEEDED.
 *
 * Hygiene problems (see policy.ts) do not prune the search: they are collected along the path and
 * judged when it reaches an anchor, because whether they are fatal depends on that anchor.
 */
import { SSLError, VERIFY_CODES, type VerifyCode } from '../../errors.js';
import type { TrustAnchor, TrustAnchors } from '../../trust/types.js';
import type { Certificate, CertificateSummary } from '../../x509/types.js';
import type { Crl } from '../crl.js';
import type { SignatureVerifier } from '../crypto.js';
import { noSubjectAltNameHint } from '../identity.js';
import { checkCertificate, type PolicyContext, type Problem, type Role } from '../policy.js';
import {
  checkRevocation,
  type OnlineOcsp,
  type RevocationMode,
  type RevocationReport,
} from '../revocation.js';
import type { Budget } from './budget.js';
import { checkNameConstraints, compileNameConstraints } from './name-constraints.js';

/**
 * Intermediates allowed in a path, not counting self-issued ones (RFC 5280 §6.1.4 (l)). pyca's
 * DEFAULT_MAX_CHAIN_DEPTH (8): Web PKI paths have at most 2–3 intermediates; rustls-webpki allows 6.
 */
export const DEFAULT_MAX_DEPTH = 8;

/**
 * Certificates in a path, self-issued ones included, leaf and anchor excluded: a hard stop for
 * chains of self-issued certificates (key rollover), which the depth limit does not count.
 * Twice the default depth: room for a rollover certificate next to every intermediate.
 */
const MAX_INTERMEDIATES = 2 * DEFAULT_MAX_DEPTH;

/** How many other candidate failures an error carries (readability; the first is the reported one). */
const MAX_CANDIDATES = 8;

/** Failures remembered for `candidates` (memory stays bounded however many candidates fail). */
const MAX_KEPT_FAILURES = 256;

export interface BuildInput {
  leaf: Certificate;
  /** The other certificates the server sent, de-duplicated, in the order sent. */
  pool: readonly Certificate[];
  /** Position of each sent certificate in the chain as sent, by SHA-256 fingerprint (first occurrence). */
  positions: ReadonlyMap<string, number>;
  trust: TrustAnchors;
  ctx: PolicyContext;
  maxDepth: number;
  budget: Budget;
  verifier: SignatureVerifier;
  /** Should hygiene problems on a path ending at `anchor` be notes rather than errors? */
  relaxHygiene: (anchor: TrustAnchor) => boolean;
  /** Summaries of the chain as sent, for errors. */
  chain: CertificateSummary[];
  /** CRLs to check each certificate of a finished path against (see crl.ts). */
  crls?: readonly Crl[];
  /** See revocation.ts; if undefined, 'soft'. */
  revocation?: RevocationMode;
  /** The stapled OCSP response; null: asked for, none sent; undefined: not a connection (revocation.ts). */
  staple?: Uint8Array | null;
  /** Online OCSP for the leaf (revocation.ts OnlineOcsp); undefined: off. */
  online?: OnlineOcsp;
}

export interface BuiltPath {
  /** Leaf first, excluding the anchor (unless the leaf is itself the anchor). */
  path: Certificate[];
  anchor: TrustAnchor;
  notes: string[];
  revocation: RevocationReport;
}

interface Failure {
  code: VerifyCode;
  message: string;
  cert?: Certificate;
  position?: number;
  hint?: string;
}

interface Hygiene {
  cert: Certificate;
  role: Role;
  problem: Problem;
}

const ROLE_TEXT: Record<Role, string> = {
  leaf: 'server certificate',
  intermediate: 'intermediate certificate',
  anchor: 'trusted root certificate',
};

/** What to do about each code: one sentence a person can act on. */
const HINTS: Partial<Record<VerifyCode, (f: { role?: Role; cert?: Certificate }) => string>> = {
  CERT_EXPIRED: ({ role }) =>
    role === 'leaf'
      ? "The server's certificate must be renewed (or this machine's clock is wrong)."
      : role === 'intermediate'
        ? 'The server sends an expired intermediate: its operator should install the current intermediate from the CA.'
        : 'A trusted root has expired: update the trust store, or the server should send a chain to a current root.',
  CERT_NOT_YET_VALID: () =>
    "Check this machine's clock; otherwise the certificate was issued for a later date.",
  NOT_A_CA: () =>
    'The server sends a certificate as an intermediate that is not a CA certificate; it must send the CA that issued its certificate.',
  CA_USED_AS_LEAF: () =>
    'The server must present an end-entity certificate for its own name, not a CA certificate.',
  PATH_TOO_LONG: () => 'The chain has more intermediates than a CA in it (or the depth limit) allows.',
  WRONG_PURPOSE: () =>
    'The certificate was issued for another purpose (its extended key usage): the server needs a TLS server certificate.',
  NAME_CONSTRAINTS_VIOLATED: () =>
    'A CA in the chain is not allowed to issue certificates for this name; the certificate must come from a CA that is.',
  // The name is not known here; verifyServer puts in the SAN entry for it when it is.
  NO_SUBJECT_ALT_NAME: () => noSubjectAltNameHint(),
  WEAK_ALGORITHM: () => 'The certificate must be reissued with a SHA-256 (or stronger) signature.',
  WEAK_KEY: () =>
    'The certificate must be reissued with an RSA key of 2048 to 8192 bits (public exponent 65537) or a P-256/P-384 EC key.',
  BAD_SIGNATURE: () =>
    'A certificate in the chain was not signed by the issuer it names: the chain is corrupted or forged.',
  BAD_ENCODING: () =>
    'The certificate is malformed; the server operator must get a correctly encoded certificate from the CA.',
  UNSUPPORTED_CRITICAL_EXTENSION: () =>
    'The certificate carries a critical extension this client does not implement.',
  PROFILE_VIOLATION: () =>
    'The certificate breaks a rule of the RFC 5280 / CA/B Forum profile; for a private CA from a file these rules are relaxed (verify: "ca.pem").',
};

/**
 * The fix for a self-signed server certificate: trust that certificate alone, after saving it
 * (the command is given when the server's address is known), or get one from a trusted CA.
 */
export function selfSignedHint(server?: string, flags = ''): string {
  const save = `save it (certainly ca pem --server ${server ?? 'HOST:PORT'}${flags} > cert.pem)`;
  return `If this is the server you mean to reach, trust this certificate: ${save}, check its fingerprint with the server's operator, and pass verify: 'cert.pem'. Otherwise the server needs a certificate from a trusted CA.`;
}

function rankOf(code: VerifyCode): number {
  return VERIFY_CODES[code].rank;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** 0: AKI matches SKI; 1: one of them absent; 2: both present and different. */
function keyIdClass(child: Certificate, candidate: Certificate): number {
  const want = child.authorityKeyIdentifier?.keyIdentifier;
  const have = candidate.subjectKeyIdentifier;
  if (want === undefined || have === undefined) return 1;
  return bytesEqual(want, have) ? 0 : 2;
}

function validAt(cert: Certificate, time: Date): boolean {
  const t = time.getTime();
  return cert.notBefore.getTime() <= t && t <= cert.notAfter.getTime();
}

interface Candidate {
  cert: Certificate;
  anchor?: TrustAnchor;
  order: number;
  idClass: number;
  valid: boolean;
}

export class PathBuilder {
  private readonly input: BuildInput;
  private readonly failures: Failure[] = [];
  private bestFailure: Failure | undefined;
  private readonly poolBySubject = new Map<string, Certificate[]>();
  private readonly problemCache = new Map<Certificate, Map<Role, Problem[]>>();
  private readonly path: Certificate[] = [];
  private readonly hygiene: Hygiene[][] = [];

  constructor(input: BuildInput) {
    this.input = input;
    for (const c of input.pool) {
      if (input.trust.find(c)) continue; // a sent certificate that is also an anchor is used as the anchor
      const list = this.poolBySubject.get(c.subject.key);
      if (list) list.push(c);
      else this.poolBySubject.set(c.subject.key, [c]);
    }
  }

  /** Builds and validates a path, or throws the most specific SSLError. */
  build(): BuiltPath {
    const { leaf, trust } = this.input;

    // The server's certificate may itself be a trust anchor (a self-signed certificate the user
    // trusts directly, as OpenSSL and curl accept): it must still pass the leaf profile.
    const selfAnchor = trust.find(leaf);
    if (selfAnchor) {
      // Its own signature is not relied on here, so its algorithm does not matter. And a
      // certificate the user trusts by name from a file may be a CA: `openssl req -x509` makes
      // self-signed certificates with cA TRUE by default, and OpenSSL (hence curl and requests)
      // accepts them as their own anchor; for other anchors the webpki rule stands.
      const relaxCa = this.input.relaxHygiene(selfAnchor);
      const own = checkCertificate(leaf, 'leaf', this.input.ctx, false).map((p) =>
        relaxCa && p.code === 'CA_USED_AS_LEAF' ? { ...p, hygiene: true } : p,
      );
      const hard = own.find((p) => !p.hygiene);
      if (hard) throw this.toError(this.failureFor(leaf, 'leaf', hard));
      // (Its revocation is not checked: a trust anchor is not revoked by CRLs, RFC 5280 §6.3.)
      const done = this.finish(selfAnchor, [
        own.map((problem) => ({ cert: leaf, role: 'leaf' as Role, problem })),
      ]);
      if (done) {
        return {
          path: [leaf],
          anchor: selfAnchor,
          notes: [...done, 'the server certificate is itself a trust anchor'],
          revocation: { mode: this.input.revocation ?? 'soft', mustStaple: false, certificates: [] },
        };
      }
      // Strict hygiene refused it as its own anchor: it may still have an issuer that works.
    }
    const leafProblems = this.problems(leaf, 'leaf');
    const hard = leafProblems.find((p) => !p.hygiene);
    // A certificate that signed itself, is not trusted and has no other issuer to go to is
    // SELF_SIGNED whatever its basicConstraints: `openssl req -x509` sets cA TRUE by default, and
    // "a CA used as a leaf" would send the user after the wrong fix (curl and requests say
    // "self-signed", and trusting the certificate is the fix). A CA certificate issued by
    // someone else stays CA_USED_AS_LEAF.
    if (hard?.code === 'CA_USED_AS_LEAF' && this.isLoneSelfSigned(leaf))
      throw this.toError(this.deadEnd(leaf));
    if (hard) throw this.toError(this.failureFor(leaf, 'leaf', hard));
    const leafHygiene = leafProblems.map((problem) => ({ cert: leaf, role: 'leaf' as Role, problem }));

    this.path.push(leaf);
    this.hygiene.push(leafHygiene);
    let found: BuiltPath | undefined;
    try {
      found = this.extend();
    } catch (err) {
      if (err instanceof SSLError && err.code === 'BUDGET_EXCEEDED') {
        throw this.toError({ code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) });
      }
      throw err;
    }
    if (found) return found;
    throw this.toError(this.best());
  }

  /**
   * Self-issued, verified by its own key, and no issuer other than itself among the anchors or
   * the certificates sent: a self-signed certificate presented alone (or with unrelated extras).
   */
  private isLoneSelfSigned(leaf: Certificate): boolean {
    if (!leaf.selfIssued) return false;
    if (this.input.trust.issuersOf(leaf).length > 0) return false;
    const others = this.poolBySubject.get(leaf.issuer.key) ?? [];
    if (others.some((c) => c !== leaf && c.fingerprintSha256 !== leaf.fingerprintSha256)) return false;
    try {
      return this.input.verifier.verifySignedBy(leaf, leaf);
    } catch {
      return false;
    }
  }

  private problems(cert: Certificate, role: Role): Problem[] {
    let byRole = this.problemCache.get(cert);
    if (!byRole) {
      byRole = new Map();
      this.problemCache.set(cert, byRole);
    }
    let list = byRole.get(role);
    if (!list) {
      list = checkCertificate(cert, role, this.input.ctx);
      byRole.set(role, list);
    }
    return list;
  }

  private candidates(child: Certificate): Candidate[] {
    const { trust, ctx } = this.input;
    const out: Candidate[] = [];
    let order = 0;
    for (const anchor of trust.issuersOf(child)) {
      out.push({
        cert: anchor.cert,
        anchor,
        order: order++,
        idClass: keyIdClass(child, anchor.cert),
        valid: validAt(anchor.cert, ctx.time),
      });
    }
    for (const cert of this.poolBySubject.get(child.issuer.key) ?? []) {
      out.push({ cert, order: order++, idClass: keyIdClass(child, cert), valid: validAt(cert, ctx.time) });
    }
    out.sort(
      (a, b) =>
        a.idClass - b.idClass ||
        Number(a.anchor === undefined) - Number(b.anchor === undefined) ||
        Number(b.valid) - Number(a.valid) ||
        a.order - b.order,
    );
    return out;
  }

  private inPath(cert: Certificate): boolean {
    for (const p of this.path) {
      if (p === cert || p.fingerprintSha256 === cert.fingerprintSha256) return true;
      if (p.subject.key === cert.subject.key && bytesEqual(p.publicKey.der, cert.publicKey.der)) return true;
    }
    return false;
  }

  /** Non-self-issued intermediates in the current path (the leaf is not counted). */
  private countedIntermediates(): number {
    let n = 0;
    for (let i = 1; i < this.path.length; i++) if (!this.path[i]!.selfIssued) n++;
    return n;
  }

  private extend(): BuiltPath | undefined {
    const { budget, verifier, maxDepth } = this.input;
    const child = this.path[this.path.length - 1]!;
    const candidates = this.candidates(child);
    let tried = 0;
    for (const cand of candidates) {
      budget.spend('buildCalls');
      if (this.inPath(cand.cert)) continue;
      tried++;
      const role: Role = cand.anchor ? 'anchor' : 'intermediate';
      const cert = cand.cert;

      if (!cand.anchor) {
        const depth = this.countedIntermediates() + (cert.selfIssued ? 0 : 1);
        if (depth > maxDepth || this.path.length > MAX_INTERMEDIATES) {
          this.fail({
            code: 'PATH_TOO_LONG',
            message: `the path through ${this.describe(cert, role)} needs more than ${maxDepth} intermediate certificate${maxDepth === 1 ? '' : 's'}, the most allowed`,
            cert,
            position: this.positionOf(cert),
          });
          continue;
        }
      }

      const problems = this.problems(cert, role);
      const hard = problems.find((p) => !p.hygiene);
      if (hard) {
        this.fail(this.failureFor(cert, role, hard));
        continue;
      }

      // RFC 5280 §4.2.1.9 and §6.1.4 (m): at most pathLen non-self-issued intermediates below it.
      const pathLen = cert.basicConstraints?.pathLen;
      if (pathLen !== undefined) {
        const below = this.countedIntermediates();
        if (below > pathLen) {
          this.fail({
            code: 'PATH_TOO_LONG',
            message: `${this.describe(cert, role)} allows ${pathLen} intermediate certificate${pathLen === 1 ? '' : 's'} below it (pathLenConstraint), but the path has ${below}`,
            cert,
            position: this.positionOf(cert),
          });
          continue;
        }
      }

      budget.spend('signatures');
      if (!verifier.verifySignedBy(child, cert)) {
        this.fail(this.signatureFailure(child, cert, cand));
        continue;
      }

      const nc = cert.nameConstraints;
      if (nc) {
        const violation = this.checkConstraints(cert, role, compileNameConstraints(nc));
        if (violation) {
          this.fail(violation);
          continue;
        }
      }

      const own = problems.map((problem) => ({ cert, role, problem }));
      if (cand.anchor) {
        const notes = this.finish(cand.anchor, [...this.hygiene, own]);
        if (!notes) continue;
        const revocation = this.revocation(this.path, cand.anchor);
        if (!revocation) continue;
        return { path: [...this.path], anchor: cand.anchor, notes, revocation };
      }

      this.path.push(cert);
      this.hygiene.push(own);
      const found = this.extend();
      if (found) return found;
      this.path.pop();
      this.hygiene.pop();
    }
    if (tried === 0) this.fail(this.deadEnd(child));
    return undefined;
  }

  /**
   * A path reached `anchor`: returns the notes to report, or undefined (after recording the
   * failure) when hygiene problems are fatal for this anchor.
   */
  private finish(anchor: TrustAnchor, hygiene: Hygiene[][]): string[] | undefined {
    const all = hygiene.flat();
    if (all.length === 0) return [];
    if (this.input.relaxHygiene(anchor)) {
      return all.map(
        (h) =>
          `relaxed for the private CA "${anchor.cert.subject.text}" (${anchor.sources[0]}): ${this.describe(h.cert, h.role)}: ${h.problem.message} (${h.problem.rule})`,
      );
    }
    const first = all[0]!;
    this.fail(this.failureFor(first.cert, first.role, first.problem));
    return undefined;
  }

  /** Checks the revocation of a finished path (revocation.ts); records the failure, if any. */
  private revocation(path: readonly Certificate[], anchor: TrustAnchor): RevocationReport | undefined {
    const { report, failure } = checkRevocation(
      path,
      anchor.cert,
      {
        mode: this.input.revocation ?? 'soft',
        ...(this.input.crls ? { crls: this.input.crls } : {}),
        ...(this.input.staple !== undefined ? { staple: this.input.staple } : {}),
        ...(this.input.online ? { online: this.input.online } : {}),
        time: this.input.ctx.time,
        spend: () => this.input.budget.spend('signatures'),
      },
      (depth) => this.describe(path[depth]!, depth === 0 ? 'leaf' : 'intermediate'),
    );
    if (failure) {
      const cert = path[failure.depth]!;
      this.fail({ ...failure, cert, position: this.positionOf(cert) });
      return undefined;
    }
    return report;
  }

  private checkConstraints(
    ca: Certificate,
    role: Role,
    cc: ReturnType<typeof compileNameConstraints>,
  ): Failure | undefined {
    for (let i = 0; i < this.path.length; i++) {
      const cert = this.path[i]!;
      // RFC 5280 §6.1.3 (b)–(c): not applied to self-issued intermediates, always to the leaf.
      if (i > 0 && cert.selfIssued) continue;
      const subjectEmpty = cert.subject.rdns.length === 0;
      const v = checkNameConstraints(
        cc,
        {
          ...(subjectEmpty ? {} : { subject: cert.subject }),
          sans: cert.subjectAltName?.names ?? [],
          hasSan: cert.subjectAltName !== undefined,
        },
        this.input.budget,
      );
      if (v) {
        const target = this.describe(cert, i === 0 ? 'leaf' : 'intermediate');
        return {
          code: 'NAME_CONSTRAINTS_VIOLATED',
          message: v.malformedConstraint
            ? `${this.describe(ca, role)} has unusable name constraints: ${v.reason}`
            : `the name ${v.name} of the ${target} ${v.reason} of ${this.describe(ca, role)}`,
          cert,
          position: this.positionOf(cert),
        };
      }
    }
    return undefined;
  }

  private signatureFailure(child: Certificate, issuer: Certificate, cand: Candidate): Failure {
    const childRole: Role = child === this.input.leaf ? 'leaf' : 'intermediate';
    const role: Role = cand.anchor ? 'anchor' : 'intermediate';
    // A candidate matched by name only, whose key identifier says it is another key, is not this
    // certificate's issuer after all: report "unknown issuer" (as Go does, with the reason),
    // keeping BAD_SIGNATURE for a certificate whose named and identified issuer does not verify it.
    if (cand.idClass === 2) {
      return {
        code: 'UNKNOWN_ISSUER',
        message: `${this.describe(child, childRole)} was not signed by ${this.describe(issuer, role)}, the only candidate with its issuer's name (the key identifiers differ)`,
        cert: child,
        position: this.positionOf(child),
        hint: 'The trusted CA with this name is not the one that issued the certificate: add the right CA certificate.',
      };
    }
    return {
      code: 'BAD_SIGNATURE',
      message: `the signature on the ${this.describe(child, childRole)} does not verify with the public key of ${this.describe(issuer, role)}`,
      cert: child,
      position: this.positionOf(child),
    };
  }

  /** No usable candidate issuer at all (none by name, or only ones already in the path). */
  private deadEnd(cert: Certificate): Failure {
    const { leaf } = this.input;
    const isLeaf = cert === leaf;
    const position = this.positionOf(cert);
    const issuer = cert.issuer.text || '(empty name)';
    const aia = cert.authorityInfoAccess?.caIssuers ?? [];
    if (isLeaf && cert.selfIssued) {
      return {
        code: 'SELF_SIGNED',
        message: `the server certificate "${cert.subject.text}" is self-signed and not trusted`,
        cert,
        position,
        hint: selfSignedHint(),
      };
    }
    if (cert.selfIssued) {
      return {
        code: 'UNKNOWN_ISSUER',
        message: `the chain ends at the root certificate "${cert.subject.text}", which is not trusted`,
        cert,
        position,
        hint: 'Add this root to the trusted certificates (verify: "ca.pem") if you trust it.',
      };
    }
    if (isLeaf && aia.length > 0) {
      // The leaf says where its issuer lives (AIA caIssuers), as certificates from public CAs
      // do: the server left out an intermediate.
      return {
        code: 'INCOMPLETE_CHAIN',
        message: `the issuer of the server certificate, "${issuer}", is neither trusted nor sent by the server`,
        cert,
        position,
        hint:
          `The server should send its intermediate certificate(s) along with its own (the certificate says its issuer is at ${aia[0]}); ` +
          `if "${issuer}" is a private root, add it to the trusted certificates.`,
      };
    }
    if (isLeaf) {
      // No AIA: as likely a private CA that issued the leaf directly (mkcert, small internal
      // CAs) as a missing intermediate. Say both; "send your intermediate" alone would mislead.
      return {
        code: 'UNKNOWN_ISSUER',
        message: `the server certificate was issued by "${issuer}", which is neither trusted nor sent by the server`,
        cert,
        position,
        hint:
          `If "${issuer}" is your private CA, trust it (verify: "ca.pem"); ` +
          'if it is an intermediate, the server must send it along with its own certificate.',
      };
    }
    return {
      code: 'UNKNOWN_ISSUER',
      message: `${this.describe(cert, 'intermediate')} was issued by "${issuer}", which is not a trusted root`,
      cert,
      position,
      hint:
        `Add the root "${issuer}" to the trusted certificates (verify: "ca.pem") if you trust it` +
        (aia.length > 0 ? ` (its certificate may be at ${aia[0]})` : '') +
        '.',
    };
  }

  private positionOf(cert: Certificate): number | undefined {
    return this.input.positions.get(cert.fingerprintSha256);
  }

  private describe(cert: Certificate, role: Role): string {
    const pos = this.positionOf(cert);
    const where =
      pos === undefined ? (role === 'anchor' ? ' (from the trust store)' : '') : ` (#${pos} in the chain)`;
    return `${ROLE_TEXT[role]} "${cert.subject.text || '(empty subject)'}"${where}`;
  }

  private failureFor(cert: Certificate, role: Role, p: Problem): Failure {
    const hint = HINTS[p.code]?.({ role, cert });
    return {
      code: p.code,
      message: `${this.describe(cert, role)}: ${p.message} (${p.rule})`,
      cert,
      position: this.positionOf(cert),
      ...(hint ? { hint } : {}),
    };
  }

  private fail(f: Failure): void {
    if (this.bestFailure === undefined || rankOf(f.code) > rankOf(this.bestFailure.code))
      this.bestFailure = f;
    // The first failures are kept for `candidates`; a pathological chain can produce thousands.
    if (this.failures.length < MAX_KEPT_FAILURES) this.failures.push(f);
  }

  private best(): Failure {
    return (
      this.bestFailure ?? {
        code: 'UNKNOWN_ISSUER',
        message: 'no path to a trusted root was found',
        cert: this.input.leaf,
        position: 0,
      }
    );
  }

  private toError(f: Failure): SSLError {
    const others = this.failures
      .filter((o) => o !== f)
      .sort((a, b) => rankOf(b.code) - rankOf(a.code))
      .slice(0, MAX_CANDIDATES)
      .map((o) => ({
        code: o.code,
        message: o.message,
        ...(o.position !== undefined ? { position: o.position } : {}),
      }));
    const hint = f.hint ?? HINTS[f.code]?.({});
    return new SSLError(f.message, {
      code: f.code,
      ...(f.position !== undefined ? { position: f.position } : {}),
      ...(f.cert ? { certificate: f.cert.summary() } : {}),
      chain: this.input.chain,
      time: this.input.ctx.time,
      ...(hint ? { hint } : {}),
      ...(others.length > 0 ? { candidates: others } : {}),
    });
  }
}
