/**
 * The chain exactly as sent, read from the handshake bytes: TLS 1.2 in the clear, TLS 1.3 with
 * each default cipher suite and after a HelloRetryRequest; and that the connector's view of it
 * (getPeerX509Certificate) agrees on a chain sent out of order.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { connectForDiagnosis, type Wire } from '../../src/diagnose/connect.js';
import {
  certificatesFromFlight,
  MAX_WIRE_CERTIFICATES,
  serverHandshakeSecretOf,
} from '../../src/diagnose/wire.js';
import { resolveTarget } from '../../src/tls/target.js';
import { createRoot, type Issued, intermediate, issue, pemOf } from '../support/index.js';

let root: Issued;
let i1: Issued;
let i2: Issued;
let leaf: Issued;
const open: tls.Server[] = [];

before(() => {
  root = createRoot({ subject: 'CN=Wire Root' });
  i1 = intermediate(root, { subject: 'CN=Wire I1' });
  i2 = intermediate(i1, { subject: 'CN=Wire I2' });
  leaf = issue(i2);
});

after(async () => {
  await Promise.all(open.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

/** A TLS server sending exactly `certs` (leaf first), with the given options. */
async function serve(certs: Issued[], opts: tls.TlsOptions = {}): Promise<number> {
  const server = tls.createServer({ key: certs[0]!.keyPem, cert: pemOf(...certs), ...opts });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push(server);
  return (server.address() as AddressInfo).port;
}

function connect(port: number): Promise<Wire> {
  return connectForDiagnosis({
    target: resolveTarget('localhost', port, { connectTo: { host: '127.0.0.1' } }),
    trust: null,
    timeout: 5000,
  });
}

function subjects(certs: { subject: { text: string } }[] | undefined): string[] | undefined {
  return certs?.map((c) => c.subject.text.split(',')[0]!);
}

const OUT_OF_ORDER = ['CN=localhost', 'CN=Wire I1', 'CN=Wire I2'];

describe('the chain as sent', () => {
  for (const suite of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']) {
    test(`TLS 1.3 with ${suite}: every certificate, in the order sent`, async () => {
      const port = await serve([leaf, i1, i2], { ciphers: suite, minVersion: 'TLSv1.3' });
      const w = await connect(port);
      assert.equal(w.error, undefined);
      assert.equal(w.protocol, 'TLSv1.3');
      assert.equal(w.cipher, suite);
      assert.deepEqual(subjects(w.sent), OUT_OF_ORDER);
      assert.deepEqual(
        w.sent?.map((c) => Buffer.from(c.der).toString('base64')),
        [leaf, i1, i2].map((c) => c.der.toString('base64')),
      );
    });
  }

  test('TLS 1.2: read in the clear', async () => {
    const port = await serve([leaf, i1, i2], { maxVersion: 'TLSv1.2' });
    const w = await connect(port);
    assert.equal(w.protocol, 'TLSv1.2');
    assert.deepEqual(subjects(w.sent), OUT_OF_ORDER);
  });

  test('TLS 1.3 after a HelloRetryRequest (the server wants another key share)', async () => {
    // Node's client sends an X25519 key share first; a server that only takes P-384 asks again.
    const port = await serve([leaf, i2, i1], { ecdhCurve: 'P-384', minVersion: 'TLSv1.3' });
    const w = await connect(port);
    assert.equal(w.protocol, 'TLSv1.3');
    assert.deepEqual(subjects(w.sent), ['CN=localhost', 'CN=Wire I2', 'CN=Wire I1']);
  });

  test("node's view, as the connector walks it, keeps a chain sent out of order whole", async () => {
    const port = await serve([leaf, i1, i2]);
    const w = await connect(port);
    assert.deepEqual(subjects(w.nodeChain), ['CN=localhost', 'CN=Wire I1', 'CN=Wire I2']);
    assert.deepEqual(subjects(w.nodeChain), subjects(w.sent));
  });

  test('timings and the SNI', async () => {
    const port = await serve([leaf, i2, i1]);
    const w = await connect(port);
    assert.equal(w.sni, 'localhost');
    assert.equal(w.address, `127.0.0.1:${port}`);
    assert.ok((w.tcpMs ?? -1) >= 0 && (w.tlsMs ?? -1) > 0);
  });
});

describe('certificatesFromFlight on bad input', () => {
  test('truncated, garbage, a wrong secret or an unknown suite give undefined, never a throw', () => {
    const tls13 = {
      protocol: 'TLSv1.3',
      cipher: 'TLS_AES_128_GCM_SHA256',
      serverHandshakeSecret: Buffer.alloc(32, 7),
    };
    // A record header announcing more bytes than there are.
    assert.equal(
      certificatesFromFlight({ ...tls13, bytes: Buffer.from([22, 3, 3, 0x40, 0x00, 1, 2]) }),
      undefined,
    );
    // An encrypted record after a ServerHello, with the wrong key.
    const serverHello = Buffer.concat([
      Buffer.from([2, 0, 0, 38, 3, 3]),
      Buffer.alloc(32, 1),
      Buffer.from([0]),
    ]);
    const bytes = Buffer.concat([
      Buffer.from([22, 3, 3, 0, serverHello.length]),
      serverHello,
      Buffer.from([23, 3, 3, 0, 40]),
      Buffer.alloc(40, 9),
    ]);
    assert.equal(certificatesFromFlight({ ...tls13, bytes }), undefined);
    assert.equal(certificatesFromFlight({ ...tls13, cipher: 'TLS_NOPE', bytes }), undefined);
    assert.equal(
      certificatesFromFlight({ ...tls13, serverHandshakeSecret: Buffer.alloc(5), bytes }),
      undefined,
    );
    for (let seed = 1; seed < 50; seed++) {
      const junk = Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 31 + seed * 17) & 0xff));
      assert.doesNotThrow(() => certificatesFromFlight({ protocol: 'TLSv1.2', cipher: null, bytes: junk }));
      assert.doesNotThrow(() => certificatesFromFlight({ ...tls13, bytes: junk }));
    }
  });

  test('a TLS 1.2 Certificate message: lengths are checked, the count is bounded', () => {
    const cert = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]);
    const entry = Buffer.concat([Buffer.from([0, 0, cert.length]), cert]);
    const message = (entries: Buffer[], lie = 0) => {
      const list = Buffer.concat(entries);
      const body = Buffer.concat([
        Buffer.from([0, (list.length + lie) >> 8, (list.length + lie) & 0xff]),
        list,
      ]);
      const hs = Buffer.concat([Buffer.from([11, 0, body.length >> 8, body.length & 0xff]), body]);
      return Buffer.concat([Buffer.from([22, 3, 3, hs.length >> 8, hs.length & 0xff]), hs]);
    };
    assert.equal(
      certificatesFromFlight({ protocol: 'TLSv1.2', cipher: null, bytes: message([entry, entry]) })?.length,
      2,
    );
    assert.equal(
      certificatesFromFlight({ protocol: 'TLSv1.2', cipher: null, bytes: message([entry], 1) }),
      undefined,
    );
    const many = Array.from({ length: MAX_WIRE_CERTIFICATES + 10 }, () => entry);
    assert.equal(
      certificatesFromFlight({ protocol: 'TLSv1.2', cipher: null, bytes: message(many) })?.length,
      MAX_WIRE_CERTIFICATES,
    );
  });

  test('the key log line parser takes only the server handshake secret', () => {
    const secret = 'ab'.repeat(32);
    assert.deepEqual(
      serverHandshakeSecretOf(`SERVER_HANDSHAKE_TRAFFIC_SECRET ${'00'.repeat(32)} ${secret}\n`),
      Buffer.from(secret, 'hex'),
    );
    assert.equal(
      serverHandshakeSecretOf(`CLIENT_HANDSHAKE_TRAFFIC_SECRET ${'00'.repeat(32)} ${secret}`),
      undefined,
    );
    assert.equal(serverHandshakeSecretOf('garbage'), undefined);
  });
});
