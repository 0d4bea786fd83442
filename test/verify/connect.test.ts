/**
 * The verifier on real connections: a node:tls server on loopback sends a chain; the client
 * connects with rejectUnauthorized false and an empty CA list (so OpenSSL decides nothing),
 * takes the chain the server sent and gives it to verifyServer. One test per error code of the
 * issue's "Done when", each checking the code and the position of the failing certificate, and
 * that no application byte reached the server. OpenSSL's own verdict (with the root as its CA)
 * is the cross-check where both should agree.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { connect, createServer, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { SSLError, type VerifyCode } from '../../src/errors.js';
import { anchorsFrom, verifyServer } from '../../src/verify/index.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import type { Certificate } from '../../src/x509/types.js';
import { createRoot, type Issued, intermediate, issue, pemOf, selfSigned } from '../support/pki.js';
import { type LoopbackHost, startTlsServer, type TestServer } from '../support/servers.js';

const HOUR = 3_600_000;
const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

interface Seen {
  chain: Certificate[];
  /** OpenSSL's verdict with `ca` = the given anchors (the cross-check). */
  opensslAuthorized: boolean;
}

function handshake(server: TestServer, ca: string[], servername: string, weak: boolean): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: server.host,
      port: server.port,
      rejectUnauthorized: false,
      ca,
      ...(servername ? { servername } : {}),
      // OpenSSL's default security level refuses a SHA-1 chain during the handshake ("ca md too
      // weak"); level 0 lets the chain through so that our verifier can say what is wrong.
      ...(weak ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** The certificates the server sent, leaf first, as node:tls links them. */
function peerChain(socket: TLSSocket): Certificate[] {
  const out: Certificate[] = [];
  const seen = new Set<string>();
  let c = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined;
  while (c?.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(parseCertificate(c.raw));
    c = c.issuerCertificate;
  }
  return out;
}

async function fetchChain(server: TestServer, anchorsPem: string[], weak = false): Promise<Seen> {
  // First connection: no CA at all, so that OpenSSL neither adds an anchor nor judges; we judge.
  const bare = await handshake(server, [], 'localhost', weak);
  const chain = peerChain(bare);
  bare.destroy();
  // Second connection: OpenSSL's own verdict against the same anchors, for the cross-check.
  const judged = await handshake(server, anchorsPem, 'localhost', weak);
  const opensslAuthorized = judged.authorized;
  judged.destroy();
  return { chain, opensslAuthorized };
}

async function serve(
  leaf: Issued,
  chain: Issued[],
  host: LoopbackHost = '127.0.0.1',
  weak = false,
): Promise<TestServer> {
  const s = weak ? await startWeakServer(leaf, chain) : await startTlsServer({ cert: leaf, chain, host });
  servers.push(s);
  return s;
}

/**
 * A minimal TLS server at OpenSSL security level 0: the test servers refuse to load a SHA-1
 * certificate at the default level ("ca md too weak"), and a real server might not. Counts the
 * application bytes it receives, like the test servers do.
 */
async function startWeakServer(leaf: Issued, chain: Issued[]): Promise<TestServer> {
  let bytes = 0;
  const sockets = new Set<TLSSocket>();
  const server = createServer(
    { key: leaf.keyPem, cert: pemOf(leaf, ...chain), ciphers: 'DEFAULT@SECLEVEL=0' },
    (socket) => {
      sockets.add(socket);
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      socket.on('error', () => {});
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    get bytesReceived() {
      return bytes;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  } as unknown as TestServer;
}

interface Scenario {
  title: string;
  code: VerifyCode;
  position: number;
  /** Does OpenSSL (Node's default settings) refuse this chain too? undefined: not compared. */
  opensslRefuses?: boolean;
  /** Connect at OpenSSL security level 0 (see handshake()). */
  weak?: boolean;
  build(): { leaf: Issued; chain: Issued[]; roots: Issued[]; name?: string };
}

const root = createRoot();
const inter = intermediate(root);

const SCENARIOS: Scenario[] = [
  {
    title: 'expired leaf',
    code: 'CERT_EXPIRED',
    position: 0,
    opensslRefuses: true,
    build: () => ({
      leaf: issue(inter, {
        notBefore: new Date(Date.now() - 2 * HOUR),
        notAfter: new Date(Date.now() - HOUR),
      }),
      chain: [inter],
      roots: [root],
    }),
  },
  {
    title: 'expired intermediate',
    code: 'CERT_EXPIRED',
    position: 1,
    opensslRefuses: true,
    build: () => {
      const old = intermediate(root, {
        notBefore: new Date(Date.now() - 2 * HOUR),
        notAfter: new Date(Date.now() - HOUR),
      });
      return { leaf: issue(old), chain: [old], roots: [root] };
    },
  },
  {
    title: 'leaf not yet valid',
    code: 'CERT_NOT_YET_VALID',
    position: 0,
    opensslRefuses: true,
    build: () => ({
      leaf: issue(inter, { notBefore: new Date(Date.now() + HOUR) }),
      chain: [inter],
      roots: [root],
    }),
  },
  {
    title: 'unknown root',
    code: 'UNKNOWN_ISSUER',
    position: 1,
    opensslRefuses: true,
    build: () => ({ leaf: issue(inter), chain: [inter], roots: [createRoot()] }),
  },
  {
    title: 'self-signed server certificate',
    code: 'SELF_SIGNED',
    position: 0,
    opensslRefuses: true,
    build: () => ({ leaf: selfSigned(), chain: [], roots: [root] }),
  },
  {
    // Public CAs' leaves say where their issuer lives (AIA): that is what makes "the server left
    // out an intermediate" a diagnosis rather than a guess.
    title: 'missing intermediate',
    code: 'INCOMPLETE_CHAIN',
    position: 0,
    opensslRefuses: true,
    build: () => ({
      leaf: issue(inter, { aia: { caIssuers: ['http://ca.example/inter.der'] } }),
      chain: [],
      roots: [root],
    }),
  },
  {
    title: 'issuer neither sent nor trusted, no AIA (a private CA, or a missing intermediate)',
    code: 'UNKNOWN_ISSUER',
    position: 0,
    opensslRefuses: true,
    build: () => ({ leaf: issue(inter), chain: [], roots: [root] }),
  },
  {
    title: 'intermediate that is not a CA',
    code: 'NOT_A_CA',
    position: 1,
    opensslRefuses: true,
    build: () => {
      // No basicConstraints at all. (With an explicit cA FALSE, OpenSSL does not link the
      // certificates, and node's getPeerCertificate(true) drops what is not linked.)
      const notCa = intermediate(root, {
        subject: 'CN=Not A CA, O=certainly tests',
        basicConstraints: false,
      });
      return { leaf: issue(notCa), chain: [notCa], roots: [root] };
    },
  },
  {
    title: 'pathLenConstraint exceeded',
    code: 'PATH_TOO_LONG',
    position: 2,
    opensslRefuses: true,
    build: () => {
      const len0 = intermediate(root, { pathLen: 0 });
      const below = intermediate(len0);
      return { leaf: issue(below), chain: [below, len0], roots: [root] };
    },
  },
  {
    title: 'wrong extended key usage (clientAuth only)',
    code: 'WRONG_PURPOSE',
    position: 0,
    opensslRefuses: true,
    build: () => ({ leaf: issue(inter, { eku: ['clientAuth'] }), chain: [inter], roots: [root] }),
  },
  {
    title: 'name-constraint violation',
    code: 'NAME_CONSTRAINTS_VIOLATED',
    position: 0,
    opensslRefuses: true,
    build: () => {
      const constrained = intermediate(root, { nameConstraints: { permitted: ['DNS:example.org'] } });
      return { leaf: issue(constrained), chain: [constrained], roots: [root] };
    },
  },
  {
    title: 'SHA-1 signature',
    code: 'WEAK_ALGORITHM',
    position: 0,
    weak: true,
    build: () => ({ leaf: issue(inter, { hash: 'sha1' }), chain: [inter], roots: [root] }),
  },
  {
    title: 'RSA-1024 key',
    code: 'WEAK_KEY',
    position: 0,
    weak: true, // Node 24's OpenSSL refuses to load a 1024-bit server key at its default level
    build: () => ({ leaf: issue(inter, { keyType: 'rsa1024' }), chain: [inter], roots: [root] }),
  },
  {
    title: 'host name mismatch',
    code: 'HOSTNAME_MISMATCH',
    position: 0,
    build: () => ({ leaf: issue(inter), chain: [inter], roots: [root], name: 'example.org' }),
  },
];

function anchors(roots: Issued[]) {
  return anchorsFrom(
    roots.map((r) => parseCertificate(r.der)),
    'inline',
  );
}

describe('verifyServer on loopback connections', () => {
  it('accepts a good chain on 127.0.0.1, ::1 and localhost, as OpenSSL does', async () => {
    const leaf = issue(inter);
    for (const host of ['127.0.0.1', '::1', 'localhost'] as const) {
      let server: TestServer;
      try {
        server = await serve(leaf, [inter], host);
      } catch (err) {
        if (host === '::1') continue; // no IPv6 loopback on this machine
        throw err;
      }
      const seen = await fetchChain(server, [root.pem]);
      const verified = verifyServer({ chain: seen.chain, name: host, trust: anchors([root]) });
      assert.equal(verified.path.length, 2);
      assert.equal(verified.anchor.cert.fingerprintSha256, parseCertificate(root.der).fingerprintSha256);
      assert.equal(seen.opensslAuthorized, true, 'OpenSSL agrees');
      assert.equal(server.bytesReceived, 0);
    }
  });

  for (const sc of SCENARIOS) {
    it(`${sc.title}: ${sc.code} at position ${sc.position}`, async () => {
      const { leaf, chain, roots, name } = sc.build();
      const server = await serve(leaf, chain, '127.0.0.1', sc.weak);
      const seen = await fetchChain(
        server,
        roots.map((r) => r.pem),
        sc.weak,
      );
      let err: unknown;
      try {
        verifyServer({ chain: seen.chain, name: name ?? '127.0.0.1', trust: anchors(roots) });
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof SSLError, `expected an SSLError, got ${String(err)}`);
      assert.equal(err.code, sc.code, err.message);
      assert.equal(err.position, sc.position, err.message);
      assert.ok(err.certificate, 'the failing certificate is described');
      assert.equal(err.chain?.length, seen.chain.length);
      assert.ok(err.hint && err.hint.length > 10, 'a hint a person can act on');
      if (sc.opensslRefuses !== undefined) {
        assert.equal(!seen.opensslAuthorized, sc.opensslRefuses, 'cross-check with OpenSSL');
      }
      assert.equal(server.bytesReceived, 0, 'no request byte reached the server');
    });
  }
});
