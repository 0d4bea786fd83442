/**
 * `certainly check TARGET...`: diagnose endpoints and say what to fix.
 *
 * A target is a URL (https://host[:port]/), `host` or `host:port`; `-` reads targets from
 * standard input and `--file F` from a file (one per line; blank lines and # comments skipped).
 * Every target is validated before anything is dialled, so a typo is a usage error (exit 2)
 * rather than a half-done run.
 *
 * Output: short for a healthy endpoint (one line, plus its warnings), complete for a broken one
 * (connection, chain as sent, verdicts, every finding with its fix). --json prints one object
 * (schema/check-report.schema.json). A progress bar is drawn on stderr when it is a terminal and
 * several targets are checked; colour follows NO_COLOR (render.ts styler).
 *
 * Exit codes: 0 every endpoint verified (warnings allowed); 1 a verification problem; 2 a usage
 * or configuration error, or an endpoint that could not be reached. The worst target decides.
 */

import type { ClientCertOption } from '../client/options.js';
import { proxyChooser } from '../client/proxy.js';
import {
  type CheckReport,
  DEFAULT_WARN_DAYS,
  diagnose,
  type Finding,
  parseTarget,
} from '../diagnose/index.js';
import { CertainlyError } from '../errors.js';
import { clientTlsOptions } from '../tls/client-cert.js';
import { parseConnectTo } from '../tls/target.js';
import { describeReadError, FILE_LIMITS, readBounded } from '../trust/load.js';
import {
  type ResolvedTrust,
  type ResolveTrustOptions,
  resolveTrust,
  systemRootOf,
} from '../trust/resolve.js';
import { parseReferenceName } from '../verify/identity.js';
import { type CommandSpec, helpText, parseCommand, UsageError, usageFailure } from './args.js';
import { CLIENT_CERT_OPTIONS, clientCertOf, PROXY_OPTIONS, proxyOptionsOf } from './client-flags.js';
import { cliHint, type Io, styler } from './render.js';
import { esc, jsonText, writeControl } from './safe.js';
import { TRUST_OPTIONS, trustOptionsOf } from './trust-flags.js';

/** Targets checked at once by default: enough to hide latency, few enough not to look like a scan. */
const DEFAULT_CONCURRENCY = 4;
/** Upper bound of --concurrency: each check holds a socket and a handshake's worth of memory. */
const MAX_CONCURRENCY = 64;
/** Targets read from a file or stdin at most: a list of a million lines is a mistake, not a run. */
const MAX_TARGETS = 10_000;

export const CHECK = {
  name: 'check',
  synopsis: 'TARGET... [options]',
  about:
    'Diagnoses the TLS certificate of each target and names the fix. A target is a URL\n(https://host[:port]/), host or host:port; - reads targets from standard input.',
  args: { min: 0, max: Number.MAX_SAFE_INTEGER, name: 'a target' },
  options: {
    'server-name': {
      type: 'string',
      value: 'NAME',
      help: "verify NAME (and send it as SNI) instead of the target's host",
    },
    'connect-to': {
      type: 'string',
      value: 'H:P',
      help: "connect to H:P instead; still verify the target's host (or NAME)",
    },
    ...TRUST_OPTIONS,
    ...CLIENT_CERT_OPTIONS,
    ...PROXY_OPTIONS,
    // 3650: ten years, longer than any certificate a public CA issues.
    'warn-days': {
      type: 'number',
      value: 'N',
      min: 0,
      max: 3650,
      help: `warn when a certificate expires within N days (default ${DEFAULT_WARN_DAYS})`,
    },
    'no-aia': { type: 'boolean', help: 'do not fetch a missing intermediate from its AIA caIssuers URL' },
    revocation: {
      type: 'string',
      value: 'MODE',
      choices: ['off', 'soft', 'hard'],
      help: 'soft (default: check a stapled OCSP response; must-staple enforced),\nhard (a good stapled status is required), off',
    },
    // 10 minutes: past that a handshake is not slow, it is stuck.
    timeout: {
      type: 'number',
      value: 'MS',
      min: 1,
      max: 600_000,
      help: 'TCP + TLS handshake limit per target (default 10000)',
    },
    concurrency: {
      type: 'number',
      value: 'N',
      integer: true,
      min: 1,
      max: MAX_CONCURRENCY,
      help: `targets checked at once (default ${DEFAULT_CONCURRENCY})`,
    },
    targets: {
      type: 'string',
      short: 'f',
      alias: ['file'],
      value: 'FILE',
      multiple: true,
      help: 'read targets from FILE, one per line (# comments; - for stdin)',
    },
    json: { type: 'boolean', help: 'print the reports as JSON (schema/check-report.schema.json)' },
    verbose: { type: 'boolean', short: 'v', help: 'print the full report for healthy endpoints too' },
  },
  footer:
    'exit codes: 0 all verified (warnings allowed), 1 a verification problem,\n            2 a usage or connection error',
} as const satisfies CommandSpec;

export interface CheckIo extends Io {
  /** Where `-` reads targets from; default process.stdin. */
  stdin?: NodeJS.ReadableStream;
}

interface Flags {
  targets: string[];
  files: string[];
  stdin: boolean;
  serverName?: string;
  connectTo?: string;
  cert?: ClientCertOption;
  proxy: ReturnType<typeof proxyOptionsOf>;
  ca: string[];
  trust: ResolveTrustOptions;
  warnDays: number;
  aia: boolean;
  revocation: 'off' | 'soft' | 'hard';
  timeout: number;
  concurrency: number;
  json: boolean;
  verbose: boolean;
  help: boolean;
  /** How the anchors were chosen, for the report of a failure (set once trust is resolved). */
  trustDetail?: string;
}

function flagsOf(argv: string[], env: NodeJS.ProcessEnv): Flags {
  const { values: v, args, help } = parseCommand(CHECK, argv);
  return {
    targets: args.filter((a) => a !== '-'),
    files: v.targets.filter((f) => f !== '-'),
    stdin: args.includes('-') || v.targets.includes('-'),
    ...(v['server-name'] !== undefined ? { serverName: v['server-name'] } : {}),
    ...(v['connect-to'] !== undefined ? { connectTo: v['connect-to'] } : {}),
    ca: v.ca,
    ...certOf(v, env),
    proxy: proxyOptionsOf(v),
    trust: trustOptionsOf(v, env),
    warnDays: v['warn-days'] ?? DEFAULT_WARN_DAYS,
    aia: v['no-aia'] !== true,
    revocation: (v.revocation ?? 'soft') as Flags['revocation'],
    timeout: v.timeout ?? 10_000,
    concurrency: v.concurrency ?? DEFAULT_CONCURRENCY,
    json: v.json === true,
    verbose: v.verbose === true,
    help,
  };
}

/** --cert & co. as the library's option; a bad combination is a usage error naming the flags. */
function certOf(v: Parameters<typeof clientCertOf>[0], env: NodeJS.ProcessEnv): { cert?: ClientCertOption } {
  try {
    const cert = clientCertOf(v, env);
    return cert ? { cert } : {};
  } catch (err) {
    if (err instanceof CertainlyError) throw new UsageError(err.message);
    throw err;
  }
}

/** Lines of a target list: trimmed, blank lines and # comments skipped. */
export function targetLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l !== '');
}

/** Runs a library parser on a flag's value; its error becomes a usage error naming the flag. */
function asUsage(flag: string | undefined, parse: () => unknown): void {
  try {
    parse();
  } catch (err) {
    if (err instanceof CertainlyError)
      throw new UsageError(flag === undefined ? err.message : `${flag}: ${err.message}`);
    throw err;
  }
}

/** A target that can be dialled and verified, or a UsageError saying why not (a..b, 300 characters). */
function validTarget(target: string): void {
  asUsage(undefined, () => parseReferenceName(parseTarget(target).host));
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function collectTargets(f: Flags, io: CheckIo): Promise<string[]> {
  const out = [...f.targets];
  for (const file of f.files) {
    let text: string;
    try {
      text = readBounded(file, FILE_LIMITS.list).toString('utf8');
    } catch (err) {
      throw new UsageError(`--file ${file}: it ${describeReadError(err)}`);
    }
    out.push(...targetLines(text));
  }
  if (f.stdin) out.push(...targetLines(await readAll(io.stdin ?? process.stdin)));
  if (out.length === 0) throw new UsageError('no target given');
  if (out.length > MAX_TARGETS) throw new UsageError(`${out.length} targets; at most ${MAX_TARGETS} per run`);
  for (const t of out) validTarget(t);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rendering

type Style = ReturnType<typeof styler>;

const MARK = { error: '✗', warning: '!', info: 'i' } as const;

function ms(n: number | null | undefined): string {
  return n === null || n === undefined ? '?' : `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;
}

/** "TCP 1.2 ms, TLS 4.0 ms", leaving out what was not measured (a proxy's tunnel, a failed handshake). */
function timings(c: { tcpMs: number | null; tlsMs: number | null }): string {
  const parts: string[] = [];
  if (c.tcpMs !== null && c.tcpMs !== undefined) parts.push(`TCP ${ms(c.tcpMs)}`);
  if (c.tlsMs !== null && c.tlsMs !== undefined) parts.push(`TLS ${ms(c.tlsMs)}`);
  return parts.length > 0 ? parts.join(', ') : 'no connection';
}

function hexColons(hex: string): string {
  return (hex.match(/../g) ?? []).join(':').toUpperCase();
}

function relDays(days: number): string {
  if (days < 0) return `expired ${-days} day${days === -1 ? '' : 's'} ago`;
  return `${days} day${days === 1 ? '' : 's'} left`;
}

/** The command line that applies a --server-name suggestion: this target, these trust flags. */
function tryCommand(r: CheckReport, flags: Flags): (flag: string) => string {
  return (flag) => {
    const parts = ['certainly check', r.target, flag];
    for (const ca of flags.ca) parts.push('--ca', ca);
    if (flags.connectTo) parts.push('--connect-to', flags.connectTo);
    return parts.join(' ');
  };
}

/** A finding: its code and sentence, and the fix once, in command-line syntax. */
function findingLines(r: CheckReport, f: Finding, s: Style, flags: Flags): string[] {
  const color = f.severity === 'error' ? s.red : f.severity === 'warning' ? s.yellow : s.dim;
  const lines = [
    `  ${color(`${MARK[f.severity]} ${f.code}`)}  ${esc(f.message)}`,
    `      ${s.bold('fix:')} ${esc(cliHint(f.fix, tryCommand(r, flags)))}`,
  ];
  if (f.verifyCode === 'CERT_EXPIRED' || f.verifyCode === 'CERT_NOT_YET_VALID') {
    lines.push(`      this machine's clock: ${r.checkedAt}`);
  }
  return lines;
}

/** The server certificate's revocation status in a line: what was checked and how. */
function revocationLine(r: CheckReport): string | undefined {
  const rev = r.revocation;
  if (!rev) return undefined;
  if (rev.mode === 'off') return 'not checked (--revocation off)';
  const leaf = rev.certificates[0];
  const must = rev.mustStaple ? ', must-staple' : '';
  if (!leaf || leaf.status === 'unchecked')
    return `not checked: ${rev.stapled === false ? 'the server stapled no OCSP response' : 'no source'}${must}`;
  const from =
    leaf.source === 'staple'
      ? `stapled OCSP response from ${leaf.responder ?? 'the issuer'}`
      : (leaf.source ?? '');
  const when = leaf.producedAt ? `, produced ${leaf.producedAt}` : '';
  const next = leaf.nextUpdate ? `, next update ${leaf.nextUpdate}` : '';
  const why = leaf.status === 'unknown' && leaf.reasons ? `: ${leaf.reasons.join('; ')}` : '';
  return `${leaf.status} (${from}${when}${next}${must})${why}`;
}

function summaryLine(r: CheckReport, s: Style): string {
  const leaf = r.chain[0];
  if (r.status === 'unreachable') return `${s.red('✗')} ${s.bold(r.url)}  ${s.red('could not be checked')}`;
  if (r.status === 'error')
    return `${s.red('✗')} ${s.bold(r.url)}  ${s.red('certificate verification failed')}`;
  const bits = [
    r.connection?.protocol ?? '',
    r.connection && (r.connection.tcpMs !== null || r.connection.tlsMs !== null)
      ? ms((r.connection.tcpMs ?? 0) + (r.connection.tlsMs ?? 0))
      : '',
  ];
  if (leaf) bits.push(`expires ${leaf.notAfter.slice(0, 10)} (${relDays(leaf.daysLeft)})`);
  if (r.anchor) bits.push(`via "${esc(r.anchor.subject)}" [${r.anchor.class}]`);
  const mark = r.status === 'warning' ? s.yellow('!') : s.green('✓');
  return `${mark} ${s.bold(r.url)}  verified for ${r.name}  ${s.dim(`(${bits.filter(Boolean).join(', ')})`)}`;
}

/** The whole report, for a broken endpoint (or --verbose). */
function fullReport(r: CheckReport, s: Style, flags: Flags): string[] {
  const lines = [summaryLine(r, s)];
  if (r.dns) {
    const answers = r.dns.addresses.map((a) => a.address).join(', ') || `none (${r.dns.error ?? 'error'})`;
    lines.push(`  dns         ${r.dns.host} -> ${answers} ${s.dim(`(${ms(r.dns.ms)})`)}`);
  }
  if (r.connection) {
    const c = r.connection;
    lines.push(
      `  connection  ${c.address ?? '?'}  ${timings(c)}${c.protocol ? `  ${c.protocol} ${c.cipher ?? ''}` : ''}${c.alpn ? `, ALPN ${c.alpn}` : ''}`,
    );
    lines.push(`  name        ${r.name}  (SNI ${c.sni ?? 'none: IP literal'})`);
  }
  if (r.chain.length > 0) {
    lines.push(`  chain as sent${r.chainSource === 'node' ? ' (as node:tls exposes it)' : ''}:`);
    for (const c of r.chain) {
      lines.push(`    #${c.position} ${esc(c.subject) || '(empty subject)'}`);
      const names =
        c.subjectAltNames.length === 0
          ? '(no subjectAltName)'
          : c.subjectAltNames.slice(0, 6).map(esc).join(', ') +
            (c.subjectAltNames.length > 6 ? `, … (${c.subjectAltNames.length} in all)` : '');
      lines.push(`       names    ${names}`);
      lines.push(`       issuer   ${esc(c.issuer) || '(empty)'}`);
      lines.push(
        `       valid    ${c.notBefore.slice(0, 19)}Z to ${c.notAfter.slice(0, 19)}Z (${relDays(c.daysLeft)})`,
      );
      lines.push(`       key      ${c.key}, signed with ${c.signatureAlgorithm}${c.isCA ? ', CA' : ''}`);
      lines.push(`       sha256   ${hexColons(c.fingerprintSha256)}`);
      lines.push(`       pin      ${c.pin}`);
      if (c.aia) lines.push(`       issuer at ${c.aia.map(esc).join(', ')}`);
    }
  }
  if (r.path) {
    lines.push(
      `  path        ${r.path.map((c) => (c.origin === 'sent' ? `#${c.position}` : c.origin === 'aia' ? 'AIA' : 'trust store')).join(' -> ')}`,
    );
  }
  if (r.anchor) lines.push(`  anchor      ${esc(r.anchor.description)}`);
  else if (flags.trustDetail) lines.push(`  trust       ${flags.trustDetail}`);
  const rev = revocationLine(r);
  if (rev) lines.push(`  revocation  ${esc(rev)}`);
  if (r.identity) {
    lines.push(
      `  identity    ${r.identity.matched ? `matches ${esc(r.identity.name)}` : `${r.identity.code}: ${esc(String(r.identity.message))}`}`,
    );
  }
  if (r.openssl) {
    lines.push(
      `  openssl     ${r.openssl.authorized ? 'accepts the chain' : `refuses the chain: ${esc(String(r.openssl.error))}`} ${s.dim('(path only; same anchors)')}`,
    );
  }
  if (r.aia) {
    for (const f of r.aia.fetches) {
      lines.push(
        `  aia         ${esc(f.url)}: ${f.ok ? `found "${esc(String(f.issuer?.subject))}"` : `failed: ${esc(String(f.error))}`} ${s.dim(`(${ms(f.ms)})`)}`,
      );
    }
  }
  if (r.findings.length > 0) {
    lines.push('  findings:');
    for (const f of r.findings) lines.push(...findingLines(r, f, s, flags));
  }
  return lines;
}

function render(r: CheckReport, s: Style, flags: Flags): string {
  if (flags.verbose || r.status === 'error' || r.status === 'unreachable')
    return `${fullReport(r, s, flags).join('\n')}\n`;
  const lines = [summaryLine(r, s)];
  for (const f of r.findings) if (f.severity !== 'info') lines.push(...findingLines(r, f, s, flags));
  return `${lines.join('\n')}\n`;
}

/** A one-line progress bar on a terminal: [=====     ] 3/10 host. */
class Progress {
  readonly #stream: NodeJS.WritableStream & { columns?: number };
  readonly #total: number;
  #done = 0;
  #shown = false;
  constructor(stream: NodeJS.WritableStream, total: number) {
    this.#stream = stream;
    this.#total = total;
  }
  draw(label: string): void {
    const width = 24;
    const filled = Math.round((this.#done / this.#total) * width);
    const bar = `[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${this.#done}/${this.#total} `;
    const room = Math.max(0, (this.#stream.columns ?? 80) - bar.length - 1);
    writeControl(this.#stream, `\r\x1b[2K${bar}${esc(label).slice(0, room)}`);
    this.#shown = true;
  }
  tick(label: string): void {
    this.#done++;
    this.draw(label);
  }
  clear(): void {
    if (this.#shown) writeControl(this.#stream, '\r\x1b[2K');
    this.#shown = false;
  }
}

// ---------------------------------------------------------------------------------------------

export async function runCheck(argv: string[], io: CheckIo): Promise<number> {
  let flags: Flags;
  let targets: string[];
  let trust: ResolvedTrust;
  try {
    flags = flagsOf(argv, io.env);
    if (flags.help) {
      io.stdout.write(helpText(CHECK));
      return 0;
    }
    targets = await collectTargets(flags, io);
    if (flags.serverName !== undefined) asUsage('--server-name', () => parseReferenceName(flags.serverName!));
    if (flags.connectTo !== undefined) asUsage('--connect-to', () => parseConnectTo(flags.connectTo!));
    // A bad proxy URL or an unreadable client certificate stops the run before any target.
    proxyChooser({ ...flags.proxy, env: io.env }, { eager: true });
    if (flags.cert) clientTlsOptions(flags.cert);
    trust = resolveTrust(flags.trust);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(CHECK, err, io.stderr);
    const msg = err instanceof Error ? err.message : String(err);
    const hint = err instanceof CertainlyError && err.hint ? `\n  fix: ${err.hint}` : '';
    io.stderr.write(`certainly check: ${msg}${hint}\n`);
    return 2;
  }
  if (trust.insecure) {
    io.stderr.write('certainly check: no trust anchors in effect; nothing can be verified\n');
    return 2;
  }
  const store = trust.store;
  flags.trustDetail = trust.explanation.detail;
  // The OS store a failed chain is compared with: the same one resolveTrust reads (--system-root,
  // else CERTAINLY_SYSTEM_ROOT unless --no-env).
  const systemRoot = systemRootOf(flags.trust);
  const s = styler(io.stdout, io.env);
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  const progress = tty && targets.length > 1 ? new Progress(io.stderr, targets.length) : undefined;

  const reports: (CheckReport | undefined)[] = new Array(targets.length);
  let printed = 0;
  const printReady = () => {
    while (printed < targets.length && reports[printed]) {
      if (!flags.json) {
        progress?.clear();
        io.stdout.write(render(reports[printed]!, s, flags));
      }
      printed++;
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      const target = targets[i]!;
      progress?.draw(target);
      reports[i] = await diagnose(target, {
        trust: store,
        trustExplanation: trust.explanation,
        ...(flags.serverName !== undefined ? { serverName: flags.serverName } : {}),
        ...(flags.connectTo !== undefined ? { connectTo: flags.connectTo } : {}),
        ...(flags.cert ? { cert: flags.cert } : {}),
        ...flags.proxy,
        warnDays: flags.warnDays,
        aia: flags.aia,
        revocation: flags.revocation,
        timeout: flags.timeout,
        ...(systemRoot ? { systemRoot: systemRoot.path } : {}),
      });
      progress?.tick(target);
      printReady();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(flags.concurrency, targets.length) }, worker));
  } finally {
    progress?.clear();
  }
  const done = reports as CheckReport[];
  const exitCode = Math.max(0, ...done.map((r) => r.exitCode));
  if (flags.json) {
    const out = {
      schema: 'certainly-check/1',
      exitCode,
      trust: {
        decidedBy: trust.explanation.decidedBy,
        detail: trust.explanation.detail,
        anchors: store.size,
      },
      reports: done,
    };
    io.stdout.write(jsonText(out));
  } else if (targets.length > 1) {
    const counts = { ok: 0, warning: 0, error: 0, unreachable: 0 };
    for (const r of done) counts[r.status]++;
    io.stdout.write(
      s.dim(
        `${targets.length} checked: ${counts.ok} ok, ${counts.warning} with warnings, ${counts.error} failing, ${counts.unreachable} unreachable\n`,
      ),
    );
  }
  return exitCode;
}
