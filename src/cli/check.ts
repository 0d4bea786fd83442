/**
 * `certainly check TARGET...`: diagnose endpoints and say what to fix, one or a fleet.
 *
 * A target is a URL (https://host[:port]/), `host` or `host:port`; `--targets FILE` reads them
 * from a file (one per line; blank lines and # comments skipped) and `-` from standard input.
 * Files are read as streams, twice: first every target is validated before anything is dialled
 * (a typo is a usage error naming its line, not a half-done run), then they are checked.
 * Standard input is read once, each line validated as it comes. Memory stays bounded for any
 * number of targets: reports are written as they complete (in input order, with a bounded
 * window of targets started ahead), and only the worst rows are kept for the closing table.
 *
 * Output: short for a healthy endpoint (one line, plus its warnings), complete for a broken one
 * (connection, chain as sent, verdicts, every finding with its fix); with several targets a
 * closing table of the worst (failures, unreachable, warnings; fewest days to expiry first) and
 * the counts. --json prints NDJSON: one report per line (schema/check-report.schema.json). A
 * progress line is drawn on stderr when it is a terminal and several targets are checked;
 * colour follows NO_COLOR (render.ts styler).
 *
 * Exit codes: the worst target decides: 0 every endpoint verified (warnings allowed, unless
 * --fail-on-warning: then 1); 1 a verification problem; 2 a usage or configuration error, or
 * an endpoint that could not be reached.
 */

import { closeSync, createReadStream, constants as fsConstants, fstatSync, openSync } from 'node:fs';
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
import { describeReadError, fileKind } from '../trust/load.js';
import {
  type ResolvedTrust,
  type ResolveTrustOptions,
  resolveTrust,
  systemRootOf,
} from '../trust/resolve.js';
import { parseReferenceName } from '../verify/identity.js';
import { type CommandSpec, helpText, parseCommand, UsageError, usageFailure } from './args.js';
import {
  CLIENT_CERT_OPTIONS,
  clientCertOf,
  FAMILY_OPTIONS,
  familyOf,
  PROXY_OPTIONS,
  proxyOptionsOf,
} from './client-flags.js';
import { cliHint, type Io, styler } from './render.js';
import { esc, writeControl } from './safe.js';
import { TRUST_OPTIONS, trustOptionsOf } from './trust-flags.js';

/**
 * Targets checked at once by default. Measured (bench/check-fleet.ts, 1,000 loopback endpoints
 * of five kinds, README): see DEFAULT_CONCURRENCY's note in docs/decisions.md. High enough to
 * hide handshake and timeout latency, low enough that a run does not look like a scan.
 */
const DEFAULT_CONCURRENCY = 16;
/** Upper bound of --concurrency: each check holds a socket and a handshake's worth of memory. */
const MAX_CONCURRENCY = 256;
/** Longest line of a targets file or stdin: a URL is far shorter; a longer line is a mistake. */
const MAX_LINE = 4096;
/** Worst rows the closing table keeps (memory stays bounded however many targets). */
const TABLE_ROWS = 50;

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
    ...FAMILY_OPTIONS,
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
    'ocsp-online': {
      type: 'boolean',
      help: "when the server staples no OCSP response, ask the responder named in\nits certificate (a private or loopback one only when the server's own\naddress is one)",
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
    json: {
      type: 'boolean',
      help: 'one report per line as it completes, in input order (NDJSON;\nschema/check-report.schema.json)',
    },
    http2: {
      type: 'boolean',
      help: 'offer HTTP/2 as get --http2 does (ALPN h2, http/1.1): for servers that\nrefuse HTTP/1.1; the report shows what the server chose',
    },
    'fail-on-warning': { type: 'boolean', help: 'exit 1 when an endpoint verifies but has a warning' },
    verbose: { type: 'boolean', short: 'v', help: 'print the full report for healthy endpoints too' },
  },
  footer:
    'exit codes: the worst target decides: 0 all verified (warnings allowed,\n            unless --fail-on-warning), 1 a verification problem,\n            2 a usage error or an endpoint that could not be reached',
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
  /** -4 / -6. */
  family?: 4 | 6;
  cert?: ClientCertOption;
  proxy: ReturnType<typeof proxyOptionsOf>;
  ca: string[];
  trust: ResolveTrustOptions;
  warnDays: number;
  aia: boolean;
  revocation: 'off' | 'soft' | 'hard';
  /** --ocsp-online: ask the responder when nothing is stapled. */
  ocspOnline: boolean;
  timeout: number;
  concurrency: number;
  json: boolean;
  failOnWarning: boolean;
  verbose: boolean;
  /** --http2: ALPN h2, http/1.1 (as a request with http2). */
  http2: boolean;
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
    ...familyOf(v),
    ca: v.ca,
    ...certOf(v, env),
    proxy: proxyOptionsOf(v),
    trust: trustOptionsOf(v, env),
    warnDays: v['warn-days'] ?? DEFAULT_WARN_DAYS,
    aia: v['no-aia'] !== true,
    revocation: (v.revocation ?? 'soft') as Flags['revocation'],
    ocspOnline: onlineOf(v['ocsp-online'] === true, v.revocation),
    timeout: v.timeout ?? 10_000,
    concurrency: v.concurrency ?? DEFAULT_CONCURRENCY,
    json: v.json === true,
    failOnWarning: v['fail-on-warning'] === true,
    verbose: v.verbose === true,
    http2: v.http2 === true,
    help,
  };
}

/** --ocsp-online, which --revocation off contradicts. */
function onlineOf(online: boolean, revocation: string | undefined): boolean {
  if (online && revocation === 'off')
    throw new UsageError('--ocsp-online and --revocation off contradict each other');
  return online;
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

/**
 * The lines of a stream, one at a time, in constant memory: a line longer than MAX_LINE is a
 * usage error naming where it is (a binary file given by mistake), not an unbounded buffer.
 */
async function* streamLines(stream: NodeJS.ReadableStream, where: string): AsyncGenerator<string> {
  let pending = '';
  let lineNo = 0;
  const decoder = new TextDecoder();
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      lineNo++;
      yield pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
    if (pending.length > MAX_LINE)
      throw new UsageError(`${where} line ${lineNo + 1} is longer than ${MAX_LINE} characters`);
  }
  pending += decoder.decode();
  if (pending !== '') yield pending;
}

/**
 * The targets of a stream of lines (blank lines and # comments skipped), each checked as it is
 * read; a bad one is a UsageError naming `where` and its line.
 */
async function* checkedTargets(stream: NodeJS.ReadableStream, where: string): AsyncGenerator<string> {
  let lineNo = 0;
  for await (const line of streamLines(stream, where)) {
    lineNo++;
    const t = targetOf(line);
    if (t === undefined) continue;
    try {
      validTarget(t);
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError(`${where} line ${lineNo}: ${err.message}`);
      throw err;
    }
    yield t;
  }
}

/** A target line, or undefined for a blank line or a comment. */
function targetOf(line: string): string | undefined {
  const t = line.replace(/(^|\s)#.*$/, '').trim();
  return t === '' ? undefined : t;
}

/**
 * Opens a targets file for streaming: opened non-blocking and checked with fstat on what was
 * opened, as every file certainly reads (trust/load.ts readBounded), so a FIFO or a device is a
 * usage error at once instead of a wait for a writer or an endless read (`-` reads a pipe). No
 * size cap: the file is streamed a line at a time, each line bounded.
 */
function openTargets(file: string): NodeJS.ReadableStream {
  let fd: number;
  try {
    fd = openSync(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw new UsageError(`--targets ${file}: it ${describeReadError(err)}`);
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    const kind = fileKind(st);
    throw new UsageError(
      `--targets ${file}: it is ${kind === 'not a regular file' ? 'not a regular file' : `${kind}, not a regular file`} (use - to read a pipe from standard input)`,
    );
  }
  return createReadStream(file, { fd });
}

/**
 * Validates the targets of the arguments and files before anything is dialled (a typo on line
 * 90,000 is a usage error now, not after an hour), reading each file as a stream; returns how
 * many there are (for the progress line), or undefined when stdin is read too.
 */
async function validateTargets(f: Flags): Promise<number | undefined> {
  let n = 0;
  for (const t of f.targets) {
    validTarget(t);
    n++;
  }
  for (const file of f.files) {
    for await (const _ of checkedTargets(openTargets(file), file)) n++;
  }
  if (n === 0 && !f.stdin) throw new UsageError('no target given');
  return f.stdin ? undefined : n;
}

/** Every target, streamed: the arguments, each file again, then stdin (validated as read). */
async function* targetStream(f: Flags, io: CheckIo): AsyncGenerator<string> {
  yield* f.targets;
  for (const file of f.files) {
    for await (const line of streamLines(openTargets(file), file)) {
      const t = targetOf(line);
      if (t !== undefined) yield t;
    }
  }
  if (f.stdin) yield* checkedTargets(io.stdin ?? process.stdin, 'standard input');
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
    if (flags.family) parts.push(`-${flags.family}`);
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
      : leaf.source === 'online'
        ? `OCSP response${leaf.responder ? ` from ${leaf.responder}` : ''}, asked of ${leaf.url ?? 'no responder'}${leaf.cached ? ', cached' : ''}`
        : (leaf.source ?? '');
  const when = leaf.producedAt ? `, produced ${leaf.producedAt}` : '';
  const next = leaf.nextUpdate ? `, next update ${leaf.nextUpdate}` : '';
  const why = leaf.status === 'unknown' && leaf.reasons ? `: ${leaf.reasons.join('; ')}` : '';
  return `${leaf.status} (${from}${when}${next}${must})${why}`;
}

function summaryLine(r: CheckReport, s: Style): string {
  const leaf = r.chain[0];
  if (r.status === 'unreachable') return `${s.red('✗')} ${s.bold(r.url)}  ${s.red('could not be checked')}`;
  if (r.status === 'error' && r.verification.ok && r.findings.some((f) => f.code.startsWith('CLIENT_CERT_')))
    return `${s.red('✗')} ${s.bold(r.url)}  verified for ${r.name}, ${s.red('but the server refuses this client')}`;
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

/** A one-line progress bar on a terminal: [=====     ] 3/10 host (no bar when the total is unknown). */
class Progress {
  readonly #stream: NodeJS.WritableStream & { columns?: number };
  readonly #total: number | undefined;
  #done = 0;
  #shown = false;
  #last = 0;
  constructor(stream: NodeJS.WritableStream, total: number | undefined) {
    this.#stream = stream;
    this.#total = total;
  }
  draw(label: string, force = false): void {
    // A terminal is slower than a fleet of loopback checks: redraw at most every 50 ms.
    const now = Date.now();
    if (!force && now - this.#last < 50) return;
    this.#last = now;
    const width = 24;
    const bar =
      this.#total === undefined
        ? `${this.#done} checked `
        : `[${'='.repeat(Math.round((this.#done / Math.max(1, this.#total)) * width)).padEnd(width)}] ${this.#done}/${this.#total} `;
    const room = Math.max(0, (this.#stream.columns ?? 80) - bar.length - 1);
    writeControl(this.#stream, `\r\x1b[2K${bar}${esc(label).slice(0, room)}`);
    this.#shown = true;
  }
  tick(label: string): void {
    this.#done++;
    this.draw(label, this.#done === this.#total);
  }
  clear(): void {
    if (this.#shown) writeControl(this.#stream, '\r\x1b[2K');
    this.#shown = false;
  }
}

/** Order of the closing table: failures, then the unreachable, warnings, healthy ones. */
const STATUS_RANK: Record<CheckReport['status'], number> = { error: 0, unreachable: 1, warning: 2, ok: 3 };

interface Row {
  status: CheckReport['status'];
  days: number | undefined;
  url: string;
  what: string;
}

function rowOf(r: CheckReport): Row {
  const first = r.findings.find((f) => f.severity !== 'info');
  return {
    status: r.status,
    days: r.chain[0]?.daysLeft,
    url: r.url,
    what: first ? first.code : r.status === 'ok' ? `verified for ${r.name}` : '',
  };
}

function rowBefore(a: Row, b: Row): boolean {
  const d = STATUS_RANK[a.status] - STATUS_RANK[b.status];
  if (d !== 0) return d < 0;
  return (a.days ?? Number.POSITIVE_INFINITY) < (b.days ?? Number.POSITIVE_INFINITY);
}

/** The worst TABLE_ROWS rows seen, in order (sorted insertion: bounded whatever the count). */
class WorstRows {
  readonly rows: Row[] = [];
  more = 0;
  add(row: Row): void {
    let i = this.rows.length;
    while (i > 0 && rowBefore(row, this.rows[i - 1]!)) i--;
    if (i >= TABLE_ROWS) {
      this.more++;
      return;
    }
    this.rows.splice(i, 0, row);
    if (this.rows.length > TABLE_ROWS) {
      this.rows.pop();
      this.more++;
    }
  }
}

function tableText(t: WorstRows, s: Style): string {
  const mark = { error: s.red('✗'), unreachable: s.red('✗'), warning: s.yellow('!'), ok: s.green('✓') };
  const urlWidth = Math.min(60, Math.max(6, ...t.rows.map((r) => r.url.length)));
  const lines = [`  ${'status'.padEnd(12)} ${'days'.padStart(5)}  ${'target'.padEnd(urlWidth)}  finding`];
  for (const r of t.rows) {
    const days = r.days === undefined ? '-' : String(r.days);
    lines.push(
      `${mark[r.status]} ${r.status.padEnd(12)} ${days.padStart(5)}  ${esc(r.url).padEnd(urlWidth)}  ${esc(r.what)}`,
    );
  }
  if (t.more > 0) lines.push(s.dim(`  … and ${t.more} more, each no worse than the last row`));
  return `${lines.join('\n')}\n`;
}

/** JSON on one line (NDJSON), escaped as jsonText escapes. */
function jsonLine(value: unknown): string {
  return `${JSON.stringify(value).replace(/[\x7f-\x9f\p{Cf}\u2028\u2029]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

// ---------------------------------------------------------------------------------------------

export async function runCheck(argv: string[], io: CheckIo): Promise<number> {
  let flags: Flags;
  let total: number | undefined;
  let trust: ResolvedTrust;
  try {
    flags = flagsOf(argv, io.env);
    if (flags.help) {
      io.stdout.write(helpText(CHECK));
      return 0;
    }
    total = await validateTargets(flags);
    if (flags.serverName !== undefined) asUsage('--server-name', () => parseReferenceName(flags.serverName!));
    if (flags.connectTo !== undefined) asUsage('--connect-to', () => parseConnectTo(flags.connectTo!));
    // A bad proxy URL or an unreadable client certificate stops the run before any target.
    proxyChooser({ ...flags.proxy, env: io.env }, { eager: true });
    if (flags.cert) clientTlsOptions(flags.cert);
    trust = resolveTrust(flags.trust);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(CHECK, err, io.stderr);
    const msg = err instanceof Error ? err.message : String(err);
    const hint = err instanceof CertainlyError && err.hint ? `\n  fix: ${cliHint(err.hint)}` : '';
    io.stderr.write(`certainly check: ${esc(msg)}${esc(hint)}\n`);
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
  const many = total === undefined || total > 1;
  const progress = tty && many ? new Progress(io.stderr, total) : undefined;

  // Reports are written in input order as they complete. At most `window` targets are started
  // ahead of the first one not yet written, so memory stays bounded for any number of targets
  // (a slow target holds the others back instead of letting finished reports pile up).
  const window = Math.max(64, flags.concurrency * 4);
  const done = new Map<number, CheckReport>();
  let written = 0;
  let started = 0;
  let waiting: (() => void)[] = [];
  const counts = { ok: 0, warning: 0, error: 0, unreachable: 0 };
  let exitCode = 0;
  const table = new WorstRows();
  const write = () => {
    while (done.has(written)) {
      const r = done.get(written)!;
      done.delete(written);
      written++;
      counts[r.status]++;
      exitCode = Math.max(exitCode, r.exitCode);
      if (flags.json) io.stdout.write(jsonLine(r));
      else {
        progress?.clear();
        io.stdout.write(render(r, s, flags));
        if (many) table.add(rowOf(r));
      }
    }
    const w = waiting;
    waiting = [];
    for (const resume of w) resume();
  };
  const source = targetStream(flags, io);
  let stop: unknown;
  const worker = async () => {
    for (;;) {
      while (started - written >= window) await new Promise<void>((r) => waiting.push(r));
      if (stop !== undefined) return;
      let next: IteratorResult<string>;
      try {
        next = await source.next();
      } catch (err) {
        stop ??= err;
        return;
      }
      if (next.done) return;
      const i = started++;
      const target = next.value;
      progress?.draw(target);
      done.set(
        i,
        await diagnose(target, {
          trust: store,
          trustExplanation: trust.explanation,
          ...(flags.serverName !== undefined ? { serverName: flags.serverName } : {}),
          ...(flags.connectTo !== undefined ? { connectTo: flags.connectTo } : {}),
          ...(flags.family ? { family: flags.family } : {}),
          ...(flags.cert ? { cert: flags.cert } : {}),
          ...flags.proxy,
          warnDays: flags.warnDays,
          aia: flags.aia,
          revocation:
            flags.ocspOnline && flags.revocation !== 'off'
              ? { mode: flags.revocation, online: true }
              : flags.revocation,
          timeout: flags.timeout,
          // get --http2's ALPN (client/http2.ts H2_ALPN, not imported: it loads undici).
          ...(flags.http2 ? { alpn: ['h2', 'http/1.1'] } : {}),
          ...(systemRoot ? { systemRoot: systemRoot.path } : {}),
        }),
      );
      progress?.tick(target);
      write();
    }
  };
  try {
    await Promise.all(Array.from({ length: flags.concurrency }, worker));
  } finally {
    progress?.clear();
  }
  if (stop !== undefined) {
    if (stop instanceof UsageError) return usageFailure(CHECK, stop, io.stderr);
    throw stop;
  }
  if (started === 0) return usageFailure(CHECK, new UsageError('no target given'), io.stderr);
  if (!flags.json && many) {
    io.stdout.write(`\n${tableText(table, s)}`);
    io.stdout.write(
      s.dim(
        `${started} checked: ${counts.ok} ok, ${counts.warning} with warnings, ${counts.error} failing, ${counts.unreachable} unreachable\n`,
      ),
    );
  }
  if (exitCode === 0 && flags.failOnWarning && counts.warning > 0) return 1;
  return exitCode;
}
