/**
 * Which trust anchors a request uses, and why.
 *
 * ## Precedence (the README quotes this block)
 *
 * `verify` below is already merged: the request's value, else the Session's.
 *
 * | verify in code                          | anchors                                            |
 * |-----------------------------------------|----------------------------------------------------|
 * | `false`                                 | none: not verified; no environment variable can turn it back on |
 * | unset or `true`, trustEnv (default)     | REQUESTS_CA_BUNDLE, else CURL_CA_BUNDLE, else SSL_CERT_FILE + SSL_CERT_DIR replace the defaults; NODE_EXTRA_CA_CERTS adds to the result |
 * | unset or `true`, `trustEnv: false`      | the defaults                                       |
 * | `'ca.pem'`, `'certs/'`, PEM text, bytes | only those CAs: a path **replaces** the defaults, as in requests |
 * | `{ ca: 'ca.pem' }`                      | the same: only that CA                             |
 * | `{ ca: 'ca.pem', bundled: true, system: true }` | that CA **added to** the defaults          |
 * | `{ system: false }`                     | bundled roots only                                 |
 * | `{ bundled: false }`                    | the system store only (an error if it cannot be read) |
 *
 * The defaults are Node's bundled Mozilla roots ∪ the operating system's store. In the object
 * form, `bundled` and `system` default to `true` when `ca` is absent and to `false` when it is
 * given, so `{ ca }` means what the string means. Anything in code other than unset/`true`
 * decides alone: the environment is not consulted (a Session's `verify: 'corp.pem'` is never
 * silently replaced by REQUESTS_CA_BUNDLE, which is requests' best-known surprise).
 *
 * ## Built once, reused
 *
 * Stores are cached by configuration. Files and directories a user named are stat'ed at most
 * every RELOAD_CHECK_MS; when one changed, the store is rebuilt, so an edited CA bundle is
 * picked up without a restart. Node's bundled roots and the system store are read once per
 * process (resetTrustCache() forgets them).
 */
import { createHash } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import { bundledNodeVersion, loadBundled } from './bundled.js';
import { caError } from './codes.js';
import { ENV_VARS, type EnvConsidered, loadExtra, loadReplacing, planEnv } from './env.js';
import { loadCaPath } from './file.js';
import { loadInline, looksLikePem } from './inline.js';
import { type SourceResult, type Stamp, signatureOf } from './load.js';
import { TrustStore } from './store.js';
import { loadSystem, resetSystemCache } from './system/index.js';

export type VerifyOption =
  | boolean
  | string
  | Uint8Array
  | {
      /** Paths (file or directory), PEM text, or DER/PEM bytes. */
      ca?: string | Uint8Array | (string | Uint8Array)[];
      /** Node's bundled Mozilla roots. Default: true without `ca`, false with it. */
      bundled?: boolean;
      /** The operating system's store. Default: true without `ca`, false with it. */
      system?: boolean;
    };

export interface TrustExplanation {
  /** Who chose the anchors: code (`verify`), an environment variable, or the defaults. */
  decidedBy: 'option' | 'env' | 'default';
  /** One sentence saying what is in effect and why. */
  detail: string;
  /** Each source read: how many anchors it gave, and what it had to skip or could not read. */
  sources: { source: string; count: number; warning?: string }[];
  /** Every CA environment variable, whether it was used, and why (not). */
  envConsidered: EnvConsidered[];
  /** The Node version whose bundled Mozilla roots are in use. */
  bundledNodeVersion: string;
  /**
   * Set when the system store is read from under another directory than `/`: that directory, and
   * whether the `systemRoot` option or the CERTAINLY_SYSTEM_ROOT variable chose it.
   */
  systemRoot?: { path: string; from: 'option' | typeof SYSTEM_ROOT_VAR };
}

export type ResolvedTrust =
  | { insecure: true; explanation: TrustExplanation }
  | { insecure: false; store: TrustStore; explanation: TrustExplanation };

/**
 * The anchors a connection verifies against, or null for verify: false: the one place that
 * turns a resolved trust into what the tls layer takes (and pool keys call 'insecure').
 */
export function anchorsOf(resolved: ResolvedTrust): TrustStore | null {
  return resolved.insecure ? null : resolved.store;
}

export interface ResolveTrustOptions {
  verify?: VerifyOption;
  /** Consult the CA environment variables when verify is not set in code. Default true. */
  trustEnv?: boolean;
  /** The environment to read. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * Read the Linux-layout system store under this directory instead of the OS's own. If
   * undefined and trustEnv is on, the CERTAINLY_SYSTEM_ROOT variable's value (when not empty).
   */
  systemRoot?: string;
  /** The clock, in ms (for tests of the reload check). Default Date.now. */
  now?: () => number;
}

// How often files a user named are stat'ed for changes. Coarser file systems keep mtime to
// 1 s (ext3, HFS+) or 2 s (FAT), so checking more often could not see more; and at tens of
// thousands of requests a second it keeps stat calls off the request path.
export const RELOAD_CHECK_MS = 2000;

/**
 * Moves the Linux-layout system store under another directory (a container image's /etc, a
 * test's fake one). Read only with trustEnv, like every variable; the `systemRoot` option wins.
 * Unlike the CA variables it does not choose anchors, so it applies whenever the system store is
 * used, verify set in code included (`{ ca, system: true }`).
 */
export const SYSTEM_ROOT_VAR = 'CERTAINLY_SYSTEM_ROOT';

/**
 * The directory the system store is read under, and who chose it; undefined: the OS's own.
 * Exported so that diagnosis compares a chain with the same system store.
 */
export function systemRootOf(
  opts: Pick<ResolveTrustOptions, 'systemRoot' | 'trustEnv' | 'env'>,
): TrustExplanation['systemRoot'] {
  if (opts.systemRoot !== undefined) return { path: resolvePath(opts.systemRoot), from: 'option' };
  if (opts.trustEnv === false) return undefined;
  const value = (opts.env ?? process.env)[SYSTEM_ROOT_VAR];
  return value ? { path: resolvePath(value), from: SYSTEM_ROOT_VAR } : undefined;
}

// Distinct trust configurations in one process: a handful in practice; the bound only stops a
// caller that builds a new configuration per request from growing memory (oldest dropped).
const MAX_CACHED = 64;

/** What one configuration asks for, before anything is read. */
type Item =
  | { kind: 'path'; raw: string; origin: string }
  | { kind: 'inline'; value: string | Uint8Array; origin: string };
interface Plan {
  key: string;
  insecure: boolean;
  decidedBy: TrustExplanation['decidedBy'];
  items: Item[];
  bundled: boolean;
  system: boolean;
  env: ReturnType<typeof planEnv>;
  /** Describes verify as given in code, for sentences ('a path', '{ ca, system: true }'). */
  codeText?: string;
  /** Where the system store is read from, when `system` and not the OS's own. */
  systemRoot?: TrustExplanation['systemRoot'];
}

interface Entry {
  result: ResolvedTrust;
  stamps: Stamp[];
  checkedAt: number;
}

const cache = new Map<string, Entry>();

// Inline certificates enter the cache key as a hash. Bytes are hashed once per object (a
// Buffer changed after its first use is not noticed: pass a new one); strings once per value.
const bytesIds = new WeakMap<Uint8Array, string>();
const stringIds = new Map<string, string>();
const MAX_STRING_IDS = 64; // as MAX_CACHED: one per distinct inline PEM in use

function inlineId(value: string | Uint8Array): string {
  if (typeof value === 'string') {
    let id = stringIds.get(value);
    if (!id) {
      id = createHash('sha256').update(value).digest('hex');
      if (stringIds.size >= MAX_STRING_IDS) stringIds.delete(stringIds.keys().next().value as string);
      stringIds.set(value, id);
    }
    return id;
  }
  let id = bytesIds.get(value);
  if (!id) {
    id = createHash('sha256').update(value).digest('hex');
    bytesIds.set(value, id);
  }
  return id;
}

function optionError(message: string): Error {
  return caError(
    'ERR_CA_OPTION',
    message,
    "Use verify: true (default), false, a CA path, PEM text, or { ca, bundled, system } (see the README's trust section).",
  );
}

function itemOf(value: unknown, origin: string): Item {
  if (typeof value === 'string') {
    if (value === '') throw optionError(`${origin} is an empty string.`);
    return looksLikePem(value) ? { kind: 'inline', value, origin } : { kind: 'path', raw: value, origin };
  }
  if (value instanceof Uint8Array) return { kind: 'inline', value, origin };
  throw optionError(`${origin} must be a path, PEM text or bytes, not ${describeValue(value)}.`);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

function itemKey(item: Item): string {
  return item.kind === 'path' ? `p:${resolvePath(item.raw)}` : `i:${inlineId(item.value)}`;
}

/** Turns options into a plan and its cache key; reads only the environment. */
function planOf(opts: ResolveTrustOptions): Plan {
  const verify = opts.verify;
  const trustEnv = opts.trustEnv ?? true;
  const env = opts.env ?? process.env;
  const base = { items: [] as Item[], bundled: true, system: true };
  let plan: Omit<Plan, 'key'>;

  if (verify === undefined || verify === true) {
    const envPlan = planEnv(env, { trustEnv });
    const replaced = envPlan.replace.length > 0;
    plan = {
      ...base,
      insecure: false,
      decidedBy: replaced ? 'env' : 'default',
      bundled: !replaced,
      system: !replaced,
      env: envPlan,
    };
  } else if (verify === false) {
    plan = {
      ...base,
      insecure: true,
      decidedBy: 'option',
      env: planEnv(env, { trustEnv, codeDecides: 'false' }),
    };
  } else if (typeof verify === 'string' || verify instanceof Uint8Array) {
    const item = itemOf(verify, 'verify');
    const codeText = item.kind === 'path' ? `the path ${verify as string}` : 'PEM text or bytes';
    plan = {
      items: [item],
      bundled: false,
      system: false,
      insecure: false,
      decidedBy: 'option',
      codeText,
      env: planEnv(env, { trustEnv, codeDecides: codeText }),
    };
  } else if (typeof verify === 'object' && verify !== null && !Array.isArray(verify)) {
    for (const k of Object.keys(verify)) {
      if (k !== 'ca' && k !== 'bundled' && k !== 'system') {
        throw optionError(`verify has an unknown key "${k}" (known: ca, bundled, system).`);
      }
    }
    for (const k of ['bundled', 'system'] as const) {
      if (verify[k] !== undefined && typeof verify[k] !== 'boolean') {
        throw optionError(`verify.${k} must be true or false, not ${describeValue(verify[k])}.`);
      }
    }
    const raw = verify.ca;
    // `{ ca: config.caPath }` with the variable unset must not quietly mean "every public root".
    if ('ca' in verify && raw === undefined) {
      throw optionError(
        'verify.ca is present but undefined (an unset variable?); give a CA path or PEM, or leave the key out to use the defaults.',
      );
    }
    const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    if (raw !== undefined && list.length === 0) throw optionError('verify.ca is an empty list.');
    const items = list.map((v, i) => itemOf(v, Array.isArray(raw) ? `verify.ca[${i}]` : 'verify.ca'));
    const hasCa = items.length > 0;
    const bundled = verify.bundled ?? !hasCa;
    const system = verify.system ?? !hasCa;
    if (!hasCa && !bundled && !system) {
      throw optionError(
        'verify selects no trust anchors (no ca, bundled: false, system: false); to not verify, say verify: false.',
      );
    }
    const parts = [...(hasCa ? ['ca'] : []), `bundled: ${bundled}`, `system: ${system}`];
    const codeText = `{ ${parts.join(', ')} }`;
    plan = {
      items,
      bundled,
      system,
      insecure: false,
      decidedBy: 'option',
      codeText,
      env: planEnv(env, { trustEnv, codeDecides: codeText }),
    };
  } else {
    throw optionError(
      `verify must be a boolean, a path, PEM text, bytes or an object, not ${describeValue(verify)}.`,
    );
  }

  const systemRoot = plan.system ? systemRootOf(opts) : undefined;
  if (systemRoot) plan.systemRoot = systemRoot;
  // Every variable's value and verdict: equal stores share a TrustStore key anyway, but the
  // explanation (why each variable was or was not used) must match this call.
  const envKey = `${trustEnv}\0${plan.env.considered.map((c) => `${c.name}=${c.value ?? ''}:${c.used}`).join('\0')}`;
  const key = [
    plan.insecure ? 'insecure' : 'verify',
    plan.bundled ? 'b' : '',
    plan.system ? `s:${systemRoot ? `${systemRoot.from}:${systemRoot.path}` : ''}` : '',
    plan.items.map(itemKey).join('\0'),
    envKey,
  ].join('\u0001');
  return { ...plan, key };
}

/** Reads every source the plan names and builds the store and its explanation. */
function build(plan: Plan): { result: ResolvedTrust; stamps: Stamp[] } {
  const explanation: TrustExplanation = {
    decidedBy: plan.decidedBy,
    detail: '',
    sources: [],
    envConsidered: plan.env.considered,
    bundledNodeVersion: bundledNodeVersion(),
    ...(plan.systemRoot ? { systemRoot: plan.systemRoot } : {}),
  };
  if (plan.insecure) {
    explanation.detail =
      'verify is false in code: certificates are not verified, and no environment variable turns verification back on.';
    return { result: { insecure: true, explanation }, stamps: [] };
  }

  const results: SourceResult[] = [];
  const extraRows: TrustExplanation['sources'] = [];
  for (const item of plan.items) {
    results.push(
      item.kind === 'path'
        ? loadCaPath(item.raw, { origin: item.origin })
        : loadInline(item.value, item.origin),
    );
  }
  if (plan.decidedBy === 'env') results.push(...loadReplacing(plan.env));
  if (plan.bundled) results.push(loadBundled());
  if (plan.system) {
    const sys = loadSystem(plan.systemRoot ? { root: plan.systemRoot.path } : {});
    const onlySource = plan.items.length === 0 && !plan.bundled;
    if (sys.sources.length === 0) {
      if (onlySource) {
        throw caError(
          'ERR_CA_SYSTEM',
          `The operating system's trust store was the only source asked for, and it could not be read: ${sys.warnings.join(' ')}`,
          'Install the CA certificates package (ca-certificates), or also allow the bundled roots (verify: { bundled: true, system: true }).',
        );
      }
      extraRows.push({ source: 'system', count: 0, warning: sys.warnings.join(' ') });
    } else {
      results.push(...sys.sources);
      if (sys.warnings.length > 0)
        extraRows.push({ source: 'system', count: 0, warning: sys.warnings.join(' ') });
    }
  }
  const extra = loadExtra(plan.env);
  if (extra) results.push(extra);

  const store = new TrustStore(results);
  const counts = store.bySource();
  for (const r of results) {
    const row: TrustExplanation['sources'][number] = { source: r.source, count: counts.get(r.source) ?? 0 };
    if (r.warnings.length > 0) row.warning = r.warnings.join(' ');
    explanation.sources.push(row);
  }
  explanation.sources.push(...extraRows);
  const fromExtra = extra ? store.anchors.filter((a) => a.sources[0] === extra.source).length : 0;
  explanation.detail = detailOf(plan, extra, fromExtra);
  return {
    result: { insecure: false, store, explanation },
    stamps: results.flatMap((r) => r.stamps),
  };
}

function detailOf(plan: Plan, extra: SourceResult | undefined, fromExtra: number): string {
  const plus = extra
    ? `, plus NODE_EXTRA_CA_CERTS (${extra.certs.length} certificate${extra.certs.length === 1 ? '' : 's'}, ${fromExtra} not already trusted)`
    : '';
  const defaults = "Node's bundled Mozilla roots and the operating system's store";
  if (plan.decidedBy === 'default') {
    const envNote = plan.env.considered.some((c) => c.why.startsWith('trustEnv is false'))
      ? 'trustEnv is false'
      : 'no CA environment variable replaces the defaults';
    return `verify is not set in code and ${envNote}, so the defaults are used: ${defaults}${plus}.`;
  }
  if (plan.decidedBy === 'env') {
    const names = plan.env.replace.map((r) => `${r.name}=${r.value}`).join(' and ');
    return `verify is not set in code, so ${names} replaces the default anchors${plus}.`;
  }
  if (plan.items.length === 0) {
    const which = plan.bundled ? "Node's bundled Mozilla roots only" : "the operating system's store only";
    return `verify is set in code to ${plan.codeText}: ${which}.`;
  }
  if (plan.bundled && plan.system) {
    return `verify is set in code to ${plan.codeText}: the given CAs are added to the defaults (${defaults}).`;
  }
  if (plan.bundled || plan.system) {
    const also = plan.bundled
      ? "Node's bundled roots (not the system store)"
      : "the operating system's store (not the bundled roots)";
    return `verify is set in code to ${plan.codeText}: the given CAs plus ${also}.`;
  }
  return `verify is set in code to ${plan.codeText}: only the given CAs are trusted; a path replaces the defaults, as in requests.`;
}

function changed(stamps: Stamp[]): boolean {
  return stamps.some((s) => signatureOf(s.path) !== s.sig);
}

// Strings longer than this (PEM text) enter the quick key as a hash, computed once per value,
// rather than being copied into the key on every call; paths are far shorter.
const QUICK_INLINE_CHARS = 1024;
// Distinct (verify, env, root) combinations remembered; as MAX_CACHED, with room for the
// several spellings ('ca.pem', { ca: 'ca.pem' }) that lead to one configuration.
const MAX_PLANS = 256;
const plans = new Map<string, Plan>();
let lastPlan: { verify: string | false; systemRoot: string | undefined; cwd: string; plan: Plan } | undefined;
/**
 * The last call's plan when verify was unset or true (the default Session): reused while trustEnv,
 * the root, the working directory and the variables quickKeyOf reads are the same, compared one
 * by one, which costs the reads but not the key string built and hashed on every request.
 */
let lastDefault:
  | {
      verify: true | undefined;
      trustEnv: boolean;
      systemRoot: string | undefined;
      cwd: string;
      env: (string | undefined)[];
      plan: Plan;
    }
  | undefined;

/** The variables quickKeyOf reads for a default verify, in its order: the CA ones, then the root. */
function defaultEnvNames(opts: ResolveTrustOptions): readonly string[] {
  if (opts.trustEnv === false) return [];
  return opts.systemRoot === undefined ? DEFAULT_ENV_NAMES : ENV_VARS;
}
const DEFAULT_ENV_NAMES: readonly string[] = [...ENV_VARS, SYSTEM_ROOT_VAR];

function sameDefault(
  last: NonNullable<typeof lastDefault>,
  opts: ResolveTrustOptions,
  v: true | undefined,
  cwd: string,
): boolean {
  if (last.verify !== v || last.trustEnv !== (opts.trustEnv !== false) || last.systemRoot !== opts.systemRoot)
    return false;
  if (last.cwd !== cwd) return false;
  const names = defaultEnvNames(opts);
  const env = process.env;
  for (let i = 0; i < names.length; i++) if (env[names[i] as string] !== last.env[i]) return false;
  return true;
}

function quickPart(value: unknown): string {
  if (typeof value === 'string')
    return value.length > QUICK_INLINE_CHARS ? `h${inlineId(value)}` : `s${value}`;
  if (value instanceof Uint8Array) return `h${inlineId(value)}`;
  if (typeof value === 'boolean' || value === undefined) return String(value);
  if (Array.isArray(value)) return `[${value.map(quickPart).join('\u0003')}]`;
  if (typeof value === 'object' && value !== null) {
    // Fields read on every call (not the object's identity): a Session's verify object that is
    // changed after first use must not keep the old anchors.
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.some((k) => k !== 'ca' && k !== 'bundled' && k !== 'system')) return `x${Math.random()}`;
    return `{${quickPart(o.ca)}|${quickPart(o.bundled)}|${quickPart(o.system)}}`;
  }
  return `x${Math.random()}`; // malformed: never reused, so planOf reports it every time
}

/**
 * Everything the plan depends on, cheaply: verify as given, trustEnv, the root, the working
 * directory (relative paths) and the values of the five CA variables and CERTAINLY_SYSTEM_ROOT.
 * A hit skips planning entirely.
 */
function quickKeyOf(opts: ResolveTrustOptions): string {
  let envPart = '';
  // The CA variables matter only when verify is not set in code and trustEnv is on: reading
  // process.env costs more than the rest of the key, on every request.
  const v = opts.verify;
  if ((v === undefined || v === true) && opts.trustEnv !== false) {
    const env = opts.env ?? process.env;
    for (const name of ENV_VARS) {
      const value = env[name];
      envPart += value === undefined ? '\u0002' : `${value}\u0000`;
    }
  }
  // The system root variable, wherever the system store may be read: verify unset, true, or an
  // object (a path, PEM text, bytes or false never read the system store).
  if (
    opts.systemRoot === undefined &&
    opts.trustEnv !== false &&
    (v === undefined || v === true || (typeof v === 'object' && !(v instanceof Uint8Array)))
  ) {
    envPart += `\u0004${(opts.env ?? process.env)[SYSTEM_ROOT_VAR] ?? ''}`;
  }
  return `${quickPart(opts.verify)}\u0001${opts.trustEnv ?? true}\u0001${opts.systemRoot ?? ''}\u0001${process.cwd()}\u0001${envPart}`;
}

/**
 * The anchors for one request (or Session), from the cache when the configuration was seen
 * before. Throws ConfigError (codes in codes.ts) when a CA path or option cannot be used.
 */
export function resolveTrust(opts: ResolveTrustOptions): ResolvedTrust {
  let plan: Plan | undefined;
  // The last call's plan, when verify is the same string or boolean set in code (the common
  // Session case): no key to build and hash on every request. The environment plays no part then.
  const v = opts.verify;
  const memoable = (typeof v === 'string' || v === false) && opts.now === undefined;
  const defaultVerify = (v === undefined || v === true) && opts.now === undefined && opts.env === undefined;
  const cwd = memoable || defaultVerify ? process.cwd() : '';
  if (defaultVerify && lastDefault && sameDefault(lastDefault, opts, v, cwd)) {
    plan = lastDefault.plan;
  } else if (
    memoable &&
    lastPlan &&
    lastPlan.verify === v &&
    lastPlan.systemRoot === opts.systemRoot &&
    lastPlan.cwd === cwd
  ) {
    plan = lastPlan.plan;
  } else {
    const quick = quickKeyOf(opts);
    plan = plans.get(quick);
    if (!plan) {
      plan = planOf(opts);
      if (plans.size >= MAX_PLANS) plans.delete(plans.keys().next().value as string);
      plans.set(quick, plan);
    }
    if (memoable) lastPlan = { verify: v, systemRoot: opts.systemRoot, cwd, plan };
    if (defaultVerify) {
      lastDefault = {
        verify: v,
        trustEnv: opts.trustEnv !== false,
        systemRoot: opts.systemRoot,
        cwd,
        env: defaultEnvNames(opts).map((name) => process.env[name]),
        plan,
      };
    }
  }
  const now = (opts.now ?? Date.now)();
  const hit = cache.get(plan.key);
  if (hit) {
    if (hit.stamps.length === 0 || now - hit.checkedAt < RELOAD_CHECK_MS) return hit.result;
    if (!changed(hit.stamps)) {
      hit.checkedAt = now;
      return hit.result;
    }
    cache.delete(plan.key);
  }
  // A build that throws is not cached: the next call reads again, as a fresh process would.
  const { result, stamps } = build(plan);
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(plan.key, { result, stamps, checkedAt: now });
  return result;
}

/** Forgets every cached store, and the system store (tests; or after changing the OS store). */
export function resetTrustCache(): void {
  cache.clear();
  plans.clear();
  lastPlan = undefined;
  lastDefault = undefined;
  resetSystemCache();
}
