/**
 * The path builder's budget: how much work one verification may do before it gives up.
 *
 * Path building is a search over a graph the peer controls (it chooses which certificates to send,
 * and any certificate may claim any issuer name), so the work must be bounded by counts rather
 * than by the shape of the input. rustls-webpki (src/verify_cert.rs, `Budget`) counts the same
 * three things; the numbers below come from the same places, each cited. Exhausting any of them
 * ends the whole search at once with BUDGET_EXCEEDED: continuing with other candidates would
 * defeat the purpose.
 */
import { SSLError } from '../../errors.js';

export interface BudgetLimits {
  /** Signature verifications (public-key operations; cache hits are free). */
  signatures: number;
  /** Candidate issuers considered (calls into the search, one per candidate tried). */
  buildCalls: number;
  /** (presented name, constraint) comparisons made while checking name constraints. */
  nameConstraintComparisons: number;
}

export const DEFAULT_BUDGET: Readonly<BudgetLimits> = Object.freeze({
  // Go's remediation of CVE-2018-16875 (crypto/x509 verify.go, maxChainSignatureChecks = 100);
  // rustls-webpki uses the same number. AKI/SKI ordering of candidates keeps real chains far below.
  signatures: 100,
  // mozilla::pkix (NSS lib/mozpkix/lib/pkixbuild.cpp, its 200,000-call limit on path building),
  // adopted by rustls-webpki as build_chain_calls.
  buildCalls: 200_000,
  // Go crypto/x509 verify.go (maxConstraintComparisons default 250,000), adopted by rustls-webpki.
  nameConstraintComparisons: 250_000,
});

export type BudgetKind = keyof BudgetLimits;

const KIND_TEXT: Record<BudgetKind, string> = {
  signatures: 'signature checks',
  buildCalls: 'candidate issuers tried',
  nameConstraintComparisons: 'name-constraint comparisons',
};

const EXCEEDED_HINT =
  'The server sent a chain with too many candidate issuers or names; ask its operator to send only the certificates of one path.';

/** A mutable counter for one verification. Not shared between verifications. */
export class Budget {
  readonly limits: Readonly<BudgetLimits>;
  private readonly left: BudgetLimits;

  constructor(limits: Partial<BudgetLimits> = {}) {
    const merged = { ...DEFAULT_BUDGET };
    for (const key of Object.keys(DEFAULT_BUDGET) as BudgetKind[]) {
      const v = limits[key];
      if (v !== undefined) {
        if (!Number.isInteger(v) || v < 0)
          throw new RangeError(`budget.${key} must be a non-negative integer`);
        merged[key] = v;
      }
    }
    this.limits = Object.freeze(merged);
    this.left = { ...merged };
  }

  /** Spend `n` units of `kind`; throws SSLError BUDGET_EXCEEDED when the budget would go negative. */
  spend(kind: BudgetKind, n = 1): void {
    if (this.left[kind] < n) {
      this.left[kind] = 0;
      throw new SSLError(
        `certificate path building gave up after ${this.limits[kind]} ${KIND_TEXT[kind]}: the chain is too complex to search`,
        {
          code: 'BUDGET_EXCEEDED',
          hint: EXCEEDED_HINT,
        },
      );
    }
    this.left[kind] -= n;
  }

  /**
   * Gives up at once, before spending: the work ahead is known to be too much (`why` ends the
   * sentence). Throws SSLError BUDGET_EXCEEDED, as {@link spend} does when the budget runs out.
   */
  exceed(_kind: BudgetKind, why: string): never {
    // Nothing is spent (used() still says what was done); the search ends with the throw.
    throw new SSLError(`certificate path building gave up: ${why}`, {
      code: 'BUDGET_EXCEEDED',
      hint: EXCEEDED_HINT,
    });
  }

  /** How much of each kind has been spent so far. */
  used(): BudgetLimits {
    return {
      signatures: this.limits.signatures - this.left.signatures,
      buildCalls: this.limits.buildCalls - this.left.buildCalls,
      nameConstraintComparisons: this.limits.nameConstraintComparisons - this.left.nameConstraintComparisons,
    };
  }
}
