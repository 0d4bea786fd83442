// Name matching against other verifiers' tables, read from ../shared/conformance/hostname/
// (relative to the repository root; see that directory's README.md).
//
// - rustls-webpki.json and the Go tables are targets: every name-matching and validity row must
//   give the same verdict, except Go rows that contradict a rustls-webpki row and the rows where
//   we follow Chromium instead (wildcards over a public suffix), each listed with its reason in
//   hostname-divergences.json. Name-constraint rows are skipped: they
//   belong to the path verifier (src/verify/path/).
// - The CPython, Node and urllib3 tables follow older, looser rules (Common Name fallback,
//   partial wildcards). For them we compute our verdict for every case and compare it with the
//   committed list of expected differences: a difference not in the list, or a listed difference
//   that no longer differs, fails.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InvalidURL } from '../../src/errors.js';
import {
  dnsNameMatches,
  identityMatches,
  isValidPresentedDnsName,
  isValidReferenceDnsName,
  parseReferenceName,
} from '../../src/verify/identity.js';
import { parseIp } from '../../src/x509/ip.js';
import type { GeneralName } from '../../src/x509/types.js';

/** The repository root: the nearest directory above this file that holds package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}

const ROOT = repoRoot();
const TABLES = join(ROOT, '..', 'shared', 'conformance', 'hostname');
const DIVERGENCES_FILE = join(ROOT, 'test', 'verify', 'hostname-divergences.json');
const PRESENT = existsSync(TABLES);
const SKIP = `${TABLES} (../shared/conformance) not found: the hostname tables are not available here`;

// biome-ignore lint/suspicious/noExplicitAny: external JSON, shape described by each file.
type Json = any;
const load = (name: string): Json => JSON.parse(readFileSync(join(TABLES, name), 'utf8'));

interface Divergence {
  table: string;
  id: string;
  case: Record<string, unknown>;
  theirs: boolean;
  ours: boolean;
  reason: string;
}
const divergences: Divergence[] = JSON.parse(readFileSync(DIVERGENCES_FILE, 'utf8')).divergences;
const listed = new Map(divergences.map((d) => [`${d.table}#${d.id}`, d]));
const seen = new Set<string>();

/** A SAN as the legacy tables write it, as the GeneralName a certificate would carry. */
function toGeneralName(san: { type: string; value: string }): GeneralName[] {
  switch (san.type) {
    case 'DNS':
      return [{ type: 'dns', value: san.value }];
    case 'IP Address': {
      // CPython prints IPv6 SANs with a trailing newline ('2001:0:0:0:0:0:0:CAFE\n'): an artefact
      // of its printer, not of the certificate. 'a/n' is Node's text for an 8-byte SAN.
      const text = san.value.trim();
      const slash = text.indexOf('/');
      if (slash >= 0) {
        const addr = parseIp(text.slice(0, slash))!;
        const bits = Number(text.slice(slash + 1));
        const mask = new Uint8Array(addr.length);
        for (let i = 0; i < bits; i++) mask[i >> 3]! |= 0x80 >> (i & 7);
        return [{ type: 'ip', bytes: new Uint8Array([...addr, ...mask]) }];
      }
      const bytes = parseIp(text);
      // urllib3's 'IP Address: localhost' cannot be encoded in an iPAddress SAN at all.
      return bytes ? [{ type: 'ip', bytes }] : [];
    }
    case 'URI':
      return [{ type: 'uri', value: san.value }];
    default:
      return [{ type: 'other', tag: 0, der: new Uint8Array() }];
  }
}

/** Our verdict: would verifyIdentity accept a certificate with these SANs for this host? */
function ourVerdict(host: unknown, sans: { type: string; value: string }[], certIsNone = false): boolean {
  if (certIsNone) return false;
  let ref: ReturnType<typeof parseReferenceName>;
  try {
    ref = parseReferenceName(host as string);
  } catch (e) {
    if (e instanceof InvalidURL) return false;
    throw e;
  }
  return identityMatches(sans.flatMap(toGeneralName), ref);
}

/** Compare with a table's verdict, allowing exactly the listed divergences. */
function check(
  table: string,
  id: string,
  kase: Record<string, unknown>,
  theirs: boolean,
  ours: boolean,
): void {
  const key = `${table}#${id}`;
  seen.add(key);
  const d = listed.get(key);
  if (d === undefined) {
    assert.equal(ours, theirs, `${id}: ours ${ours}, theirs ${theirs}, and no divergence is listed`);
    return;
  }
  assert.deepEqual(d.case, kase, `${id}: the listed case is not the table's case any more`);
  assert.equal(d.theirs, theirs, `${id}: the listed verdict of theirs is not the table's`);
  assert.notEqual(ours, theirs, `${id}: listed as a divergence (${d.reason}) but we now agree`);
  assert.equal(d.ours, ours, `${id}: listed with our verdict ${d.ours}, but it is ${ours}`);
  assert.ok(d.reason.length > 20, `${id}: a divergence needs a reason`);
}

const latin1 = (v: { ascii?: string; hex?: string }): string =>
  v.hex !== undefined ? Buffer.from(v.hex, 'hex').toString('latin1') : v.ascii!;

describe('rustls-webpki.json (target)', { skip: PRESENT ? false : SKIP }, () => {
  if (!PRESENT) return;
  const data = load('rustls-webpki.json');
  for (const [name, rows] of Object.entries(data.tables) as [string, Json[]][]) {
    if (name !== 'PRESENTED_MATCHES_REFERENCE') {
      test(`${name}: ${rows.length} rows`, (t) => {
        t.skip('name-constraint rows belong to the path verifier (src/verify/path/), not identity');
      });
      continue;
    }
    rows.forEach((row, index) => {
      const presented = latin1(row.presented);
      const reference = latin1(row.reference);
      const id = `${name}-${index}`;
      test(`${name}: ${JSON.stringify(presented)} vs ${JSON.stringify(reference)}`, () => {
        if (listed.has(`rustls-webpki.json#${id}`)) {
          // A row where we deliberately choose otherwise (a wildcard over a public suffix).
          const ours = ourVerdict(reference, [{ type: 'DNS', value: presented }]);
          check('rustls-webpki.json', id, { presented, reference }, row.expected === true, ours);
          return;
        }
        const matched = dnsNameMatches(presented, reference);
        if (row.expected_error !== undefined) {
          // rustls-webpki's None: one of the two names is malformed, which never matches.
          assert.equal(row.expected_error, 'MalformedDnsIdentifier');
          assert.equal(matched, false);
          assert.ok(
            !isValidPresentedDnsName(presented, true) || !isValidReferenceDnsName(reference),
            'one of the names should be invalid',
          );
        } else {
          assert.equal(matched, row.expected);
          assert.ok(isValidPresentedDnsName(presented, true), 'presented name should be valid');
          assert.ok(isValidReferenceDnsName(reference), 'reference name should be valid');
        }
        // The whole path (host parsing, SAN walk) gives the same verdict as the pure function.
        assert.equal(ourVerdict(reference, [{ type: 'DNS', value: presented }]), row.expected === true);
      });
    });
  }
});

describe('go1.19-matchHostnames.json (target)', { skip: PRESENT ? false : SKIP }, () => {
  if (!PRESENT) return;
  const table = 'go1.19-matchHostnames.json';
  for (const c of load(table).cases) {
    test(`${c.id}: ${JSON.stringify(c.pattern)} vs ${JSON.stringify(c.host)}`, () => {
      const ours = ourVerdict(c.host, [{ type: 'DNS', value: c.pattern }]);
      check(table, c.id, { pattern: c.pattern, host: c.host }, c.expected_match, ours);
    });
  }
});

describe('go1.19-validHostname.json (target)', { skip: PRESENT ? false : SKIP }, () => {
  if (!PRESENT) return;
  const table = 'go1.19-validHostname.json';
  for (const c of load(table).cases) {
    test(`${c.id}: ${JSON.stringify(c.host)}`, () => {
      check(
        table,
        `${c.id}/input`,
        { host: c.host, field: 'valid_input' },
        c.valid_input,
        isValidReferenceDnsName(c.host),
      );
      check(
        table,
        `${c.id}/pattern`,
        { host: c.host, field: 'valid_pattern' },
        c.valid_pattern,
        isValidPresentedDnsName(c.host, true),
      );
    });
  }
});

const legacy = (
  title: string,
  table: string,
  caseOf: (c: Json) => Record<string, unknown>,
  verdict: (c: Json) => boolean,
) =>
  describe(`${table} (comparison)`, { skip: PRESENT ? false : SKIP }, () => {
    if (!PRESENT) return;
    for (const c of load(table).cases) {
      test(`${c.id}: ${title} ${JSON.stringify(c.hostname ?? c.hostname_js_value)}`, () => {
        check(table, c.id, caseOf(c), c.expected_match, verdict(c));
      });
    }
  });

legacy(
  'match_hostname',
  'cpython-3.11-test_match_hostname.json',
  (c) => ({ hostname: c.hostname, subject_cn: c.subject_cn, san: c.san }),
  (c) => ourVerdict(c.hostname, c.san, c.cert_is_none),
);

legacy(
  'checkServerIdentity',
  'nodejs-test-tls-check-server-identity.json',
  (c) => ({ hostname: c.hostname ?? c.hostname_js_value, subject_cn: c.subject_cn, san: c.san }),
  // hostname null stands for the JS values false, null, undefined: pass them as such.
  (c) =>
    ourVerdict(
      c.hostname ?? { false: false, null: null, undefined: undefined }[c.hostname_js_value as string],
      c.san,
    ),
);

legacy(
  'match_hostname',
  'urllib3-test_connection.json',
  (c) =>
    c.pattern !== undefined
      ? { pattern: c.pattern, hostname: c.hostname }
      : { hostname: c.hostname, subject_cn: c.subject_cn, san: c.san },
  (c) =>
    c.pattern !== undefined
      ? ourVerdict(c.hostname, [{ type: 'DNS', value: c.pattern }])
      : ourVerdict(c.hostname, c.san, c.cert_is_none),
);

test('every listed divergence names a case that exists', { skip: PRESENT ? false : SKIP }, () => {
  // Runs last (node:test runs top-level tests in order), after every case above was checked.
  const stale = [...listed.keys()].filter((k) => !seen.has(k));
  assert.deepEqual(stale, [], 'listed divergences for cases that no table has');
});
