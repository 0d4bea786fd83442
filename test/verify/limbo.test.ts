/**
 * x509-limbo: the whole suite through verifyChain, compared with the committed expectations
 * (test/verify/limbo-expectations.json) — what `npm run limbo -- --check` does.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  EXPECTATIONS_FILE,
  LIMBO_FILE,
  loadExpectations,
  namespaceOf,
  report,
  runLimbo,
} from '../../scripts/limbo.js';

describe('x509-limbo', () => {
  if (!existsSync(LIMBO_FILE)) {
    it('needs ../shared/conformance', (t) =>
      t.skip(`${LIMBO_FILE.pathname} not found: the x509-limbo check needs ../shared/conformance`));
    return;
  }

  it('every listed divergence has a reason and a real id', () => {
    const expectations = loadExpectations();
    const raw = JSON.parse(readFileSync(EXPECTATIONS_FILE, 'utf8')) as Record<string, unknown>;
    assert.ok(Object.keys(expectations).length > 0);
    for (const [id, e] of Object.entries(expectations)) {
      assert.ok(e.reason.length > 40, `${id}: a reason a reader can follow`);
      assert.ok(['SUCCESS', 'FAILURE', 'SKIPPED'].includes(e.actual), id);
      assert.notEqual(e.actual, e.expected, `${id}: lists a result that is not a divergence`);
      assert.ok(id in raw);
    }
  });

  it('passes the check: no result outside the expectations, no stale expectation', () => {
    const summary = runLimbo();
    const unexpected = summary.unexpected.map(
      (u) => `${u.id}: expected ${u.expected}, got ${u.actual} (${u.context})`,
    );
    assert.deepEqual(unexpected, []);
    assert.deepEqual(summary.stale, []);
    const expectations = loadExpectations();
    for (const id of Object.keys(expectations))
      assert.ok(summary.byId.has(id), `${id} is not a limbo testcase`);
    // The targets of issue 3: more passes than pyca/cryptography 48 (9,719) and OpenSSL 3.0.19 (9,534).
    assert.ok(summary.pass >= 9719, `${summary.pass} passes`);
    assert.equal(summary.total, 9780);
    assert.ok(summary.elapsedMs < 60_000, `took ${summary.elapsedMs} ms`);
    const table = report(summary);
    assert.match(table, /\| bettertls::nameconstraints \| 9491 \/ 0 \/ 0 \|/);
    assert.match(table, /OpenSSL 3\.0\.19 gets these webpki:: and rfc5280:: cases wrong/);
  });

  it('names namespaces as the table does', () => {
    assert.equal(namespaceOf('bettertls::nameconstraints::tc1'), 'bettertls::nameconstraints');
    assert.equal(namespaceOf('rfc5280::nc::permitted-dns-match'), 'rfc5280::nc');
    assert.equal(namespaceOf('rfc5280::ca-as-leaf'), 'rfc5280');
    assert.equal(namespaceOf('pathlen::max-chain-depth-0'), 'pathlen');
  });
});
