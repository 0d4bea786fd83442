/**
 * The `retries` option, after urllib3's Retry: how often a request is sent again, after which
 * failures, and how long to wait in between.
 *
 * - connect: the connection could not be made (refused, DNS, a reset or close during the TLS
 *   handshake, connect timeout, a proxy's 5xx): nothing was sent;
 * - read: the connection was made and handed the request, and no (whole) answer came: a read
 *   timeout, a response that broke the protocol, or the connection reset or closed before the
 *   response was complete (ConnectionError phase 'exchange'; urllib3 counts its ProtocolError
 *   "Connection aborted" the same way). Off unless asked for, as in requests
 *   (`Retry(n, read=False)`): the server may have acted on the request;
 * - status: an answer whose status is in `statusForcelist` (default 413, 429, 503), waiting what
 *   its Retry-After says when it says (seconds or an HTTP-date, up to a cap).
 *
 * Only `allowedMethods` are retried (default: RFC 9110's idempotent methods), only when the body
 * can be sent again, and never after a verification failure (SSLError): a certificate that failed
 * will fail again, and retrying would only hide an attack or a misconfiguration.
 */
import {
  CertainlyError,
  ConfigError,
  ConnectionError,
  ConnectTimeout,
  ProtocolError,
  ProxyError,
  ReadTimeout,
  type RetryRecord,
  SSLError,
} from '../errors.js';
import { nearest } from './suggest.js';

/** A number of retries, or urllib3's Retry as an object. */
export type RetryOption =
  | number
  | {
      /** Retries in all, whatever the cause. Default: the number given, or the sum of connect, read, status. */
      total?: number;
      /** Retries after a connection error. Default: up to `total`. */
      connect?: number;
      /**
       * Retries after a failure once the connection was made and the request handed to it: a read
       * timeout, a broken response, a connection reset or closed before the answer. Default 0.
       */
      read?: number;
      /** Retries after a status in statusForcelist. Default: up to `total`. */
      status?: number;
      /** The statuses that are retried. Default [413, 429, 503]. */
      statusForcelist?: readonly number[];
      /** ms before the first retry; doubled before each next one. Default 0. */
      backoff?: number;
      /** The longest wait between two attempts, ms. Default 120 000 (urllib3's). */
      backoffMax?: number;
      /** Each backoff is lengthened by a random fraction up to this (0 to 1). Default 0.5. */
      jitter?: number;
      /**
       * Wait what a Retry-After header asks (seconds or an HTTP-date) instead of the backoff:
       * true (default; up to backoffMax), false, or the longest wait honoured, ms. A longer
       * Retry-After is not waited for: the response is returned.
       */
      respectRetryAfter?: boolean | number;
      /** The methods retried. Default GET, HEAD, OPTIONS, PUT, DELETE, TRACE. */
      allowedMethods?: readonly string[];
      /**
       * ms from the start of the first attempt after which no retry is made: a retry whose wait
       * would end later is not waited for, and the last response or error is the answer (curl's
       * --retry-max-time). It does not cut an attempt short (that is `timeout.total`). Default:
       * no limit.
       */
      maxTime?: number;
    };

export type { RetryRecord };

export interface RetryPolicy {
  /** Retries in all after the first attempt (0 = none). */
  total: number;
  connect: number;
  read: number;
  status: number;
  statusForcelist: ReadonlySet<number>;
  /** Wait before the first retry, ms; doubled before each next one. */
  backoff: number;
  backoffMax: number;
  jitter: number;
  /** The longest Retry-After honoured, ms; -1: the header is ignored. */
  retryAfterMax: number;
  allowedMethods: ReadonlySet<string>;
  /** No retry ends its wait later than this many ms after the first attempt began; Infinity: none. */
  maxTime: number;
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
// urllib3's Retry.RETRY_AFTER_STATUS_CODES: Payload Too Large, Too Many Requests, Service Unavailable.
export const DEFAULT_STATUS_FORCELIST: readonly number[] = [413, 429, 503];
// urllib3's Retry.DEFAULT_BACKOFF_MAX: no single wait is longer than two minutes.
export const MAX_BACKOFF_MS = 120_000;
const DEFAULT_JITTER = 0.5;
// A bound on counts so that a typo (1e9) cannot turn into a request that never ends.
const MAX_RETRIES = 100;
const KEYS = [
  'total',
  'connect',
  'read',
  'status',
  'statusForcelist',
  'backoff',
  'backoffMax',
  'jitter',
  'respectRetryAfter',
  'allowedMethods',
  'maxTime',
];

const DEFAULT_FORCELIST_SET: ReadonlySet<number> = new Set(DEFAULT_STATUS_FORCELIST);
const NONE: RetryPolicy = Object.freeze({
  total: 0,
  connect: 0,
  read: 0,
  status: 0,
  statusForcelist: DEFAULT_FORCELIST_SET,
  backoff: 0,
  backoffMax: MAX_BACKOFF_MS,
  jitter: DEFAULT_JITTER,
  retryAfterMax: MAX_BACKOFF_MS,
  allowedMethods: IDEMPOTENT_METHODS,
  maxTime: Number.POSITIVE_INFINITY,
});

function bad(why: string): ConfigError {
  return new ConfigError(`retries ${why}`, {
    code: 'ERR_RETRIES_OPTION',
    hint: 'Use retries: 3, or retries: { total: 3, backoff: 200, statusForcelist: [429, 503] } (see the README, Retries).',
  });
}

function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_RETRIES) {
    throw bad(`${what} must be a whole number from 0 to ${MAX_RETRIES}, not ${String(v)}`);
  }
  return v;
}

function ms(v: unknown, what: string, positive = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (positive && v === 0)) {
    throw bad(`${what} must be a number of milliseconds ${positive ? '> 0' : '>= 0'}, not ${String(v)}`);
  }
  return v;
}

/** Validates the option; undefined means no retries (requests' default: max_retries=0). */
export function resolveRetries(opt: RetryOption | undefined): RetryPolicy {
  if (opt === undefined || opt === 0) return NONE;
  if (typeof opt === 'number') {
    const total = count(opt, 'must be a whole number or an object:');
    return { ...NONE, total, connect: total, status: total };
  }
  if (typeof opt !== 'object' || opt === null || Array.isArray(opt)) {
    throw bad(`must be a whole number from 0 to ${MAX_RETRIES} or an object, not ${String(opt)}`);
  }
  for (const k of Object.keys(opt)) {
    if (!KEYS.includes(k)) {
      const near = nearest(k, KEYS);
      throw bad(`has no '${k}'${near ? `; did you mean '${near}'?` : ''} It takes ${KEYS.join(', ')}`);
    }
  }
  const given = (k: 'total' | 'connect' | 'read' | 'status') =>
    opt[k] === undefined ? undefined : count(opt[k], `.${k}`);
  const connect = given('connect');
  const read = given('read');
  const status = given('status');
  let total = given('total');
  if (total === undefined) {
    if (connect === undefined && read === undefined && status === undefined)
      throw bad('needs total, or one of connect, read and status');
    total = (connect ?? 0) + (read ?? 0) + (status ?? 0);
  }
  // A kind not given is bounded by total when total was given, else not retried; read is off
  // unless given (the server got the request).
  const byTotal = opt.total !== undefined ? total : 0;
  let statusForcelist = DEFAULT_FORCELIST_SET;
  if (opt.statusForcelist !== undefined) {
    const list = opt.statusForcelist;
    if (!Array.isArray(list) || !list.every((s) => Number.isInteger(s) && s >= 100 && s <= 599))
      throw bad('.statusForcelist must be a list of HTTP statuses (100 to 599), e.g. [429, 503]');
    statusForcelist = new Set(list);
  }
  const backoff = opt.backoff === undefined ? 0 : ms(opt.backoff, '.backoff');
  const backoffMax = opt.backoffMax === undefined ? MAX_BACKOFF_MS : ms(opt.backoffMax, '.backoffMax', true);
  const jitter = opt.jitter ?? DEFAULT_JITTER;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1))
    throw bad(`.jitter must be a fraction from 0 to 1, not ${String(jitter)}`);
  const rra = opt.respectRetryAfter ?? true;
  let retryAfterMax: number;
  if (rra === true) retryAfterMax = backoffMax;
  else if (rra === false) retryAfterMax = -1;
  else retryAfterMax = ms(rra, '.respectRetryAfter (true, false, or the longest wait)');
  let allowedMethods = IDEMPOTENT_METHODS;
  if (opt.allowedMethods !== undefined) {
    const list = opt.allowedMethods;
    if (!Array.isArray(list) || !list.every((m) => typeof m === 'string' && /^[A-Za-z]+$/.test(m)))
      throw bad(".allowedMethods must be a list of method names, e.g. ['GET', 'POST']");
    allowedMethods = new Set(list.map((m) => m.toUpperCase()));
  }
  const maxTime = opt.maxTime === undefined ? Number.POSITIVE_INFINITY : ms(opt.maxTime, '.maxTime');
  return {
    total,
    connect: connect ?? byTotal,
    read: read ?? 0,
    status: status ?? byTotal,
    statusForcelist,
    backoff,
    backoffMax,
    jitter,
    retryAfterMax,
    allowedMethods,
    maxTime,
  };
}

/**
 * Which budget a failed attempt counts against, or null when it is never retried. A connection
 * that could not be made (refused, DNS, a reset during the handshake, connect timeout, a proxy
 * that could not reach the target): connect. Once it was made and handed the request (a
 * ConnectionError of phase 'exchange': reset or closed before the answer), a read timeout or a
 * response that broke the protocol: read. Verification failures, a proxy's 4xx refusal, a body
 * stream's own failure (BodyError), an IP address of the family the family option rules out
 * (the same every time), anything not ours (an abort): never.
 */
export function failureKind(err: unknown): 'connect' | 'read' | null {
  if (err instanceof SSLError || !(err instanceof CertainlyError)) return null;
  if (err instanceof ProxyError) return err.status === undefined || err.status >= 500 ? 'connect' : null;
  if (err instanceof ConnectionError) {
    if (err.code === 'ERR_CONNECTION_FAMILY') return null;
    return err.phase === 'exchange' ? 'read' : 'connect';
  }
  if (err instanceof ConnectTimeout) return 'connect';
  if (err instanceof ReadTimeout || err instanceof ProtocolError) return 'read';
  return null;
}

/** May this failed attempt be retried at all (method, body, kind)? Budgets aside. */
export function isRetryable(
  err: unknown,
  method: string,
  replayableBody: boolean,
  policy: RetryPolicy = NONE,
): boolean {
  if (!policy.allowedMethods.has(method.toUpperCase()) || !replayableBody) return false;
  const kind = failureKind(err);
  return kind === 'connect' || (kind === 'read' && policy.read > 0);
}

/** The wait before retry number `n` (1 for the first retry) without jitter, ms. */
export function backoffDelay(policy: RetryPolicy, n: number): number {
  if (policy.backoff === 0) return 0;
  return Math.min(policy.backoff * 2 ** (n - 1), policy.backoffMax);
}

/**
 * A Retry-After value as ms from `now`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3);
 * undefined when it is neither. A date in the past is 0.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = (Array.isArray(value) ? value[0]! : value).trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP-date names its weekday and GMT; Date.parse takes the three forms RFC 9110 allows.
  if (!/GMT$|^[A-Za-z]{3,9}, /.test(v)) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/**
 * The retries of one request: budgets left and what happened. Made per request only when the
 * option asks for retries; NO_RETRIES otherwise (no allocation, every check a quick no).
 */
export class RetryState {
  readonly policy: RetryPolicy;
  readonly log: RetryRecord[] = [];
  #total: number;
  #connect: number;
  #read: number;
  #status: number;
  /** When the first attempt began (performance.now()), for maxTime. */
  readonly #start: number;

  constructor(policy: RetryPolicy) {
    this.policy = policy;
    this.#start = policy.maxTime === Number.POSITIVE_INFINITY ? 0 : performance.now();
    this.#total = policy.total;
    this.#connect = policy.connect;
    this.#read = policy.read;
    this.#status = policy.status;
  }

  /** The wait before the next attempt after this error, ms, or undefined: throw it. */
  afterError(err: unknown, method: string, replayable: boolean, url: string): number | undefined {
    if (this.#total <= 0 || !replayable || !this.policy.allowedMethods.has(method)) return undefined;
    const kind = failureKind(err);
    if (kind === null) return undefined;
    if (kind === 'connect' ? this.#connect <= 0 : this.#read <= 0) return undefined;
    const wait = this.#backoff();
    if (this.#pastMaxTime(wait)) return undefined;
    if (kind === 'connect') this.#connect--;
    else this.#read--;
    this.#record({ kind, reason: (err as CertainlyError).code, url, wait });
    return wait;
  }

  /**
   * The wait before the next attempt after a response with this status, ms, or undefined: the
   * response is the answer (not in the forcelist, budget spent, or a Retry-After past the cap).
   */
  afterStatus(
    status: number,
    retryAfter: string | string[] | undefined,
    method: string,
    replayable: boolean,
    url: string,
  ): number | undefined {
    const p = this.policy;
    if (!p.statusForcelist.has(status) || this.#total <= 0 || this.#status <= 0) return undefined;
    if (!replayable || !p.allowedMethods.has(method)) return undefined;
    let wait: number;
    let fromServer = false;
    const asked = p.retryAfterMax < 0 ? undefined : parseRetryAfter(retryAfter);
    if (asked !== undefined) {
      // A server that asks for longer than we wait gets its answer returned, not a retry sooner
      // than it asked for.
      if (asked > p.retryAfterMax) return undefined;
      wait = asked;
      fromServer = true;
    } else wait = this.#backoff();
    if (this.#pastMaxTime(wait)) return undefined;
    this.#status--;
    this.#record({
      kind: 'status',
      reason: `HTTP ${status}`,
      status,
      url,
      wait,
      ...(fromServer ? { retryAfter: true } : {}),
    });
    return wait;
  }

  /** Would a retry after `wait` ms begin later than maxTime allows? */
  #pastMaxTime(wait: number): boolean {
    const limit = this.policy.maxTime;
    return limit !== Number.POSITIVE_INFINITY && performance.now() - this.#start + wait > limit;
  }

  #backoff(): number {
    const p = this.policy;
    const base = backoffDelay(p, this.log.length + 1);
    if (base === 0 || p.jitter === 0) return base;
    return Math.min(p.backoffMax, base * (1 + Math.random() * p.jitter));
  }

  #record(r: Omit<RetryRecord, 'attempt'>): void {
    this.#total--;
    this.log.push({ attempt: this.log.length + 1, ...r });
  }
}

/** The state of a request without retries: never retries, records nothing. */
export const NO_RETRIES: RetryState = new RetryState(NONE);

/** The state for a request with this policy. */
export function retryState(policy: RetryPolicy): RetryState {
  return policy.total === 0 ? NO_RETRIES : new RetryState(policy);
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
