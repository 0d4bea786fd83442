#!/usr/bin/env node
/** The `certainly` command: dispatches to one module per subcommand. */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Io } from './render.js';
import { quote, safeStream } from './safe.js';

const USAGE = `certainly — HTTPS requests with certificate verification that explains itself

usage: certainly <command> [options]

commands:
  get URL        fetch a URL, verifying the server (see: certainly get --help)
  check TARGET   diagnose an endpoint's certificate and name the fix (see: certainly check --help)
  verify CHAIN   verify a PEM chain offline (--name host, --ca file, --time ISO)
  ca             explain the trust setup: ca info | list | find TEXT | pem | explain URL
  demo           show the classic "certificate did not match 10.0.0.6" failure and its fix, on loopback
  help           this text
`;

type Command = (argv: string[], io: Io) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  get: async () => (await import('./get.js')).runGet,
  check: async () => (await import('./check.js')).runCheck,
  verify: async () => (await import('./verify.js')).runVerify,
  demo: async () => (await import('./demo.js')).runDemo,
  ca: async () => {
    const [{ runCa }, { probe }, { anchorsOf }, { sentChain }, conn] = await Promise.all([
      import('./ca.js'),
      import('../tls/probe.js'),
      import('../trust/resolve.js'),
      import('../diagnose/index.js'),
      import('./connection.js'),
    ]);
    return (argv, io) =>
      runCa(argv, {
        ...io,
        sent: async (server, c) => {
          const r = await sentChain(server, conn.diagnoseConnection(c));
          return {
            chain: r.chain.map((x) => ({
              pem: x.toPEM(),
              subject: x.subject.text,
              fingerprintSha256: x.fingerprintSha256,
            })),
            ...(r.error ? { error: r.error } : {}),
          };
        },
        explain: async (url, trust, c) => {
          const r = await probe(url, { trust: anchorsOf(trust), ...conn.probeConnection(url, c) });
          return {
            chain: r.info?.chain ?? [],
            ...(r.verified ? { anchor: r.verified.anchor } : {}),
            ...(r.error
              ? {
                  error: {
                    code: (r.error as { code?: string }).code ?? 'ERR_CONNECTION',
                    message: r.error.message,
                    ...((r.error as { hint?: string }).hint
                      ? { hint: (r.error as { hint?: string }).hint }
                      : {}),
                  },
                }
              : {}),
          };
        },
      });
  },
};

export async function main(argv: string[], rawIo: Io): Promise<number> {
  // Every string written goes through the escaping net (safe.ts); bytes (a body) pass as they are.
  const io = {
    ...rawIo,
    stdout: safeStream(rawIo.stdout, rawIo.env),
    stderr: safeStream(rawIo.stderr, rawIo.env),
  };
  const [name, ...rest] = argv;
  if (name === 'help' && rest[0] !== undefined && Object.hasOwn(commands, rest[0])) {
    // `certainly help get` is `certainly get --help`.
    return (await commands[rest[0]]!())(['--help'], io);
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write('certainly 0.1.0\n');
    return 0;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    io.stderr.write(
      `certainly: unknown command ${quote(name)} (get, check, verify, ca, demo)\nusage: certainly <command> [options]  (certainly help lists the commands)\n`,
    );
    return 2;
  }
  return (await load())(rest, io);
}

function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/**
 * A reader that went away (`certainly ca pem | head -1`) or a full disk: stop at once, quietly,
 * with curl's code for a write error (23). EPIPE is the normal end of a pipeline, not a fault.
 */
function onWriteError(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && stream !== process.stderr) {
      try {
        process.stderr.write(`certainly: cannot write the output: ${err.code ?? err.message}\n`);
      } catch {}
    }
    process.exit(23);
  });
}

/** Runs the command line with this process's arguments and streams; sets the exit code. */
export function runCli(): void {
  onWriteError(process.stdout);
  onWriteError(process.stderr);
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(
        `certainly: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exitCode = 70;
    },
  );
}

if (isEntryPoint()) runCli();
