/**
 * The `certainly` command as a user runs it: a real process of the built CLI, with a bare
 * environment (PATH, NO_COLOR and what a test adds), its standard input given or closed.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliRun {
  /** The exit code; 99 when the process did not exit by itself (killed at the timeout). */
  code: number;
  /** As written: bytes (a download), `.toString()` for text. */
  stdout: Buffer;
  stderr: string;
}

export interface CliRunOptions {
  cwd?: string;
  /** Written to standard input, which is then closed (closed at once without it). */
  input?: string | Buffer;
  /** Added to the bare environment. */
  env?: NodeJS.ProcessEnv;
  /** A bound for a hang, ms; default 60 000. */
  timeout?: number;
  /** Largest output kept, bytes; default 1 MiB (execFile's). */
  maxBuffer?: number;
}

export function runCli(args: string[], opts: CliRunOptions = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: { PATH: process.env.PATH, NO_COLOR: '1', ...opts.env },
        timeout: opts.timeout ?? 60_000,
        encoding: 'buffer',
        maxBuffer: opts.maxBuffer ?? 1 << 20,
        ...(opts.cwd ? { cwd: opts.cwd } : {}),
      },
      (err, stdout, stderr) =>
        resolve({
          code: err ? (typeof err.code === 'number' ? err.code : 99) : 0,
          stdout,
          stderr: stderr.toString(),
        }),
    );
    child.stdin!.end(opts.input);
  });
}
