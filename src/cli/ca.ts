/**
 * `certainly ca`: which trust anchors are in effect, where each came from, and why.
 *
 *   certainly ca info            sources in effect and why (code, env, defaults), with counts
 *   certainly ca list            every anchor [--source S] [--json]
 *   certainly ca find TEXT       anchors whose subject, fingerprint, SPKI pin or serial match
 *   certainly ca pem             the effective bundle as PEM [--source S] (like `python -m certifi`)
 *   certainly ca pem --server H:P  the certificates that server sends, as PEM, not verified (to
 *                                save a self-signed certificate and trust it with --ca)
 *   certainly ca explain URL     which anchor verifies that server, and from which source
 *
 * Options (any subcommand): --ca PATH (repeatable; replaces the defaults, as `verify: PATH`
 * does), --no-system, --no-bundled, --no-env (ignore the CA environment variables),
 * --system-root DIR (read a Linux-layout store under DIR, e.g. a container image), --json.
 *
 * Exit codes: 0 done; 1 nothing found (find, explain without a verified anchor); 2 usage or
 * configuration error. `argv` is what follows `ca` on the command line.
 */
import { CertainlyError } from '../errors.js';
import { type AnchorClass, classifyAnchor, describeAnchor } from '../trust/classify.js';
import { type ResolvedTrust, type ResolveTrustOptions, resolveTrust } from '../trust/resolve.js';
import type { TrustStore } from '../trust/store.js';
import type { TrustAnchor } from '../trust/types.js';
import type { CertificateSummary } from '../x509/types.js';
import { type CommandSpec, helpText, parseCommand, UsageError, usageFailure, type Values } from './args.js';
import { CLIENT_CERT_OPTIONS, FAMILY_OPTIONS, familyOf, PROXY_OPTIONS } from './client-flags.js';
import { cliHint } from './render.js';
import { esc, jsonText, quote } from './safe.js';
import { TRUST_OPTIONS, trustOptionsOf } from './trust-flags.js';

/** What `ca explain` learns from a connection attempt (the connector provides it). */
export interface CaExplainResult {
  /** The chain as the server sent it. */
  chain: CertificateSummary[];
  /** The anchor that ended the verified path, when verification succeeded. */
  anchor?: TrustAnchor;
  /** Why verification failed, when it did. */
  error?: { code: string; message: string; hint?: string };
}

/** The certificates a server sends, as PEM, unverified (injected by main.ts; nothing is sent after the handshake). */
export type CaSentFn = (
  server: string,
  conn: CaConnection,
) => Promise<{ chain: { pem: string; subject: string; fingerprintSha256: string }[]; error?: Error }>;

/** Connects to `url` with `trust` and reports the chain and the anchor (injected by main.ts). */
export type CaExplainFn = (url: URL, trust: ResolvedTrust, conn: CaConnection) => Promise<CaExplainResult>;

/** How `ca explain` and `ca pem --server` connect: the flags `check` and `get` take too. */
export interface CaConnection {
  serverName?: string;
  connectTo?: string;
  /** -4 / -6. */
  family?: 4 | 6;
  proxy: Values<typeof PROXY_OPTIONS>;
  cert: Values<typeof CLIENT_CERT_OPTIONS>;
  env: NodeJS.ProcessEnv;
}

export interface CaIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** The connector, for `ca explain`; without it, explain says it is unavailable. */
  explain?: CaExplainFn;
  /** The handshake for `ca pem --server`. */
  sent?: CaSentFn;
}

export const CA = {
  name: 'ca',
  synopsis: 'COMMAND [ARG] [options]',
  about: `commands:
  info              which trust sources are in effect and why, with counts
  list              every trust anchor (--source S to filter, --json)
  find TEXT         anchors whose subject, fingerprint, SPKI pin or serial contain TEXT
  pem               the effective CA bundle as PEM (--source S to filter);
                    with --server H:P, the certificates that server sends (not verified)
  explain URL       which anchor verifies that server, and from which source`,
  args: { min: 0, max: Number.MAX_SAFE_INTEGER, name: 'a command (info, list, find, pem, explain)' },
  options: {
    ...TRUST_OPTIONS,
    source: {
      type: 'string',
      value: 'S',
      help: 'only anchors from sources starting with S (bundled, system, file:/x, env, …)',
    },
    'server-name': {
      type: 'string',
      value: 'NAME',
      help: "with explain and pem --server: verify NAME (and send it as SNI)\ninstead of the URL's host",
    },
    'connect-to': {
      type: 'string',
      value: 'H:P',
      help: "with explain and pem --server: connect to H:P instead; still verify the\nURL's host (or NAME)",
    },
    ...FAMILY_OPTIONS,
    ...PROXY_OPTIONS,
    ...CLIENT_CERT_OPTIONS,
    server: {
      type: 'string',
      value: 'H:P',
      help: 'with pem: print the certificates the server at H:P sends, unverified\n(save a self-signed one, check its fingerprint, then trust it with --ca)',
    },
    json: { type: 'boolean', help: 'machine-readable output (info, list, find)' },
  },
  footer:
    'exit codes: 0 done, 1 nothing found (find; explain without a verified anchor),\n            2 a usage or configuration error',
} as const satisfies CommandSpec;

interface Parsed {
  command?: string;
  args: string[];
  trust: ResolveTrustOptions;
  source?: string;
  server?: string;
  conn: CaConnection;
  json: boolean;
  help: boolean;
}

function parseArgs(argv: string[], env: NodeJS.ProcessEnv): Parsed {
  const rest = argv[0] === 'ca' ? argv.slice(1) : argv;
  const { values: v, args, help } = parseCommand(CA, rest);
  return {
    ...(args[0] !== undefined ? { command: args[0] } : {}),
    args: args.slice(1),
    trust: trustOptionsOf(v, env),
    ...(v.source !== undefined ? { source: v.source } : {}),
    ...(v.server !== undefined ? { server: v.server } : {}),
    conn: {
      ...(v['server-name'] !== undefined ? { serverName: v['server-name'] } : {}),
      ...(v['connect-to'] !== undefined ? { connectTo: v['connect-to'] } : {}),
      ...familyOf(v),
      proxy: v,
      cert: v,
      env,
    },
    json: v.json === true,
    help,
  };
}

function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

function matchesSource(anchor: TrustAnchor, prefix: string | undefined): boolean {
  return prefix === undefined || anchor.sources.some((s) => s.startsWith(prefix));
}

function anchorJson(anchor: TrustAnchor) {
  return { ...anchor.cert.summary(), sources: anchor.sources, class: classifyAnchor(anchor) };
}

function anchorLine(anchor: TrustAnchor): string {
  const c = anchor.cert;
  return `${classifyAnchor(anchor).padEnd(11)}  ${c.notAfter.toISOString().slice(0, 10)}  ${c.fingerprintSha256.slice(0, 16)}  ${c.subject.text}  [${anchor.sources.join(', ')}]`;
}

const CLASS_WORDS: Record<AnchorClass, string> = {
  bundled: "public roots (in Mozilla's list bundled with Node)",
  'system-only': "only in the OS store, not in Mozilla's list (corporate roots or TLS-inspecting proxies)",
  user: 'from CA files, directories, env variables or PEM you gave',
};

function info(trust: ResolvedTrust, p: Parsed, io: CaIo): number {
  const e = trust.explanation;
  const store = trust.insecure ? undefined : trust.store;
  const classes: Record<AnchorClass, number> = { bundled: 0, 'system-only': 0, user: 0 };
  for (const a of store?.anchors ?? []) classes[classifyAnchor(a)]++;
  if (p.json) {
    const out = { insecure: trust.insecure, anchors: store?.size ?? 0, key: store?.key, classes, ...e };
    io.stdout.write(jsonText(out));
    return 0;
  }
  const lines: string[] = [];
  lines.push(
    store
      ? `trust in effect: ${store.size} anchors (key ${store.key.slice(0, 16)})`
      : 'trust in effect: none',
  );
  lines.push(`decided by:      ${e.decidedBy}: ${e.detail}`);
  if (e.sources.length > 0) {
    lines.push('sources:');
    const width = Math.max(...e.sources.map((s) => s.source.length));
    for (const s of e.sources) {
      lines.push(`  ${s.source.padEnd(width)}  ${String(s.count).padStart(5)}`);
      if (s.warning) lines.push(`    warning: ${s.warning}`);
    }
  }
  if (store) {
    lines.push('kinds:');
    for (const k of ['bundled', 'system-only', 'user'] as const) {
      lines.push(`  ${k.padEnd(11)}  ${String(classes[k]).padStart(5)}  ${CLASS_WORDS[k]}`);
    }
  }
  lines.push('environment:');
  for (const v of e.envConsidered) {
    const value = v.value === undefined ? '' : `=${v.value}`;
    lines.push(`  ${v.name}${value}  ${v.used ? 'USED' : 'not used'}: ${v.why}`);
  }
  if (e.systemRoot) {
    const by = e.systemRoot.from === 'option' ? '--system-root' : e.systemRoot.from;
    lines.push(`system store:    read under ${e.systemRoot.path} (set by ${by})`);
  }
  lines.push(`bundled roots:   Mozilla's list as shipped with Node ${e.bundledNodeVersion}`);
  write(io.stdout, lines.join('\n'));
  return 0;
}

function list(store: TrustStore, p: Parsed, io: CaIo, anchors: readonly TrustAnchor[]): number {
  const chosen = anchors.filter((a) => matchesSource(a, p.source));
  if (p.json) {
    io.stdout.write(jsonText(chosen.map(anchorJson)));
    return 0;
  }
  const lines = chosen.map(anchorLine);
  const filter = p.source === undefined ? '' : ` from sources starting with '${p.source}'`;
  lines.push(`${chosen.length} of ${store.size} anchors${filter}`);
  write(io.stdout, lines.join('\n'));
  return 0;
}

function find(store: TrustStore, p: Parsed, io: CaIo): number {
  const text = p.args.join(' ').trim();
  if (text === '') throw new UsageError('ca find needs the text to look for');
  const needle = text.toLowerCase();
  const hex = needle.replace(/:/g, '');
  const hits = store.anchors.filter((a) => {
    const c = a.cert;
    return (
      c.subject.text.toLowerCase().includes(needle) ||
      (hex.length >= 4 &&
        /^[0-9a-f]+$/.test(hex) &&
        (c.fingerprintSha256.includes(hex) || c.serialHex.includes(hex))) ||
      c.spkiSha256.toLowerCase() === needle.replace(/^sha256\/\/?/, '')
    );
  });
  if (p.json) {
    io.stdout.write(jsonText(hits.map(anchorJson)));
    return hits.length > 0 ? 0 : 1;
  }
  if (hits.length === 0) {
    write(io.stdout, `no anchor matches '${text}' among ${store.size} (see: certainly ca info)`);
    return 1;
  }
  const lines: string[] = [];
  for (const a of hits) {
    const c = a.cert;
    lines.push(c.subject.text);
    lines.push(`  ${describeAnchor(a)}`);
    lines.push(`  sha256 ${c.fingerprintSha256}`);
    lines.push(`  spki   sha256//${c.spkiSha256}`);
    lines.push(`  valid  ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()}`);
  }
  write(io.stdout, lines.join('\n'));
  return 0;
}

function pem(anchors: readonly TrustAnchor[], p: Parsed, io: CaIo): number {
  const parts: string[] = [];
  for (const a of anchors) {
    if (!matchesSource(a, p.source)) continue;
    // Text outside BEGIN/END lines is ignored by OpenSSL, Go, Python and Node: comments are safe.
    parts.push(
      `# ${a.cert.subject.text}\n# sha256 ${a.cert.fingerprintSha256}\n# from ${a.sources.join(', ')}\n${a.cert.toPEM()}`,
    );
  }
  io.stdout.write(parts.join('\n'));
  return 0;
}

/**
 * `ca pem --server H:P`: what the server sends, as PEM, with its subject and fingerprint as
 * comments (OpenSSL, Go, Python and Node skip text outside the BEGIN/END lines). Not verified:
 * this is how a self-signed certificate is saved to be trusted, after its fingerprint is checked.
 */
async function sentPem(server: string, p: Parsed, io: CaIo): Promise<number> {
  if (!io.sent) throw new UsageError('ca pem --server is not available here');
  const r = await io.sent(server, p.conn);
  if (r.chain.length === 0) {
    const why = r.error ? esc(r.error.message) : 'the server sent no certificate';
    write(io.stderr, `certainly ca: ${why}`);
    return 2;
  }
  const parts = r.chain.map(
    (c, i) =>
      `# #${i} ${esc(c.subject)}\n# sha256 ${c.fingerprintSha256}\n# sent by ${esc(server)}, not verified\n${c.pem}`,
  );
  io.stdout.write(parts.join('\n'));
  return 0;
}

async function explain(trust: ResolvedTrust, p: Parsed, io: CaIo): Promise<number> {
  const raw = p.args[0];
  if (raw === undefined) throw new UsageError('ca explain needs a URL');
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `https://${raw}`);
  } catch {
    throw new UsageError(`${quote(raw)} is not a URL`);
  }
  // main.ts passes io.explain (cli/connection.ts, through the one handshake), which connects
  // with `trust` and returns the chain and the anchor; a caller that gives no connector gets this.
  if (!io.explain) {
    write(
      io.stderr,
      'certainly ca explain: the connector is not wired into this command yet; try `certainly get URL`.',
    );
    return 2;
  }
  const r = await io.explain(url, trust, p.conn);
  const lines = [url.href, '  chain sent by the server:'];
  r.chain.forEach((c, i) => {
    lines.push(`    ${i}  ${esc(c.subject)}`);
    lines.push(`       issued by ${esc(c.issuer)}`);
  });
  if (r.anchor) {
    lines.push(`  verified by: ${describeAnchor(r.anchor)}`);
    lines.push(`  anchor sha256 ${r.anchor.cert.fingerprintSha256}`);
  } else if (trust.insecure) {
    lines.push('  not verified: verify is false.');
  } else {
    lines.push(
      `  not verified: ${r.error ? `${r.error.code}: ${esc(r.error.message)}` : 'no anchor was reached'}`,
    );
    if (r.error?.hint) lines.push(`  fix: ${esc(cliHint(r.error.hint))}`);
    lines.push(`  anchors in effect: ${trust.explanation.detail}`);
  }
  write(io.stdout, lines.join('\n'));
  return r.anchor ? 0 : 1;
}

/** Runs `certainly ca …`; returns the exit code. */
export async function runCa(argv: string[], io: CaIo): Promise<number> {
  let p: Parsed;
  try {
    p = parseArgs(argv, io.env);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(CA, err, io.stderr);
    throw err;
  }
  if (p.help) {
    io.stdout.write(helpText(CA));
    return 0;
  }
  if (p.command === undefined)
    return usageFailure(CA, new UsageError('which command? info, list, find, pem or explain'), io.stderr);
  try {
    if (p.server !== undefined && p.command !== 'pem') throw new UsageError('--server goes with ca pem');
    if (p.command === 'pem' && p.server !== undefined) return await sentPem(p.server, p, io);
    const trust = resolveTrust(p.trust);
    if (p.command === 'info') return info(trust, p, io);
    if (p.command === 'explain') return await explain(trust, p, io);
    if (trust.insecure) throw new UsageError('no anchors: verification is off');
    switch (p.command) {
      case 'list':
        return list(trust.store, p, io, trust.store.anchors);
      case 'find':
        return find(trust.store, p, io);
      case 'pem':
        return pem(trust.store.anchors, p, io);
      default:
        throw new UsageError(`unknown command ${quote(p.command)} (info, list, find, pem or explain)`);
    }
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(CA, err, io.stderr);
    if (err instanceof CertainlyError) {
      // Rendered from the error's fields: its message (which already says what to do) and code.
      write(io.stderr, `certainly ca: ${err.message}\n  (${err.code})`);
      return 2;
    }
    throw err;
  }
}
