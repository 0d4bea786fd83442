/**
 * findingFor() on errors built directly (every branch), the code tables, the schema kept in step
 * with them, and the schema validator itself.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { FINDING_CODES, findingFor, parseTarget } from '../../src/diagnose/index.js';
import { ConnectionError, ConnectTimeout, SSLError, VERIFY_CODES } from '../../src/errors.js';
import { validate } from './json-schema.js';

const SCHEMA = JSON.parse(
  readFileSync(new URL('../../../schema/check-report.schema.json', import.meta.url), 'utf8'),
) as { $defs: Record<string, { enum?: unknown[] }> } & Record<string, unknown>;

describe('findingFor', () => {
  test('a verification failure: its message, its hint as the fix, its position and code', () => {
    const err = new SSLError('certificate is valid for a.example, not b.example', {
      code: 'HOSTNAME_MISMATCH',
      expected: 'b.example',
      presented: ['a.example'],
      position: 0,
      hint: 'check that b.example is the host you meant',
    });
    assert.deepEqual(findingFor(err), {
      severity: 'error',
      code: 'HOSTNAME_MISMATCH',
      message: err.message,
      fix: err.hint,
      position: 0,
      verifyCode: 'HOSTNAME_MISMATCH',
    });
  });

  test('an IP literal against host names is IP_ADDRESS_MISMATCH, with a name to use; against other IPs it is not', () => {
    const ip = (presented: string[]) =>
      findingFor(
        new SSLError('x', { code: 'HOSTNAME_MISMATCH', expected: '10.0.0.6', presented, hint: 'h' }),
      );
    assert.equal(ip(['*.example.com', 'example.com']).code, 'IP_ADDRESS_MISMATCH');
    assert.equal(ip(['*.example.com', 'example.com']).serverName, 'example.com');
    assert.equal(ip(['*.example.com']).serverName, 'www.example.com');
    assert.equal(ip(['10.0.0.7']).code, 'HOSTNAME_MISMATCH');
    assert.equal(ip(['10.0.0.7']).serverName, undefined);
    assert.equal(
      findingFor(
        new SSLError('x', { code: 'HOSTNAME_MISMATCH', expected: 'a.example', presented: ['b.example'] }),
      ).code,
      'HOSTNAME_MISMATCH',
    );
  });

  test('an empty-subject profile failure of the leaf is EMPTY_SUBJECT', () => {
    const certificate = {
      subject: '',
      issuer: 'CN=CA',
      subjectAltNames: ['DNS:a.example'],
      serial: '01',
      notBefore: '2020-01-01T00:00:00.000Z',
      notAfter: '2030-01-01T00:00:00.000Z',
      keyType: 'ec',
      keyBits: 256,
      signatureAlgorithm: 'ecdsa-with-SHA256',
      isCA: false,
      fingerprintSha256: '0'.repeat(64),
      spkiSha256: `${'A'.repeat(43)}=`,
    };
    const f = findingFor(
      new SSLError('x', { code: 'PROFILE_VIOLATION', position: 0, certificate, hint: 'h' }),
    );
    assert.equal(f.code, 'EMPTY_SUBJECT');
    assert.equal(f.verifyCode, 'PROFILE_VIOLATION');
    const other = findingFor(
      new SSLError('x', {
        code: 'PROFILE_VIOLATION',
        position: 1,
        certificate: { ...certificate, subject: 'CN=I' },
      }),
    );
    assert.equal(other.code, 'PROFILE_VIOLATION');
  });

  test('without a hint, a fix is written: the SAN to add uses the name given', () => {
    const err = new SSLError('no SAN', { code: 'NO_SUBJECT_ALT_NAME', position: 0 });
    assert.match(findingFor(err, { name: 'api.example.com' }).fix, /DNS:api\.example\.com/);
    assert.match(findingFor(err, { name: '10.0.0.6' }).fix, /IP:10\.0\.0\.6/);
    assert.match(findingFor(err).fix, /its host names/);
    for (const code of Object.keys(VERIFY_CODES) as (keyof typeof VERIFY_CODES)[]) {
      const f = findingFor(new SSLError('m', { code }));
      assert.ok(f.fix.length > 10, `${code} gets a fix`);
      assert.equal(f.severity, 'error');
    }
  });

  test('connection errors: DNS, refused, timeout; anything else', () => {
    assert.equal(
      findingFor(new ConnectionError('x', { code: 'ERR_CONNECTION_NOTFOUND' })).code,
      'DNS_FAILED',
    );
    assert.equal(findingFor(new ConnectionError('x', { code: 'ERR_CONNECTION_AGAIN' })).code, 'DNS_FAILED');
    const refused = findingFor(new ConnectionError('x', { code: 'ERR_CONNECTION_CONNREFUSED' }));
    assert.equal(refused.code, 'CONNECTION_FAILED');
    assert.match(refused.fix, /firewall/);
    const t = findingFor(new ConnectTimeout('slow', { hint: 'raise it' }));
    assert.deepEqual([t.code, t.fix], ['CONNECT_TIMEOUT', 'raise it']);
    assert.equal(findingFor(new Error('odd')).code, 'CONNECTION_FAILED');
    assert.equal(findingFor('a string').message, 'a string');
  });
});

describe('targets', () => {
  test('URLs, hosts, host:port, IPv6', () => {
    assert.deepEqual(parseTarget('https://example.com/path?q'), {
      host: 'example.com',
      port: 443,
      url: 'https://example.com/',
    });
    assert.deepEqual(parseTarget('example.com:8443'), {
      host: 'example.com',
      port: 8443,
      url: 'https://example.com:8443/',
    });
    assert.deepEqual(parseTarget('[::1]:8443'), { host: '::1', port: 8443, url: 'https://[::1]:8443/' });
    assert.deepEqual(parseTarget('https://[::1]/'), { host: '::1', port: 443, url: 'https://[::1]/' });
    assert.deepEqual(parseTarget(' 10.0.0.6 '), { host: '10.0.0.6', port: 443, url: 'https://10.0.0.6/' });
    for (const bad of ['http://example.com/', 'ftp://x/', 'https://', 'a b', 'host:0', 'host:x', '']) {
      assert.throws(() => parseTarget(bad), { name: 'InvalidURL' }, bad);
    }
  });
});

describe('codes and the schema', () => {
  test('every finding code has a severity and a meaning; verifier codes are errors', () => {
    for (const [code, info] of Object.entries(FINDING_CODES)) {
      assert.ok(['error', 'warning', 'info'].includes(info.severity), code);
      assert.ok(info.meaning.length > 10, code);
    }
    for (const code of Object.keys(VERIFY_CODES) as (keyof typeof VERIFY_CODES)[]) {
      assert.equal(FINDING_CODES[code].severity, 'error', code);
    }
  });

  test('the schema lists exactly the codes of the code tables', () => {
    // A code added to errors.ts or codes.ts must be added to the schema's enum too.
    for (const [def, codes] of [
      ['findingCode', Object.keys(FINDING_CODES)],
      ['verifyCode', Object.keys(VERIFY_CODES)],
    ] as const) {
      const listed = new Set((SCHEMA.$defs[def]?.enum ?? []) as string[]);
      const missing = codes.filter((c) => !listed.has(c));
      const stale = [...listed].filter((c) => !codes.includes(c));
      assert.deepEqual(
        { missing, stale },
        { missing: [], stale: [] },
        `schema/check-report.schema.json $defs.${def}.enum: add ${missing.join(', ') || 'nothing'}, remove ${stale.join(', ') || 'nothing'}`,
      );
    }
  });
});

describe('the schema validator', () => {
  const schema = {
    type: 'object',
    required: ['a'],
    additionalProperties: false,
    properties: {
      a: { $ref: '#/$defs/n' },
      b: { type: ['string', 'null'], pattern: '^x' },
      c: { type: 'array', items: { enum: [1, 2] } },
      d: { const: 'k' },
    },
    $defs: { n: { type: 'integer', minimum: 0, maximum: 9 } },
  };
  test('accepts what matches', () => {
    assert.deepEqual(validate(schema, { a: 3, b: null, c: [1, 2], d: 'k' }), []);
    assert.deepEqual(validate(schema, { a: 0, b: 'xy' }), []);
  });
  test('reports each violation with its path', () => {
    assert.deepEqual(validate(schema, { a: 1.5, b: 'y', c: [3], d: 'j', e: 1 }), [
      '$.a: expected integer, found number',
      "$.b: 'y' does not match /^x/",
      '$.c[0]: 3 is not one of [1,2]',
      '$.d: expected "k", found "j"',
      "$: unexpected property 'e'",
    ]);
    assert.deepEqual(validate(schema, {}), ["$: missing required property 'a'"]);
    assert.deepEqual(validate(schema, { a: 10 }), ['$.a: 10 > 9']);
    assert.deepEqual(validate(schema, []), ['$: expected object, found array']);
  });
  test('refuses keywords it does not implement, and dangling references', () => {
    assert.throws(() => validate({ type: 'string', format: 'email' }, 'x'), /unsupported keyword 'format'/);
    assert.throws(() => validate({ $ref: '#/$defs/missing' }, 1), /dangling \$ref/);
  });
});
