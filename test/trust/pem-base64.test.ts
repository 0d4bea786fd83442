/**
 * PEM bodies are strict base64 (src/trust/load.ts strictBase64): the standard alphabet only, a
 * length that is a multiple of 4, at most two '=' and only at the end; white space between
 * lines is allowed. The reader checks this by the decoded length rather than with a regular
 * expression (a start-up cost); these tests hold it to the rule the expression stated, and
 * check that the same root read twice (lazily, as the OS store reads it) is one certificate.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lazyCertificate } from '../../src/trust/lazy.js';
import { extractCertificates } from '../../src/trust/load.js';
import { createRoot } from '../support/index.js';

const MALFORMED = /the base64 text is malformed/;
const RULE = /^[A-Za-z0-9+/]*={0,2}$/;

function pem(body: string): Buffer {
  return Buffer.from(`-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`, 'latin1');
}

/** 'base64' when the base64 layer refused the block, else 'ok' (a certificate or a DER error). */
function verdict(body: string): 'base64' | 'ok' {
  const got = extractCertificates(pem(body));
  return got.invalid.some((m) => MALFORMED.test(m)) ? 'base64' : 'ok';
}

function ruleSays(body: string): 'base64' | 'ok' {
  const b = body.replace(/\s+/g, '');
  return b.length > 0 && b.length % 4 === 0 && RULE.test(b) ? 'ok' : 'base64';
}

describe('PEM base64', () => {
  const root = createRoot({ cn: 'pem base64 root' });
  const body = Buffer.from(root.der).toString('base64');

  test('a well-formed body, in lines of 64 with CRLF or spaces, is read', () => {
    const lines = body.match(/.{1,64}/g)?.join('\r\n') ?? '';
    for (const text of [body, lines, lines.replace(/\r\n/g, ' \t ')]) {
      const got = extractCertificates(pem(text));
      assert.deepEqual(got.invalid, []);
      assert.equal(got.certs.length, 1);
      assert.ok(Buffer.from(got.certs[0]?.der ?? []).equals(Buffer.from(root.der)));
    }
  });

  test("base64url characters, an inner '=', three '=', a stray character and a short body are refused", () => {
    const i = 40;
    const cases = [
      `${body.slice(0, i)}-${body.slice(i + 1)}`,
      `${body.slice(0, i)}_${body.slice(i + 1)}`,
      `${body.slice(0, i)}=${body.slice(i + 1)}`,
      `${body.slice(0, i)}!${body.slice(i + 1)}`,
      `${body.slice(0, i)}\u00e9${body.slice(i + 1)}`,
      `${body.slice(0, -4)}A===`,
      body.slice(0, -1),
      '',
    ];
    for (const c of cases)
      assert.equal(verdict(c), 'base64', JSON.stringify(c.slice(Math.max(0, i - 4), i + 4)));
  });

  test('random bodies: accepted exactly when the strict rule accepts them', () => {
    // A small seeded generator, so that a failure reproduces.
    let seed = 0x2545f491;
    const rand = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const odd = '=-_!.~\u00e9\u0000:';
    for (let k = 0; k < 5000; k++) {
      const len = 4 * (1 + rand(6));
      let b = '';
      for (let j = 0; j < len; j++) b += rand(10) === 0 ? odd[rand(odd.length)] : alphabet[rand(64)];
      if (rand(3) === 0) b = `${b.slice(0, -1)}=`;
      if (rand(5) === 0) b = `${b.slice(0, -2)}==`;
      if (rand(7) === 0) b = b.slice(0, -1);
      assert.equal(verdict(b), ruleSays(b), JSON.stringify(b));
    }
  });

  test('the same root read twice lazily is one certificate, parsed for its subject once', () => {
    const a = lazyCertificate(root.der);
    const b = lazyCertificate(new Uint8Array(root.der));
    assert.equal(a, b);
    assert.equal(a.subject.text, 'CN=pem base64 root');
  });
});
