/**
 * Peak memory of `certainly get` downloading a large random binary (default 100 MB) over HTTPS
 * on loopback, to a file (-o) and to a pipe, beside curl doing the same, each measured the same
 * way: GNU time's maximum resident set size of the process. Also an empty `node -e ''`, the
 * floor under any Node CLI. Checks the SHA-256 of every download.
 *
 *   npm run bench:cli-download                 5 runs each, writes the README block
 *   npm run bench:cli-download -- --mb 20 --runs 3 --no-write
 */

import { execFileSync, spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { writeReadmeBlock } from '../scripts/readme-block.js';
import { createRoot, issue, startTlsServer, tempDir } from '../test/support/index.js';

const MB = 1 << 20;
const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SIZE = opt('--mb', 100) * MB;
const RUNS = opt('--runs', 5);
const WRITE = !args.includes('--no-write');
const CLI = fileURLToPath(new URL('../../dist/esm/cli.js', import.meta.url));
const TIME = '/usr/bin/time';

function* randomChunks(total: number): Generator<Buffer> {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(MB);
  for (let sent = 0; sent < total; sent += MB)
    yield cipher.update(zeros.subarray(0, Math.min(MB, total - sent)));
}

/** Runs argv under GNU time; returns peak RSS (MB), wall time (ms) and the SHA-256 of stdout. */
function measure(
  argv: string[],
): Promise<{ rssMb: number; ms: number; stdoutSha: string; code: number | null }> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(TIME, ['-f', '%M', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    const hash = createHash('sha256');
    child.stdout.on('data', (c: Buffer) => hash.update(c));
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const kb = Number(err.trim().split('\n').pop());
      resolve({ rssMb: kb / 1024, ms, stdoutSha: hash.digest('hex'), code });
    });
  });
}

async function fileSha(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const med = s[Math.floor(s.length / 2)]!;
  return `${med.toFixed(0)} (${s[0]!.toFixed(0)}–${s[s.length - 1]!.toFixed(0)})`;
}

async function main(): Promise<void> {
  if (!existsSync(TIME)) {
    process.stderr.write(
      `bench:cli-download: ${TIME} (GNU time) is needed to read peak RSS; apt-get install time\n`,
    );
    process.exitCode = 1;
    return;
  }
  const expected = (() => {
    const h = createHash('sha256');
    for (const c of randomChunks(SIZE)) h.update(c);
    return h.digest('hex');
  })();
  const dir = tempDir('bench-cli-download-');
  const root = createRoot({ cn: 'bench download root' });
  const caPath = dir.write('root.pem', root.pem);
  const server = await startTlsServer({
    cert: issue(root, { sans: ['IP:127.0.0.1'] }),
    host: '127.0.0.1',
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': SIZE });
      void pipeline(Readable.from(randomChunks(SIZE)), res).catch(() => {});
    },
  });
  const url = server.url('/big');
  const out = join(dir.path, 'out.bin');
  const node = process.execPath;
  const curl = (() => {
    try {
      return execFileSync('sh', ['-c', 'command -v curl']).toString().trim();
    } catch {
      return undefined;
    }
  })();
  const rows: { name: string; argv: () => string[]; file: boolean }[] = [
    { name: "node -e '' (the floor of any Node CLI)", argv: () => [node, '-e', ''], file: false },
    {
      name: 'certainly get URL -o FILE',
      argv: () => [node, CLI, 'get', url, '--ca', caPath, '-o', out],
      file: true,
    },
    {
      name: 'certainly get URL, to a pipe',
      argv: () => [node, CLI, 'get', url, '--ca', caPath],
      file: false,
    },
  ];
  if (curl) {
    rows.push({
      name: 'curl URL -o FILE',
      argv: () => [curl, '-s', '--cacert', caPath, url, '-o', out],
      file: true,
    });
    rows.push({
      name: 'curl URL, to a pipe',
      argv: () => [curl, '-s', '--cacert', caPath, url],
      file: false,
    });
  }
  const results = rows.map(() => ({ rss: [] as number[], ms: [] as number[] }));
  // Interleaved: run r of every row, then run r+1, so a noisy moment hits all rows alike.
  for (let r = 0; r < RUNS; r++) {
    for (const [i, row] of rows.entries()) {
      rmSync(out, { force: true });
      const m = await measure(row.argv());
      if (m.code !== 0) throw new Error(`${row.name}: exit ${m.code}`);
      if (i > 0) {
        const sha = row.file ? await fileSha(out) : m.stdoutSha;
        if (sha !== expected) throw new Error(`${row.name}: SHA-256 differs from the body served`);
      }
      results[i]!.rss.push(m.rssMb);
      results[i]!.ms.push(m.ms);
    }
  }
  await server.close();
  dir.cleanup();
  const lines = [
    `Node ${process.version}, ${SIZE / MB} MB of random bytes over HTTPS on loopback, ${RUNS} runs each, interleaved; every download's SHA-256 checked. Peak RSS is GNU time's maximum resident set size of the process; median (min–max).`,
    '',
    '| command | peak RSS (MB) | wall time (ms) |',
    '|---|---|---|',
    ...rows.map(
      (row, i) => `| ${row.name} | ${stats(results[i]!.rss)} | ${i === 0 ? '–' : stats(results[i]!.ms)} |`,
    ),
  ];
  const table = lines.join('\n');
  process.stdout.write(`${table}\n`);
  if (WRITE) writeReadmeBlock('cli-download', table, 'bench:cli-download');
}

await main();
