import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DerReader } from '../../src/der/reader.js';
import { ParseError } from '../../src/errors.js';
import {
  bmpString,
  ia5String,
  oid,
  printableString,
  sequence,
  set,
  utf8String,
} from '../../src/testing/der-writer.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import { escapeValue, readName } from '../../src/x509/name.js';
import { createRoot, encodeName, issue } from '../support/pki.js';

const CN = '2.5.4.3';
const O = '2.5.4.10';
const OU = '2.5.4.11';
const EMAIL = '1.2.840.113549.1.9.1';
const DC = '0.9.2342.19200300.100.1.25';
const atv = (type: string, value: Uint8Array) => sequence(oid(type), value);
const name = (der: Uint8Array) => readName(new DerReader(der), 'subject');

describe('Name.key (RFC 5280 §7.1 in spirit)', () => {
  // [a, b, equal?]
  const table: [string, Uint8Array, Uint8Array, boolean][] = [
    [
      'case and white space are insignificant, whatever the string type',
      sequence(set(atv(O, printableString('Example  Corp')))),
      sequence(set(atv(O, utf8String(' example corp ')))),
      true,
    ],
    [
      'BMPString and UTF8String of the same text',
      sequence(set(atv(CN, bmpString('Zürich')))),
      sequence(set(atv(CN, utf8String('ZÜRICH')))),
      true,
    ],
    [
      'NFKC: a ligature equals its letters',
      sequence(set(atv(CN, utf8String('\ufb01ne')))),
      sequence(set(atv(CN, utf8String('fine')))),
      true,
    ],
    [
      'attributes of one RDN compare as a set',
      sequence(set(atv(O, utf8String('a')), atv(OU, utf8String('b')))),
      sequence(set(atv(OU, utf8String('b')), atv(O, utf8String('a')))),
      true,
    ],
    [
      'RDN order matters',
      sequence(set(atv(O, utf8String('a'))), set(atv(CN, utf8String('b')))),
      sequence(set(atv(CN, utf8String('b'))), set(atv(O, utf8String('a')))),
      false,
    ],
    [
      'a multi-valued RDN is not two RDNs',
      sequence(set(atv(O, utf8String('a')), atv(CN, utf8String('b')))),
      sequence(set(atv(O, utf8String('a'))), set(atv(CN, utf8String('b')))),
      false,
    ],
    [
      'a separator inside a value cannot forge another attribute',
      sequence(set(atv(O, utf8String(`a,${CN}=b`)))),
      sequence(set(atv(O, utf8String('a'))), set(atv(CN, utf8String('b')))),
      false,
    ],
    [
      'different attribute types with the same value',
      sequence(set(atv(O, utf8String('x')))),
      sequence(set(atv(OU, utf8String('x')))),
      false,
    ],
    [
      'inner spaces are collapsed, not removed',
      sequence(set(atv(CN, utf8String('a b')))),
      sequence(set(atv(CN, utf8String('ab')))),
      false,
    ],
    ['the empty name equals itself', sequence(), sequence(), true],
  ];
  for (const [label, a, b, equal] of table) {
    test(label, () => {
      assert.equal(name(a).key === name(b).key, equal, `${name(a).key} vs ${name(b).key}`);
    });
  }
});

describe('Name.text and attributes', () => {
  test('encoded order, short names, multi-valued RDNs joined with +', () => {
    const n = name(
      encodeName('C=US, ST=CA, O=Example + OU=Web, CN=www.example.com, emailAddress=a@b.example, DC=com'),
    );
    // The factory writes a SET in DER order (sorted encodings), so OU comes before O.
    assert.equal(
      n.text,
      'C=US, ST=CA, OU=Web + O=Example, CN=www.example.com, emailAddress=a@b.example, DC=com',
    );
    assert.equal(n.commonName, 'www.example.com');
    assert.equal(n.rdns.length, 6);
    assert.deepEqual(n.rdns[0], [{ oid: '2.5.4.6', type: 'C', tag: 0x13, value: 'US' }]);
    assert.equal(n.rdns[4]![0]!.tag, 0x16);
  });

  test('unknown attribute types print as their OID', () => {
    const n = name(sequence(set(atv('1.2.3.4', utf8String('x'))), set(atv(CN, utf8String('y')))));
    assert.equal(n.text, '1.2.3.4=x, CN=y');
  });

  test('a value that is not a string type is refused, naming the attribute (RFC 5280 §4.1.2.4)', () => {
    const INTEGER_5 = Buffer.from([0x02, 0x01, 0x05]);
    const refused = (der: Uint8Array, pattern: RegExp) =>
      assert.throws(
        () => name(der),
        (e: unknown) => e instanceof ParseError && e.code === 'ERR_DER' && pattern.test(e.message),
      );
    refused(sequence(set(atv(CN, INTEGER_5))), /subject CN: the value is INTEGER, not a DirectoryString/);
    refused(
      sequence(set(atv('1.2.3.4', INTEGER_5))),
      /subject 1\.2\.3\.4: the value is INTEGER, not a string type/,
    );
    refused(sequence(set(atv(O, sequence()))), /subject O: the value is SEQUENCE, not a DirectoryString/);
    // IA5String is not a DirectoryString; emailAddress and DC are IA5String and nothing else.
    refused(
      sequence(set(atv(CN, ia5String('example.com')))),
      /CN: the value is IA5String, not a DirectoryString/,
    );
    refused(
      sequence(set(atv(EMAIL, utf8String('a@b.example')))),
      /emailAddress: the value is UTF8String, but this attribute is an IA5String/,
    );
    refused(
      sequence(set(atv(DC, printableString('com')))),
      /DC: the value is PrintableString, but this attribute is an IA5String/,
    );
    // Every DirectoryString choice is accepted for a DirectoryString attribute.
    for (const value of [utf8String('x'), printableString('x'), bmpString('x')])
      name(sequence(set(atv(CN, value))));
    // An unknown attribute may be any string type.
    assert.equal(name(sequence(set(atv('1.2.3.4', ia5String('x'))))).text, '1.2.3.4=x');
  });

  test('RFC 4514 escaping keeps the text unambiguous and on one line', () => {
    assert.equal(escapeValue('a,b+c"d\\e<f>g;h'), 'a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h');
    assert.equal(escapeValue(' #lead'), '\\ #lead');
    assert.equal(escapeValue('#x'), '\\#x');
    assert.equal(escapeValue('trail '), 'trail\\ ');
    assert.equal(escapeValue('line\nbreak'), 'line\\0Abreak');
    assert.equal(name(sequence(set(atv(O, utf8String('Acme, Inc.'))))).text, 'O=Acme\\, Inc.');
  });

  test('an empty RDN, a bad attribute and a bad string are errors naming the field', () => {
    assert.throws(
      () => name(sequence(set())),
      (e: unknown) => e instanceof ParseError && /subject RDN: empty RDN/.test(e.message),
    );
    assert.throws(
      () => name(sequence(set(sequence(oid(CN))))),
      (e: unknown) => e instanceof ParseError && /subject CN: expected a value/.test(e.message),
    );
    assert.throws(
      () => name(sequence(set(atv('2.5.4.6', printableString('U@'))))),
      (e: unknown) =>
        e instanceof ParseError &&
        /subject C: PrintableString contains a character outside its set/.test(e.message),
    );
    assert.throws(
      () => name(sequence(set(atv(EMAIL, ia5String(Buffer.from([0x61, 0xff])))))),
      (e: unknown) =>
        e instanceof ParseError &&
        /subject emailAddress: IA5String contains a non-ASCII byte at offset 20/.test(e.message),
    );
  });
});

describe('selfIssued', () => {
  test('names that differ only in encoding and case still make a self-issued certificate', () => {
    const root = createRoot({});
    const subjectDer = sequence(set(atv(O, utf8String('Self Corp'))), set(atv(CN, utf8String('Self'))));
    const issuerDer = sequence(
      set(atv(O, printableString('SELF  corp'))),
      set(atv(CN, printableString('self'))),
    );
    const c = parseCertificate(issue(root, { subjectDer, issuerDer }).der);
    assert.notDeepEqual(c.subject.der, c.issuer.der);
    assert.equal(c.selfIssued, true);
    const other = parseCertificate(issue(root, { subjectDer }).der);
    assert.equal(other.selfIssued, false);
  });
});
