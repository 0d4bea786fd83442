/**
 * Start-up, side by side: from a fresh process to one verified GET on loopback, and the cost of
 * loading the library alone. Every row is a new process, so nothing is warm but the OS page cache.
 *
 *   npm run bench:startup                  15 rounds, prints the table, writes the README block
 *   npm run bench:startup -- --runs N      N rounds
 *   npm run bench:startup -- --no-write    prints only
 *
 * Rounds are paired: each round runs every row once (in an order that rotates), and a ratio is
 * taken within the round (certainly's wall time over fetch's in the same round), so a burst of
 * load on a shared machine hits both sides of a ratio alike. Reported: the median of each
 * column, its spread (min–max), and the median of the per-round ratios with their spread.
 *
 * The server runs in this process (idle while a child runs). Node's fetch and certainly both
 * start from their default trust (bundled roots, and for certainly the OS store too) plus the test
 * CA through NODE_EXTRA_CA_CERTS, which each honours; curl and python requests get the CA file.
 * Peak memory is the child's maximum resident set size, and CPU its user + system time (every
 * thread: V8's compiler and GC threads count), both read by /usr/bin/time (rows show n/a where it
 * is missing). On a shared machine the CPU ratio moves much less than the wall ratio (another
 * process's burst delays a child but does not add to its CPU time), so both are printed; GNU
 * time counts CPU in 10 ms steps, so a CPU ratio is good to about ±5% at these sizes. certainly
 * is loaded as users load it: `import 'certainly'` resolves through package.json to the built
 * dist/ (run `npm run build` first; the npm script does).
 */

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeReadmeBlock } from '../scripts/readme-block.js';
import { createRoot, issue } from '../src/testing/pki.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url)); // build/bench/startup.js -> repository root
// Inside the repository, so that 'certainly' (self-reference through "exports") and 'undici'
// resolve as they do for a user; bench/out/ is ignored by git.
const OUT = join(ROOT, 'bench', 'out', 'startup');

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '15' }, 'no-write': { type: 'boolean', default: false } },
});
const rounds = Number(values.runs);
if (!Number.isInteger(rounds) || rounds < 3 || rounds > 200) {
  process.stderr.write(`bench:startup: --runs must be a whole number from 3 to 200, not ${values.runs}\n`);
  process.exit(2);
}

interface Row {
  name: string;
  cmd: string;
  args: string[];
  /** The row whose time this one is divided by within a round. */
  vs?: string;
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

interface Sample {
  ms: number;
  rssKiB?: number;
  /** User + system CPU time of the child (all its threads), from /usr/bin/time. */
  cpuMs?: number;
}

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function runOnce(row: Row, env: NodeJS.ProcessEnv): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const [cmd, args] = TIME ? [TIME, ['-f', '@@rss %M %U %S', row.cmd, ...row.args]] : [row.cmd, row.args];
    const started = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code !== 0) {
        reject(new Error(`${row.name} exited with ${code}: ${(err || out).trim().slice(0, 500)}`));
        return;
      }
      const m = /@@rss (\d+) ([\d.]+) ([\d.]+)/.exec(err);
      resolve(m ? { ms, rssKiB: Number(m[1]), cpuMs: (Number(m[2]) + Number(m[3])) * 1000 } : { ms });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
const spread = (xs: number[]) => [Math.min(...xs), Math.max(...xs)] as const;

async function main(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  if (!existsSync(join(ROOT, 'dist', 'esm', 'index.js'))) {
    process.stderr.write(
      'bench:startup: dist/ is not built; run `npm run build` (npm run bench:startup does)\n',
    );
    process.exit(1);
  }
  const root = createRoot({ cn: 'startup bench root' });
  const leaf = issue(root);
  const caPath = join(OUT, 'ca.pem');
  writeFileSync(caPath, root.pem);
  const server = createServer({ key: leaf.keyPem, cert: leaf.pem }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 12 });
    res.end('hello world\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://localhost:${(server.address() as AddressInfo).port}/`;

  const file = (name: string, text: string) => {
    const p = join(OUT, name);
    writeFileSync(p, text);
    return p;
  };
  const node = process.execPath;
  const rows: Row[] = [
    { name: 'node (empty script)', cmd: node, args: [file('empty.mjs', '')] },
    { name: "import 'undici'", cmd: node, args: [file('import-undici.mjs', "import 'undici';\n")] },
    {
      name: "import 'certainly'",
      cmd: node,
      args: [file('import-certainly.mjs', "import 'certainly';\n")],
      vs: "import 'undici'",
    },
    {
      name: 'GET: Node fetch',
      cmd: node,
      args: [
        file(
          'get-fetch.mjs',
          `const r = await fetch(${JSON.stringify(url)});\nif (r.status !== 200) throw new Error('status ' + r.status);\nawait r.text();\n`,
        ),
      ],
    },
    {
      name: 'GET: certainly',
      cmd: node,
      args: [
        file(
          'get-certainly.mjs',
          `import { get, closeDefaultSession } from 'certainly';\nconst r = await get(${JSON.stringify(url)});\nif (r.status !== 200) throw new Error('status ' + r.status);\nawait r.text();\nawait closeDefaultSession();\n`,
        ),
      ],
      vs: 'GET: Node fetch',
    },
  ];
  if (which('curl'))
    rows.push({ name: 'GET: curl', cmd: 'curl', args: ['-sS', '-o', '/dev/null', '--cacert', caPath, url] });
  const python = which('python3');
  if (python && spawnSync(python, ['-c', 'import requests'], { stdio: 'ignore' }).status === 0) {
    rows.push({
      name: 'GET: python requests',
      cmd: python,
      args: [
        file(
          'get-requests.py',
          `import requests\nr = requests.get(${JSON.stringify(url)}, verify=${JSON.stringify(caPath)})\nassert r.status_code == 200\nr.text\n`,
        ),
      ],
    });
  }
  // No variable of the user's may change what either side trusts or where it connects.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_EXTRA_CA_CERTS: caPath,
  };

  const samples = new Map<string, Sample[]>(rows.map((r) => [r.name, []]));
  const ratios = new Map<string, number[]>();
  const memRatios = new Map<string, number[]>();
  const cpuRatios = new Map<string, number[]>();
  // One warm-up round (the page cache, npx-like first loads), not counted.
  for (const row of rows) await runOnce(row, env);
  for (let round = 0; round < rounds; round++) {
    const order = rows.map((_, i) => rows[(i + round) % rows.length] as Row);
    const got = new Map<string, Sample>();
    for (const row of order) got.set(row.name, await runOnce(row, env));
    for (const row of rows) {
      const s = got.get(row.name) as Sample;
      samples.get(row.name)?.push(s);
      if (!row.vs) continue;
      const base = got.get(row.vs) as Sample;
      ratios.set(row.name, [...(ratios.get(row.name) ?? []), s.ms / base.ms]);
      if (s.rssKiB && base.rssKiB)
        memRatios.set(row.name, [...(memRatios.get(row.name) ?? []), s.rssKiB / base.rssKiB]);
      if (s.cpuMs && base.cpuMs)
        cpuRatios.set(row.name, [...(cpuRatios.get(row.name) ?? []), s.cpuMs / base.cpuMs]);
    }
    process.stderr.write(`\rbench:startup: round ${round + 1}/${rounds}`);
  }
  process.stderr.write('\n');
  server.close();

  const f0 = (x: number) => x.toFixed(0);
  const f2 = (x: number) => x.toFixed(2);
  const lines = [
    `Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} at the end; ${rounds} paired rounds, a fresh process per row; median (min–max).`,
    '',
    '| from a fresh process | wall ms | CPU ms | peak memory MiB | ratio (paired, median (min–max)) |',
    '|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const s = samples.get(row.name) as Sample[];
    const ms = s.map((x) => x.ms);
    const [lo, hi] = spread(ms);
    const rss = s.map((x) => x.rssKiB).filter((x): x is number => x !== undefined);
    const mem = rss.length
      ? `${(median(rss) / 1024).toFixed(0)} (${(Math.min(...rss) / 1024).toFixed(0)}–${(Math.max(...rss) / 1024).toFixed(0)})`
      : 'n/a';
    const cpu = s.map((x) => x.cpuMs).filter((x): x is number => x !== undefined);
    const cpuCell = cpu.length
      ? `${f0(median(cpu))} (${f0(Math.min(...cpu))}–${f0(Math.max(...cpu))})`
      : 'n/a';
    let ratio = '';
    const r = ratios.get(row.name);
    if (r && row.vs) {
      const [rl, rh] = spread(r);
      ratio = `${f2(median(r))}× (${f2(rl)}–${f2(rh)}) wall vs ${row.vs}`;
      const c = cpuRatios.get(row.name);
      if (c) {
        const [cl, ch] = spread(c);
        ratio += `; CPU ${f2(median(c))}× (${f2(cl)}–${f2(ch)})`;
      }
      const m = memRatios.get(row.name);
      if (m) ratio += `; memory ${f2(median(m))}×`;
    }
    lines.push(`| ${row.name} | ${f0(median(ms))} (${f0(lo)}–${f0(hi)}) | ${cpuCell} | ${mem} | ${ratio} |`);
  }
  const table = lines.join('\n');
  process.stdout.write(`${table}\n`);
  if (!values['no-write']) writeReadmeBlock('startup', table, 'bench:startup');
  rmSync(OUT, { recursive: true, force: true });
}

await main();
