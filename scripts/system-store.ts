/**
 * Compares Node's own reader of the OS trust store, `tls.getCACertificates('system')` (Node
 * 22.15+), with ours (src/trust/system/), on this machine: how many certificates each returns,
 * how many distinct ones, whether they are the same ones, and what each costs in a fresh process
 * (both readers cache for the life of a process, so every run is a new process).
 *
 *   npm run system-store                     runs under this Node, writes the README block
 *   npm run system-store -- --node PATH      runs the children under another Node (22 or 24)
 *   npm run system-store -- --runs N         N fresh processes per reader (default 9)
 *   npm run system-store -- --no-write       prints only
 */

import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { writeReadmeBlock } from './readme-block.js';

const { values } = parseArgs({
  options: {
    node: { type: 'string' },
    runs: { type: 'string', default: '9' },
    'no-write': { type: 'boolean', default: false },
  },
});
const node = values.node ?? process.execPath;
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
  process.stderr.write(`system-store: --runs must be a whole number from 1 to 100, not ${values.runs}\n`);
  process.exit(2);
}
const systemIndex = new URL('../src/trust/system/index.js', import.meta.url).href;

// One child per measurement: the reader runs once, cold, and reports counts, time and the
// SHA-256 of every certificate's DER (to compare content, not only counts).
const nodeChild = `
const tls = require('node:tls');
const { createHash } = require('node:crypto');
if (typeof tls.getCACertificates !== 'function') { console.log(JSON.stringify({ missing: true })); process.exit(0); }
const t = performance.now();
const pems = tls.getCACertificates('system');
const ms = performance.now() - t;
const fps = pems.map((p) => createHash('sha256').update(Buffer.from(p.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\\s+/g, ''), 'base64')).digest('hex'));
console.log(JSON.stringify({ ms, entries: pems.length, fps: [...new Set(fps)] }));
`;
const oursChild = `
import { createHash } from 'node:crypto';
const { loadSystem } = await import(${JSON.stringify(systemIndex)});
const t = performance.now();
const load = loadSystem();
const ms = performance.now() - t;
const certs = load.sources.flatMap((s) => s.certs);
const fps = certs.map((c) => createHash('sha256').update(c.der).digest('hex'));
console.log(JSON.stringify({ ms, entries: certs.length, fps: [...new Set(fps)], sources: load.sources.map((s) => s.source + ' (' + s.certs.length + ')') }));
`;

interface Run {
  missing?: boolean;
  ms: number;
  entries: number;
  fps: string[];
  sources?: string[];
}

function run(kind: 'node' | 'ours'): Run {
  const args = kind === 'node' ? ['-e', nodeChild] : ['--input-type=module', '-e', oursChild];
  return JSON.parse(execFileSync(node, args, { encoding: 'utf8' })) as Run;
}

function stats(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return {
    median: s[Math.floor(s.length / 2)] as number,
    min: s[0] as number,
    max: s[s.length - 1] as number,
  };
}

const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
const nodeRuns: Run[] = [];
const ourRuns: Run[] = [];
// Interleaved, so that a burst of load on a shared machine hits both readers alike.
for (let i = 0; i < runs; i++) {
  const n = run('node');
  if (n.missing) {
    process.stderr.write(
      `system-store: Node ${version} has no tls.getCACertificates (Node 22.15+); run with --node pointing at Node 22 or 24\n`,
    );
    process.exit(1);
  }
  nodeRuns.push(n);
  ourRuns.push(run('ours'));
}
const n0 = nodeRuns[0] as Run;
const o0 = ourRuns[0] as Run;
const nodeSet = new Set(n0.fps);
const ourSet = new Set(o0.fps);
const common = n0.fps.filter((f) => ourSet.has(f)).length;
const onlyNode = n0.fps.length - common;
const onlyOurs = o0.fps.filter((f) => !nodeSet.has(f)).length;
const nt = stats(nodeRuns.map((r) => r.ms));
const ot = stats(ourRuns.map((r) => r.ms));
const f = (x: number) => x.toFixed(1);
const table = [
  `Node ${version}, ${process.platform}, ${runs} fresh processes per reader, interleaved; time is the first read in a process (median, min–max).`,
  '',
  '| reader | certificates returned | distinct | time to read (ms) |',
  '|---|---|---|---|',
  `| \`tls.getCACertificates('system')\` | ${n0.entries} | ${n0.fps.length} | ${f(nt.median)} (${f(nt.min)}–${f(nt.max)}), PEM strings, not parsed |`,
  `| ours (\`loadSystem()\`) | ${o0.entries} | ${o0.fps.length} | ${f(ot.median)} (${f(ot.min)}–${f(ot.max)}), parsed |`,
  '',
  `Same content: ${common} in both, ${onlyNode} only in Node's, ${onlyOurs} only in ours. Ours read: ${(o0.sources ?? []).join(', ') || 'nothing'}.`,
].join('\n');
process.stdout.write(`${table}\n`);

if (!values['no-write']) writeReadmeBlock('system-store', table, 'system-store');
