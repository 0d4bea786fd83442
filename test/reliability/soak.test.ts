/**
 * The short soak for CI: 2,000 requests at concurrency 200 through one Session to healthy,
 * broken and stalling loopback servers (`npm run soak` is the 100,000-request version).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Heap figures are only meaningful after a full collection. The runner starts this file without
// --expose-gc, so gc() is made available here, before soak-core.js reads it (hence the dynamic
// import below); with it the check is the exact one of `npm run soak`.
setFlagsFromString('--expose-gc');
(globalThis as { gc?: () => void }).gc ??= runInNewContext('gc') as () => void;
const { backToBaseline, soak, WATCHED_RESOURCES } = await import('./soak-core.js');

test('2,000 requests at concurrency 200: every one ends typed, nothing leaks', {
  timeout: 120_000,
}, async (t) => {
  const r = await soak({ requests: 2000, concurrency: 200, seed: 7 });
  t.diagnostic(
    `${r.requests} requests in ${(r.elapsedMs / 1000).toFixed(1)} s; heap MB ${JSON.stringify(r.heapMb)}`,
  );
  t.diagnostic(`outcomes ${JSON.stringify(r.outcomes)}`);
  assert.equal(r.requests, 2000);
  const total = Object.values(r.outcomes).reduce(
    (n, o) => n + Object.values(o).reduce((a, b) => a + b, 0),
    0,
  );
  assert.equal(total, 2000, 'every request has an outcome');
  assert.deepEqual(r.unexpected, [], 'outcomes a target does not allow');
  // Healthy targets really answered, broken ones really failed.
  assert.ok((r.outcomes.healthy?.['200'] ?? 0) > 500);
  assert.ok(r.outcomes['stall after handshake']?.['ReadTimeout:ERR_READ_TIMEOUT']);
  assert.ok(
    backToBaseline(r.resources.baseline, r.resources.after),
    `resources not back to baseline (${WATCHED_RESOURCES.join(', ')}): before ${JSON.stringify(r.resources.baseline)}, after ${JSON.stringify(r.resources.after)}`,
  );
  // Memory: after closing, the heap holds nothing of the run (within 16 MB of where it was after
  // the first tenth, measured after full collections, as `npm run soak` checks).
  assert.ok(r.heapMb.afterRelease - r.heapMb.early < 16, `heap grew: ${JSON.stringify(r.heapMb)}`);
});
