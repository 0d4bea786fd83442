import assert from 'node:assert/strict';
import { verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { ParseError } from '../../src/errors.js';
import {
  bitString,
  explicit,
  integer,
  nul,
  octetString,
  oid,
  sequence,
} from '../../src/testing/der-writer.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { ipToString } from '../../src/x509/ip.js';
import type { Certificate, GeneralName } from '../../src/x509/types.js';
import {
  createRoot,
  encodeName,
  generalNames,
  type Issued,
  intermediate,
  issue,
  selfSigned,
} from '../support/pki.js';

/** Node's view of a GeneralName, as X509Certificate.subjectAltName prints it. */
function nodeSanText(n: GeneralName): string {
  switch (n.type) {
    case 'dns':
      return `DNS:${n.value}`;
    case 'email':
      return `email:${n.value}`;
    case 'uri':
      return `URI:${n.value}`;
    case 'ip':
      // OpenSSL prints IPv6 uncompressed and upper-case.
      return n.bytes.length === 4
        ? `IP Address:${ipToString(n.bytes)}`
        : `IP Address:${Array.from({ length: 8 }, (_, i) => ((n.bytes[2 * i]! << 8) | n.bytes[2 * i + 1]!).toString(16).toUpperCase()).join(':')}`;
    case 'registeredID':
      return `Registered ID:${n.value}`;
    default:
      return '';
  }
}

/** Field-by-field comparison with node's own parser (OpenSSL). */
function crossCheck(issued: Issued, issuer: Issued | undefined): Certificate {
  const cert = parseCertificate(issued.der);
  const x = new X509Certificate(issued.der);
  // Names: node prints one attribute per line in encoded order.
  const lines = (c: Certificate['subject']) => c.rdns.flat().map((a) => `${a.type}=${a.value}`);
  assert.deepEqual(lines(cert.subject), x.subject.split('\n'));
  assert.deepEqual(lines(cert.issuer), x.issuer.split('\n'));
  assert.deepEqual(Buffer.from(cert.subject.der), issued.subjectDer);
  assert.deepEqual(Buffer.from(cert.issuer.der), issued.issuerDer);
  // Serial (positive serials: node prints the value in upper-case hex).
  assert.deepEqual(Buffer.from(cert.serial), issued.serial);
  assert.equal(cert.serialHex.toUpperCase().replace(/^0(?=.)/, ''), x.serialNumber.replace(/^0(?=.)/, ''));
  // Validity.
  assert.equal(cert.notBefore.getTime(), Date.parse(x.validFrom));
  assert.equal(cert.notAfter.getTime(), Date.parse(x.validTo));
  assert.equal(cert.notBefore.getTime(), issued.notBefore.getTime());
  // SANs.
  // (OpenSSL prints a directoryName in its own escaped, reversed form: left out of the comparison.)
  const sans = (cert.subjectAltName?.names ?? []).filter((n) => n.type !== 'dirName');
  assert.equal(
    sans.map(nodeSanText).join(', ') || undefined,
    x.subjectAltName?.replace(/, DirName:"[^"]*"/g, ''),
  );
  // Fingerprint, CA flag, EKU.
  assert.equal(cert.fingerprintSha256, x.fingerprint256.replace(/:/g, '').toLowerCase());
  assert.equal(cert.basicConstraints?.ca ?? false, x.ca);
  assert.deepEqual(cert.extKeyUsage?.oids, x.keyUsage);
  // Public key: exact SPKI, type and size.
  const spki = x.publicKey.export({ type: 'spki', format: 'der' });
  assert.deepEqual(Buffer.from(cert.publicKey.der), spki);
  assert.deepEqual(Buffer.from(cert.publicKey.der), issued.spkiDer);
  const details = x.publicKey.asymmetricKeyDetails ?? {};
  const nodeType = x.publicKey.asymmetricKeyType;
  assert.equal(cert.publicKey.type, nodeType === 'rsa' ? 'rsa' : nodeType);
  if (nodeType === 'rsa') assert.equal(cert.publicKey.bits, details.modulusLength);
  if (nodeType === 'ec') {
    const curves: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
    assert.equal(cert.publicKey.curve, curves[details.namedCurve!]);
  }
  // The TBS and signature we extract verify under the issuer's key.
  assert.deepEqual(Buffer.from(cert.tbsDer), issued.tbsDer);
  const signerKey = (issuer ?? issued).key.publicKey;
  const hash = cert.signatureAlgorithm.hash ?? null;
  assert.ok(
    cryptoVerify(hash, cert.tbsDer, { key: signerKey, dsaEncoding: 'der' }, cert.signature),
    'signature over tbsDer verifies',
  );
  assert.deepEqual(cert.signatureAlgorithm.der, cert.tbsSignatureAlgorithm.der);
  // Round trip through PEM.
  assert.equal(cert.toPEM(), issued.pem);
  return cert;
}

describe('certificates from the test PKI, compared with node:crypto', () => {
  const root = createRoot({ subject: 'C=US, ST=California, O=Example Inc., OU=PKI, CN=Example Root' });
  const inter = intermediate(root, {
    keyType: 'rsa2048',
    pathLen: 0,
    aia: { caIssuers: ['http://ca.example/root.der'], ocsp: ['http://ocsp.example/'] },
  });

  test('root (P-256, self-signed)', () => {
    const c = crossCheck(root, undefined);
    assert.equal(c.version, 3);
    assert.equal(c.selfIssued, true);
    assert.equal(c.subject.text, 'C=US, ST=California, O=Example Inc., OU=PKI, CN=Example Root');
    assert.equal(c.subject.commonName, 'Example Root');
    assert.equal(c.publicKey.bits, 256);
    assert.equal(c.signatureAlgorithm.name, 'ecdsa-with-SHA256');
    assert.equal(c.signatureAlgorithm.keyType, 'ec');
    assert.equal(c.signatureAlgorithm.hash, 'sha256');
    assert.equal(c.signatureAlgorithm.parameters, undefined);
    assert.deepEqual([...c.keyUsage!.usages].sort(), ['cRLSign', 'keyCertSign']);
    assert.equal(c.keyUsage!.critical, true);
    assert.deepEqual(Buffer.from(c.subjectKeyIdentifier!), root.ski);
    assert.deepEqual(Buffer.from(c.authorityKeyIdentifier!.keyIdentifier!), root.ski);
  });

  test('intermediate (RSA 2048, pathLen 0, AIA)', () => {
    const c = crossCheck(inter, root);
    assert.equal(c.publicKey.type, 'rsa');
    assert.equal(c.publicKey.bits, 2048);
    assert.deepEqual(c.basicConstraints, { critical: true, ca: true, pathLen: 0 });
    assert.deepEqual(c.authorityInfoAccess?.caIssuers, ['http://ca.example/root.der']);
    assert.deepEqual(c.authorityInfoAccess?.ocsp, ['http://ocsp.example/']);
    assert.equal(c.authorityInfoAccess?.all.length, 2);
    assert.deepEqual(Buffer.from(c.authorityKeyIdentifier!.keyIdentifier!), root.ski);
    assert.equal(c.selfIssued, false);
    assert.deepEqual(c.summary().aia, ['http://ca.example/root.der']);
  });

  test('leaf signed with RSA (sha256, sha384, sha512, sha1)', () => {
    for (const hash of ['sha256', 'sha384', 'sha512', 'sha1'] as const) {
      const leaf = issue(inter, { hash, sans: ['DNS:example.com', 'DNS:*.example.com'] });
      const c = crossCheck(leaf, inter);
      assert.equal(c.signatureAlgorithm.name, `${hash}WithRSAEncryption`);
      assert.equal(c.signatureAlgorithm.keyType, 'rsa');
      assert.deepEqual(c.signatureAlgorithm.parameters, Uint8Array.from([0x05, 0x00]));
    }
  });

  test('leaf with every kind of SAN', () => {
    const leaf = issue(inter, {
      sans: [
        'DNS:a.example',
        'IP:10.0.0.6',
        'IP:2001:db8::1',
        'email:x@y.example',
        'URI:https://u.example/',
        'DN:C=DE, CN=Dir',
        'RID:1.2.3.4',
      ],
      eku: ['serverAuth'],
    });
    const c = crossCheck(leaf, inter);
    const names = c.subjectAltName!.names;
    assert.equal(names.length, 7);
    assert.deepEqual(names[0], { type: 'dns', value: 'a.example' });
    assert.equal(names[5]!.type, 'dirName');
    assert.equal(names[5]!.type === 'dirName' && names[5].name.text, 'C=DE, CN=Dir');
    assert.deepEqual(names[6], { type: 'registeredID', value: '1.2.3.4' });
    assert.deepEqual(c.summary().subjectAltNames, [
      'DNS:a.example',
      'IP:10.0.0.6',
      'IP:2001:db8::1',
      'email:x@y.example',
      'URI:https://u.example/',
      'DirName:C=DE, CN=Dir',
      'RID:1.2.3.4',
    ]);
    assert.deepEqual(c.extKeyUsage, { critical: false, oids: ['1.3.6.1.5.5.7.3.1'] });
    assert.equal(c.basicConstraints?.ca, false);
    assert.deepEqual([...c.keyUsage!.usages], ['digitalSignature']);
  });

  test('P-384, Ed25519 and self-signed leaves', () => {
    const p384 = issue(inter, { keyType: 'p384' });
    assert.equal(crossCheck(p384, inter).publicKey.curve, 'P-384');
    assert.equal(parseCertificate(p384.der).publicKey.bits, 384);
    const edRoot = createRoot({ keyType: 'ed25519' });
    const ed = crossCheck(edRoot, undefined);
    assert.equal(ed.publicKey.type, 'ed25519');
    assert.equal(ed.publicKey.bits, 256);
    assert.equal(ed.signatureAlgorithm.name, 'Ed25519');
    assert.equal(ed.signatureAlgorithm.hash, undefined);
    const ecUnderEd = issue(edRoot, {});
    crossCheck(ecUnderEd, edRoot);
    const ss = selfSigned({ sans: ['DNS:self.example'] });
    assert.equal(crossCheck(ss, undefined).selfIssued, true);
  });

  test('serials: high bit, one octet, sign octet stripped in serialHex', () => {
    const a = parseCertificate(issue(root, { serial: 0x80n }).der);
    assert.deepEqual([...a.serial], [0x00, 0x80]);
    assert.equal(a.serialHex, '80');
    const b = parseCertificate(issue(root, { serial: 1n }).der);
    assert.equal(b.serialHex, '01');
    // Zero and negative serials are structurally valid (the verifier's policy rejects them).
    assert.equal(parseCertificate(issue(root, { serial: 0n }).der).serialHex, '00');
    assert.deepEqual([...parseCertificate(issue(root, { serial: -1n }).der).serial], [0xff]);
  });

  test('validity: UTCTime before 2050 and GeneralizedTime after', () => {
    const c = parseCertificate(
      issue(root, { notBefore: new Date('1999-12-31T23:59:59Z'), notAfter: new Date('2051-06-01T00:00:00Z') })
        .der,
    );
    assert.equal(c.notBefore.toISOString(), '1999-12-31T23:59:59.000Z');
    assert.equal(c.notAfter.toISOString(), '2051-06-01T00:00:00.000Z');
  });

  test('summary() is a JSON-safe description', () => {
    const leaf = issue(inter, { sans: ['DNS:example.com', 'IP:127.0.0.1'] });
    const c = parseCertificate(leaf.der);
    const s = c.summary();
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
    assert.equal(s.subject, c.subject.text);
    assert.equal(s.issuer, inter.x509.subject.split('\n').join(', '));
    assert.equal(s.commonName, 'example.com');
    assert.deepEqual(s.subjectAltNames, ['DNS:example.com', 'IP:127.0.0.1']);
    assert.equal(s.keyType, 'ec');
    assert.equal(s.keyBits, 256);
    assert.equal(s.signatureAlgorithm, 'sha256WithRSAEncryption');
    assert.equal(s.isCA, false);
    assert.equal(s.notBefore, leaf.notBefore.toISOString());
    assert.equal(s.spkiSha256.length, 44);
    assert.equal(s.aia, undefined);
  });

  test('the parsed certificate does not depend on the caller keeping its buffer', () => {
    const buf = Buffer.from(root.der);
    const c = parseCertificate(buf);
    const fp = c.fingerprintSha256;
    buf.fill(0);
    assert.equal(c.subject.text, 'C=US, ST=California, O=Example Inc., OU=PKI, CN=Example Root');
    assert.deepEqual(Buffer.from(c.der), root.der);
    assert.equal(createFreshFingerprint(c), fp);
  });
});

function createFreshFingerprint(c: Certificate): string {
  return new X509Certificate(c.der).fingerprint256.replace(/:/g, '').toLowerCase();
}

describe('extensions', () => {
  const root = createRoot({});

  test('name constraints: DNS, IP with mask, directory names, min/max kept', () => {
    const ca = intermediate(root, {
      nameConstraints: {
        permitted: ['DNS:example.com', 'IP:10.0.0.0/8', 'IP:2001:db8::/32'],
        excluded: ['DNS:bad.example.com', 'DN:C=US, O=Evil', 'email:example.org'],
      },
    });
    const c = parseCertificate(ca.der);
    const nc = c.nameConstraints!;
    assert.equal(nc.critical, true);
    assert.equal(nc.permitted!.length, 3);
    assert.deepEqual(nc.permitted![0], { base: { type: 'dns', value: 'example.com' }, minimum: 0 });
    const ip = nc.permitted![1]!.base;
    assert.equal(ip.type === 'ip' && ipToString(ip.bytes), '10.0.0.0/8');
    const ip6 = nc.permitted![2]!.base;
    assert.equal(ip6.type === 'ip' && ip6.bytes.length, 32);
    assert.equal(nc.excluded![1]!.base.type === 'dirName' && nc.excluded![1]!.base.name.text, 'C=US, O=Evil');
  });

  test('name constraints minimum and maximum', () => {
    const subtree = sequence(
      Buffer.from([0x82, 9, ...Buffer.from('x.example')]),
      Buffer.from([0x80, 1, 1]),
      Buffer.from([0x81, 1, 5]),
    );
    const value = sequence(explicit(0, subtree));
    const c = parseCertificate(
      intermediate(root, { extensions: [{ oid: '2.5.29.30', critical: true, value }] }).der,
    );
    assert.deepEqual(c.nameConstraints!.permitted, [
      { base: { type: 'dns', value: 'x.example' }, minimum: 1, maximum: 5 },
    ]);
  });

  test('certificatePolicies, with and without qualifiers', () => {
    const value = sequence(
      sequence(oid('2.23.140.1.2.1')),
      sequence(
        oid('1.3.6.1.4.1.99.1'),
        sequence(sequence(oid('1.3.6.1.5.5.7.2.1'), Buffer.from([0x16, 1, 0x41]))),
      ),
    );
    const c = parseCertificate(issue(root, { extensions: [{ oid: '2.5.29.32', value }] }).der);
    assert.deepEqual(c.certificatePolicies, {
      critical: false,
      oids: ['2.23.140.1.2.1', '1.3.6.1.4.1.99.1'],
    });
  });

  test('unknown critical extensions are recorded, not rejected; non-critical ones are only listed', () => {
    const c = parseCertificate(
      issue(root, {
        extensions: [
          { oid: '1.2.3.4.5', critical: true, value: nul() },
          { oid: '1.2.3.4.6', critical: false, value: nul() },
          { oid: '2.5.29.36', critical: true, value: sequence() }, // policyConstraints: not decoded
        ],
      }).der,
    );
    assert.deepEqual(c.unknownCriticalExtensions, ['1.2.3.4.5', '2.5.29.36']);
    assert.ok(c.extensions.some((e) => e.oid === '1.2.3.4.6' && !e.critical));
    assert.deepEqual(c.duplicateExtensions, []);
  });

  test('duplicate extensions are recorded; the first one is decoded', () => {
    const c = parseCertificate(
      issue(root, {
        sans: ['DNS:first.example'],
        extensions: [{ oid: '2.5.29.17', value: generalNames(['DNS:second.example']) }],
      }).der,
    );
    assert.deepEqual(c.duplicateExtensions, ['2.5.29.17']);
    assert.deepEqual(c.subjectAltName!.names, [{ type: 'dns', value: 'first.example' }]);
    assert.equal(c.extensions.filter((e) => e.oid === '2.5.29.17').length, 2);
  });

  test('keyUsage bits, including decipherOnly in the second octet', () => {
    const c = parseCertificate(
      issue(root, { keyUsage: ['digitalSignature', 'keyAgreement', 'decipherOnly'] }).der,
    );
    assert.deepEqual([...c.keyUsage!.usages].sort(), ['decipherOnly', 'digitalSignature', 'keyAgreement']);
  });

  test('basicConstraints absent, empty, and with an explicit cA FALSE', () => {
    assert.equal(parseCertificate(issue(root, { basicConstraints: false }).der).basicConstraints, undefined);
    assert.deepEqual(parseCertificate(issue(root, {}).der).basicConstraints, { critical: true, ca: false });
    const explicitFalse = sequence(Buffer.from([0x01, 0x01, 0x00]));
    const c = parseCertificate(
      issue(root, {
        basicConstraints: false,
        extensions: [{ oid: '2.5.29.19', critical: true, value: explicitFalse }],
      }).der,
    );
    assert.deepEqual(c.basicConstraints, { critical: true, ca: false });
  });

  test('authorityKeyIdentifier with issuer and serial', () => {
    const value = sequence(
      Buffer.from([0x80, 2, 0xab, 0xcd]),
      Buffer.concat([Buffer.from([0xa1]), lengthPrefixed(explicit(4, encodeName('CN=Issuer')))]),
      Buffer.from([0x82, 1, 0x07]),
    );
    const c = parseCertificate(issue(root, { aki: false, extensions: [{ oid: '2.5.29.35', value }] }).der);
    const aki = c.authorityKeyIdentifier!;
    assert.deepEqual([...aki.keyIdentifier!], [0xab, 0xcd]);
    assert.equal(
      aki.authorityCertIssuer![0]!.type === 'dirName' && aki.authorityCertIssuer![0]!.name.text,
      'CN=Issuer',
    );
    assert.deepEqual([...aki.authorityCertSerialNumber!], [0x07]);
  });
});

function lengthPrefixed(content: Uint8Array): Buffer {
  // A DER length then the content (content is short in these tests).
  assert.ok(content.length < 128);
  return Buffer.concat([Buffer.from([content.length]), content]);
}

describe('versions', () => {
  const root = createRoot({});
  test('v1 has no extensions; v2 may have unique ids but no extensions', () => {
    const v1 = parseCertificate(issue(root, { version: 1 }).der);
    assert.equal(v1.version, 1);
    assert.deepEqual(v1.extensions, []);
    assert.equal(v1.subjectAltName, undefined);
    const v2 = parseCertificate(issue(root, { version: 2 }).der);
    assert.equal(v2.version, 2);
  });
  test('an explicit version 1 (DER would omit it) is accepted', () => {
    const v1 = issue(root, { version: 1 });
    const kids = tbsChildren(v1.der);
    const explicitV1 = rebuild(v1, [explicit(0, integer(0n)), ...kids]);
    assert.equal(parseCertificate(explicitV1).version, 1);
  });
  test('extensions in a v1 certificate are an error', () => {
    const bad = issue(root, { version: 1, extensions: [{ oid: '1.2.3', value: nul() }] });
    assertCertError(() => parseCertificate(bad.der), /extensions: present in a version 1 certificate/);
  });
});

/** Asserts a ParseError code ERR_CERTIFICATE whose message matches `re`. */
function assertCertError(fn: () => unknown, re: RegExp): ParseError {
  let caught: ParseError | undefined;
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ParseError, `expected ParseError, got ${String(err)}`);
    assert.equal(err.code, 'ERR_CERTIFICATE');
    assert.match(err.message, re);
    caught = err;
    return true;
  });
  return caught!;
}

describe('malformed certificates', () => {
  const root = createRoot({});

  test('a non-ASCII byte in a dNSName names the field and the offset of the byte', () => {
    const bad = issue(root, { sans: ['DNS:ok.example', 'DNS:bä.example'] });
    const at = bad.der.indexOf(Buffer.from('bä.example', 'utf8')) + 1;
    assertCertError(
      () => parseCertificate(bad.der),
      new RegExp(
        `^malformed certificate: subjectAltName dNSName: IA5String contains a non-ASCII byte at offset ${at}$`,
      ),
    );
  });

  test('bad iPAddress lengths', () => {
    const five = `raw:${Buffer.from([0x87, 5, 1, 2, 3, 4, 5]).toString('hex')}`;
    assertCertError(
      () => parseCertificate(issue(root, { sans: [five] }).der),
      /subjectAltName iPAddress: 5 octets, expected 4 or 16/,
    );
    // A plain address in a name constraint lacks its mask.
    assertCertError(
      () => parseCertificate(intermediate(root, { nameConstraints: { permitted: ['IP:10.0.0.1'] } }).der),
      /nameConstraints permittedSubtrees base iPAddress: 4 octets, expected 8 or 32/,
    );
  });

  test('empty SAN, empty EKU, empty name constraints, empty extensions', () => {
    assertCertError(
      () =>
        parseCertificate(
          issue(root, { sans: [], extensions: [{ oid: '2.5.29.17', value: sequence() }] }).der,
        ),
      /subjectAltName: empty sequence of names/,
    );
    assertCertError(() => parseCertificate(issue(root, { eku: [] }).der), /extKeyUsage: empty list/);
    assertCertError(
      () => parseCertificate(intermediate(root, { nameConstraints: {} }).der),
      /nameConstraints: neither permittedSubtrees nor excludedSubtrees/,
    );
  });

  test('a GeneralName with the wrong form or an unknown tag', () => {
    // dNSName encoded as constructed [2]
    const constructedDns = `raw:${Buffer.from([0xa2, 0x03, 0x16, 0x01, 0x61]).toString('hex')}`;
    assertCertError(
      () => parseCertificate(issue(root, { sans: [constructedDns] }).der),
      /unexpected \[2\] \(constructed\)/,
    );
    const tag9 = `raw:${Buffer.from([0x89, 0x01, 0x61]).toString('hex')}`;
    assertCertError(() => parseCertificate(issue(root, { sans: [tag9] }).der), /unexpected \[9\]/);
  });

  test('trailing bytes after the certificate or inside an extension', () => {
    const good = issue(root, {});
    assertCertError(
      () => parseCertificate(Buffer.concat([good.der, Buffer.from([0])])),
      /Certificate: 1 unexpected byte/,
    );
    const value = Buffer.concat([generalNames(['DNS:a.example']), Buffer.from([0x05, 0x00])]);
    assertCertError(
      () => parseCertificate(issue(root, { sans: [], extensions: [{ oid: '2.5.29.17', value }] }).der),
      /subjectAltName: 2 unexpected byte/,
    );
  });

  test('critical flag that is not DER, negative pathLen, bad version', () => {
    const ext = sequence(
      oid('2.5.29.15'),
      Buffer.from([0x01, 0x01, 0x01]),
      octetString(bitString(Buffer.from([0x80]), 7)),
    );
    const withExt = (e: Buffer) => {
      const leaf = issue(root, { keyUsage: false });
      // Rebuild the TBS with the raw extension (the factory writes only DER-correct critical flags).
      return replaceExtensions(leaf, e);
    };
    assertCertError(() => parseCertificate(withExt(ext)), /keyUsage critical: BOOLEAN is 0x01/);
    const negPath = sequence(Buffer.from([0x01, 0x01, 0xff]), integer(-1n));
    assertCertError(
      () =>
        parseCertificate(
          issue(root, { basicConstraints: false, extensions: [{ oid: '2.5.29.19', value: negPath }] }).der,
        ),
      /basicConstraints pathLenConstraint: negative INTEGER/,
    );
    const v4 = replaceVersion(issue(root, {}), 3);
    assertCertError(() => parseCertificate(v4), /version: unknown version 4/);
  });

  test('signature BIT STRING with unused bits', () => {
    const good = issue(root, {});
    const [tbs, alg, sig] = topLevel(good.der);
    const sigBytes = sig!.subarray(sig!.length - 64);
    const bad = sequence(
      tbs!,
      alg!,
      bitString(Buffer.concat([sigBytes.subarray(0, -1), Buffer.from([0])]), 1),
    );
    assertCertError(() => parseCertificate(bad), /signatureValue: BIT STRING has 1 unused bits/);
  });

  test('not a certificate at all', () => {
    assertCertError(
      () => parseCertificate(new Uint8Array(0)),
      /Certificate: expected a value but the input ended at offset 0/,
    );
    assertCertError(
      () => parseCertificate(Buffer.from('hello')),
      /Certificate: expected SEQUENCE but found tag 0x68/,
    );
    assertCertError(
      () => parseCertificate(Buffer.from([0x30, 0x05, 0x30])),
      /Certificate: length 5 runs past the end/,
    );
    assertCertError(
      () => parseCertificate(sequence(integer(1n))),
      /tbsCertificate: expected SEQUENCE but found INTEGER/,
    );
  });

  test('an error keeps the DER error as its cause and has a hint', () => {
    const err = assertCertError(() => parseCertificate(Buffer.from([0x30, 0x80])), /indefinite length/);
    assert.ok(err.cause instanceof ParseError);
    assert.equal((err.cause as ParseError).code, 'ERR_DER');
    assert.ok(err.hint);
  });
});

/** The three top-level elements of a certificate, as encoded. */
function topLevel(der: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  const len = (p: number): [number, number] => {
    const b = der[p]!;
    if (b < 0x80) return [b, p + 1];
    let n = 0;
    for (let i = 0; i < (b & 0x7f); i++) n = n * 256 + der[p + 1 + i]!;
    return [n, p + 1 + (b & 0x7f)];
  };
  const [, start] = len(1);
  for (let p = start; p < der.length; ) {
    const [n, c] = len(p + 1);
    out.push(Buffer.from(der.subarray(p, c + n)));
    p = c + n;
  }
  return out;
}

/** The TBS children of a certificate, as encoded. */
function tbsChildren(der: Uint8Array): Buffer[] {
  return topLevel(topLevel(der)[0]!);
}

/** An unsigned-but-well-formed certificate with the TBS children replaced. */
function rebuild(original: Issued, children: Buffer[]): Buffer {
  const [, alg, sig] = topLevel(original.der);
  return sequence(sequence(...children), alg!, sig!);
}

function replaceExtensions(original: Issued, ...exts: Buffer[]): Buffer {
  const kids = tbsChildren(original.der).filter((k) => k[0] !== 0xa3);
  return rebuild(original, [...kids, explicit(3, sequence(...exts))]);
}

function replaceVersion(original: Issued, v: number): Buffer {
  const kids = tbsChildren(original.der);
  kids[0] = explicit(0, integer(v));
  return rebuild(original, kids);
}
