/**
 * The `retries` option: how often a request is sent again after a *connection* error, and how
 * long to wait in between. Only idempotent methods are retried, only when the body can be sent
 * again, and never after a verification failure (SSLError): a certificate that failed will fail
 * again, and retrying would only hide an attack or a misconfiguration.
 */
import {
  CertainlyError,
  ConfigError,
  ConnectionError,
  ConnectTimeout,
  ProxyError,
  SSLError,
} from '../errors.js';

/** A number of retries, or `{ total, backoff }` with backoff in ms (the first wait; it doubles). */
export type RetryOption = number | { total: number; backoff?: number };

export interface RetryPolicy {
  /** Retries after the first attempt (0 = none). */
  total: number;
  /** Wait before the first retry, ms; doubled before each next one. */
  backoff: number;
}

// RFC 9110 §9.2.2: the idempotent methods (PUT and DELETE included; POST and PATCH are not).
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
  'PUT',
  'DELETE',
  'TRACE',
]);
// urllib3's Retry.DEFAULT_BACKOFF_MAX: no single wait is longer than two minutes.
export const MAX_BACKOFF_MS = 120_000;
// A bound on `total` so that a typo (1e9) cannot turn into a request that never ends.
const MAX_RETRIES = 100;

/** Validates the option; undefined means no retries (requests' default: max_retries=0). */
export function resolveRetries(opt: RetryOption | undefined): RetryPolicy {
  if (opt === undefined) return { total: 0, backoff: 0 };
  const bad = (why: string) =>
    new ConfigError(`retries ${why}`, {
      code: 'ERR_RETRIES_OPTION',
      hint: 'Use retries: 3, or retries: { total: 3, backoff: 200 } (ms before the first retry, doubling).',
    });
  const total =
    typeof opt === 'number' ? opt : typeof opt === 'object' && opt !== null ? opt.total : undefined;
  if (typeof total !== 'number' || !Number.isInteger(total) || total < 0 || total > MAX_RETRIES) {
    throw bad(`must be a whole number from 0 to ${MAX_RETRIES}, not ${String(total)}`);
  }
  const backoff = typeof opt === 'object' ? (opt.backoff ?? 0) : 0;
  if (typeof backoff !== 'number' || !Number.isFinite(backoff) || backoff < 0) {
    throw bad(`backoff must be a number of milliseconds >= 0, not ${String(backoff)}`);
  }
  return { total, backoff };
}

/**
 * May this failed attempt be retried? Connection errors (refused, reset, DNS, connect timeout,
 * a proxy that could not reach the target) on an idempotent method with a replayable body: yes.
 * Verification failures, read timeouts (the request reached the server), a proxy's 4xx refusal,
 * and anything else: no.
 */
export function isRetryable(err: unknown, method: string, replayableBody: boolean): boolean {
  if (!IDEMPOTENT_METHODS.has(method.toUpperCase()) || !replayableBody) return false;
  if (err instanceof SSLError || !(err instanceof CertainlyError)) return false;
  if (err instanceof ProxyError) return err.status === undefined || err.status >= 500;
  return err instanceof ConnectionError || err instanceof ConnectTimeout;
}

/** The wait before retry number `n` (1 for the first retry), ms. */
export function backoffDelay(policy: RetryPolicy, n: number): number {
  if (policy.backoff === 0) return 0;
  return Math.min(policy.backoff * 2 ** (n - 1), MAX_BACKOFF_MS);
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 && !signal?.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
