// verifyIdentity against real certificates, built per run by the test-PKI factory and parsed by
// src/x509: what succeeds, and the fields, message and hint of what fails.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidURL, SSLError } from '../../src/errors.js';
import { parseReferenceName, verifyIdentity } from '../../src/verify/identity.js';
import { parseCertificate } from '../../src/x509/index.js';
import type { Certificate } from '../../src/x509/types.js';
import { createRoot, issue } from '../support/pki.js';

const root = createRoot();
/** A leaf with exactly these SANs ([] = no SAN extension) and, optionally, a subject. */
function leaf(sans: string[], subject: { cn?: string; emptySubject?: boolean } = {}): Certificate {
  return parseCertificate(issue(root, { sans, ...subject }).der);
}

/** The SSLError verifyIdentity throws (fails the test when it does not throw one). */
function failure(cert: Certificate, host: string): SSLError {
  try {
    verifyIdentity(cert, host);
  } catch (e) {
    assert.ok(e instanceof SSLError, `expected an SSLError, got ${String(e)}`);
    return e;
  }
  assert.fail(`verifyIdentity(${host}) should have failed`);
}

describe('verifyIdentity accepts', () => {
  const cert = leaf([
    'DNS:*.example.com',
    'DNS:example.com',
    'IP:10.0.0.6',
    'IP:2001:db8::1',
    'DNS:xn--bcher-kva.de',
  ]);
  const HOSTS = [
    'example.com',
    'EXAMPLE.com.',
    'www.example.com',
    'xn--bcher-kva.example.com',
    '10.0.0.6',
    '[2001:db8::1]',
    '2001:DB8:0:0:0:0:0:1',
    'bücher.de',
    'BÜCHER.de.',
  ];
  for (const host of HOSTS) test(host, () => verifyIdentity(cert, host));

  test('a ReferenceName as well as a string', () => {
    verifyIdentity(cert, parseReferenceName('www.example.com'));
    verifyIdentity(cert, { kind: 'ip', bytes: new Uint8Array([10, 0, 0, 6]), text: '10.0.0.6' });
  });

  test('the loopback names of the factory default', () => {
    const loopback = parseCertificate(issue(root).der); // localhost, 127.0.0.1, ::1
    for (const host of ['localhost', '127.0.0.1', '[::1]']) verifyIdentity(loopback, host);
  });
});

describe('HOSTNAME_MISMATCH', () => {
  test('an IP literal against DNS SANs: Go-like message, fields, and a serverName hint', () => {
    const cert = leaf(['DNS:*.example.com', 'DNS:api.example.com']);
    const e = failure(cert, '10.0.0.6');
    assert.equal(e.code, 'HOSTNAME_MISMATCH');
    assert.equal(e.message, 'certificate is valid for *.example.com, api.example.com, not 10.0.0.6');
    assert.equal(e.expected, '10.0.0.6');
    assert.deepEqual(e.presented, ['*.example.com', 'api.example.com']);
    assert.equal(e.position, 0);
    assert.equal(e.certificate?.fingerprintSha256, cert.fingerprintSha256);
    assert.deepEqual(e.certificate, cert.summary());
    assert.equal(
      e.hint,
      "connect to the IP but verify a name the certificate carries: serverName: 'api.example.com'",
    );
    assert.equal(e.rank, 90);
  });

  test('with only a wildcard, the serverName hint names a concrete host under it', () => {
    const e = failure(leaf(['DNS:*.example.com']), '10.0.0.6');
    assert.match(e.hint ?? '', /serverName: 'www\.example\.com'/);
  });

  test('a DNS SAN that spells the IP address does not match the IP', () => {
    const e = failure(leaf(['DNS:10.0.0.6']), '10.0.0.6');
    assert.equal(
      e.message,
      'certificate lists 10.0.0.6 as a DNS name, not as an IP address, so it is not valid for the IP address 10.0.0.6',
    );
    assert.match(e.hint ?? '', /iPAddress entry \(IP:10\.0\.0\.6\)/);
  });

  test('an IP SAN does not match a DNS name; the hint points at the address', () => {
    const e = failure(leaf(['IP:10.0.0.7']), 'example.com');
    assert.equal(e.message, 'certificate is valid for 10.0.0.7, not example.com');
    assert.match(e.hint ?? '', /https:\/\/10\.0\.0\.7\//);
  });

  test('another IP', () => {
    const e = failure(leaf(['IP:10.0.0.7', 'IP:::1']), '10.0.0.6');
    assert.deepEqual(e.presented, ['10.0.0.7', '::1']);
    assert.match(e.hint ?? '', /10\.0\.0\.7, ::1/);
  });

  test('an IPv4-mapped IPv6 address is not the IPv4 address, and the hint says so', () => {
    const e = failure(leaf(['IP:10.0.0.6']), '[::ffff:10.0.0.6]');
    assert.equal(e.expected, '::ffff:10.0.0.6');
    assert.match(e.hint ?? '', /IPv4-mapped/);
    const back = failure(leaf(['IP:::ffff:10.0.0.6']), '10.0.0.6');
    assert.match(back.hint ?? '', /connect to \[::ffff:10\.0\.0\.6\]/);
  });

  test('a wildcard does not cover the apex', () => {
    const e = failure(leaf(['DNS:*.example.com']), 'example.com');
    assert.match(e.hint ?? '', /not example\.com itself/);
  });

  test('a wildcard covers one label only', () => {
    const e = failure(leaf(['DNS:*.example.com']), 'a.b.example.com');
    assert.match(e.hint ?? '', /exactly one label/);
    assert.match(e.hint ?? '', /\*\.b\.example\.com/);
  });

  test('a partial wildcard is malformed, and the hint explains why an older client accepted it', () => {
    const e = failure(leaf(['DNS:f*.example.com']), 'foo.example.com');
    assert.deepEqual(e.presented, ['f*.example.com']);
    assert.match(e.hint ?? '', /older, looser rules.*partial wildcard/);
  });

  test("a certificate name with '_' matches nothing, and the hint says how to re-issue it", () => {
    const e = failure(leaf(['DNS:my_service.internal']), 'my_service.internal');
    assert.deepEqual(e.presented, ['my_service.internal']);
    assert.equal(
      e.message,
      'certificate lists my_service.internal, but not as a valid DNS name, so it is not valid for my_service.internal',
    );
    assert.match(e.hint ?? '', /contains '_'.*RFC 5280/);
    assert.match(
      e.hint ?? '',
      /re-issue it for my-service\.internal and verify that name.*serverName: 'my-service\.internal'$/,
    );
    // The name suggested is one a certificate may carry, for a wildcard too.
    assert.match(
      failure(leaf(['DNS:_svc.example.com']), '_svc.example.com').hint ?? '',
      /serverName: 'svc\.example\.com'/,
    );
    assert.match(
      failure(leaf(['DNS:*.my_zone.example.com']), 'a.my_zone.example.com').hint ?? '',
      /re-issue it for a\.my-zone\.example\.com and .*serverName: 'a\.my-zone\.example\.com'$/,
    );
    assert.match(
      failure(leaf(['DNS:foo_bar.example.com']), 'foo_bar.example.com').hint ?? '',
      /serverName: 'foo-bar\.example\.com'; or re-issue it for \*\.example\.com, which covers foo_bar\.example\.com as it is$/,
    );
    // No wildcard over a public suffix is suggested.
    assert.doesNotMatch(failure(leaf(['DNS:my_shop.co.uk']), 'my_shop.co.uk').hint ?? '', /\*\.co\.uk/);
    // A wildcard still covers such a host: the reference may carry '_'.
    assert.doesNotThrow(() => verifyIdentity(leaf(['DNS:*.example.com']), 'my_service.example.com'));
  });

  test('a wildcard over a single label is malformed', () => {
    const e = failure(leaf(['DNS:*.com']), 'example.com');
    assert.match(e.hint ?? '', /at least two labels/);
  });

  test('a wildcard over a public suffix (ICANN section) is refused, and the hint says why', () => {
    for (const [san, host] of [
      ['*.co.uk', 'example.co.uk'],
      ['*.com.br', 'loja.com.br'],
    ] as const) {
      const e = failure(leaf([`DNS:${san}`]), host);
      assert.equal(e.message, `certificate is valid for ${san}, not ${host}`);
      assert.match(
        e.hint ?? '',
        new RegExp(`wildcard over ${san.slice(2).replace('.', '\\.')}, a public suffix`),
      );
    }
  });

  test('a wildcard over a private-section suffix (as S3 and GitHub Pages serve) is accepted', () => {
    verifyIdentity(leaf(['DNS:*.s3.amazonaws.com']), 'bucket.s3.amazonaws.com');
    verifyIdentity(leaf(['DNS:*.github.io']), 'someone.github.io');
    verifyIdentity(leaf(['DNS:*.example.co.uk']), 'www.example.co.uk');
  });

  test('a SAN with a trailing hyphen or an A-label that does not decode matches nothing', () => {
    assert.match(failure(leaf(['DNS:example-.com']), 'example.com').hint ?? '', /check that/);
    assert.throws(() => verifyIdentity(leaf(['DNS:example-.com']), 'example-.com'), /ends with a hyphen/);
    assert.throws(() => verifyIdentity(leaf(['DNS:xn--zz.example.com']), 'xn--zz.example.com'), InvalidURL);
    // A malformed SAN does not spoil the others.
    verifyIdentity(leaf(['DNS:xn--zz.example.com', 'DNS:*.example.com']), 'xn--bcher-kva.example.com');
  });

  test('an IDN is shown as A-label and Unicode', () => {
    const e = failure(leaf(['DNS:other.org']), 'bücher.de');
    assert.equal(e.expected, 'xn--bcher-kva.de');
    assert.equal(e.message, 'certificate is valid for other.org, not xn--bcher-kva.de (bücher.de)');
    assert.match(e.hint ?? '', /SNI/);
  });

  test('a SAN extension with no DNS name or IP address', () => {
    const e = failure(leaf(['URI:https://example.com/', 'email:a@example.com']), 'example.com');
    assert.deepEqual(e.presented, []);
    assert.match(e.message, /only URI, email entries/);
    assert.match(e.hint ?? '', /names no host at all/);
  });

  test('a long SAN list is cut short in the message, complete in `presented`', () => {
    const sans = Array.from({ length: 15 }, (_, i) => `DNS:host${i}.example.net`);
    const e = failure(leaf(sans), 'example.com');
    assert.equal(e.presented?.length, 15);
    assert.match(e.message, /host9\.example\.net, and 5 more, not example\.com$/);
  });
});

describe('NO_SUBJECT_ALT_NAME', () => {
  test('the CN would have matched: the message says so, and the CN is still not used', () => {
    const cert = leaf([], { cn: 'example.com' });
    const e = failure(cert, 'example.com');
    assert.equal(e.code, 'NO_SUBJECT_ALT_NAME');
    assert.equal(e.rank, 91);
    assert.match(e.message, /no subjectAltName extension.*Common Name 'example\.com' would have matched/);
    assert.deepEqual(e.presented, []);
    assert.equal(e.expected, 'example.com');
    assert.equal(e.position, 0);
    assert.equal(e.certificate?.commonName, 'example.com');
    assert.match(e.hint ?? '', /subjectAltName=DNS:example\.com/);
  });

  test('the CN would not have matched either', () => {
    const e = failure(leaf([], { cn: 'other.com' }), 'example.com');
    assert.match(e.message, /Common Name 'other\.com' would not have matched either/);
  });

  test('an IP literal in the CN', () => {
    const e = failure(leaf([], { cn: '10.0.0.6' }), '10.0.0.6');
    assert.match(e.message, /would have matched/);
    assert.match(e.hint ?? '', /subjectAltName=IP:10\.0\.0\.6/);
  });

  test('no CN either', () => {
    const e = failure(leaf([], { emptySubject: true }), 'example.com');
    assert.match(e.message, /no Common Name either/);
  });
});

test('a host that cannot be a host throws InvalidURL, not SSLError', () => {
  const cert = leaf(['DNS:example.com']);
  assert.throws(() => verifyIdentity(cert, 'exa mple.com'), InvalidURL);
  assert.throws(() => verifyIdentity(cert, '127.1'), InvalidURL);
});
