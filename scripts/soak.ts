/**
 * `npm run soak`: 100,000 requests at concurrency 200 through one Session to a mix of healthy and
 * broken loopback servers (test/reliability/soak-core.ts), then the checks: every request ended
 * with a response or the typed error its server deserves, sockets and handles back to the
 * baseline, heap flat. Prints the figures; exits 1 when a check fails.
 *
 *   node --expose-gc build/scripts/soak.js [--requests N] [--concurrency C] [--seed S]
 */
import { backToBaseline, soak } from '../test/reliability/soak-core.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const requests = arg('requests', 100_000); // the brief's figure
const concurrency = arg('concurrency', 200);
const seed = arg('seed', 1);
if (!(globalThis as { gc?: unknown }).gc)
  console.log('note: run with node --expose-gc for exact heap figures');
console.log(`soak: ${requests} requests, concurrency ${concurrency}, seed ${seed}`);
const heapSamples: number[] = [];
const r = await soak({
  requests,
  concurrency,
  seed,
  progressEvery: Math.max(1, Math.floor(requests / 20)),
  onProgress: (done, heap) => {
    heapSamples.push(heap);
    console.log(
      `  ${String(done).padStart(7)} done, heap ${heap.toFixed(1)} MB, RSS ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`,
    );
  },
});
console.log(
  `\n${r.requests} requests in ${(r.elapsedMs / 1000).toFixed(1)} s (${((r.requests * 1000) / r.elapsedMs).toFixed(0)} req/s)`,
);
for (const [target, counts] of Object.entries(r.outcomes)) {
  console.log(
    `  ${target.padEnd(42)} ${Object.entries(counts)
      .map(([o, n]) => `${o} ×${n}`)
      .join(', ')}`,
  );
}
console.log(
  `heap after GC: ${r.heapMb.early.toFixed(1)} MB after the first tenth, ${r.heapMb.end.toFixed(1)} MB at the end ` +
    `(the test servers then hold ${r.serverRecords} handshake records), ${r.heapMb.afterRelease.toFixed(1)} MB once the run's Session and servers are released`,
);
console.log(`RSS: ${r.rssMb.start.toFixed(0)} MB at start, ${r.rssMb.end.toFixed(0)} MB at the end`);
console.log(
  `resources: baseline ${JSON.stringify(r.resources.baseline)}, after ${JSON.stringify(r.resources.after)}`,
);
const total = Object.values(r.outcomes).reduce((n, o) => n + Object.values(o).reduce((a, b) => a + b, 0), 0);
const problems: string[] = [];
if (total !== requests) problems.push(`${requests - total} requests have no outcome`);
for (const u of r.unexpected) problems.push(`${u.target}: ${u.outcome} (${u.message})`);
if (!backToBaseline(r.resources.baseline, r.resources.after))
  problems.push('sockets or handles not back to the baseline');
// Flat memory: once the run is released, the heap is back within 16 MB of where it was after
// the first tenth (GC'd figures); what grew during the run were the test servers' records.
if (r.heapMb.afterRelease - r.heapMb.early > 16) {
  problems.push(
    `the heap kept ${(r.heapMb.afterRelease - r.heapMb.early).toFixed(1)} MB after the run was released`,
  );
}
if (problems.length) {
  console.log(`\nFAILED:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('\nok: every request ended with a response or its typed error; nothing leaked; memory flat');
process.exit(0);
