/**
 * Running an operating system tool (macOS `security`, Windows PowerShell) to list its trust
 * store, kept apart from parsing its output so that tests feed recorded output to the parsers.
 */
import type childProcess from 'node:child_process';
import tls from 'node:tls';
import { extractCertificates, type SourceResult } from '../load.js';

/** What a tool run produced: its standard output, or why it failed. */
export type ToolResult = { ok: true; stdout: string } | { ok: false; error: string };

/** Runs a command synchronously; injected in tests. */
export type ToolRunner = (command: string, args: readonly string[]) => ToolResult;

// resolveTrust is synchronous and this runs once per process; 10 s bounds a tool that hangs
// (a locked keychain, a PowerShell stuck on policy) while a cold PowerShell start takes 1-3 s.
const TOOL_TIMEOUT_MS = 10_000;
// A keychain or Root store with a few hundred certificates prints well under 1 MiB of PEM or
// base64; 32 MiB leaves wide room and still bounds memory.
const TOOL_MAX_OUTPUT = 32 * 1024 * 1024;

/** The real runner: spawnSync, no shell, bounded in time and output. */
export const runTool: ToolRunner = (command, args) => {
  // Loaded here, not imported: only macOS and Windows run tools, and node:child_process (with
  // node:dgram and node:net's socket lists) was a few ms of every Linux process's start-up.
  const { spawnSync } = process.getBuiltinModule('node:child_process') as typeof childProcess;
  const r = spawnSync(command, args, {
    encoding: 'utf8',
    timeout: TOOL_TIMEOUT_MS,
    maxBuffer: TOOL_MAX_OUTPUT,
    windowsHide: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error) return { ok: false, error: `${command} could not be run: ${r.error.message}` };
  if (r.status !== 0) {
    const why = r.signal ? `was stopped by ${r.signal}` : `exited with status ${r.status}`;
    const stderr = (r.stderr ?? '').trim().split('\n')[0];
    return { ok: false, error: `${command} ${why}${stderr ? `: ${stderr}` : ''}` };
  }
  return { ok: true, stdout: r.stdout };
};

/** Node's own reader of the OS store, PEM strings; injected in tests. undefined = not available. */
export type NodeSystemReader = () => readonly string[] | undefined;

/**
 * `tls.getCACertificates('system')` (Node 22.15+/23.10+, the reader behind --use-system-ca):
 * on macOS it keeps only keychain certificates whose trust settings say "Always Trust" (Node's
 * cli.md, --use-system-ca), on Windows it reads the Root, Trusted People and enterprise stores,
 * all without a child process. On Node 20 it does not exist and the tools are used instead.
 */
export const nodeSystemReader: NodeSystemReader = () => {
  const get = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  if (typeof get !== 'function') return undefined;
  try {
    return get('system');
  } catch {
    return undefined;
  }
};

/** Certificates from Node's own reader of the OS store, as one source. */
export function fromNodeReader(pems: readonly string[], source: string): SourceResult {
  const result: SourceResult = { source, certs: [], warnings: [], stamps: [] };
  for (const pem of pems) {
    const got = extractCertificates(Buffer.from(pem, 'latin1'), { lazy: true });
    result.certs.push(...got.certs);
    for (const problem of got.invalid) result.warnings.push(`${source}: skipped ${problem}.`);
  }
  return result;
}
