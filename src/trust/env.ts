/**
 * The environment variables that choose trust anchors, and which of them wins.
 *
 * Replacing (the first that is set wins, in this order):
 *   1. REQUESTS_CA_BUNDLE  – requests reads it first (requests/sessions.py, merge_environment_settings)
 *   2. CURL_CA_BUNDLE      – requests' fallback, so the same order as requests
 *   3. SSL_CERT_FILE and SSL_CERT_DIR – OpenSSL's process-wide defaults, used together (a file and
 *      directories, as OpenSSL and Go read both); they come last because a variable named for an
 *      HTTP client is the more specific statement of intent than one every OpenSSL program reads.
 * Adding:
 *   NODE_EXTRA_CA_CERTS   – adds to whatever is in effect, as Node adds it to its own roots; a
 *      path that cannot be read is a warning (Node also only warns), not an error.
 *
 * An empty value counts as unset (requests treats '' the same way). SSL_CERT_DIR is a list
 * separated by ':' (';' on Windows), as OpenSSL and Go split it. Unlike Go, SSL_CERT_FILE alone
 * does not keep the distribution's directories: set to a file, it means "trust this file".
 */
import { delimiter } from 'node:path';
import { caError } from './codes.js';
import { loadCaDir } from './dir.js';
import { loadCaPath } from './file.js';
import { describePath, type SourceResult } from './load.js';
import { renderSource } from './source.js';

export const ENV_REPLACING = [
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
] as const;
export const ENV_ADDING = 'NODE_EXTRA_CA_CERTS';
export const ENV_VARS = [...ENV_REPLACING, ENV_ADDING] as const;

/** How one variable was treated, for `ca info` and TrustExplanation. */
export interface EnvConsidered {
  name: string;
  value?: string;
  used: boolean;
  why: string;
}

export interface EnvPlan {
  /** The variables whose anchors replace the defaults (empty: none applies). */
  replace: { name: string; value: string }[];
  /** NODE_EXTRA_CA_CERTS, when it applies. */
  extra?: { name: string; value: string };
  considered: EnvConsidered[];
}

/**
 * Decides which variables apply. `codeDecides` is set when verify was given in code (a path,
 * PEM, or an object), which the environment never overrides; `trustEnv: false` ignores them all.
 */
export function planEnv(env: NodeJS.ProcessEnv, opts: { trustEnv: boolean; codeDecides?: string }): EnvPlan {
  const plan: EnvPlan = { replace: [], considered: [] };
  const values = new Map<string, string | undefined>(ENV_VARS.map((n) => [n, env[n]]));
  const isSet = (n: string) => (values.get(n) ?? '') !== '';
  const winner = ['REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'].find(isSet);
  const sslVars = ['SSL_CERT_FILE', 'SSL_CERT_DIR'].filter(isSet);

  for (const name of ENV_VARS) {
    const value = values.get(name);
    const entry: EnvConsidered = { name, used: false, why: '' };
    if (value !== undefined) entry.value = value;
    if (value === undefined) entry.why = 'not set';
    else if (value === '') entry.why = 'set but empty, so ignored (as requests does)';
    else if (!opts.trustEnv) entry.why = 'trustEnv is false, so the environment is not consulted';
    else if (opts.codeDecides !== undefined) {
      entry.why = `verify is set in code (${opts.codeDecides}), which the environment never overrides`;
    } else if (name === ENV_ADDING) {
      entry.used = true;
      entry.why = 'adds its certificates to the anchors in effect, as Node does';
      plan.extra = { name, value };
    } else if (winner !== undefined) {
      if (name === winner) {
        entry.used = true;
        entry.why = 'replaces the default anchors (bundled and system)';
        plan.replace.push({ name, value });
      } else if (name === 'CURL_CA_BUNDLE') {
        entry.why = 'REQUESTS_CA_BUNDLE is set and comes first, as in requests';
      } else {
        entry.why = `${winner} is set: a variable named for the HTTP client beats OpenSSL's process-wide one`;
      }
    } else {
      entry.used = true;
      entry.why =
        sslVars.length === 2
          ? 'replaces the default anchors, together with the other SSL_CERT_ variable (as OpenSSL reads both)'
          : 'replaces the default anchors (bundled and system)';
      plan.replace.push({ name, value });
    }
    plan.considered.push(entry);
  }
  return plan;
}

/** Loads the replacing variables' anchors. Throws ConfigError when they yield no certificate. */
export function loadReplacing(plan: EnvPlan): SourceResult[] {
  const paths: { name: string; path: string; dir: boolean }[] = [];
  for (const { name, value } of plan.replace) {
    if (name === 'SSL_CERT_DIR') {
      for (const dir of value.split(delimiter)) if (dir !== '') paths.push({ name, path: dir, dir: true });
    } else {
      paths.push({ name, path: value, dir: false });
    }
  }
  const load = (p: (typeof paths)[number], lenient: boolean) => {
    const source = renderSource({ kind: 'env', variable: p.name, path: describePath(p.path, p.name).abs });
    const opts = { origin: p.name, source, lenient };
    return p.dir ? loadCaDir(p.path, opts) : loadCaPath(p.path, opts);
  };
  // A single path is the only source asked for: its own precise error is the best message.
  if (paths.length === 1) return [load(paths[0]!, false)];
  // Several (SSL_CERT_FILE with SSL_CERT_DIR, or a list of directories): each may be missing,
  // as Go and OpenSSL allow, but together they must yield something.
  const results = paths.map((p) => load(p, true));
  if (results.every((r) => r.certs.length === 0)) {
    const names = [...new Set(paths.map((p) => p.name))].join(' and ');
    throw caError(
      'ERR_CA_EMPTY',
      `${names} name no readable certificate: ${results.flatMap((r) => r.warnings).join(' ')}`,
      `Fix or unset ${names}.`,
    );
  }
  return results;
}

/** Loads NODE_EXTRA_CA_CERTS; a problem is a warning in the result, never an error. */
export function loadExtra(plan: EnvPlan): SourceResult | undefined {
  if (!plan.extra) return undefined;
  const { name, value } = plan.extra;
  const source = renderSource({ kind: 'env', variable: name, path: describePath(value, name).abs });
  return loadCaPath(value, { origin: name, source, lenient: true });
}
