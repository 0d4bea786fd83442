// Tests for src/x509/ip.ts: strict IP parsing and RFC 5952 printing, as tables.
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, test } from 'node:test';
import { ipEquals, ipToString, parseIp, prefixLength } from '../../src/x509/ip.js';

const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));

describe('parseIp', () => {
  // (text, bytes as hex or undefined)
  const TABLE: [string, string | undefined][] = [
    // IPv4: strict dotted quad only.
    ['10.0.0.6', '0a000006'],
    ['0.0.0.0', '00000000'],
    ['255.255.255.255', 'ffffffff'],
    ['256.0.0.1', undefined],
    ['1.2.3', undefined],
    ['1.2.3.4.5', undefined],
    ['127.1', undefined], // short form (inet_aton accepts it)
    ['0x7f.0.0.1', undefined], // hex
    ['010.0.0.1', undefined], // leading zero: octal to inet_aton, decimal to others
    ['00.0.0.0', undefined],
    ['1.2.3.4.', undefined],
    ['1..2.3', undefined],
    [' 1.2.3.4', undefined],
    ['1.2.3.4 ', undefined],
    ['+1.2.3.4', undefined],
    ['1.2.3.-4', undefined],
    ['1.2.3.4%eth0', undefined], // zone ids are for IPv6 only
    ['', undefined],
    ['1e2.0.0.1', undefined],
    ['١.٢.٣.٤', undefined], // Arabic-Indic digits are not digits here
    // IPv6 (RFC 4291 §2.2)
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['2001:DB8::1', '20010db8000000000000000000000001'],
    ['2001:db8:0:0:0:0:0:1', '20010db8000000000000000000000001'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '20010db8000000000000000000000001'],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
    ['::2:3:4:5:6:7:8', '00000002000300040005000600070008'],
    ['::ffff:1.2.3.4', '00000000000000000000ffff01020304'],
    ['::1.2.3.4', '00000000000000000000000001020304'],
    ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
    ['[::1]', '00000000000000000000000000000001'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001'], // zone id stripped
    ['[fe80::1%25eth0]', 'fe800000000000000000000000000001'], // RFC 6874 URL form
    ['::1%42', '00000000000000000000000000000001'],
    ['fe80::1%', undefined], // empty zone
    ['fe80::1%eth 0', undefined],
    ['[::1', undefined],
    ['::1]', undefined],
    ['[[::1]]', undefined],
    [':::', undefined],
    ['1:::2', undefined],
    ['1::2::3', undefined],
    [':1:2:3:4:5:6:7', undefined],
    ['1:2:3:4:5:6:7:', undefined],
    ['1:2:3:4:5:6:7:8:9', undefined],
    ['1:2:3:4:5:6:7', undefined],
    ['1:2:3:4:5:6:7:8::', undefined], // '::' must stand for at least one group
    ['12345::', undefined],
    ['g::', undefined],
    ['::1.2.3', undefined],
    ['::1.2.3.4:5', undefined], // the dotted quad must be last
    ['1.2.3.4::', undefined],
    ['::01.2.3.4', undefined],
    ['::ffff:1.2.3.256', undefined],
    ['[1.2.3.4]', undefined], // brackets are for IPv6
    ['example.com', undefined],
    ['x'.repeat(200), undefined],
  ];
  for (const [text, expected] of TABLE) {
    test(JSON.stringify(text), () => assert.equal(hex(parseIp(text)), expected));
  }

  test('agrees with node:net isIP on the plain forms in the table', () => {
    // isIP is lenient in ways we are not (zone ids), so compare only where no brackets or '%'.
    for (const [text, expected] of TABLE) {
      if (/[[\]%]/.test(text)) continue;
      if (expected !== undefined) assert.notEqual(isIP(text), 0, text);
    }
  });
});

describe('ipToString', () => {
  // (bytes as hex, text) — RFC 5952 §4 canonical IPv6, §5 mixed notation for IPv4-mapped.
  const TABLE: [string, string][] = [
    ['0a000006', '10.0.0.6'],
    ['00000000', '0.0.0.0'],
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'], // §4.2.3: longest run
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'], // §4.2.3: first of equal runs
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'], // §4.2.2: not for one group
    ['20010DB8AAAABBBBCCCCDDDDEEEE0001'.toLowerCase(), '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'],
    ['00010000000000000000000000000000', '1::'],
    ['00000000000000000000ffff01020304', '::ffff:1.2.3.4'],
    ['00000000000000000000000001020304', '::102:304'], // IPv4-compatible (deprecated): plain hex
    // Address and mask (name constraints, RFC 5280 §4.2.1.10)
    ['0a000000ff000000', '10.0.0.0/8'],
    ['c0000200ffffff00', '192.0.2.0/24'],
    ['0a000000ffffffff', '10.0.0.0/32'],
    ['0000000000000000', '0.0.0.0/0'],
    ['0a000000ff00ff00', '10.0.0.0/255.0.255.0'],
    ['08080808ffffff01', '8.8.8.8/255.255.255.1'],
    ['20010db8000000000000000000000000ffffffffffffffff0000000000000000', '2001:db8::/64'],
    ['20010db8000000000000000000000000ffff00000000000000000000000000ff', '2001:db8::/ffff::ff'],
    // Lengths that are no address: printed, never thrown.
    ['010203', '<invalid IP address: 3 bytes, 010203>'],
    ['', '<invalid IP address: 0 bytes, >'],
  ];
  for (const [h, text] of TABLE) {
    test(`${h || '(empty)'} -> ${text}`, () => assert.equal(ipToString(Buffer.from(h, 'hex')), text));
  }

  test('round trip: the canonical text parses back to the same bytes', () => {
    for (const [h, text] of TABLE) {
      if (h.length !== 8 && h.length !== 32) continue;
      assert.equal(hex(parseIp(text)), h, text);
    }
  });
});

describe('prefixLength', () => {
  const TABLE: [string, number | undefined][] = [
    ['ffffffff', 32],
    ['ffffff00', 24],
    ['fffffe00', 23],
    ['80000000', 1],
    ['00000000', 0],
    ['ff00ff00', undefined],
    ['ffffff01', undefined],
    ['7fffffff', undefined],
    ['ffffffffffffffff0000000000000000', 64],
  ];
  for (const [h, n] of TABLE) test(h, () => assert.equal(prefixLength(Buffer.from(h, 'hex')), n));
});

test('ipEquals compares length and bytes: IPv4 is not its IPv4-mapped IPv6 form', () => {
  assert.ok(ipEquals(parseIp('10.0.0.6')!, parseIp('10.0.0.6')!));
  assert.ok(!ipEquals(parseIp('10.0.0.6')!, parseIp('::ffff:10.0.0.6')!));
  assert.ok(!ipEquals(parseIp('10.0.0.6')!, parseIp('10.0.0.7')!));
});
