/** Small helpers shared by the verifier's tests. */
import assert from 'node:assert/strict';
import { SSLError } from '../../src/errors.js';

/** The SSLError `fn` throws; fails the test if it returns or throws anything else. */
export function failure(fn: () => unknown): SSLError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SSLError) return err;
    throw err;
  }
  assert.fail('expected an SSLError');
}
