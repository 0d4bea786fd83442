/**
 * Name constraints, name by name: our own table for every name form, then the rustls-webpki
 * tables from ../shared/conformance/hostname/rustls-webpki.json (DNS constraints, wildcard
 * containment and intersection, and the IP-constraint rows).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DerReader } from '../../src/der/reader.js';
import { Budget } from '../../src/verify/path/budget.js';
import {
  type ConstrainedNames,
  checkNameConstraints,
  compileNameConstraints,
  MAX_COMPARISONS_PER_CHECK,
} from '../../src/verify/path/name-constraints.js';
import { parseIp } from '../../src/x509/ip.js';
import { readName } from '../../src/x509/name.js';
import type { GeneralName, Name, NameConstraints } from '../../src/x509/types.js';
import { encodeName } from '../support/pki.js';

const CONFORMANCE = new URL('../../../../shared/conformance/', import.meta.url);

function dn(text: string): Name {
  return readName(new DerReader(encodeName(text)), 'test name');
}

/** 'DNS:x', 'IP:10.0.0.1' or 'IP:10.0.0.0/8', 'email:x', 'URI:x', 'DN:CN=x', 'other:0' / 'RID:' */
function gn(spec: string): GeneralName {
  const i = spec.indexOf(':');
  const kind = spec.slice(0, i);
  const value = spec.slice(i + 1);
  switch (kind) {
    case 'DNS':
      return { type: 'dns', value };
    case 'email':
      return { type: 'email', value };
    case 'URI':
      return { type: 'uri', value };
    case 'DN':
      return { type: 'dirName', name: dn(value) };
    case 'RID':
      return { type: 'registeredID', value: value || '1.2.3' };
    case 'other':
      return { type: 'other', tag: 0xa0 | Number(value), der: new Uint8Array([0xa0 | Number(value), 0]) };
    case 'IP': {
      const slash = value.indexOf('/');
      if (slash < 0) return { type: 'ip', bytes: parseIp(value)! };
      const addr = parseIp(value.slice(0, slash))!;
      const bits = Number(value.slice(slash + 1));
      const mask = new Uint8Array(addr.length);
      for (let b = 0; b < bits; b++) mask[b >> 3]! |= 0x80 >> (b & 7);
      return { type: 'ip', bytes: Uint8Array.from([...addr, ...mask]) };
    }
    default:
      throw new Error(`bad spec ${spec}`);
  }
}

function nc(permitted: string[], excluded: string[] = []): NameConstraints {
  const sub = (s: string) => ({ base: gn(s), minimum: 0 });
  return {
    critical: true,
    ...(permitted.length ? { permitted: permitted.map(sub) } : {}),
    ...(excluded.length ? { excluded: excluded.map(sub) } : {}),
  };
}

function names(sans: string[], subject?: string): ConstrainedNames {
  return { sans: sans.map(gn), hasSan: sans.length > 0, ...(subject ? { subject: dn(subject) } : {}) };
}

/** True when the names pass. */
function passes(constraints: NameConstraints, n: ConstrainedNames): boolean {
  return checkNameConstraints(compileNameConstraints(constraints), n) === undefined;
}

describe('name constraints: our table', () => {
  // [presented SANs, permitted, excluded, passes?]
  const table: [string[], string[], string[], boolean][] = [
    // dNSName: the domain and everything below it; never a mere suffix match
    [['DNS:example.com'], ['DNS:example.com'], [], true],
    [['DNS:a.b.example.com'], ['DNS:example.com'], [], true],
    [['DNS:badexample.com'], ['DNS:example.com'], [], false],
    [['DNS:EXAMPLE.com'], ['DNS:example.COM'], [], true],
    [['DNS:example.com'], ['DNS:.example.com'], [], false], // leading dot: below only
    [['DNS:www.example.com'], ['DNS:.example.com'], [], true],
    [['DNS:example.com'], ['DNS:'], [], true], // the empty constraint covers all
    [['DNS:example.com'], [], ['DNS:'], false],
    [['DNS:example.com'], ['DNS:example.com'], ['DNS:example.com'], false], // excluded wins
    [['DNS:ok.example.com', 'DNS:not-allowed.example.com'], [], ['DNS:not-allowed.example.com'], false],
    [['IP:10.0.0.1'], ['DNS:example.com'], [], true], // other forms are not constrained
    // wildcards: permitted only when contained, excluded when they meet (CVE-2025-61727)
    [['DNS:*.example.com'], ['DNS:example.com'], [], true],
    [['DNS:*.example.com'], ['DNS:foo.example.com'], [], false],
    [['DNS:*.example.com'], [], ['DNS:bar.example.com'], false],
    [['DNS:*.example.com'], [], ['DNS:.bar.example.com'], true],
    [['DNS:*.example.com'], [], ['DNS:a.b.example.com'], true],
    [['DNS:*.foo.example.com'], ['DNS:foo.example.com'], [], true],
    // malformed names cannot be shown to satisfy constraints of their form
    [['DNS:.example.com', 'DNS:foo.example.com'], ['DNS:example.com'], [], false],
    [['DNS:example.com.'], ['DNS:example.com'], [], false],
    // iPAddress: CIDR; families never mix
    [['IP:192.0.2.7'], ['IP:192.0.2.0/24'], [], true],
    [['IP:192.0.3.7'], ['IP:192.0.2.0/24'], [], false],
    [['IP:::1'], [], ['IP:::1/128'], false],
    [['IP:1.2.3.4'], [], ['IP:::ffff:1.2.3.4/128'], true],
    [['IP:1.2.3.4'], ['IP:1.2.3.0/24'], ['IP:::/0'], true],
    [['IP:2001:db8::1'], ['IP:10.0.0.0/8'], [], false],
    // rfc822Name: mailbox, host, or domain (leading dot); characters are literal
    [['email:foo@example.com'], ['email:foo@example.com'], [], true],
    [['email:Foo@example.com'], ['email:foo@example.com'], [], false], // local part is exact
    [['email:foo@EXAMPLE.com'], ['email:foo@example.com'], [], true], // host is not
    [['email:foo@example.com'], ['email:example.com'], [], true],
    [['email:foo@sub.example.com'], ['email:example.com'], [], false],
    [['email:foo@sub.example.com'], ['email:.example.com'], [], true],
    [['email:foo@example.com'], ['email:.example.com'], [], false],
    [['email:*@example.com'], ['email:*@example.com'], [], true],
    [['email:user@example.com'], ['email:*@example.com'], [], false],
    [['email:*@example.com'], ['email:**@example.com'], [], false],
    [['email:invalid@address@example.com'], ['email:example.com'], [], false],
    [['email:foo@example.com'], ['email:'], [], true],
    // URI: the host, exactly or below a leading-dot domain; no IP hosts; a host is needed
    [['URI:https://example.com/a'], ['URI:example.com'], [], true],
    [['URI:http://example.com:8080/'], ['URI:example.com'], [], true],
    [['URI:http://www.example.com/'], ['URI:example.com'], [], false],
    [['URI:http://www.example.com/'], ['URI:.example.com'], [], true],
    [['URI:http://1.2.3.4/'], ['URI:example.com'], [], false],
    [['URI:http://[2001:db8::1]/'], ['URI:example.com'], [], false],
    [['URI:urn:example'], ['URI:example.com'], [], false],
    [['URI:http://foo.com/'], [], ['URI:foo.com'], false],
    // directoryName SANs: the constraint's RDNs must start the name
    [['DN:O=Example, CN=a'], ['DN:O=Example'], [], true],
    [['DN:O=Other, CN=a'], ['DN:O=Example'], [], false],
    [['DN:O=EXAMPLE,  CN=a'], ['DN:O=example'], [], true], // RFC 5280 §7.1: case and spaces folded
    [['DN:CN=foo'], [], ['DN:CN=foo'], false],
    // forms we cannot evaluate: refused when constrained, ignored otherwise
    [['DNS:example.com', 'other:0'], [], ['other:0'], false],
    [['DNS:example.com'], [], ['other:0'], true],
    [['RID:1.2.3'], ['RID:1.2.3'], [], false],
  ];
  for (const [sans, permitted, excluded, expected] of table) {
    it(`${sans.join(', ')} under permit [${permitted.join(', ')}] exclude [${excluded.join(', ')}] -> ${expected ? 'ok' : 'violation'}`, () => {
      assert.equal(passes(nc(permitted, excluded), names(sans)), expected);
    });
  }

  it('applies directoryName constraints to the subject, not to an empty one', () => {
    const c = nc(['DN:CN=foo']);
    assert.equal(passes(c, names(['DN:CN=foo'], 'CN=not-foo')), false);
    assert.equal(passes(c, names(['DN:CN=foo'], 'CN=foo')), true);
    assert.equal(passes(c, names(['DNS:example.com'])), true);
    assert.equal(passes(nc([], ['DN:CN=foo']), names(['DN:CN=not-foo'], 'CN=foo')), false);
  });

  it('applies rfc822Name constraints to emailAddress in the subject when there is no SAN', () => {
    const c = nc(['email:example.com']);
    assert.equal(
      passes(c, { sans: [], hasSan: false, subject: dn('CN=x, emailAddress=a@other.com') }),
      false,
    );
    assert.equal(
      passes(c, { sans: [], hasSan: false, subject: dn('CN=x, emailAddress=a@example.com') }),
      true,
    );
    // With a SAN the subject's emailAddress is not a name to check (RFC 5280 §4.2.1.10).
    assert.equal(
      passes(c, { sans: [gn('DNS:x.org')], hasSan: true, subject: dn('CN=x, emailAddress=a@other.com') }),
      true,
    );
  });

  it('refuses malformed constraints, naming them', () => {
    for (const bad of ['DNS:*.example.com', 'DNS:example.com.', 'DNS:.', 'email:a@b@c', 'URI:http://x/']) {
      const compiled = compileNameConstraints(nc([bad]));
      assert.ok(compiled.problem, bad);
      const v = checkNameConstraints(compiled, names(['DNS:example.com']));
      assert.equal(v?.malformedConstraint, true, bad);
    }
    const mask: NameConstraints = {
      critical: true,
      permitted: [
        { base: { type: 'ip', bytes: Uint8Array.from([10, 0, 0, 0, 255, 0, 255, 0]) }, minimum: 0 },
      ],
    };
    assert.match(compileNameConstraints(mask).problem ?? '', /CIDR/);
    const withMax: NameConstraints = {
      critical: true,
      permitted: [{ base: gn('DNS:a.com'), minimum: 0, maximum: 3 }],
    };
    assert.match(compileNameConstraints(withMax).problem ?? '', /minimum or maximum/);
  });

  it('says which name and which subtree in a violation', () => {
    const v = checkNameConstraints(compileNameConstraints(nc(['DNS:example.com'])), names(['DNS:evil.org']));
    assert.equal(v?.name, 'DNS:evil.org');
    assert.match(v?.reason ?? '', /not in any permitted subtree \(DNS:example\.com\)/);
    const e = checkNameConstraints(compileNameConstraints(nc([], ['IP:10.0.0.0/8'])), names(['IP:10.1.2.3']));
    assert.equal(e?.name, 'IP:10.1.2.3');
    assert.match(e?.reason ?? '', /excluded subtree IP:10\.0\.0\.0\/8/);
  });

  it('spends one comparison per (name, constraint) pair and stops at the budget', () => {
    const many = nc(Array.from({ length: 50 }, (_, i) => `DNS:d${i}.example`));
    const sans = names(Array.from({ length: 10 }, (_, i) => `DNS:x${i}.d49.example`));
    const budget = new Budget();
    assert.equal(checkNameConstraints(compileNameConstraints(many), sans, budget), undefined);
    assert.equal(budget.used().nameConstraintComparisons, 500);
    const small = new Budget({ nameConstraintComparisons: 100 });
    assert.throws(
      () => checkNameConstraints(compileNameConstraints(many), sans, small),
      (err: Error & { code?: string }) =>
        err.code === 'BUDGET_EXCEEDED' && /100 name-constraint comparisons/.test(err.message),
    );
  });

  it('refuses before comparing when the names could need more than 2^20 comparisons (OpenSSL NAME_CHECK_MAX)', () => {
    // 1,025 DNS SANs x 1,024 dNSName constraints = 1,049,600 possible comparisons > 1,048,576.
    const constraints = nc(Array.from({ length: 1024 }, (_, i) => `DNS:d${i}.example`));
    const many = names(Array.from({ length: 1025 }, (_, i) => `DNS:x${i}.d0.example`));
    const budget = new Budget();
    assert.equal(MAX_COMPARISONS_PER_CHECK, 1_048_576);
    assert.throws(
      () => checkNameConstraints(compileNameConstraints(constraints), many, budget),
      (err: Error & { code?: string }) =>
        err.code === 'BUDGET_EXCEEDED' &&
        /would need up to 1049600 comparisons, more than 1048576/.test(err.message),
    );
    assert.equal(budget.used().nameConstraintComparisons, 0, 'nothing was compared');
    // One name fewer is at the bound: checked, and every SAN matches the first constraint.
    const fewer = new Budget();
    const ok = names(Array.from({ length: 1024 }, (_, i) => `DNS:x${i}.d0.example`));
    assert.equal(checkNameConstraints(compileNameConstraints(constraints), ok, fewer), undefined);
    assert.equal(fewer.used().nameConstraintComparisons, 1024);
    // Names of a form no constraint covers cost nothing: IP SANs under dNSName constraints.
    const ips = names(Array.from({ length: 2000 }, (_, i) => `IP:10.0.${i >> 8}.${i & 255}`));
    assert.equal(checkNameConstraints(compileNameConstraints(constraints), ips, new Budget()), undefined);
  });
});

// ---------------------------------------------------------------------------------------------

interface Text {
  ascii?: string;
  latin1?: string;
}
const text = (t: Text): string => t.ascii ?? t.latin1 ?? '';

describe('name constraints: rustls-webpki tables', () => {
  const file = new URL('hostname/rustls-webpki.json', CONFORMANCE);
  if (!existsSync(file)) {
    it('needs ../shared/conformance', (t) =>
      t.skip(`${file.pathname} not found: run with ../shared/conformance present`));
    return;
  }
  const data = JSON.parse(readFileSync(file, 'utf8')) as {
    tables: Record<string, Record<string, unknown>[]>;
  };

  it('PRESENTED_MATCHES_CONSTRAINT (permitted subtrees)', () => {
    const rows = data.tables.PRESENTED_MATCHES_CONSTRAINT as {
      presented: Text;
      constraint: Text;
      expected?: boolean;
      expected_error?: string;
    }[];
    assert.ok(rows.length >= 30);
    for (const r of rows) {
      const compiled = compileNameConstraints(nc([`DNS:${text(r.constraint)}`]));
      const v = checkNameConstraints(compiled, names([`DNS:${text(r.presented)}`]));
      const label = `${text(r.presented)} vs ${text(r.constraint)}`;
      if (r.expected_error === 'MalformedNameConstraint') assert.ok(compiled.problem, label);
      // A malformed presented name is refused (when the constraint is malformed too, for that reason).
      else if (r.expected_error === 'MalformedDnsIdentifier') assert.ok(v, label);
      else assert.equal(v === undefined, r.expected, label);
    }
  });

  it('WILDCARD_CONSTRAINT_CONTAINMENT and WILDCARD_EXCLUDED_INTERSECTION', () => {
    for (const r of data.tables.WILDCARD_CONSTRAINT_CONTAINMENT as {
      presented: Text;
      constraint: Text;
      expected: boolean;
    }[]) {
      assert.equal(
        passes(nc([`DNS:${text(r.constraint)}`]), names([`DNS:${text(r.presented)}`])),
        r.expected,
        text(r.presented),
      );
    }
    for (const r of data.tables.WILDCARD_EXCLUDED_INTERSECTION as {
      presented: Text;
      constraint: Text;
      expected: boolean;
    }[]) {
      const excluded = !passes(nc([], [`DNS:${text(r.constraint)}`]), names([`DNS:${text(r.presented)}`]));
      assert.equal(excluded, r.expected, `${text(r.presented)} vs ${text(r.constraint)}`);
    }
  });

  it('the IP-constraint rows (raw address+mask, and textual with mask checks)', () => {
    let n = 0;
    for (const key of [
      'presented_id_matches_constraint_ipv4_test',
      'presented_id_matches_constraint_ipv6_test',
    ]) {
      for (const r of data.tables[key] as {
        presented_ip: string;
        constraint_raw_hex: string;
        expected: boolean;
      }[]) {
        const constraint: NameConstraints = {
          critical: true,
          permitted: [
            {
              base: { type: 'ip', bytes: Uint8Array.from(Buffer.from(r.constraint_raw_hex, 'hex')) },
              minimum: 0,
            },
          ],
        };
        assert.equal(
          passes(constraint, names([`IP:${r.presented_ip}`])),
          r.expected,
          `${r.presented_ip} in ${r.constraint_raw_hex}`,
        );
        n++;
      }
    }
    for (const r of data.tables['ip_alloc_tests.PRESENTED_MATCHES_CONSTRAINT'] as {
      presented_ip: string;
      constraint_address: string;
      constraint_mask: string;
      expected?: boolean;
      expected_error?: string;
    }[]) {
      const bytes = Uint8Array.from([...parseIp(r.constraint_address)!, ...parseIp(r.constraint_mask)!]);
      const compiled = compileNameConstraints({
        critical: true,
        permitted: [{ base: { type: 'ip', bytes }, minimum: 0 }],
      });
      const label = `${r.presented_ip} in ${r.constraint_address}/${r.constraint_mask}`;
      if (r.expected_error) assert.ok(compiled.problem, label);
      else
        assert.equal(
          checkNameConstraints(compiled, names([`IP:${r.presented_ip}`])) === undefined,
          r.expected,
          label,
        );
      n++;
    }
    assert.equal(n, 50, 'the file describes 50 IP-constraint rows');
  });
});
