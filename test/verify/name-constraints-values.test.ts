/**
 * Security review (name constraints): directoryName constraints whose attribute values are not
 * strings (an INTEGER, an OCTET STRING, …) must not treat them all as equal. Since issue 14 such
 * values make the certificate unparseable, which settles it; string values still compare.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ParseError, SSLError } from '../../src/errors.js';
import { anchorsFrom, verifyServer } from '../../src/verify/index.js';
import { checkNameConstraints, compileNameConstraints } from '../../src/verify/path/name-constraints.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { createRoot, type Issued, intermediate, issue } from '../support/pki.js';

const cert = (i: Issued) => parseCertificate(i.der);

function verify(chain: Issued[], root: Issued) {
  return verifyServer({
    chain: chain.map(cert),
    trust: anchorsFrom([cert(root)], 'inline'),
    name: 'localhost',
  });
}

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof SSLError) return err.code;
    throw err;
  }
}

describe('directoryName constraints with non-string attribute values', () => {
  // Such values (O as a raw INTEGER 1, #020101) used to be compared by their DER. Since issue 14
  // a Name attribute must be a string type (x509/name.ts), so the certificates that carry them,
  // in a name or in a constraint, are refused when parsed: nothing is left to compare.
  const refused = (i: Issued, field: RegExp) =>
    assert.throws(
      () => cert(i),
      (e: unknown) => e instanceof ParseError && field.test(e.message),
    );

  it('a certificate whose subject holds a non-string value does not parse', () => {
    const root = createRoot();
    refused(
      issue(root, { subject: 'O=#020101, CN=leaf' }),
      /subject O: the value is INTEGER, not a DirectoryString/,
    );
    refused(
      intermediate(root, { subject: 'O=#0403414243, CN=Inter' }),
      /subject O: the value is OCTET STRING/,
    );
  });

  it('a CA whose directoryName constraint holds one does not parse either', () => {
    const root = createRoot({ nameConstraints: { permitted: ['DN:O=#020101'] } });
    assert.throws(
      () => cert(root).nameConstraints,
      (e: unknown) => e instanceof ParseError && /O: the value is INTEGER/.test(e.message),
    );
  });

  it('string values still compare as RFC 5280 §7.1 asks (case and inner space folded)', () => {
    const r = createRoot({ nameConstraints: { permitted: ['DN:O=Example  Corp'] } });
    const inter = intermediate(r, { subject: 'O=EXAMPLE CORP, CN=Inter' });
    assert.equal(
      code(() => verify([issue(inter, { subject: 'O=example corp, CN=leaf' }), inter], r)),
      'ok',
    );
  });
});

describe('IPv4-mapped IPv6 SANs and IPv4 exclusions', () => {
  const root = createRoot({ nameConstraints: { excluded: ['IP:10.0.0.0/8'] } });
  const inter = intermediate(root);
  const v = (sans: string[], name: string) =>
    code(() =>
      verifyServer({
        chain: [cert(issue(inter, { sans })), cert(inter)],
        trust: anchorsFrom([cert(root)], 'inline'),
        name,
      }),
    );

  it('an excluded IPv4 address cannot come back as ::ffff:a.b.c.d', () => {
    assert.equal(v(['IP:10.0.0.1'], '10.0.0.1'), 'NAME_CONSTRAINTS_VIOLATED');
    assert.equal(v(['IP:::ffff:10.0.0.1'], '::ffff:10.0.0.1'), 'NAME_CONSTRAINTS_VIOLATED');
  });

  it('addresses outside the exclusion, mapped or not, still verify', () => {
    assert.equal(v(['IP:192.0.2.1'], '192.0.2.1'), 'ok');
    assert.equal(v(['IP:::ffff:192.0.2.1'], '::ffff:192.0.2.1'), 'ok');
    assert.equal(v(['IP:2001:db8::1'], '2001:db8::1'), 'ok');
  });

  it('the reason names the embedded address', () => {
    const cc = compileNameConstraints(cert(root).nameConstraints!);
    const mapped = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3]);
    const r = checkNameConstraints(cc, { sans: [{ type: 'ip', bytes: mapped }], hasSan: true });
    assert.match(
      r?.reason ?? '',
      /embeds the IPv4 address 10\.1\.2\.3, in the excluded subtree IP:10\.0\.0\.0\/8/,
    );
  });
});
