/**
 * Side-by-side timing of x509-limbo's name-constraint DoS cases (pathological::nc-dos-1..3: a
 * root with ~4,096 name constraints, a leaf with 2,048 names) in certainly and in `openssl verify`.
 *
 *   npm run build:test && node build/scripts/nc-dos-bench.js [--runs N]
 *
 * OpenSSL runs as a process per verification, so its figure is the median wall time of
 * `openssl verify -CAfile root.pem leaf.pem` minus the median wall time of the same command on a
 * small ordinary chain (limbo's first SUCCESS case with one root and no intermediate): what is
 * left is the cost of the hostile input. certainly's figure is the median of runTestcase (PEM
 * parsing, path building, name constraints, identity) in this process. Medians and the min–max
 * spread over N runs (default 11); the machine's load moves both columns alike.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { LIMBO_FILE, runTestcase } from './limbo.js';

interface Testcase {
  id: string;
  expected_result: string;
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
  expected_peer_name?: { kind: string; value: string } | null;
  [key: string]: unknown;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function spread(xs: number[]): string {
  return `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
}

/** Wall time of one `openssl verify` run, in ms (its exit status is ignored: failing is the point). */
function opensslOnce(dir: string): number {
  const t = performance.now();
  try {
    execFileSync('openssl', ['verify', '-CAfile', join(dir, 'root.pem'), join(dir, 'leaf.pem')], {
      stdio: 'ignore',
    });
  } catch {
    // verification failed (exit 2): expected for the DoS cases
  }
  return performance.now() - t;
}

function writeCase(tc: Testcase): string {
  const dir = mkdtempSync(join(tmpdir(), 'certainly-nc-dos-'));
  writeFileSync(join(dir, 'root.pem'), `${tc.trusted_certs.join('\n')}\n`);
  writeFileSync(join(dir, 'leaf.pem'), `${tc.peer_certificate}\n`);
  return dir;
}

function main(argv: string[]): number {
  const i = argv.indexOf('--runs');
  const runs = i >= 0 ? Number(argv[i + 1]) : 11;
  if (!Number.isInteger(runs) || runs < 1) {
    process.stderr.write('nc-dos-bench: --runs needs a positive integer\n');
    return 2;
  }
  if (!existsSync(LIMBO_FILE)) {
    process.stderr.write(
      `nc-dos-bench: ${fileURLToPath(LIMBO_FILE)} not found (../shared/conformance is missing)\n`,
    );
    return 2;
  }
  const limbo = JSON.parse(gunzipSync(readFileSync(LIMBO_FILE)).toString('utf8')) as {
    testcases: Testcase[];
  };
  const cases = limbo.testcases.filter((t) => t.id.startsWith('pathological::nc-dos-'));
  const small = limbo.testcases.find(
    (t) =>
      t.expected_result === 'SUCCESS' &&
      t.untrusted_intermediates.length === 0 &&
      t.trusted_certs.length === 1,
  )!;
  const smallDir = writeCase(small);
  const lines = [
    `| case | certainly ms (median, min–max) | openssl verify ms, net of start-up (median) | ratio certainly / OpenSSL | result |`,
    '|---|---:|---:|---:|---|',
  ];
  try {
    for (const tc of cases) {
      const dir = writeCase(tc);
      try {
        const ours: number[] = [];
        const theirs: number[] = [];
        const base: number[] = [];
        let result = '';
        for (let r = 0; r < runs; r++) {
          // Interleaved, so that the machine's load changes hit both sides alike.
          const t = performance.now();
          const out = runTestcase(tc as never);
          ours.push(performance.now() - t);
          result = `${out.result} (${out.context.split(':')[0]})`;
          theirs.push(opensslOnce(dir));
          base.push(opensslOnce(smallDir));
        }
        const net = Math.max(0.1, median(theirs) - median(base));
        lines.push(
          `| ${tc.id} | ${median(ours).toFixed(1)} (${spread(ours)}) | ${net.toFixed(1)} (${median(theirs).toFixed(1)} − ${median(base).toFixed(1)}) | ${(median(ours) / net).toFixed(2)} | ${result} |`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(smallDir, { recursive: true, force: true });
  }
  process.stdout.write(`${lines.join('\n')}\n\n${runs} runs each, interleaved.\n`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
