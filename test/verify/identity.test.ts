// Tests for src/verify/identity.ts and src/verify/hostname.ts: name syntax and matching as
// (presented, reference, expected) tables, reference-name parsing, and verifyIdentity against
// certificates built by the test-PKI factory.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidURL } from '../../src/errors.js';
import {
  dnsNameMatches,
  identityMatches,
  isValidPresentedDnsName,
  isValidReferenceDnsName,
  parseReferenceName,
  presentedIdentities,
  type ReferenceName,
  referenceNameText,
} from '../../src/verify/identity.js';
import { parseIp } from '../../src/x509/ip.js';
import type { GeneralName } from '../../src/x509/types.js';

describe('dnsNameMatches (presented, reference, expected)', () => {
  // Our own rows, for the choices that the shared rustls-webpki and Go tables do not pin down
  // (those run in hostname-conformance.test.ts).
  const TABLE: [string, string, boolean][] = [
    ['example.com', 'example.com', true],
    ['EXAMPLE.com', 'example.COM', true],
    ['example.com', 'example.com.', true], // trailing dot ignored on the reference
    ['example.com.', 'example.com.', false], // ...but a certificate may not carry one
    ['example.com', 'example.com..', false],
    ['*.example.com', 'www.example.com', true],
    ['*.example.com', 'WWW.Example.Com.', true],
    ['*.example.com', 'example.com', false], // one label, not zero
    ['*.example.com', 'a.b.example.com', false], // one label, not two
    ['*.example.com', '.example.com', false],
    ['*.example.com', 'xn--bcher-kva.example.com', true], // a whole-label wildcard may match an A-label
    ['xn--*.example.com', 'xn--bcher-kva.example.com', false], // no wildcard inside an A-label
    // Wildcards over a public suffix of the PSL's ICANN section are refused, as Chromium; the
    // PRIVATE section's suffixes are not (their owners hold such certificates).
    ['*.co.uk', 'example.co.uk', false],
    ['*.CO.UK', 'example.co.uk', false],
    ['*.com.br', 'example.com.br', false],
    ['*.foo.ck', 'www.foo.ck', false], // the list's wildcard rule '*.ck' makes foo.ck a suffix
    ['*.www.ck', 'a.www.ck', true], // ...and its exception '!www.ck' makes www.ck a domain
    ['*.example.co.uk', 'www.example.co.uk', true],
    ['*.s3.amazonaws.com', 'bucket.s3.amazonaws.com', true], // PRIVATE section: allowed
    ['*.github.io', 'someone.github.io', true], // PRIVATE section: allowed
    ['*.intranet.corp', 'www.intranet.corp', true], // an unlisted TLD has no public suffix
    ['*.com', 'example.com', false], // but a single-label suffix is refused
    ['*.', 'example.', false],
    ['*', 'localhost', false],
    ['**.example.com', 'www.example.com', false],
    ['*.*.example.com', 'a.b.example.com', false],
    ['f*.example.com', 'foo.example.com', false], // partial wildcards
    ['*o.example.com', 'foo.example.com', false],
    ['f*o.example.com', 'foo.example.com', false],
    ['exa_mple.com', 'exa_mple.com', false], // no '_' in a certificate's name (RFC 5280, pyca; limbo underscore-dns)
    ['_dmarc.example.com', '_dmarc.example.com', false],
    ['*.example.com', '_dmarc.example.com', true], // but a wildcard covers a label with one
    ['*.example.com', 'my_service.example.com', true],
    ['example-.com', 'example-.com', false], // trailing hyphen, as the leading one (rustls-webpki)
    ['www.example-.com', 'www.example-.com', false],
    ['*.example-.com', 'www.example-.com', false],
    ['a-b.example.com', 'a-b.example.com', true],
    ['-example.com', '-example.com', false],
    ['example.123', 'example.123', false], // an all-numeric last label is no DNS name
    ['1.2.3.4', '1.2.3.4', false], // an IP address is never a dNSName match
    ['*.2.3.4', '1.2.3.4', false],
    ['localhost', 'localhost', true],
    ['bücher.de', 'bücher.de', false], // dNSName must be ASCII (A-labels)
    ['xn--bcher-kva.de', 'xn--bcher-kva.de', true],
    ['XN--BCHER-KVA.de', 'xn--bcher-kva.de', true],
    ['xn--628h.example.com', 'xn--628h.example.com', true],
    ['xn--.example.com', 'xn--.example.com', false], // an empty A-label
    ['xn--zz.example.com', 'xn--zz.example.com', false], // Punycode that does not decode
    ['xn--abc-.example.com', 'xn--abc-.example.com', false], // decodes to plain 'abc'
    ['xn--ab_c.example.com', 'xn--ab_c.example.com', false], // '_' is no Punycode digit
    ['*.example.com', 'xn--zz.example.com', false], // a wildcard matches no bad A-label either
    ['xn--zz.example.com', 'www.example.com', false],
    [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`, true],
    [`${'a'.repeat(64)}.com`, `${'a'.repeat(64)}.com`, false],
    [`${'a.'.repeat(126)}a`, `${'a.'.repeat(126)}a`, true], // 253 characters
    [`${'a.'.repeat(126)}a`, `${'a.'.repeat(126)}a.`, true], // 253 + the root dot
    [`${'a.'.repeat(126)}ab`, `${'a.'.repeat(126)}ab`, false], // 254
    ['', '', false],
    ['example.com', '', false],
    ['www.example.com\0.evil.com', 'www.example.com', false],
    ['example.com ', 'example.com', false],
  ];
  for (const [presented, reference, expected] of TABLE) {
    test(`${JSON.stringify(presented)} vs ${JSON.stringify(reference)} -> ${expected}`, () => {
      assert.equal(dnsNameMatches(presented, reference), expected);
    });
  }
});

describe('name syntax', () => {
  // (name, valid as presented with wildcards, valid as presented without, valid as reference)
  const TABLE: [string, boolean, boolean, boolean][] = [
    ['example.com', true, true, true],
    ['example.com.', false, false, true],
    ['*.example.com', true, false, false],
    ['*.example.com.', false, false, false],
    ['*.com', false, false, false],
    ['*', false, false, false],
    ['.', false, false, false],
    ['', false, false, false],
    ['.example.com', false, false, false],
    ['example..com', false, false, false],
    ['exa mple.com', false, false, false],
    ['exa_mple.com', false, false, true], // a host may have '_', a certificate's name may not
    ['*.exa_mple.com', false, false, false],
    ['eXample123-.com', false, false, false],
    ['*.co.uk', false, false, false],
    ['*.github.io', true, false, false],
    ['xn--bcher-kva.de', true, true, true],
    ['xn--.de', false, false, false],
    ['xn--zz.de', false, false, false],
    ['xn--abc-.de', false, false, false],
    ['-example.com', false, false, false],
    ['a.1', false, false, false],
    ['1a.b', true, true, true],
    ['a.b1', true, true, true],
    ['a.1b', true, true, true],
    ['123', false, false, false],
    ['localhost', true, true, true],
    ['foo:bar', false, false, false],
    ['bücher.de', false, false, false],
  ];
  for (const [name, pw, p, r] of TABLE) {
    test(JSON.stringify(name), () => {
      assert.equal(isValidPresentedDnsName(name, true), pw, 'presented, wildcards allowed');
      assert.equal(isValidPresentedDnsName(name, false), p, 'presented, no wildcards');
      assert.equal(isValidReferenceDnsName(name), r, 'reference');
    });
  }
});

describe('parseReferenceName', () => {
  // (host, expected reference as 'dns:<value>' / 'ip:<text>', or an error fragment)
  const OK: [string, string][] = [
    ['example.com', 'dns:example.com'],
    ['Example.COM.', 'dns:example.com'],
    ['bücher.de', 'dns:xn--bcher-kva.de'],
    ['BÜCHER.DE.', 'dns:xn--bcher-kva.de'],
    ['faß.de', 'dns:xn--fa-hia.de'], // UTS #46 nontransitional, as the URL parser
    ['😜.example.com', 'dns:xn--628h.example.com'],
    ['ａｐｉ.example.com', 'dns:api.example.com'], // full-width letters map to ASCII
    ['xn--bcher-kva.de', 'dns:xn--bcher-kva.de'],
    ['exa_mple.com', 'dns:exa_mple.com'],
    ['localhost', 'dns:localhost'],
    ['10.0.0.6', 'ip:10.0.0.6'],
    ['１０.０.０.６', 'ip:10.0.0.6'], // full-width digits: what the URL parser would make of it
    ['[::1]', 'ip:::1'],
    ['::1', 'ip:::1'],
    ['[2001:DB8:0:0:0:0:0:1]', 'ip:2001:db8::1'],
    ['[::ffff:10.0.0.6]', 'ip:::ffff:10.0.0.6'],
    ['fe80::1%eth0', 'ip:fe80::1'],
    ['[fe80::1%25eth0]', 'ip:fe80::1'],
  ];
  for (const [host, expected] of OK) {
    test(`${JSON.stringify(host)} -> ${expected}`, () => {
      const ref = parseReferenceName(host);
      assert.equal(ref.kind === 'dns' ? `dns:${ref.value}` : `ip:${ref.text}`, expected);
      if (ref.kind === 'ip') assert.deepEqual([...ref.bytes], [...parseIp(ref.text)!]);
    });
  }

  const BAD: [unknown, RegExp][] = [
    ['', /it is empty/],
    ['.', /only a dot/],
    ['a..b', /empty label/],
    ['.example.com', /starts with a dot/],
    ['exa mple.com', /a space/],
    ['example.com\n', /control character/],
    ['null.python.org\0example.org', /NUL/],
    ['-example.com', /starts with a hyphen/],
    ['example-.com', /ends with a hyphen/],
    ['xn--.com', /empty A-label/],
    ['xn--zz.com', /'xn--zz' is not a valid A-label/],
    ['www.xn--abc-.com', /decodes to plain ASCII/],
    ['*.example.com', /'\*'/],
    ['example.com:443', /host:port/],
    ['https://example.com/', /is a URL/],
    ['[1.2.3.4]', /brackets are for IPv6 only/],
    ['[::1', /not closed/],
    ['[example.com]', /brackets/],
    ['1:2:3', /not a valid IPv6 address/],
    ['127.1', /URL parser would read it as 127\.0\.0\.1|dotted-quad/],
    ['0x7f.0.0.1', /dotted-quad/],
    ['010.0.0.1', /dotted-quad/],
    ['1.2.3.4.', /dotted-quad/],
    ['256.0.0.1', /dotted-quad|all digits/],
    ['example.123', /all digits/],
    ['a\u200d.com', /internationalised/], // ZWJ outside a joining context (CONTEXTJ)
    ['a'.repeat(64), /more than 63/],
    ['a.'.repeat(200), /characters long/],
    ['x'.repeat(5000), /characters long/],
    [null, /must be a string/],
    [undefined, /must be a string/],
    [42, /must be a string/],
  ];
  for (const [host, pattern] of BAD) {
    test(`${JSON.stringify(host)?.slice(0, 40) ?? String(host)} -> InvalidURL`, () => {
      assert.throws(
        () => parseReferenceName(host as string),
        (e: unknown) => e instanceof InvalidURL && e.code === 'ERR_INVALID_HOST' && pattern.test(e.message),
      );
    });
  }

  test('a shortened IPv4 form gets a hint with what a URL parser makes of it', () => {
    assert.throws(
      () => parseReferenceName('127.1'),
      (e: unknown) => e instanceof InvalidURL && /127\.0\.0\.1/.test(e.hint ?? ''),
    );
  });
});

describe('identityMatches (SANs, reference, expected)', () => {
  const ip = (t: string): GeneralName => ({ type: 'ip', bytes: parseIp(t)! });
  const dns = (value: string): GeneralName => ({ type: 'dns', value });
  const raw = (h: string): GeneralName => ({ type: 'ip', bytes: Buffer.from(h, 'hex') });
  const TABLE: [string, GeneralName[], string, boolean][] = [
    ['IP SAN matches the same IPv4', [ip('10.0.0.6')], '10.0.0.6', true],
    ['IP SAN does not match another IPv4', [ip('10.0.0.7')], '10.0.0.6', false],
    ['IPv6 compared as bytes, not text', [ip('2001:db8:0:0:0:0:0:1')], '[2001:DB8::1]', true],
    ['IPv4 SAN does not match its IPv4-mapped IPv6 form', [ip('10.0.0.6')], '[::ffff:10.0.0.6]', false],
    ['IPv4-mapped IPv6 SAN does not match the IPv4 address', [ip('::ffff:10.0.0.6')], '10.0.0.6', false],
    ['IPv4-mapped SAN matches the mapped reference', [ip('::ffff:10.0.0.6')], '[::ffff:10.0.0.6]', true],
    ['an IP reference never matches a dNSName SAN', [dns('10.0.0.6')], '10.0.0.6', false],
    ['an IPv6 reference never matches a dNSName SAN', [dns('::1')], '::1', false],
    ['a DNS reference never matches an iPAddress SAN', [ip('10.0.0.6')], 'localhost', false],
    ['an 8-byte (address+mask) SAN matches nothing', [raw('0a000006ffffffff')], '10.0.0.6', false],
    ['a 5-byte SAN matches nothing', [raw('0a00000600')], '10.0.0.6', false],
    ['URI SANs are ignored', [{ type: 'uri', value: 'https://example.com/' }], 'example.com', false],
    ['email SANs are ignored', [{ type: 'email', value: 'example.com' }], 'example.com', false],
    ['any of several SANs', [dns('a.example'), dns('*.example.com'), ip('::1')], 'www.example.com', true],
    ['any of several SANs (IP)', [dns('a.example'), dns('*.example.com'), ip('::1')], '[::1]', true],
    [
      'an invalid SAN before a valid one does not stop the search',
      [dns('*.com'), dns('example.com')],
      'example.com',
      true,
    ],
    ['no SANs, no match', [], 'example.com', false],
    ['IDN reference against its A-label SAN', [dns('xn--bcher-kva.de')], 'bücher.de', true],
    ['IDN reference against a U-label SAN (malformed)', [dns('bücher.de')], 'bücher.de', false],
  ];
  for (const [title, names, host, expected] of TABLE) {
    test(title, () => assert.equal(identityMatches(names, parseReferenceName(host)), expected));
  }

  test('presentedIdentities lists dNSName values and iPAddress texts, in order', () => {
    assert.deepEqual(
      presentedIdentities([
        dns('*.example.com'),
        { type: 'uri', value: 'https://x/' },
        ip('10.0.0.6'),
        ip('::1'),
      ]),
      ['*.example.com', '10.0.0.6', '::1'],
    );
  });

  test('referenceNameText shows the Unicode form of an IDN beside the A-label', () => {
    assert.equal(referenceNameText(parseReferenceName('bücher.de')), 'xn--bcher-kva.de (bücher.de)');
    assert.equal(referenceNameText(parseReferenceName('example.com')), 'example.com');
    const v6: ReferenceName = parseReferenceName('[::1]');
    assert.equal(referenceNameText(v6), '::1');
  });
});
