/**
 * Malformed input never crashes or hangs the parser: every truncation and many mutations of a
 * real certificate either parse or throw ParseError ERR_CERTIFICATE; big inputs parse quickly.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ParseError } from '../../src/errors.js';
import { octetString, sequence } from '../../src/testing/der-writer.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { readCertificates } from '../../src/x509/index.js';
import { createRoot, intermediate, issue } from '../support/pki.js';

/** Time budget per fuzz loop: the brief's "a couple of seconds" split over the loops below. */
const BUDGET_MS = 600;

function parsesOrParseError(bytes: Uint8Array, what: string): 'ok' | 'error' {
  try {
    const c = parseCertificate(bytes);
    // Touch the derived values too: they must not throw either.
    c.summary();
    void c.subject.key;
    void c.issuer.key;
    void c.selfIssued;
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof ParseError, `${what}: threw ${String(err)}`);
    assert.equal(err.code, 'ERR_CERTIFICATE', what);
    assert.doesNotMatch(err.message, /internal error/, `${what}: ${err.message}`);
    assert.match(err.message, /at offset \d+/, what);
    return 'error';
  }
}

describe('malformed input: never a crash or a hang', () => {
  const root = createRoot({});
  const ca = intermediate(root, {
    nameConstraints: { permitted: ['DNS:example.com', 'IP:10.0.0.0/8'], excluded: ['DN:C=US, O=Evil'] },
    aia: { caIssuers: ['http://ca.example/ca.der'], ocsp: ['http://ocsp.example/'] },
  });
  const leaf = issue(ca, {
    subject: 'C=US, O=Example + OU=Web, CN=www.example.com',
    sans: [
      'DNS:www.example.com',
      'IP:10.1.2.3',
      'IP:::1',
      'email:a@example.com',
      'URI:https://example.com/',
      'DN:CN=x',
    ],
    extensions: [
      { oid: '2.5.29.32', value: sequence(sequence(Buffer.from([0x06, 0x03, 0x2a, 0x03, 0x04]))) },
      { oid: '1.2.3.4', critical: true, value: octetString(Buffer.from('x')) },
    ],
  });

  test('every truncation is a ParseError', () => {
    const der = leaf.der;
    const start = Date.now();
    let n = 0;
    for (let len = 0; len < der.length; len++) {
      assert.equal(parsesOrParseError(der.subarray(0, len), `truncated to ${len}`), 'error');
      n++;
      if (Date.now() - start > BUDGET_MS) break;
    }
    assert.equal(n, der.length, 'all truncations were tried within the budget');
  });

  test('every single-byte change parses or is a ParseError', () => {
    for (const cert of [leaf.der, ca.der]) {
      const der = Buffer.from(cert);
      const start = Date.now();
      let tried = 0;
      let parsed = 0;
      outer: for (let i = 0; i < der.length; i++) {
        const original = der[i]!;
        for (const v of [original ^ 0xff, original ^ 0x01, original ^ 0x80, 0x00, 0x80, 0xff]) {
          if (v === original) continue;
          der[i] = v;
          if (parsesOrParseError(der, `byte ${i} set to 0x${v.toString(16)}`) === 'ok') parsed++;
          tried++;
          if (Date.now() - start > BUDGET_MS) break outer;
        }
        der[i] = original;
      }
      // Changes inside the signature or a key still parse; changes to structure do not.
      assert.ok(tried > der.length, `tried ${tried} mutations`);
      assert.ok(parsed > 0 && parsed < tried);
    }
  });

  test('random multi-byte mutations and splices (seeded)', () => {
    let seed = 0x2545f491;
    const rand = (n: number) => {
      // xorshift32: deterministic, so a failure can be reproduced.
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const der = leaf.der;
    const start = Date.now();
    let runs = 0;
    while (Date.now() - start < BUDGET_MS && runs < 20_000) {
      const m = Buffer.from(der);
      const edits = 1 + rand(4);
      for (let e = 0; e < edits; e++) m[rand(m.length)] = rand(256);
      let input: Uint8Array = m;
      if (rand(4) === 0) {
        // Splice: drop or duplicate a random range.
        const a = rand(m.length);
        const b = a + rand(Math.min(40, m.length - a));
        input = rand(2)
          ? Buffer.concat([m.subarray(0, a), m.subarray(b)])
          : Buffer.concat([m.subarray(0, b), m.subarray(a)]);
      }
      parsesOrParseError(input, `random run ${runs} (seed state ${seed})`);
      runs++;
    }
    assert.ok(runs > 100);
  });

  test('length fields claiming huge sizes fail fast', () => {
    const start = Date.now();
    for (const bytes of [
      [0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
      [0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30],
      [0x30, 0x88, 1, 2, 3, 4, 5, 6, 7, 8],
      [0x30, 0x80, 0x30, 0x80, 0, 0, 0, 0],
    ]) {
      assert.equal(parsesOrParseError(Uint8Array.from(bytes), String(bytes)), 'error');
    }
    assert.ok(Date.now() - start < 100);
  });

  test('garbage PEM and bytes through readCertificates', () => {
    for (const input of [
      '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n',
      '\u0000\u0001',
      'MIIB',
    ]) {
      assert.throws(() => readCertificates(input, 'fuzz'), ParseError);
    }
    assert.throws(() => readCertificates(Uint8Array.from([0x30, 0x00]), 'fuzz'), ParseError);
  });
});

describe('speed', () => {
  const root = createRoot({});

  test('a certificate with 10,000 SANs parses quickly', (t) => {
    const sans = Array.from({ length: 10_000 }, (_, i) => `DNS:host-${i}.example.com`);
    const big = issue(root, { sans });
    const start = process.hrtime.bigint();
    const c = parseCertificate(big.der);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    assert.equal(c.subjectAltName!.names.length, 10_000);
    assert.deepEqual(c.subjectAltName!.names[9_999], { type: 'dns', value: 'host-9999.example.com' });
    // Generous bound for a shared 2-core machine; typically a few milliseconds.
    t.diagnostic(`10,000 SANs: ${ms.toFixed(1)} ms`);
    assert.ok(ms < 250, `10,000 SANs took ${ms.toFixed(1)} ms`);
  });

  test('a 100 KB certificate parses quickly', (t) => {
    const blob = Buffer.alloc(100 * 1024, 0x41);
    const big = issue(root, {
      extensions: [{ oid: '1.3.6.1.4.1.99999.1', value: octetString(blob) }],
      subject: `CN=big, O=${'o'.repeat(5000)}`,
    });
    assert.ok(big.der.length > 100 * 1024);
    const start = process.hrtime.bigint();
    const c = parseCertificate(big.der);
    void c.fingerprintSha256;
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    assert.equal(c.extensions.at(-1)!.value.length, blob.length + 5); // tag, 0x83 and three length octets
    t.diagnostic(`100 KB certificate: ${ms.toFixed(1)} ms`);
    assert.ok(ms < 100, `100 KB certificate took ${ms.toFixed(1)} ms`);
  });

  test('a typical certificate parses in well under a millisecond; derived values are cached', (t) => {
    const ca = intermediate(root, { keyType: 'rsa2048' });
    const leaf = issue(ca, { sans: ['DNS:example.com', 'DNS:www.example.com'] });
    for (let i = 0; i < 200; i++) parseCertificate(leaf.der); // warm up the JIT
    const n = 2000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) parseCertificate(leaf.der);
    const us = Number(process.hrtime.bigint() - start) / 1e3 / n;
    t.diagnostic(`typical certificate: ${us.toFixed(1)} µs per parse`);
    assert.ok(us < 200, `parse took ${us.toFixed(1)} µs per certificate`);
    const c = parseCertificate(leaf.der);
    assert.equal(c.fingerprintSha256, c.fingerprintSha256);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 1000; i++) void c.fingerprintSha256 + c.spkiSha256 + c.subject.key;
    const cachedUs = Number(process.hrtime.bigint() - t0) / 1e3 / 1000;
    assert.ok(cachedUs < 5, `cached accessors took ${cachedUs.toFixed(2)} µs`);
  });
});
