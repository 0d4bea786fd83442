// src/verify/public-suffix.ts: the one wrapper around tldts (the Public Suffix List), and the
// promise that it costs nothing until a wildcard name (or a cookie) needs it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isPublicSuffix, publicSuffix, registrableDomain } from '../../src/verify/public-suffix.js';

const ICANN = { privateDomains: false };
const ALL = { privateDomains: true };

describe('publicSuffix / isPublicSuffix / registrableDomain', () => {
  // (name, is a suffix in the ICANN section, is a suffix counting the PRIVATE section)
  const SUFFIXES: [string, boolean, boolean][] = [
    ['com', true, true],
    ['co.uk', true, true],
    ['CO.UK.', true, true],
    ['com.br', true, true],
    ['foo.ck', true, true], // '*.ck'
    ['www.ck', false, false], // '!www.ck'
    ['github.io', false, true],
    ['s3.amazonaws.com', false, true],
    ['example.com', false, false],
    ['example.co.uk', false, false],
    ['corp', false, false], // an unlisted TLD is no listed suffix (no implicit '*' rule)
    ['intranet.corp', false, false],
    ['', false, false],
  ];
  for (const [name, icann, all] of SUFFIXES) {
    test(`${JSON.stringify(name)}: ICANN ${icann}, with private ${all}`, () => {
      assert.equal(isPublicSuffix(name, ICANN), icann);
      assert.equal(isPublicSuffix(name, ALL), all);
    });
  }

  test('publicSuffix of a host', () => {
    assert.equal(publicSuffix('www.example.co.uk', ICANN), 'co.uk');
    assert.equal(publicSuffix('bucket.s3.amazonaws.com', ICANN), 'com');
    assert.equal(publicSuffix('bucket.s3.amazonaws.com', ALL), 's3.amazonaws.com');
    assert.equal(publicSuffix('host.intranet.corp', ALL), undefined);
  });

  test('registrableDomain', () => {
    assert.equal(registrableDomain('www.example.co.uk', ICANN), 'example.co.uk');
    assert.equal(registrableDomain('a.b.Example.COM.', ICANN), 'example.com');
    assert.equal(registrableDomain('someone.github.io', ALL), 'someone.github.io');
    assert.equal(registrableDomain('someone.github.io', ICANN), 'github.io');
    assert.equal(registrableDomain('co.uk', ICANN), undefined);
    assert.equal(registrableDomain('host.intranet.corp', ALL), undefined);
  });
});

test('tldts is loaded only when a wildcard name is examined, not by importing certainly', () => {
  // A fresh process: the module cache of this one already holds tldts from the tests above.
  const here = dirname(fileURLToPath(import.meta.url));
  const src = join(here, '..', '..', 'src');
  const script = `
    import { createRequire } from 'node:module';
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => /[\\\\/]tldts[\\\\/]/.test(k));
    const out = [];
    await import(${JSON.stringify(pathToFileURL(join(src, 'index.js')).href)});
    out.push(loaded());
    const { dnsNameMatches } = await import(${JSON.stringify(pathToFileURL(join(src, 'verify', 'hostname.js')).href)});
    out.push(dnsNameMatches('www.example.com', 'www.example.com'), loaded());
    out.push(dnsNameMatches('*.example.com', 'other.example.org'), loaded());
    out.push(dnsNameMatches('*.example.com', 'www.example.com'), loaded());
    console.log(JSON.stringify(out));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  // import: not loaded; a plain name: not loaded; a wildcard that does not match: not loaded;
  // a wildcard that matches: loaded.
  assert.deepEqual(JSON.parse(out), [false, true, false, false, false, true, true]);
});
