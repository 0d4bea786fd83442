import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { type TestContext, test } from 'node:test';
import { children, octetString, readTlv, utf8String } from '../../src/testing/der-writer.js';
import {
  createRoot,
  encodeName,
  generalName,
  generateKey,
  type Issued,
  intermediate,
  ipBytes,
  issue,
  type KeyType,
  keyIdOf,
  keyPemOf,
  pemOf,
  pfxOf,
  reissue,
  selfSigned,
  standardPki,
  tempDir,
} from '../support/pki.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** `openssl x509 -text` of a certificate, or undefined (test skipped) without openssl. */
function opensslText(t: TestContext, cert: Issued): string | undefined {
  if (!hasOpenssl) {
    t.skip('openssl not found on PATH: install it (apt-get install -y openssl) for these cross-checks');
    return undefined;
  }
  return execFileSync('openssl', ['x509', '-noout', '-text'], { input: cert.pem }).toString();
}

/** `openssl verify` of `leaf` against `root` with `untrusted` intermediates; returns [ok, output]. */
function opensslVerify(
  root: Issued,
  leaf: Issued,
  untrusted: Issued[] = [],
  extra: string[] = [],
): [boolean, string] {
  const dir = tempDir();
  try {
    const args = ['verify', ...extra, '-CAfile', dir.write('root.pem', root.pem)];
    if (untrusted.length) args.push('-untrusted', dir.write('untrusted.pem', pemOf(...untrusted)));
    args.push(dir.write('leaf.pem', leaf.pem));
    const r = spawnSync('openssl', args);
    return [r.status === 0, `${r.stdout}${r.stderr}`];
  } finally {
    dir.cleanup();
  }
}

/** The DER of the extension with this OID from a certificate's extensions, with its critical flag. */
function findExtension(cert: Issued, extOid: string): { critical: boolean; value: Buffer } | undefined {
  const tbs = children(cert.tbsDer);
  const extsWrapper = tbs.find((c) => c[0] === 0xa3);
  if (!extsWrapper) return undefined;
  const [exts] = children(extsWrapper);
  for (const ext of children(exts!)) {
    const parts = children(ext);
    const t = readTlv(parts[0]!);
    const dotted = new X509CertificateOidReader(parts[0]!.subarray(t.start, t.end)).toString();
    if (dotted !== extOid) continue;
    const critical = parts.length === 3;
    const v = parts.at(-1)!;
    const vt = readTlv(v);
    return { critical, value: v.subarray(vt.start, vt.end) };
  }
  return undefined;
}

/** Decodes OID content octets to dotted form (test-side, independent of the writer). */
class X509CertificateOidReader {
  constructor(private readonly bytes: Buffer) {}
  toString(): string {
    const arcs: bigint[] = [];
    let v = 0n;
    for (const b of this.bytes) {
      v = (v << 7n) | BigInt(b & 0x7f);
      if (!(b & 0x80)) {
        arcs.push(v);
        v = 0n;
      }
    }
    const first = arcs.shift()!;
    const a = first < 80n ? first / 40n : 2n;
    return [a, first - a * 40n, ...arcs].join('.');
  }
}

test('standardPki: root → intermediate → leaf links, verifies, and openssl agrees', (t) => {
  const { root, intermediate: inter, leaf } = standardPki();
  assert.equal(root.x509.ca, true);
  assert.equal(inter.x509.ca, true);
  assert.equal(leaf.x509.ca, false);
  assert.equal(root.x509.subject, root.x509.issuer);
  assert.ok(root.x509.checkIssued(root.x509));
  assert.ok(inter.x509.checkIssued(root.x509));
  assert.ok(leaf.x509.checkIssued(inter.x509));
  assert.ok(!leaf.x509.checkIssued(root.x509));
  assert.ok(root.x509.verify(root.x509.publicKey));
  assert.ok(inter.x509.verify(root.x509.publicKey));
  assert.ok(leaf.x509.verify(inter.x509.publicKey));
  assert.ok(!leaf.x509.verify(root.x509.publicKey));
  assert.equal(leaf.issuer, inter);
  assert.equal(inter.issuer, root);
  assert.equal(root.issuer, undefined);
  // Every certificate has its own key.
  assert.equal(new Set([root, inter, leaf].map((c) => c.spkiDer.toString('hex'))).size, 3);
  // The default leaf answers on the loopback names.
  assert.equal(leaf.x509.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  assert.ok(leaf.x509.checkHost('localhost'));
  assert.ok(leaf.x509.checkIP('127.0.0.1'));
  assert.ok(leaf.x509.checkIP('::1'));
  // Default validity: now - 1h .. now + 30 days, in whole seconds.
  const now = Date.now();
  assert.ok(Math.abs(leaf.notBefore.getTime() - (now - 3600_000)) < 5000);
  assert.ok(Math.abs(leaf.notAfter.getTime() - (now + 30 * 86400_000)) < 5000);
  assert.equal(new Date(leaf.x509.validFrom).getTime(), leaf.notBefore.getTime());
  assert.equal(new Date(leaf.x509.validTo).getTime(), leaf.notAfter.getTime());
  // Default serial: 16 octets, positive.
  assert.equal(leaf.serial.length, 16);
  assert.ok(leaf.serial[0]! < 0x80 && leaf.serial[0]! > 0);
  assert.equal(leaf.x509.serialNumber, leaf.serial.toString('hex').toUpperCase());
  // PEM and key PEM round-trip.
  assert.deepEqual(new X509Certificate(leaf.pem).raw, leaf.der);
  assert.match(leaf.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.ok(leaf.x509.checkPrivateKey(leaf.key.privateKey));
  if (!hasOpenssl) return t.skip('openssl not found on PATH');
  const [ok, out] = opensslVerify(root, leaf, [inter]);
  assert.ok(ok, out);
  const [bad, out2] = opensslVerify(root, leaf);
  assert.ok(!bad, out2);
});

test('key types: each produces the key and signature algorithm asked for', (t) => {
  const cases: [KeyType, string, string, number | string][] = [
    ['p256', 'ec', 'ecdsa-with-SHA256', 'prime256v1'],
    ['p384', 'ec', 'ecdsa-with-SHA256', 'secp384r1'],
    ['ed25519', 'ed25519', 'ED25519', ''],
    ['rsa1024', 'rsa', 'sha256WithRSAEncryption', 1024],
    ['rsa2048', 'rsa', 'sha256WithRSAEncryption', 2048],
    ['rsa3072', 'rsa', 'sha256WithRSAEncryption', 3072],
  ];
  for (const [keyType, asym, sigName, detail] of cases) {
    const root = createRoot({ keyType });
    const leaf = issue(root, { keyType });
    const pub = leaf.x509.publicKey;
    assert.equal(pub.asymmetricKeyType, asym, keyType);
    if (typeof detail === 'number') assert.equal(pub.asymmetricKeyDetails?.modulusLength, detail);
    else if (detail) assert.equal(pub.asymmetricKeyDetails?.namedCurve, detail);
    assert.ok(leaf.x509.verify(root.x509.publicKey), keyType);
    assert.ok(root.x509.verify(root.x509.publicKey), keyType);
    assert.notEqual(
      leaf.spkiDer.toString('hex'),
      root.spkiDer.toString('hex'),
      `${keyType}: leaf shares its issuer's key`,
    );
    // RSA leaves get keyEncipherment too (TLS 1.2 RSA key exchange).
    const text = opensslText(t, leaf);
    if (text === undefined) return;
    assert.match(text, new RegExp(`Signature Algorithm: ${sigName}`), keyType);
    if (asym === 'rsa') assert.match(text, /Digital Signature, Key Encipherment/);
    else assert.doesNotMatch(text, /Key Encipherment/);
  }
});

test('hash: SHA-384/512 and the weak MD5/SHA-1 signatures verify with node and openssl', (t) => {
  for (const hash of ['sha384', 'sha512', 'sha1', 'md5'] as const) {
    const root = createRoot({ keyType: 'rsa2048', hash });
    const leaf = issue(root, { keyType: 'rsa2048', hash });
    assert.ok(leaf.x509.verify(root.x509.publicKey), hash);
    const text = opensslText(t, leaf);
    if (text === undefined) return;
    assert.match(text, new RegExp(`Signature Algorithm: ${hash}WithRSAEncryption`));
    const [ok, out] = opensslVerify(root, leaf, [], ['-auth_level', '0']);
    assert.ok(ok, `${hash}: ${out}`);
  }
  const ecRoot = createRoot({ keyType: 'p384', hash: 'sha384' });
  const ecLeaf = issue(ecRoot, { hash: 'sha1' });
  assert.ok(ecLeaf.x509.verify(ecRoot.x509.publicKey));
  assert.match(opensslText(t, ecLeaf) ?? 'ecdsa-with-SHA1', /ecdsa-with-SHA1/);
  assert.throws(() => issue(ecRoot, { hash: 'md5' }), /ECDSA with md5/);
});

test('subject strings: order, escapes, multi-valued RDNs, string types, #hex values', () => {
  const root = createRoot({ subject: 'C=US, O=Acme\\, Inc., OU=a+OU=b, CN=Root \\2B plus' });
  assert.equal(root.x509.subject, 'C=US\nO=Acme\\, Inc.\nOU=a + OU=b\nCN=Root \\+ plus');
  assert.equal(root.x509.issuer, root.x509.subject);
  // C is a PrintableString, CN a UTF8String (RFC 5280 Appendix A).
  const name = encodeName('C=US, CN=x');
  assert.ok(name.includes(Buffer.from('0603550406130255 53'.replace(/ /g, ''), 'hex')));
  assert.ok(name.includes(Buffer.from('06035504030c0178', 'hex')));
  // '#hex' writes the value's DER as given: here a PrintableString CN.
  assert.ok(encodeName('CN=#130178').includes(Buffer.from('0603550403130178', 'hex')));
  // OIDs as attribute types.
  assert.ok(encodeName('2.5.4.97=v').includes(Buffer.from('0603550461', 'hex')));
  assert.throws(() => encodeName('XX=1'), /unknown attribute type 'XX'/);
  assert.throws(() => encodeName('CN'), /not TYPE=value/);
  assert.equal(encodeName('').toString('hex'), '3000');
  // cn shorthand; emptySubject.
  assert.equal(selfSigned({ cn: 'a, b' }).x509.subject, 'CN=a\\, b');
  const empty = selfSigned({ emptySubject: true, sans: ['DNS:a.example'] });
  assert.equal(empty.subjectDer.toString('hex'), '3000');
  // Node 20 reports an empty subject as undefined, Node 24 as ''.
  assert.ok(!empty.x509.subject, `empty subject: ${JSON.stringify(empty.x509.subject)}`);
  assert.equal(empty.x509.subjectAltName, 'DNS:a.example');
  // Default names are unique, so unrelated roots never chain by accident.
  assert.notEqual(createRoot().x509.subject, createRoot().x509.subject);
});

test('sans: every form, bare strings, [] = no extension, critical flag', (t) => {
  const root = createRoot();
  const leaf = issue(root, {
    sans: [
      'DNS:a.example',
      'IP:10.0.0.6',
      'IP:::1',
      '2001:db8::ffff:1.2.3.4',
      'email:a@b.c',
      'URI:https://x',
      'DN:CN=x, O=y',
      'RID:1.2.3',
      'bare.example',
      '*.wild.example',
    ],
  });
  assert.equal(
    leaf.x509.subjectAltName,
    'DNS:a.example, IP Address:10.0.0.6, IP Address:0:0:0:0:0:0:0:1, IP Address:2001:DB8:0:0:0:FFFF:102:304, ' +
      'email:a@b.c, URI:https://x, DirName:"O=y\\u002cCN=x", Registered ID:1.2.3, DNS:bare.example, DNS:*.wild.example',
  );
  assert.equal(findExtension(leaf, '2.5.29.17')?.critical, false);
  const none = issue(root, { sans: [] });
  assert.equal(none.x509.subjectAltName, undefined);
  assert.equal(findExtension(none, '2.5.29.17'), undefined);
  const crit = issue(root, { sans: ['x.example'], sanCritical: true });
  assert.equal(findExtension(crit, '2.5.29.17')?.critical, true);
  assert.match(
    opensslText(t, crit) ?? 'Subject Alternative Name: critical',
    /Subject Alternative Name: critical/,
  );
  // Leaf CN defaults to its first DNS SAN.
  assert.equal(
    issue(root, { sans: ['IP:10.0.0.1', 'DNS:b.example'] }).x509.subject,
    'CN=b.example\nO=certainly tests',
  );
  // raw: a whole GeneralName; bytes are not checked, so bad names can be made.
  assert.equal(generalName('raw:820178').toString('hex'), '820178');
  assert.equal(generalName('DNS:é').toString('hex'), '8202c3a9');
  assert.throws(() => generalName('IP:300.1.1.1'), /not an IP address/);
  assert.throws(() => generalName('XYZ:1'), /unknown general name type/);
});

test('IP parsing and name-constraint masks', () => {
  assert.equal(ipBytes('127.0.0.1')?.toString('hex'), '7f000001');
  assert.equal(ipBytes('::1')?.toString('hex'), '00000000000000000000000000000001');
  assert.equal(ipBytes('::')?.toString('hex'), '0'.repeat(32));
  assert.equal(ipBytes('fe80::1:2')?.toString('hex'), 'fe800000000000000000000000010002');
  assert.equal(ipBytes('::ffff:10.0.0.1')?.toString('hex'), '00000000000000000000ffff0a000001');
  assert.equal(ipBytes('1:2:3:4:5:6:7:8')?.toString('hex'), '00010002000300040005000600070008');
  assert.equal(ipBytes('a.example'), undefined);
  assert.equal(generalName('IP:10.0.0.0/8').toString('hex'), '87080a000000ff000000');
  assert.equal(generalName('10.0.0.0/255.255.0.0').toString('hex'), '87080a000000ffff0000');
  // Bare IPv6 that starts with letters is still an address, not a 'type:' prefix.
  assert.equal(generalName('abcd::1').toString('hex'), `8710abcd${'0'.repeat(26)}01`);
  assert.equal(generalName('abcd::/16').toString('hex'), `8720abcd${'0'.repeat(28)}ffff${'0'.repeat(28)}`);
  assert.equal(
    generalName('IP:2001:db8::/32').toString('hex'),
    `8720${'20010db8'.padEnd(32, '0')}${'ffffffff'.padEnd(32, '0')}`,
  );
});

test('basicConstraints, pathLen, keyUsage, EKU', (t) => {
  const root = createRoot({ pathLen: 1 });
  assert.match(opensslText(t, root) ?? 'critical\n CA:TRUE, pathlen:1', /critical\n\s+CA:TRUE, pathlen:1/);
  const inter = intermediate(root, { basicConstraints: { ca: true, pathLen: 0, critical: false } });
  assert.equal(findExtension(inter, '2.5.29.19')?.critical, false);
  assert.equal(findExtension(inter, '2.5.29.19')?.value.toString('hex'), '30060101ff020100');
  const noBc = issue(root, { basicConstraints: false });
  assert.equal(findExtension(noBc, '2.5.29.19'), undefined);
  assert.equal(noBc.isCA, false);
  // A leaf's basicConstraints is cA FALSE, which DER writes as an empty SEQUENCE (X.690 §11.5).
  const leaf = issue(root);
  assert.equal(findExtension(leaf, '2.5.29.19')?.value.toString('hex'), '3000');
  assert.equal(findExtension(leaf, '2.5.29.19')?.critical, true);
  // A leaf that claims to be a CA, and a CA cert built with issue(..., { ca: true }).
  assert.equal(issue(root, { ca: true }).x509.ca, true);
  assert.equal(issue(root, { basicConstraints: { ca: true } }).x509.ca, true);

  assert.equal(findExtension(root, '2.5.29.15')?.value.toString('hex'), '03020106');
  assert.equal(findExtension(root, '2.5.29.15')?.critical, true);
  const ku = issue(root, {
    keyUsage: ['digitalSignature', 'keyAgreement', 'decipherOnly'],
    keyUsageCritical: false,
  });
  assert.equal(findExtension(ku, '2.5.29.15')?.value.toString('hex'), '0303078880');
  assert.equal(findExtension(ku, '2.5.29.15')?.critical, false);
  assert.equal(findExtension(issue(root, { keyUsage: false }), '2.5.29.15'), undefined);
  assert.throws(() => issue(root, { keyUsage: ['bogus'] }), /unknown key usage 'bogus'/);

  assert.deepEqual(leaf.x509.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  assert.equal(root.x509.keyUsage, undefined);
  const eku = issue(root, { eku: ['codeSigning', 'any', '1.2.3.4'], ekuCritical: true });
  assert.deepEqual(eku.x509.keyUsage, ['1.3.6.1.5.5.7.3.3', '2.5.29.37.0', '1.2.3.4']);
  assert.equal(findExtension(eku, '2.5.29.37')?.critical, true);
  assert.equal(issue(root, { eku: false }).x509.keyUsage, undefined);
});

test('SKI / AKI, AIA, name constraints, raw extensions', (t) => {
  const root = createRoot();
  const leaf = issue(root);
  assert.deepEqual(root.ski, keyIdOf(root.spkiDer));
  assert.equal(root.ski?.length, 20);
  // AKI keyIdentifier [0] = issuer's SKI; a root's AKI is its own SKI.
  assert.equal(
    findExtension(leaf, '2.5.29.35')?.value.toString('hex'),
    `30168014${root.ski!.toString('hex')}`,
  );
  assert.equal(
    findExtension(root, '2.5.29.35')?.value.toString('hex'),
    `30168014${root.ski!.toString('hex')}`,
  );
  assert.equal(findExtension(leaf, '2.5.29.14')?.value.toString('hex'), `0414${leaf.ski!.toString('hex')}`);
  const bare = issue(root, { ski: false, aki: false });
  assert.equal(bare.ski, undefined);
  assert.equal(findExtension(bare, '2.5.29.14'), undefined);
  assert.equal(findExtension(bare, '2.5.29.35'), undefined);
  const odd = issue(root, { skiValue: Buffer.from('0102', 'hex'), akiValue: Buffer.from('0304', 'hex') });
  assert.equal(findExtension(odd, '2.5.29.14')?.value.toString('hex'), '04020102');
  assert.equal(findExtension(odd, '2.5.29.35')?.value.toString('hex'), '300480020304');
  // The SKI is the SHA-1 of the subjectPublicKey bits (method 1), as openssl computes it.
  const text = opensslText(t, leaf);
  if (text) assert.match(text, new RegExp(leaf.ski!.toString('hex').toUpperCase().match(/../g)!.join(':')));

  const aia = issue(root, {
    aia: { caIssuers: ['http://127.0.0.1:1/ca.der'], ocsp: ['http://ocsp.example'] },
  });
  // Node 20 and 24 differ on a trailing newline.
  assert.equal(
    aia.x509.infoAccess?.trim(),
    'OCSP - URI:http://ocsp.example\nCA Issuers - URI:http://127.0.0.1:1/ca.der',
  );

  const nc = intermediate(root, {
    nameConstraints: {
      permitted: ['DNS:example.com', 'IP:10.0.0.0/8'],
      excluded: ['DNS:bad.example.com', 'email:x.example'],
    },
  });
  assert.equal(findExtension(nc, '2.5.29.30')?.critical, true);
  const ncText = opensslText(t, nc);
  if (ncText) {
    assert.match(
      ncText,
      /Name Constraints: critical\n\s+Permitted:\n\s+DNS:example.com\n\s+IP:10.0.0.0\/255.0.0.0/,
    );
    assert.match(ncText, /Excluded:\n\s+DNS:bad.example.com\n\s+email:x.example/);
  }
  const emptyNc = intermediate(root, { nameConstraints: { permitted: [], critical: false } });
  assert.equal(findExtension(emptyNc, '2.5.29.30')?.value.toString('hex'), '3002a000');

  const raw = issue(root, {
    extensions: [
      { oid: '1.2.3.4.5', critical: true, value: utf8String('x') },
      { oid: '2.5.29.17', value: Buffer.from('3000', 'hex') }, // a second, empty SAN: a duplicate on purpose
    ],
  });
  const rawText = opensslText(t, raw);
  if (rawText) assert.match(rawText, /1\.2\.3\.4\.5: critical/);
  assert.equal(findExtension(raw, '1.2.3.4.5')?.value.toString('hex'), '0c0178');
});

test('serial, version, validity (GeneralizedTime from 2050)', (t) => {
  const root = createRoot();
  assert.equal(issue(root, { serial: 1n }).x509.serialNumber, '01');
  assert.equal(issue(root, { serial: 0x80n }).serial.toString('hex'), '0080');
  assert.equal(issue(root, { serial: -1n }).serial.toString('hex'), 'ff');
  assert.equal(issue(root, { serial: Buffer.from('000001', 'hex') }).serial.toString('hex'), '000001');
  const big = issue(root, { serial: 2n ** 159n - 1n });
  assert.equal(big.serial.length, 20);

  const v1 = issue(root, { version: 1 });
  assert.equal(children(v1.tbsDer)[0]![0], 0x02, 'a v1 TBSCertificate starts with the serial');
  assert.equal(children(root.tbsDer)[0]![0], 0xa0, 'a v3 TBSCertificate starts with [0] version');
  assert.equal(v1.x509.subjectAltName, undefined);
  const v1text = opensslText(t, v1);
  if (v1text) {
    assert.match(v1text, /Version: 1 \(0x0\)/);
    assert.doesNotMatch(v1text, /X509v3 extensions/);
  }
  assert.equal(v1.x509.ca, false);
  assert.ok(v1.x509.verify(root.x509.publicKey));

  const notBefore = new Date('2049-06-01T00:00:00Z');
  const notAfter = new Date('2051-06-01T12:34:56.789Z');
  const long = issue(root, { notBefore, notAfter });
  const validity = children(long.tbsDer)[4]!;
  assert.deepEqual(
    children(validity).map((c) => c[0]),
    [0x17, 0x18],
  );
  assert.equal(new Date(long.x509.validFrom).getTime(), notBefore.getTime());
  assert.equal(new Date(long.x509.validTo).getTime(), new Date('2051-06-01T12:34:56Z').getTime());
  assert.equal(long.notAfter.toISOString(), '2051-06-01T12:34:56.000Z');
  const expired = issue(root, {
    notBefore: new Date(Date.now() - 10 * 86400_000),
    notAfter: new Date(Date.now() - 86400_000),
  });
  assert.ok(new Date(expired.x509.validTo).getTime() < Date.now());
  // Raw Time elements: a GeneralizedTime for 2030, which RFC 5280 forbids.
  const gt = issue(root, {
    notBeforeDer: Buffer.concat([Buffer.from([0x18, 15]), Buffer.from('20300101000000Z')]),
  });
  assert.equal(children(children(gt.tbsDer)[4]!)[0]![0], 0x18);
});

test('broken on purpose: wrong issuer name, wrong signing key, corrupted signature, mismatched algorithms', (t) => {
  const root = createRoot();
  const other = createRoot();
  const wrongName = issue(root, { issuerName: 'CN=Nobody' });
  assert.equal(wrongName.x509.issuer, 'CN=Nobody');
  assert.ok(!wrongName.x509.checkIssued(root.x509));
  assert.ok(wrongName.x509.verify(root.x509.publicKey), 'still signed by root');

  const wrongKey = issue(root, { signWith: other.key });
  assert.ok(wrongKey.x509.checkIssued(root.x509), 'names still link');
  assert.ok(!wrongKey.x509.verify(root.x509.publicKey));
  assert.ok(wrongKey.x509.verify(other.x509.publicKey));

  const corrupt = issue(root, { corruptSignature: true });
  assert.ok(!corrupt.x509.verify(root.x509.publicKey));

  // The TBSCertificate claims sha1WithRSAEncryption while the outer field says ecdsa-with-SHA256.
  const sha1Alg = Buffer.from('300d06092a864886f70d0101050500', 'hex');
  const mismatch = issue(root, { tbsSignatureAlgorithm: sha1Alg });
  const tbsAlg = children(mismatch.tbsDer)[2]!;
  const outerAlg = children(mismatch.der)[1]!;
  assert.equal(tbsAlg.toString('hex'), sha1Alg.toString('hex'));
  assert.notEqual(outerAlg.toString('hex'), sha1Alg.toString('hex'));

  // A certificate node refuses to parse is still built; x509 throws only when asked for.
  const garbage = issue(root, {
    subjectDer: Buffer.from('0500', 'hex'),
    spkiDer: octetString(Buffer.alloc(3)),
  });
  assert.ok(garbage.der.length > 0);
  assert.throws(() => garbage.x509);
  if (!hasOpenssl) return t.skip('openssl not found on PATH');
  const [ok] = opensslVerify(root, wrongKey);
  assert.ok(!ok);
});

test('keys: reuse, fresh keys, the RSA pool never hands a certificate its issuer’s key', () => {
  const key = generateKey('p256');
  const a = createRoot({ key });
  const b = createRoot({ key });
  assert.deepEqual(a.spkiDer, b.spkiDer);
  assert.deepEqual(a.ski, b.ski);

  // An RSA chain deeper than the pool: still no certificate shares its issuer chain's key.
  let cert = createRoot({ keyType: 'rsa1024' });
  const seen = [cert.spkiDer.toString('hex')];
  for (let i = 0; i < 5; i++) {
    cert = intermediate(cert, { keyType: 'rsa1024' });
    const spki = cert.spkiDer.toString('hex');
    assert.ok(!seen.includes(spki), `depth ${i + 1} reuses an ancestor's key`);
    seen.push(spki);
  }
  const fresh = issue(cert, { keyType: 'rsa1024', freshKey: true });
  assert.ok(!seen.includes(fresh.spkiDer.toString('hex')));

  // Cross-signing: same subject and key under another root.
  const { root, intermediate: inter } = standardPki();
  const otherRoot = createRoot();
  const cross = reissue(otherRoot, inter);
  assert.deepEqual(cross.subjectDer, inter.subjectDer);
  assert.deepEqual(cross.spkiDer, inter.spkiDer);
  assert.deepEqual(cross.ski, inter.ski);
  assert.equal(cross.x509.ca, true);
  assert.ok(cross.x509.checkIssued(otherRoot.x509));
  assert.ok(cross.x509.verify(otherRoot.x509.publicKey));
  assert.ok(!cross.x509.checkIssued(root.x509));

  // Encrypted and other key PEM forms.
  const enc = keyPemOf(key, { passphrase: 'secret' });
  assert.match(enc, /ENCRYPTED PRIVATE KEY/);
  assert.match(keyPemOf(key, { format: 'sec1' }), /EC PRIVATE KEY/);
});

test('generation is fast enough: 100 P-256 leaves well under a second', () => {
  const root = createRoot();
  const start = performance.now();
  for (let i = 0; i < 100; i++) issue(root, { cn: `n${i}` });
  const ms = performance.now() - start;
  assert.ok(ms < 2000, `100 leaves took ${ms.toFixed(0)} ms`);
});

test('pemOf and tempDir', () => {
  const { root, intermediate: inter, leaf } = standardPki();
  const pem = pemOf(leaf, inter, root);
  assert.equal(pem.match(/BEGIN CERTIFICATE/g)?.length, 3);
  assert.ok(pem.startsWith(leaf.pem));
  const dir = tempDir('pki-selftest-');
  try {
    const p = dir.write('a/b/chain.pem', pem);
    assert.equal(readFileSync(p, 'utf8'), pem);
    assert.ok(p.startsWith(dir.path));
    assert.throws(() => dir.write('../escape.pem', 'x'), /outside/);
  } finally {
    dir.cleanup();
  }
  assert.ok(!existsSync(dir.path));
  // The SHA-256 fingerprint node computes matches the DER we hold.
  const fp = createHash('sha256').update(leaf.der).digest('hex').toUpperCase().match(/../g)!.join(':');
  assert.equal(leaf.x509.fingerprint256, fp);
});

test('extra key types, RSASSA-PSS and certificatePolicies', (t) => {
  for (const [keyType, asym, curve] of [
    ['p521', 'ec', 'secp521r1'],
    ['ed448', 'ed448', undefined],
    ['rsa512', 'rsa', undefined],
  ] as const) {
    const root = createRoot({ keyType });
    const leaf = issue(root, { keyType });
    assert.equal(leaf.x509.publicKey.asymmetricKeyType, asym);
    if (curve) assert.equal(leaf.x509.publicKey.asymmetricKeyDetails?.namedCurve, curve);
    if (keyType === 'rsa512') assert.equal(leaf.x509.publicKey.asymmetricKeyDetails?.modulusLength, 512);
    assert.ok(leaf.x509.verify(root.x509.publicKey), keyType);
  }
  for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
    const root = createRoot({ keyType: 'rsa2048' });
    const leaf = issue(root, { rsaPss: true, hash });
    assert.ok(leaf.x509.verify(root.x509.publicKey), `PSS ${hash}`);
    const text = opensslText(t, leaf);
    if (text === undefined) return;
    assert.match(text, /Signature Algorithm: rsassaPss/);
    assert.match(
      text,
      new RegExp(
        `Hash Algorithm: ${hash}[\\s\\S]*Salt Length: 0x${({ sha256: 32, sha384: 48, sha512: 64 } as const)[hash].toString(16)}`,
      ),
    );
    const [ok, out] = opensslVerify(root, leaf);
    assert.ok(ok, out);
  }
  // The exact parameters webpki expects for RSA-PSS-SHA256 (RFC 4055, explicit NULLs, salt 32).
  const pss = issue(createRoot({ keyType: 'rsa2048' }), { rsaPss: true });
  assert.equal(
    children(pss.tbsDer)[2]!.toString('hex'),
    '304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120',
  );
  assert.throws(
    () => issue(createRoot({ keyType: 'rsa2048' }), { rsaPss: true, hash: 'md5' }),
    /PSS with md5/,
  );

  const pol = issue(createRoot(), { policies: ['2.23.140.1.2.1', 'any'], policiesCritical: true });
  const polText = opensslText(t, pol);
  if (polText)
    assert.match(
      polText,
      /Certificate Policies: critical\n\s+Policy: 2\.23\.140\.1\.2\.1\n\s+Policy: X509v3 Any Policy/,
    );
});

test('pfxOf: a PKCS#12 bundle node can load', async (t) => {
  if (!hasOpenssl) return t.skip('openssl not found on PATH: apt-get install -y openssl');
  const { createSecureContext } = await import('node:tls');
  const { intermediate: inter, leaf } = standardPki();
  const pfx = pfxOf(leaf, { passphrase: 'pw', chain: [inter] });
  assert.ok(pfx.length > 500);
  assert.doesNotThrow(() => createSecureContext({ pfx, passphrase: 'pw' }));
  assert.throws(
    () => createSecureContext({ pfx, passphrase: 'wrong' }),
    /mac verify failure|bad decrypt|Unable to load PFX/i,
  );
  const p12 = execFileSync('openssl', ['pkcs12', '-nokeys', '-passin', 'pass:pw'], { input: pfx }).toString();
  assert.equal(p12.match(/BEGIN CERTIFICATE/g)?.length, 2);
});
