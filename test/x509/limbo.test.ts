/**
 * Every certificate of the x509-limbo suite (../shared/conformance/limbo) parses, or fails with a
 * ParseError; none that belongs to a testcase expected to verify (SUCCESS) fails to parse.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ParseError } from '../../src/errors.js';
import { readCertificates } from '../../src/x509/index.js';

// build/test/x509/ -> the directory that holds the repository and ../shared.
const LIMBO = fileURLToPath(new URL('../../../../shared/conformance/limbo/limbo.json.gz', import.meta.url));

interface Testcase {
  id: string;
  expected_result: 'SUCCESS' | 'FAILURE';
  trusted_certs: string[];
  untrusted_intermediates: string[];
  peer_certificate: string;
}

test('x509-limbo: every certificate parses or is a ParseError; SUCCESS cases always parse', (t) => {
  if (!existsSync(LIMBO)) {
    t.skip(`../shared/conformance not found: ${LIMBO} is absent`);
    return;
  }
  const suite = JSON.parse(gunzipSync(readFileSync(LIMBO)).toString('utf8')) as { testcases: Testcase[] };
  const seen = new Set<string>();
  const rejected = new Map<string, number>();
  let parsed = 0;
  for (const tc of suite.testcases) {
    for (const pem of [...tc.trusted_certs, ...tc.untrusted_intermediates, tc.peer_certificate]) {
      if (seen.has(pem)) continue;
      seen.add(pem);
      try {
        readCertificates(pem, tc.id);
        parsed++;
      } catch (err) {
        assert.ok(err instanceof ParseError, `${tc.id}: ${String(err)}`);
        assert.equal(err.code, 'ERR_CERTIFICATE', `${tc.id}: ${err.message}`);
        assert.equal(tc.expected_result, 'FAILURE', `${tc.id} expects SUCCESS but: ${err.message}`);
        // Group by the kind of defect (the message without offsets and lengths).
        const kind = err.message
          .replace(/^.*malformed certificate: /, '')
          .replace(/ at offset \d+$/, '')
          .replace(/\b\d+\b/g, 'N');
        rejected.set(kind, (rejected.get(kind) ?? 0) + 1);
      }
    }
  }
  t.diagnostic(
    `${parsed} certificates parsed, ${seen.size - parsed} rejected at parse time (all in FAILURE cases)`,
  );
  for (const [kind, n] of [...rejected].sort((a, b) => b[1] - a[1])) t.diagnostic(`  ${n} × ${kind}`);
  assert.ok(parsed > 20_000);
});
