/**
 * `certainly check --targets FILE` over a fleet of loopback endpoints: 1,000 by default, a
 * fifth each good, expired, wrong-name, missing-intermediate and unreachable (a closed port).
 * Wall time and peak RSS (GNU time's maximum resident set size of the CLI process) at several
 * --concurrency values, to choose the default; then a large targets file of unreachable
 * endpoints (100,000 lines by default) to show that memory does not grow with the file.
 *
 *   npm run bench:check-fleet                                   writes the README block
 *   npm run bench:check-fleet -- --endpoints 200 --big 10000 --runs 1 --no-write
 */

import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { writeReadmeBlock } from '../scripts/readme-block.js';
import {
  createRoot,
  intermediate,
  issue,
  startTlsServer,
  type TestServer,
  tempDir,
} from '../test/support/index.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const ENDPOINTS = opt('--endpoints', 1000);
const BIG = opt('--big', 100_000);
const RUNS = opt('--runs', 3);
const WRITE = !args.includes('--no-write');
const CONCURRENCY = [1, 4, 16, 64];
const CLI = fileURLToPath(new URL('../../dist/esm/cli.js', import.meta.url));
const TIME = '/usr/bin/time';
const DAY = 86_400_000;

interface Measured {
  rssMb: number;
  ms: number;
  code: number | null;
  summary: string;
}

/** Runs the CLI under GNU time; stdout is read and dropped (its last line is the summary). */
function measure(argv: string[]): Promise<Measured> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(TIME, ['-f', '%M', process.execPath, CLI, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
    });
    let tail = '';
    child.stdout.on('data', (c: Buffer) => {
      tail = (tail + c.toString()).slice(-400);
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const kb = Number(err.trim().split('\n').pop());
      const summary = tail.trim().split('\n').pop() ?? '';
      resolve({ rssMb: kb / 1024, ms, code, summary });
    });
  });
}

async function closedPorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    ports.push((s.address() as AddressInfo).port);
    await new Promise<void>((r) => s.close(() => r()));
  }
  return ports;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function stats(xs: number[]): string {
  const r = (x: number) => Math.round(x);
  return xs.length === 1 ? `${r(xs[0]!)}` : `${r(median(xs))} (${r(Math.min(...xs))}–${r(Math.max(...xs))})`;
}

async function main(): Promise<void> {
  const dir = tempDir('check-fleet-');
  const root = createRoot({ cn: 'fleet root' });
  const inter = intermediate(root, { cn: 'fleet issuing CA' });
  const ca = dir.write('root.pem', root.pem);
  const kinds = {
    good: { cert: issue(inter), chain: [inter] },
    expired: {
      cert: issue(inter, {
        notBefore: new Date(Date.now() - 100 * DAY),
        notAfter: new Date(Date.now() - 10 * DAY),
      }),
      chain: [inter],
    },
    'wrong-name': { cert: issue(inter, { sans: ['DNS:elsewhere.test'] }), chain: [inter] },
    'missing-intermediate': { cert: issue(inter), chain: [] },
  };
  const per = Math.floor(ENDPOINTS / 5);
  const servers: TestServer[] = [];
  const targets: string[] = [];
  for (const opts of Object.values(kinds)) {
    for (let i = 0; i < per; i++) {
      const s = await startTlsServer(opts);
      servers.push(s);
      targets.push(`localhost:${s.port}`);
    }
  }
  for (const p of await closedPorts(ENDPOINTS - targets.length)) targets.push(`localhost:${p}`);
  // Interleave the kinds, as a real inventory would list them.
  const mixed = targets.map((t, i) => ({ t, k: (i * 7919) % targets.length })).sort((a, b) => a.k - b.k);
  const list = dir.write(
    'targets.txt',
    `# ${targets.length} loopback endpoints\n${mixed.map((x) => x.t).join('\n')}\n`,
  );

  const rows: string[] = [];
  for (const c of CONCURRENCY) {
    const rss: number[] = [];
    const ms: number[] = [];
    let last: Measured | undefined;
    for (let r = 0; r < (c === 1 ? 1 : RUNS); r++) {
      last = await measure(['check', '--targets', list, '--ca', ca, '--concurrency', String(c)]);
      rss.push(last.rssMb);
      ms.push(last.ms);
      process.stderr.write(
        `concurrency ${c}: ${Math.round(last.ms)} ms, ${last.rssMb.toFixed(0)} MB, exit ${last.code}\n`,
      );
    }
    rows.push(
      `| ${c} | ${stats(ms)} | ${Math.round(targets.length / (median(ms) / 1000))} | ${stats(rss)} | ${last!.code} |`,
    );
    if (c === CONCURRENCY.at(-1)) rows.push(`\nLast run's summary line: \`${last!.summary}\``);
  }

  // A large file: memory must not grow with it (reports are streamed; the table keeps 50 rows).
  const dead = await closedPorts(50);
  const bigRows: string[] = [];
  for (const n of [Math.floor(BIG / 10), BIG]) {
    const path = `${dir.path}/big-${n}.txt`;
    const out = createWriteStream(path);
    for (let i = 0; i < n; i++) out.write(`127.0.0.1:${dead[i % dead.length]}\n`);
    await new Promise<void>((r) => out.end(r));
    const m = await measure([
      'check',
      '--targets',
      path,
      '--ca',
      ca,
      '--concurrency',
      '64',
      '--timeout',
      '2000',
    ]);
    process.stderr.write(
      `${n} unreachable targets: ${Math.round(m.ms)} ms, ${m.rssMb.toFixed(0)} MB, exit ${m.code}\n`,
    );
    bigRows.push(
      `| ${n.toLocaleString('en')} | ${Math.round(m.ms / 1000)} s | ${Math.round(m.rssMb)} | ${m.code} |`,
    );
  }
  await Promise.all(servers.map((s) => s.close()));
  dir.cleanup();

  const block = [
    `Node ${process.version}, ${targets.length} loopback endpoints (${per} each good, expired, wrong name, missing intermediate; ${targets.length - 4 * per} closed ports), \`certainly check --targets FILE\`, human output to a pipe. Peak RSS is GNU time's maximum resident set size of the CLI; median (min–max) of ${RUNS} runs (1 at concurrency 1); a machine shared with other work, so times are indicative.`,
    '',
    '| --concurrency | wall time (ms) | endpoints/s | peak RSS (MB) | exit |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    'The same command over a large file of unreachable targets (connection refused), concurrency 64, to show that memory does not follow the file (held, the reports would grow with it: about 0.8 KB of JSON for an unreachable target, 3 KB for a verified one, several times that as objects).',
    '',
    '| targets | wall time | peak RSS (MB) | exit |',
    '|---|---|---|---|',
    ...bigRows,
  ].join('\n');
  process.stdout.write(`${block}\n`);
  if (WRITE) writeReadmeBlock('check-fleet', block, 'bench:check-fleet');
}

await main();
