/**
 * The short fuzz run for CI: every target for a few thousand seeded inputs (a fraction of a
 * second each). Any input may give a result or the target's typed error, never another exception,
 * never more than 50 ms, and the heap must not keep what the run allocated. `npm run fuzz` is the
 * long run (scripts/fuzz.ts, >= 1 million inputs).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inputFor, Rng, runTarget } from './engine.js';
import { TARGETS } from './targets.js';

/** The seed of the CI run: fixed, so that a failure in CI replays locally with the same numbers. */
const SEED = 20_240_607;
/** Per target: enough inputs to reach every mutator many times, capped by time on a slow CI machine. */
const ITERATIONS = 4000;
const TIME_BUDGET_MS = 700;

describe('fuzz (short run)', () => {
  for (const target of TARGETS) {
    test(`${target.name}: result or typed error, never a crash or a hang`, () => {
      const stats = runTarget(target, { seed: SEED, iterations: ITERATIONS, timeBudgetMs: TIME_BUDGET_MS });
      const report = stats.failures
        .slice(0, 5)
        .map(
          (f) =>
            `  [${f.kind}] seed ${f.seed} iteration ${f.iteration}: ${f.message}\n    input ${f.input.slice(0, 300)}`,
        )
        .join('\n');
      assert.equal(stats.failures.length, 0, `${stats.failures.length} failure(s):\n${report}`);
      assert.ok(stats.inputs >= 300, `only ${stats.inputs} inputs ran`);
      // Both outcomes are reached: the mutators do produce valid and invalid inputs.
      assert.ok(stats.ok > 0 && stats.errors > 0, `ok ${stats.ok}, errors ${stats.errors}`);
      // Bounded memory: nothing of the run is kept (loose: a GC may not have run without --expose-gc).
      assert.ok(stats.heapGrowthMb < 64, `heap grew by ${stats.heapGrowthMb.toFixed(1)} MB`);
    });
  }
});

describe('the fuzzer itself', () => {
  test('the PRNG is deterministic and spreads its values', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const x = a.u32();
      assert.equal(x, b.u32());
      seen.add(x % 16);
    }
    assert.equal(seen.size, 16);
    assert.notEqual(new Rng(1).u32(), new Rng(2).u32());
  });

  test('an input is a pure function of (seed, target, iteration)', () => {
    const t = TARGETS[0]!;
    const corpus = t.corpus();
    for (const i of [1, 7, 1234]) {
      assert.deepEqual(inputFor(t, corpus, 5, i), inputFor(t, corpus, 5, i));
    }
    assert.notDeepEqual(inputFor(t, corpus, 5, 3), inputFor(t, corpus, 6, 3));
  });

  test('a target that throws an untyped error is reported, with what replays it', () => {
    const broken = {
      ...TARGETS[3]!,
      name: 'broken',
      run: () => {
        throw new TypeError('boom');
      },
    };
    const stats = runTarget(broken, { seed: 1, iterations: 10, maxFailures: 3 });
    assert.equal(stats.failures.length, 3);
    assert.equal(stats.failures[0]!.kind, 'exception');
    assert.match(stats.failures[0]!.message, /TypeError: boom/);
    assert.equal(stats.failures[0]!.seed, 1);
  });

  test('a slow input is reported', () => {
    const slow = {
      ...TARGETS[3]!,
      name: 'slow',
      run: () => {
        const end = performance.now() + 3;
        while (performance.now() < end) {}
        return 'ok' as const;
      },
    };
    const stats = runTarget(slow, { seed: 1, iterations: 2, slowMs: 1 });
    assert.equal(stats.failures.length, 2);
    assert.equal(stats.failures[0]!.kind, 'slow');
  });
});
