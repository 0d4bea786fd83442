/**
 * x509-limbo harness: runs every testcase of ../shared/conformance/limbo/limbo.json.gz through
 * verifyChain, writes a LimboResult (the format of the baselines next to it), and prints a
 * per-namespace table beside the OpenSSL 3.0.19 and pyca/cryptography 48 baselines.
 *
 *   npm run limbo                      run, write .limbo-result.json, print the table
 *   npm run limbo -- --out FILE        write the result elsewhere
 *   npm run limbo -- --check           exit 1 on any result not in test/verify/limbo-expectations.json,
 *                                      and on any listed divergence that no longer happens
 *   npm run limbo -- --only PREFIX     run only ids starting with PREFIX (no --check then)
 *   npm run limbo -- --readme          also write the table, the divergences with their reasons and
 *                                      the OpenSSL comparison into README.md between the limbo markers
 *
 * The expectations file lists every case we skip or knowingly get "wrong", each with a reason,
 * in the format of rustls-webpki-known-divergences.json.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { anchorsFrom, type VerifyChainOptions, verifyChain } from '../src/verify/index.js';
import { parseCertificate } from '../src/x509/certificate.js';
import { parsePem } from '../src/x509/pem.js';
import type { Certificate } from '../src/x509/types.js';

type Result = 'SUCCESS' | 'FAILURE' | 'SKIPPED';

interface Testcase {
  id: string;
  features?: string[];
  validation_kind: 'SERVER' | 'CLIENT';
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  validation_time: string | null;
  signature_algorithms?: string[] | null;
  key_usage?: string[] | null;
  extended_key_usage?: string[] | null;
  expected_result: 'SUCCESS' | 'FAILURE';
  expected_peer_name: { kind: 'DNS' | 'IP' | 'RFC822'; value: string } | null;
  max_chain_depth: number | null;
  crls?: string[];
}

export interface LimboResultEntry {
  id: string;
  actual_result: Result;
  context: string | null;
}

export interface Expectation {
  expected: 'SUCCESS' | 'FAILURE';
  actual: Result;
  reason: string;
}

export interface LimboSummary {
  total: number;
  pass: number;
  fail: number;
  skipped: number;
  /** Results that differ from the expected ones and are not listed in the expectations file. */
  unexpected: { id: string; expected: string; actual: Result; context: string | null }[];
  /** Listed divergences that did not happen (fixed, or the listing is wrong). */
  stale: { id: string; listed: Result; actual: Result }[];
  results: LimboResultEntry[];
  byId: Map<string, { expected: string; actual: Result }>;
  elapsedMs: number;
}

const ROOT = new URL('../../', import.meta.url); // build/scripts/limbo.js -> the repository root
export const CONFORMANCE_DIR = new URL('../shared/conformance/', ROOT);
export const LIMBO_FILE = new URL('limbo/limbo.json.gz', CONFORMANCE_DIR);
export const EXPECTATIONS_FILE = new URL('test/verify/limbo-expectations.json', ROOT);
const DEFAULT_OUT = new URL('.limbo-result.json', ROOT);

/** The source name given to limbo's trusted certificates: not a user file, so the full profile applies. */
const ANCHOR_SOURCE = 'limbo';

function readGz(url: URL): unknown {
  return JSON.parse(gunzipSync(readFileSync(url)).toString('utf8'));
}

export function loadExpectations(url: URL = EXPECTATIONS_FILE): Record<string, Expectation> {
  const raw = JSON.parse(readFileSync(url, 'utf8')) as Record<string, Expectation | string>;
  const out: Record<string, Expectation> = {};
  for (const [id, e] of Object.entries(raw)) {
    if (id.startsWith('$')) continue; // "$comment" and the like
    if (typeof e === 'string') continue;
    out[id] = e;
  }
  return out;
}

function parseAll(pems: readonly string[]): { certs: Certificate[]; errors: string[] } {
  const certs: Certificate[] = [];
  const errors: string[] = [];
  for (const pem of pems) {
    for (const der of parsePem(pem, 'CERTIFICATE')) {
      try {
        certs.push(parseCertificate(der));
      } catch (err) {
        errors.push(err instanceof Error ? err.message : String(err));
      }
    }
  }
  return { certs, errors };
}

/** Runs one testcase; returns the result and a short context. */
export function runTestcase(tc: Testcase): { result: Result; context: string } {
  if (tc.expected_peer_name?.kind === 'RFC822') {
    return { result: 'SKIPPED', context: 'RFC822 peer names are not verified by this client' };
  }
  const anchors = parseAll(tc.trusted_certs);
  const opts: VerifyChainOptions = {
    chain: [tc.peer_certificate, ...tc.untrusted_intermediates],
    trust: anchorsFrom(anchors.certs, ANCHOR_SOURCE),
    purpose: tc.validation_kind === 'CLIENT' ? 'clientAuth' : 'serverAuth',
    relaxPrivateAnchors: false,
  };
  if (tc.expected_peer_name) opts.name = tc.expected_peer_name.value;
  if (tc.validation_time) opts.time = tc.validation_time;
  if (tc.extended_key_usage && tc.extended_key_usage.length > 0) opts.requiredEku = tc.extended_key_usage;
  if (tc.key_usage && tc.key_usage.length > 0)
    opts.requiredKeyUsage = tc.key_usage as VerifyChainOptions['requiredKeyUsage'];
  if (tc.max_chain_depth !== null && tc.max_chain_depth !== undefined) opts.maxDepth = tc.max_chain_depth;
  // x509-limbo's CRL cases expect a CRL that cannot be used to fail the chain (CRL checking on,
  // as OpenSSL's crl_check): revocation 'hard' (the default 'soft' would record it as unknown).
  if (tc.crls && tc.crls.length > 0) {
    opts.crls = tc.crls;
    opts.revocation = 'hard';
  }
  try {
    const r = verifyChain(opts);
    if (r.ok) return { result: 'SUCCESS', context: `path of ${r.path.length} to ${r.anchor.subject}` };
    const unusable =
      anchors.errors.length > 0
        ? ` [trusted certificates that do not parse: ${anchors.errors.join('; ')}]`
        : '';
    return { result: 'FAILURE', context: `${r.error.code}: ${r.error.message}${unusable}` };
  } catch (err) {
    const e = err as Error;
    return { result: 'FAILURE', context: `exception ${e.name}: ${e.message}` };
  }
}

/** Runs the suite (or the ids starting with `only`) and compares with the expectations. */
export function runLimbo(
  options: { only?: string; expectations?: Record<string, Expectation> } = {},
): LimboSummary {
  const started = performance.now();
  const suite = readGz(LIMBO_FILE) as { version: number; testcases: Testcase[] };
  const expectations = options.expectations ?? loadExpectations();
  const results: LimboResultEntry[] = [];
  const byId = new Map<string, { expected: string; actual: Result }>();
  const unexpected: LimboSummary['unexpected'] = [];
  const stale: LimboSummary['stale'] = [];
  let pass = 0;
  let fail = 0;
  let skipped = 0;
  for (const tc of suite.testcases) {
    if (options.only && !tc.id.startsWith(options.only)) continue;
    const listed = expectations[tc.id];
    let outcome: { result: Result; context: string };
    if (listed?.actual === 'SKIPPED') outcome = { result: 'SKIPPED', context: listed.reason };
    else outcome = runTestcase(tc);
    results.push({ id: tc.id, actual_result: outcome.result, context: outcome.context });
    byId.set(tc.id, { expected: tc.expected_result, actual: outcome.result });
    if (outcome.result === 'SKIPPED') skipped++;
    else if (outcome.result === tc.expected_result) pass++;
    else fail++;
    const matchesListing = listed !== undefined && listed.actual === outcome.result;
    if (outcome.result !== tc.expected_result && !matchesListing) {
      unexpected.push({
        id: tc.id,
        expected: tc.expected_result,
        actual: outcome.result,
        context: outcome.context,
      });
    }
    if (listed !== undefined && !matchesListing && outcome.result === tc.expected_result) {
      stale.push({ id: tc.id, listed: listed.actual, actual: outcome.result });
    }
  }
  return {
    total: results.length,
    pass,
    fail,
    skipped,
    unexpected,
    stale,
    results,
    byId,
    elapsedMs: performance.now() - started,
  };
}

/** 'bettertls::nameconstraints', 'rfc5280::nc', 'webpki::san', 'pathlen', … */
export function namespaceOf(id: string): string {
  const parts = id.split('::');
  if (parts.length > 2 && (parts[0] === 'bettertls' || parts[0] === 'rfc5280' || parts[0] === 'webpki')) {
    return `${parts[0]}::${parts[1]}`;
  }
  return parts[0]!;
}

type Tally = { pass: number; fail: number; skip: number };

function tally(
  results: Iterable<{ id: string; actual_result: Result }>,
  expected: Map<string, string>,
): Map<string, Tally> {
  const out = new Map<string, Tally>();
  for (const r of results) {
    const ns = namespaceOf(r.id);
    let t = out.get(ns);
    if (!t) {
      t = { pass: 0, fail: 0, skip: 0 };
      out.set(ns, t);
    }
    if (r.actual_result === 'SKIPPED') t.skip++;
    else if (r.actual_result === expected.get(r.id)) t.pass++;
    else t.fail++;
  }
  return out;
}

function loadBaseline(name: string): LimboResultEntry[] | undefined {
  const url = new URL(`limbo/${name}`, CONFORMANCE_DIR);
  if (!existsSync(url)) return undefined;
  return (readGz(url) as { results: LimboResultEntry[] }).results;
}

function sum(m: Map<string, Tally>): Tally {
  const t = { pass: 0, fail: 0, skip: 0 };
  for (const v of m.values()) {
    t.pass += v.pass;
    t.fail += v.fail;
    t.skip += v.skip;
  }
  return t;
}

/** The per-namespace table (Markdown) and the OpenSSL-wrong/us-right list. */
export function report(summary: LimboSummary): string {
  const expected = new Map<string, string>();
  for (const [id, v] of summary.byId) expected.set(id, v.expected);
  const ours = tally(summary.results, expected);
  const openssl = loadBaseline('baseline-openssl-3.0.19.json.gz');
  const pyca = loadBaseline('baseline-pyca-cryptography-48.0.0.json.gz');
  const filter = (rs: LimboResultEntry[] | undefined) => rs?.filter((r) => summary.byId.has(r.id));
  const o = openssl ? tally(filter(openssl)!, expected) : undefined;
  const p = pyca ? tally(filter(pyca)!, expected) : undefined;
  const cell = (t: Tally | undefined) => (t ? `${t.pass} / ${t.fail} / ${t.skip}` : '–');
  const lines = [
    '| namespace | certainly (pass / fail / skip) | OpenSSL 3.0.19 | pyca/cryptography 48 |',
    '|---|---:|---:|---:|',
  ];
  for (const ns of [...ours.keys()].sort()) {
    lines.push(`| ${ns} | ${cell(ours.get(ns))} | ${cell(o?.get(ns))} | ${cell(p?.get(ns))} |`);
  }
  lines.push(
    `| **total** | **${cell(sum(ours))}** | ${o ? cell(sum(o)) : '–'} | ${p ? cell(sum(p)) : '–'} |`,
  );
  const listedDivergences = loadExpectations();
  const divergences = [...summary.byId]
    .filter(([, v]) => v.actual !== v.expected)
    .map(([id, v]) => {
      const reason = listedDivergences[id]?.reason ?? 'NOT LISTED in test/verify/limbo-expectations.json';
      return `- \`${id}\` (expected ${v.expected}, certainly ${v.actual}): ${reason}`;
    });
  lines.push(
    '',
    `The ${divergences.length} cases where certainly knowingly differs from x509-limbo, each with its reason (from test/verify/limbo-expectations.json):`,
    '',
    ...divergences,
  );
  if (openssl) {
    const osslById = new Map(openssl.map((r) => [r.id, r.actual_result]));
    const better: string[] = [];
    for (const [id, v] of summary.byId) {
      if (!(id.startsWith('webpki::') || id.startsWith('rfc5280::'))) continue;
      const ossl = osslById.get(id);
      if (v.actual === v.expected && ossl !== undefined && ossl !== v.expected) {
        better.push(`- \`${id}\`: expected ${v.expected}; OpenSSL ${ossl}`);
      }
    }
    lines.push(
      '',
      `OpenSSL 3.0.19 gets these webpki:: and rfc5280:: cases wrong, certainly gets them right (${better.length}):`,
      '',
      ...better,
    );
  }
  return lines.join('\n');
}

function main(argv: string[]): number {
  let out: URL | string = DEFAULT_OUT;
  let check = false;
  let only: string | undefined;
  let readme = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--out') out = argv[++i] ?? '';
    else if (a === '--check') check = true;
    else if (a === '--only') only = argv[++i];
    else if (a === '--readme') readme = true;
    else {
      process.stderr.write(
        `limbo: unknown argument '${a}' (use --out FILE, --check, --only PREFIX, --readme)\n`,
      );
      return 2;
    }
  }
  if (!existsSync(LIMBO_FILE)) {
    process.stderr.write(
      `limbo: ${fileURLToPath(LIMBO_FILE)} not found (the ../shared/conformance checkout is missing)\n`,
    );
    return 2;
  }
  const summary = runLimbo(only ? { only } : {});
  const doc = { version: 1, harness: 'certainly', results: summary.results };
  writeFileSync(out, `${JSON.stringify(doc, null, 1)}\n`);
  const text = report(summary);
  process.stdout.write(`${text}\n\n`);
  if (readme && !only) updateReadme(text, summary);
  process.stdout.write(
    `${summary.total} testcases in ${(summary.elapsedMs / 1000).toFixed(1)} s: ${summary.pass} pass, ${summary.fail} fail, ${summary.skipped} skipped; result written to ${out instanceof URL ? fileURLToPath(out) : out}\n`,
  );
  if (summary.unexpected.length === 0 && summary.fail > 0) {
    process.stdout.write(
      `every failure is a listed divergence, with its reason, in ${fileURLToPath(EXPECTATIONS_FILE)}\n`,
    );
  }
  if (summary.unexpected.length > 0) {
    process.stdout.write(
      `\n${summary.unexpected.length} result(s) not in ${fileURLToPath(EXPECTATIONS_FILE)}:\n`,
    );
    for (const u of summary.unexpected) {
      process.stdout.write(`  ${u.id}: expected ${u.expected}, got ${u.actual} — ${u.context ?? ''}\n`);
    }
  }
  if (summary.stale.length > 0) {
    process.stdout.write(
      `\n${summary.stale.length} listed divergence(s) no longer happen (remove them from the expectations):\n`,
    );
    for (const s of summary.stale) process.stdout.write(`  ${s.id}: listed ${s.listed}, now ${s.actual}\n`);
  }
  if (check && !only) return summary.unexpected.length > 0 || summary.stale.length > 0 ? 1 : 0;
  return 0;
}

const README_START =
  '<!-- limbo:start (generated by npm run limbo -- --readme; edit scripts/limbo.ts, not this text) -->';
const README_END = '<!-- limbo:end -->';

/** Writes the report into README.md between the limbo markers, as bench/run.ts does for its table. */
function updateReadme(text: string, summary: LimboSummary): void {
  const file = new URL('README.md', ROOT);
  const readme = readFileSync(file, 'utf8');
  const a = readme.indexOf(README_START);
  const b = readme.indexOf(README_END);
  if (a < 0 || b < a) {
    process.stderr.write('limbo: README.md has no limbo markers; the report was not written there\n');
    return;
  }
  const [table, ...rest] = text.split('\n\n');
  const body = [
    README_START,
    '',
    table,
    '',
    `**certainly: ${summary.pass.toLocaleString('en-US')} pass** of ${summary.total.toLocaleString('en-US')}, ` +
      `${summary.unexpected.length} failures outside the listed divergences.`,
    '',
    '<details>',
    '<summary>The listed divergences, and what OpenSSL gets wrong</summary>',
    '',
    rest.join('\n\n'),
    '',
    '</details>',
    '',
    README_END,
  ].join('\n');
  writeFileSync(file, readme.slice(0, a) + body + readme.slice(b + README_END.length));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
