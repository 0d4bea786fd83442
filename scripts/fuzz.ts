/**
 * The long fuzz run: `npm run fuzz` (>= 1 million inputs over all targets by default).
 *
 *   node --expose-gc build/scripts/fuzz.js [--inputs N] [--seed S] [--target NAME] [--slow-ms MS]
 *   node --expose-gc build/scripts/fuzz.js --replay TARGET:SEED:ITERATION
 *
 * Prints one line per target (inputs, results, typed errors, slowest input, heap growth) and every
 * failure with the (target, seed, iteration) that replays it; exits 1 when anything failed.
 * The targets and their contracts are in test/fuzz/targets.ts.
 */
import { inputFor, type RunStats, runTarget } from '../test/fuzz/engine.js';
import { TARGETS } from '../test/fuzz/targets.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const replay = arg('replay');
if (replay) {
  const [name, seed, iteration] = replay.split(':');
  const target = TARGETS.find((t) => t.name === name);
  if (!target) throw new Error(`no target '${name}'; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  const input = inputFor(target, target.corpus(), Number(seed), Number(iteration));
  console.log(`input: ${target.show(input)}`);
  const t0 = performance.now();
  const outcome = target.run(input);
  console.log(`outcome: ${outcome} in ${(performance.now() - t0).toFixed(2)} ms`);
  process.exit(0);
}

// The brief's floor for a long run: one million inputs in all.
const total = Number(arg('inputs') ?? 1_000_000);
const seed = Number(arg('seed') ?? Date.now() % 0x7fffffff);
const slowMs = Number(arg('slow-ms') ?? 50);
const only = arg('target');
const targets = only ? TARGETS.filter((t) => t.name === only) : TARGETS;
if (targets.length === 0)
  throw new Error(`no target '${only}'; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
if (!(globalThis as { gc?: unknown }).gc)
  console.log('note: run with node --expose-gc for exact heap figures');

const perTarget = Math.ceil(total / targets.length);
console.log(`fuzz: ${perTarget * targets.length} inputs, seed ${seed}, slow limit ${slowMs} ms`);
const rssBefore = process.memoryUsage().rss / 1e6;
const all: RunStats[] = [];
const started = performance.now();
for (const target of targets) {
  const s = runTarget(target, { seed, iterations: perTarget, slowMs, maxFailures: 50 });
  all.push(s);
  console.log(
    `${s.target.padEnd(16)} ${String(s.inputs).padStart(9)} inputs  ${String(s.ok).padStart(8)} ok  ` +
      `${String(s.errors).padStart(8)} typed errors  ${String(s.failures.length).padStart(3)} failures  ` +
      `slowest ${s.slowestMs.toFixed(2).padStart(6)} ms  ${((s.elapsedMs * 1000) / Math.max(1, s.inputs)).toFixed(1).padStart(6)} µs/input  ` +
      `heap ${s.heapGrowthMb >= 0 ? '+' : ''}${s.heapGrowthMb.toFixed(1)} MB`,
  );
}
const failures = all.flatMap((s) => s.failures);
const inputs = all.reduce((n, s) => n + s.inputs, 0);
console.log(
  `total: ${inputs} inputs in ${((performance.now() - started) / 1000).toFixed(1)} s, ${failures.length} failures, ` +
    `RSS ${rssBefore.toFixed(0)} -> ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`,
);
for (const f of failures) {
  console.log(
    `\n[${f.kind}] ${f.target} --replay ${f.target}:${f.seed}:${f.iteration}\n  ${f.message}\n  input ${f.input.slice(0, 600)}`,
  );
}
process.exit(failures.length > 0 ? 1 : 0);
