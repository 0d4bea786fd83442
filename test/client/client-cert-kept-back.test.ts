/**
 * A client certificate is never sent to a server our verifier refuses (issue 14; tls/gate.ts).
 *
 * Servers over TLS 1.2 and TLS 1.3 ask for a client certificate (requestCert) and record what
 * arrives; a tap between client and server records every TLS record the client sends. For a
 * server that fails verification, the client sends its ClientHello and nothing of its second
 * flight (no Certificate, no CertificateVerify, not even its Finished), and the server sees no
 * client certificate. Controls show the test can fail: plain node:tls (what certainly did before)
 * sends the certificate to the same server, and a server that passes verification receives it.
 */
import assert from 'node:assert/strict';
import { createServer as createNetServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { diagnose } from '../../src/diagnose/index.js';
import { get, SSLError } from '../../src/index.js';
import { clientTlsOptions } from '../../src/tls/client-cert.js';
import { probe } from '../../src/tls/probe.js';
import { resolveTrust } from '../../src/trust/resolve.js';
import { createRoot, type Issued, issue, pemOf } from '../support/pki.js';
import { startHttpServer } from '../support/servers.js';

/** A TLS server that asks for a client certificate and records every one it receives. */
interface RecordingServer {
  port: number;
  /** Subjects (CN) of client certificates seen, from completed handshakes. */
  clientCerts: string[];
  close(): Promise<void>;
}

async function recordingServer(
  cert: Issued,
  chain: Issued[],
  version: 'TLSv1.2' | 'TLSv1.3',
): Promise<RecordingServer> {
  const clientCerts: string[] = [];
  const sockets = new Set<Socket>();
  const server = tls.createServer({
    key: cert.keyPem,
    cert: pemOf(cert, ...chain),
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: version,
    maxVersion: version,
  });
  server.on('secureConnection', (s) => {
    const peer = s.getPeerCertificate();
    if (peer && Object.keys(peer).length > 0) clientCerts.push(String(peer.subject?.CN ?? '?'));
    s.on('error', () => {});
    s.once('data', () => s.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n'));
  });
  server.on('tlsClientError', () => {});
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await listen(server);
  return {
    port,
    clientCerts,
    close: () => closeAll(server, sockets),
  };
}

/** A TCP tap in front of `port`: the TLS record types the client sent, per connection. */
interface Tap {
  port: number;
  /** Per connection, the content types of the client's records (22 handshake, 20 CCS, 21 alert, 23 data) and, for plaintext handshake records, the handshake message types. */
  connections: { records: number[]; handshakeTypes: number[] }[];
  close(): Promise<void>;
}

async function tapFor(target: number): Promise<Tap> {
  const connections: Tap['connections'] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer((client) => {
    const conn = { records: [] as number[], handshakeTypes: [] as number[] };
    connections.push(conn);
    let buffered = Buffer.alloc(0);
    let encrypted = false;
    const upstream = netConnect(target, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    for (const s of [client, upstream]) {
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 5) {
        const len = buffered.readUInt16BE(3);
        if (buffered.length < 5 + len) break;
        const type = buffered[0]!;
        conn.records.push(type);
        if (type === 20) encrypted = true; // after ChangeCipherSpec, handshake records are encrypted
        if (type === 22 && !encrypted) {
          // Plaintext handshake messages in this record: type(1) length(3) body.
          for (let p = 5; p + 4 <= 5 + len; ) {
            conn.handshakeTypes.push(buffered[p]!);
            p += 4 + buffered.readUIntBE(p + 1, 3);
          }
        }
        buffered = buffered.subarray(5 + len);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.on('connection', (s: Socket) => sockets.add(s));
  const port = await listen(server);
  return { port, connections, close: () => closeAll(server, sockets) };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

function closeAll(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

const trustedRoot = createRoot({ cn: 'kept-back trusted root' });
const strangerRoot = createRoot({ cn: 'kept-back stranger root' });
const clientCert = issue(trustedRoot, { cn: 'secret client', sans: [], eku: ['clientAuth'] });
const cert = { cert: clientCert.pem, key: clientCert.keyPem };

describe('a client certificate is kept back from a server that fails verification', () => {
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    describe(version, () => {
      let impostor: RecordingServer;
      let genuine: RecordingServer;
      let impostorTap: Tap;
      before(async () => {
        impostor = await recordingServer(issue(strangerRoot), [], version);
        genuine = await recordingServer(issue(trustedRoot), [], version);
        impostorTap = await tapFor(impostor.port);
      });
      after(async () => {
        await impostorTap.close();
        await impostor.close();
        await genuine.close();
      });

      test('control: plain node:tls sends the certificate to the impostor', async () => {
        const before = impostor.clientCerts.length;
        await new Promise<void>((resolve) => {
          const s = tls.connect({
            port: impostor.port,
            host: '127.0.0.1',
            rejectUnauthorized: false,
            ...cert,
            maxVersion: version,
          });
          s.on('error', () => resolve());
          s.on('secureConnect', () => {
            // Wait for the server's side of the handshake to finish, then close.
            setTimeout(() => {
              s.destroy();
              resolve();
            }, 200);
          });
        });
        assert.deepEqual(impostor.clientCerts.slice(before), ['secret client']);
      });

      test('certainly refuses the impostor (UNKNOWN_ISSUER) and sends nothing after its ClientHello', async () => {
        const before = impostorTap.connections.length;
        await assert.rejects(
          get(`https://localhost:${impostorTap.port}/`, { verify: trustedRoot.pem, trustEnv: false, cert }),
          (e: unknown) => e instanceof SSLError && e.code === 'UNKNOWN_ISSUER',
        );
        // Let anything in flight arrive.
        await new Promise((r) => setTimeout(r, 200));
        const conns = impostorTap.connections.slice(before);
        assert.ok(conns.length >= 1);
        for (const c of conns) {
          // One handshake record holding one ClientHello (type 1), then at most an alert.
          assert.equal(c.records[0], 22, JSON.stringify(c));
          assert.deepEqual(c.handshakeTypes, [1], JSON.stringify(c));
          assert.ok(
            c.records.slice(1).every((t) => t === 21),
            `client records after its ClientHello: ${JSON.stringify(c.records)}`,
          );
        }
        assert.deepEqual(impostor.clientCerts, ['secret client'], 'only the control connection delivered it');
      });

      test('a server that passes verification receives the certificate', async () => {
        const r = await get(`https://localhost:${genuine.port}/`, {
          verify: trustedRoot.pem,
          trustEnv: false,
          cert,
        });
        await r.text();
        assert.equal(r.tls?.protocol, version);
        assert.deepEqual(genuine.clientCerts, ['secret client']);
      });
    });
  }
});

describe('kept back while the verdict is still coming (TLS 1.3 ends the client handshake first)', () => {
  // Under TLS 1.3 the client's handshake is over once it has written its second flight, which
  // the gate holds; node frees the server's chain right after secureConnect. A verification that
  // is still running then (here: AIA, fetching an intermediate from a slow server) must decide
  // on the chain read at secureConnect, not find none and let the flight go.
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    test(`${version}: an impostor whose check waits for AIA gets no client certificate`, async () => {
      const strangerInter = issue(strangerRoot, { cn: 'kept-back stranger intermediate', ca: true });
      const aia = await startHttpServer((_req, res) => {
        setTimeout(() => res.end(strangerInter.der), 300);
      });
      const leaf = issue(strangerInter, { aia: { caIssuers: [aia.url('/inter.der')] } });
      const impostor = await recordingServer(leaf, [], version);
      try {
        await assert.rejects(
          get(`https://localhost:${impostor.port}/`, {
            verify: trustedRoot.pem,
            trustEnv: false,
            cert,
            aia: { allowPrivate: true },
          }),
          (e: unknown) => e instanceof SSLError,
        );
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(aia.requests, 1, 'the verification waited for the AIA fetch');
        assert.deepEqual(impostor.clientCerts, []);
      } finally {
        await impostor.close();
        await aia.close();
      }
    });
  }
});

describe('diagnose() (certainly check) and probe() (ca explain) keep a client certificate back too', () => {
  const resolved = resolveTrust({ verify: { ca: trustedRoot.pem }, trustEnv: false });
  assert.ok(!resolved.insecure);
  const trust = resolved.store;
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    test(`${version}: probe() sends none to the impostor and still reports its chain and the reason`, async () => {
      const impostor = await recordingServer(issue(strangerRoot), [], version);
      const tap = await tapFor(impostor.port);
      try {
        const r = await probe(new URL(`https://localhost:${tap.port}/`), {
          trust,
          clientCert: clientTlsOptions(cert),
        });
        await new Promise((res) => setTimeout(res, 200));
        assert.deepEqual(impostor.clientCerts, []);
        assert.equal((r.error as SSLError | undefined)?.code, 'UNKNOWN_ISSUER');
        assert.equal(r.chain.length, 1);
        // The first connection (with the certificate configured) carried a ClientHello and
        // alerts only (its second flight would be a Certificate in the clear under TLS 1.2,
        // encrypted records under TLS 1.3); the second, for the chain, offered none.
        assert.equal(tap.connections.length, 2);
        assert.deepEqual(tap.connections[0]!.handshakeTypes, [1]);
        assert.ok(
          tap.connections[0]!.records.slice(1).every((t) => t === 21),
          JSON.stringify(tap.connections[0]),
        );
      } finally {
        await tap.close();
        await impostor.close();
      }
    });
  }
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    test(`${version}: the impostor gets none, and the report says why and still shows its chain`, async () => {
      const impostor = await recordingServer(issue(strangerRoot), [], version);
      const tap = await tapFor(impostor.port);
      try {
        const r = await diagnose(`https://localhost:${tap.port}/`, { trust, cert });
        await new Promise((res) => setTimeout(res, 200));
        assert.deepEqual(impostor.clientCerts, [], 'no client certificate reached the impostor');
        // The first connection (with the certificate configured) carried a ClientHello and
        // alerts only; the second offered none, and may finish its handshake.
        assert.equal(tap.connections.length, 2);
        assert.deepEqual(tap.connections[0]!.handshakeTypes, [1]);
        assert.ok(
          tap.connections[0]!.records.slice(1).every((t) => t === 21),
          JSON.stringify(tap.connections[0]),
        );
        const codes = r.findings.map((f) => f.code);
        assert.ok(codes.includes('CLIENT_CERT_KEPT_BACK'), codes.join());
        assert.ok(codes.includes('UNKNOWN_ISSUER'), codes.join());
        assert.equal(r.chain.length, 1, 'the chain comes from the second connection');
        assert.equal(r.exitCode, 1);
      } finally {
        await tap.close();
        await impostor.close();
      }
    });

    test(`${version}: a server that passes verification receives it, and the report says it asked`, async () => {
      const genuine = await recordingServer(issue(trustedRoot), [], version);
      try {
        const r = await diagnose(`https://localhost:${genuine.port}/`, { trust, cert });
        await new Promise((res) => setTimeout(res, 100));
        assert.deepEqual(genuine.clientCerts, ['secret client']);
        const requested = r.findings.find((f) => f.code === 'CLIENT_CERT_REQUESTED');
        assert.ok(requested, r.findings.map((f) => f.code).join());
        assert.match(requested.message, /with the one given|did not refuse the one given/);
        assert.equal(r.exitCode, 0);
      } finally {
        await genuine.close();
      }
    });
  }
});
