/** Shared assertions for the trust tests. */
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';

/** Asserts that `fn` throws a ConfigError with `code` whose message contains every fragment. */
export function throwsConfig(fn: () => unknown, code: string, ...fragments: string[]): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  const err = caught as ConfigError;
  assert.equal(err.code, code, err.message);
  for (const f of fragments) assert.ok(err.message.includes(f), `message lacks "${f}": ${err.message}`);
  assert.ok(err.hint && err.hint.length > 10, 'a hint says what to do');
  return err;
}
