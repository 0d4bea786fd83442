/**
 * Nothing before verification: for every verification error code that a real connection can
 * produce, a request through the client (Session -> connector -> undici) fails with that code and
 * the server receives zero application bytes. Codes that no connection can produce are listed
 * with the reason, and a test keeps the two lists complete against errors.ts.
 *
 * (test/verify/connect.test.ts checks the verifier's verdicts on raw TLS sockets; this file checks
 * what the *client* lets through.)
 */
import assert from 'node:assert/strict';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import { Session, SSLError, VERIFY_CODES, type VerifyCode } from '../../src/index.js';
import { octetString, oid, printableString, sequence, set } from '../../src/testing/der-writer.js';
import { opensslOcspResponse } from '../support/ocsp.js';
import {
  createRoot,
  crossSignedMesh,
  type Issued,
  intermediate,
  issue,
  pemOf,
  selfSigned,
} from '../support/pki.js';
import { startTlsServer } from '../support/servers.js';

const DAY = 86_400_000;

interface Case {
  code: VerifyCode;
  title: string;
  /** The server's certificate and what it sends after it. */
  serve: () => { cert: Issued; chain: Issued[]; staple?: Buffer };
  /** Extra request options. */
  options?: Record<string, unknown>;
  /** A server that must run at OpenSSL security level 0 (SHA-1, RSA-1024 certificates). */
  weak?: boolean;
}

/** Codes no real connection can produce here, and why (the completeness test reads this). */
const NOT_ON_A_CONNECTION: Partial<Record<VerifyCode, string>> = {
  NO_CERTIFICATE:
    'a server without a certificate needs anonymous cipher suites, which node:tls clients never offer: such a server fails as HANDSHAKE_FAILED',
};

let root: Issued;
let inter: Issued;
const session = new Session({ trustEnv: false, timeout: 10_000 });

before(() => {
  root = createRoot({ cn: 'no-bytes root' });
  inter = intermediate(root, { cn: 'no-bytes intermediate' });
});

after(async () => {
  await session.close();
});

const cases: Case[] = [
  {
    code: 'HOSTNAME_MISMATCH',
    title: 'a certificate for another name',
    serve: () => ({ cert: issue(inter, { sans: ['DNS:other.example'] }), chain: [inter] }),
  },
  {
    code: 'NO_SUBJECT_ALT_NAME',
    title: 'a certificate that names its host only in the CN',
    serve: () => ({ cert: issue(inter, { cn: '127.0.0.1', sans: [] }), chain: [inter] }),
  },
  {
    code: 'UNKNOWN_ISSUER',
    title: 'a chain to a root that is not trusted',
    serve: () => {
      const other = createRoot({ cn: 'untrusted root' });
      const i = intermediate(other);
      return { cert: issue(i), chain: [i] };
    },
  },
  {
    code: 'SELF_SIGNED',
    title: 'a self-signed certificate',
    serve: () => ({ cert: selfSigned(), chain: [] }),
  },
  {
    code: 'INCOMPLETE_CHAIN',
    title: 'a truncated chain (the intermediate not sent)',
    serve: () => ({ cert: issue(inter, { aia: { caIssuers: ['http://ca.example/inter.der'] } }), chain: [] }),
  },
  {
    code: 'BUDGET_EXCEEDED',
    title: 'a mesh of 50 cross-signed intermediates sent by the server',
    serve: () => {
      // Eight keys, each certified by every other under one name: every path is a candidate.
      const mesh = crossSignedMesh(50);
      return { cert: issue(mesh[0]!), chain: mesh };
    },
  },
  {
    code: 'UNKNOWN_ISSUER',
    title: "the leaf's issuer neither sent nor trusted, no AIA",
    serve: () => ({ cert: issue(inter), chain: [] }),
  },
  {
    code: 'CHAIN_TOO_LONG',
    title: 'a server sending 70 certificates (the limit is 64)',
    serve: () => ({
      cert: issue(inter),
      chain: [inter, ...Array.from({ length: 68 }, () => issue(inter, { sans: [] }))],
    }),
  },
  {
    code: 'CERT_EXPIRED',
    title: 'an expired leaf',
    serve: () => ({
      cert: issue(inter, { notBefore: new Date(Date.now() - 2 * DAY), notAfter: new Date(Date.now() - DAY) }),
      chain: [inter],
    }),
  },
  {
    code: 'CERT_NOT_YET_VALID',
    title: 'a leaf not valid yet',
    serve: () => ({
      cert: issue(inter, { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 2 * DAY) }),
      chain: [inter],
    }),
  },
  {
    code: 'NOT_A_CA',
    title: 'an issuer that is not a CA',
    serve: () => {
      // No basicConstraints at all: with an explicit cA FALSE, OpenSSL does not link the two and
      // node's getPeerCertificate(true) drops the intermediate (test/verify/connect.test.ts).
      const notCa = intermediate(root, {
        subject: 'CN=Not A CA, O=certainly tests',
        basicConstraints: false,
      });
      return { cert: issue(notCa), chain: [notCa] };
    },
  },
  {
    code: 'CA_USED_AS_LEAF',
    title: 'a CA certificate as the server certificate',
    serve: () => ({ cert: issue(inter, { ca: true, sans: ['IP:127.0.0.1'] }), chain: [inter] }),
  },
  {
    code: 'PATH_TOO_LONG',
    title: 'a pathLenConstraint exceeded',
    serve: () => {
      const top = intermediate(root, { pathLen: 0 });
      const below = intermediate(top);
      return { cert: issue(below), chain: [below, top] };
    },
  },
  {
    code: 'WRONG_PURPOSE',
    title: 'a leaf for client authentication only',
    serve: () => ({ cert: issue(inter, { eku: ['clientAuth'] }), chain: [inter] }),
  },
  {
    code: 'NAME_CONSTRAINTS_VIOLATED',
    title: 'a name outside the intermediate’s constraints',
    serve: () => {
      const nc = intermediate(root, { nameConstraints: { permitted: ['DNS:example.com', 'IP:10.0.0.0/8'] } });
      return { cert: issue(nc), chain: [nc] };
    },
  },
  {
    code: 'WEAK_ALGORITHM',
    title: 'a SHA-1 signature',
    weak: true,
    serve: () => {
      const rsaInter = intermediate(root, { keyType: 'rsa2048' });
      return { cert: issue(rsaInter, { hash: 'sha1', keyType: 'rsa2048' }), chain: [rsaInter] };
    },
  },
  {
    code: 'WEAK_KEY',
    title: 'an RSA-1024 key',
    weak: true,
    serve: () => ({ cert: issue(inter, { keyType: 'rsa1024' }), chain: [inter] }),
  },
  {
    code: 'BAD_SIGNATURE',
    title: 'a signature that does not verify',
    serve: () => ({ cert: issue(inter, { corruptSignature: true }), chain: [inter] }),
  },
  {
    code: 'UNSUPPORTED_CRITICAL_EXTENSION',
    title: 'an unknown critical extension',
    serve: () => ({
      cert: issue(inter, {
        extensions: [{ oid: '1.3.6.1.4.1.55555.1', critical: true, value: octetString(Buffer.from('x')) }],
      }),
      chain: [inter],
    }),
  },
  {
    code: 'PROFILE_VIOLATION',
    title: 'a leaf without an authority key identifier',
    serve: () => ({ cert: issue(inter, { aki: false }), chain: [inter] }),
  },
  {
    code: 'BAD_ENCODING',
    title: "a PrintableString with a character outside its set (OpenSSL's parser lets it through)",
    serve: () => ({
      cert: issue(inter, {
        subjectDer: sequence(set(sequence(oid('2.5.4.3'), printableString('bad@name')))),
      }),
      chain: [inter],
    }),
  },
  {
    code: 'CERT_REVOKED',
    title: 'a leaf whose stapled OCSP response (made by openssl ocsp) says revoked',
    serve: () => {
      const cert = issue(inter);
      const at = new Date(Date.now() - DAY);
      const staple = opensslOcspResponse({ issuer: inter, cert, index: [{ cert, revoked: { at } }] });
      return { cert, chain: [inter], staple };
    },
  },
  {
    code: 'REVOCATION_UNKNOWN',
    title: "revocation: 'hard' and a server that staples no OCSP response",
    serve: () => ({ cert: issue(inter), chain: [inter] }),
    options: { revocation: 'hard' },
  },
  {
    code: 'MUST_STAPLE_MISSING',
    title: 'a must-staple leaf (TLS Feature status_request) and no staple',
    serve: () => ({ cert: issue(inter, { tlsFeature: [5] }), chain: [inter] }),
  },
  {
    code: 'PIN_MISMATCH',
    title: 'a valid chain whose key matches no pin',
    serve: () => ({ cert: issue(inter), chain: [inter] }),
    options: { pin: `sha256//${Buffer.alloc(32, 7).toString('base64')}` },
  },
];

/** A TLS server at OpenSSL security level 0 (a default server refuses to load SHA-1 or RSA-1024), counting application bytes. */
async function startWeakServer(cert: Issued, chain: Issued[]) {
  let bytes = 0;
  const sockets = new Set<Socket>();
  const server = createTlsServer(
    { key: cert.keyPem, cert: pemOf(cert, ...chain), ciphers: 'DEFAULT@SECLEVEL=0' },
    (s) => {
      s.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      s.on('error', () => {});
    },
  );
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});
  const port = await listen(server);
  return {
    url: `https://127.0.0.1:${port}/`,
    get bytesReceived() {
      return bytes;
    },
    requests: 0,
    close: () => closeAll(server, sockets),
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

function closeAll(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('no application byte reaches a server whose certificate fails', () => {
  for (const c of cases) {
    test(`${c.code}: ${c.title}`, async () => {
      const { cert, chain, staple } = c.serve();
      const server = c.weak
        ? await startWeakServer(cert, chain)
        : await startTlsServer({ cert, chain, ...(staple ? { staple } : {}) });
      try {
        const url =
          'url' in server && typeof server.url === 'string'
            ? server.url
            : (server as { url(p?: string): string }).url('/');
        const outcome = await session.get(url, { verify: root.pem, ...c.options }).then(
          () => 'a response',
          (err: unknown) => err,
        );
        assert.ok(outcome instanceof SSLError, `expected SSLError ${c.code}, got ${String(outcome)}`);
        assert.equal(outcome.code, c.code, outcome.message);
        assert.ok(outcome.message.length > 20);
        assert.equal(server.bytesReceived, 0, 'application bytes reached the server');
        assert.equal(server.requests, 0);
      } finally {
        await server.close();
      }
    });
  }

  test('HANDSHAKE_FAILED: a server that answers TLS with plain HTTP never sees an HTTP request', async () => {
    const received: Buffer[] = [];
    const sockets = new Set<Socket>();
    const server = createNetServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      s.on('data', (d: Buffer) => {
        received.push(d);
        s.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
      });
    });
    const port = await listen(server);
    try {
      await assert.rejects(
        session.get(`https://127.0.0.1:${port}/secret`, { verify: root.pem }),
        (err: unknown) => {
          assert.ok(err instanceof SSLError, String(err));
          assert.equal(err.code, 'HANDSHAKE_FAILED');
          return true;
        },
      );
      const bytes = Buffer.concat(received);
      assert.ok(bytes.length > 0 && bytes[0] === 0x16, 'a TLS ClientHello arrived');
      assert.ok(!bytes.includes('/secret'), 'the request line was sent');
    } finally {
      await closeAll(server, sockets);
    }
  });

  test('every verification code is either produced above or listed as impossible, with a reason', () => {
    const produced = new Set<string>([...cases.map((c) => c.code), 'HANDSHAKE_FAILED']);
    for (const code of Object.keys(VERIFY_CODES)) {
      assert.ok(
        produced.has(code) || NOT_ON_A_CONNECTION[code as VerifyCode] !== undefined,
        `${code} has no test here and no reason why a connection cannot produce it`,
      );
      assert.ok(!(produced.has(code) && NOT_ON_A_CONNECTION[code as VerifyCode]), `${code} is in both lists`);
    }
  });
});

/**
 * HTTP/2: the connection preface (the client's first application bytes, 'PRI * HTTP/2.0…') waits
 * for verification too. The impostor negotiates h2 by ALPN and counts every decrypted byte it
 * receives; a control with a certificate that verifies shows the same server does receive the
 * preface, so the count can fail.
 */
async function startH2Impostor(cert: Issued, chain: Issued[], maxVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3') {
  const received: Buffer[] = [];
  let secured = 0;
  // What the client offered, per handshake; the server picks h2 from it (the handshake may end
  // before the server's secureConnection: the client hangs up as soon as verification fails).
  const alpn: string[][] = [];
  const sockets = new Set<Socket>();
  const server = createTlsServer(
    {
      key: cert.keyPem,
      cert: pemOf(cert, ...chain),
      maxVersion,
      ALPNCallback: ({ protocols }: { protocols: string[] }) => {
        alpn.push(protocols);
        return protocols.includes('h2') ? 'h2' : undefined;
      },
    },
    (s) => {
      secured++;
      s.on('data', (c: Buffer) => {
        received.push(c);
        // Enough to see the preface; then hang up (the client gets a connection error).
        s.destroy();
      });
      s.on('error', () => {});
    },
  );
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});
  const port = await listen(server);
  return {
    url: `https://127.0.0.1:${port}/secret`,
    received: () => Buffer.concat(received),
    /** Handshakes the server completed (it then reads application bytes). */
    secured: () => secured,
    alpn,
    close: () => closeAll(server, sockets),
  };
}

describe('HTTP/2: no connection preface reaches a server whose certificate fails', () => {
  const h2Cases: {
    code: VerifyCode;
    title: string;
    serve: () => { cert: Issued; chain: Issued[] };
    options?: Record<string, unknown>;
  }[] = [
    {
      code: 'HOSTNAME_MISMATCH',
      title: 'a certificate for another name',
      serve: () => ({ cert: issue(inter, { sans: ['DNS:other.example'] }), chain: [inter] }),
    },
    {
      code: 'UNKNOWN_ISSUER',
      title: 'a chain to a root that is not trusted',
      serve: () => {
        const other = createRoot({ cn: 'h2 impostor root' });
        return { cert: issue(other), chain: [] };
      },
    },
    {
      code: 'CERT_EXPIRED',
      title: 'an expired leaf',
      serve: () => ({
        cert: issue(inter, {
          notBefore: new Date(Date.now() - 2 * DAY),
          notAfter: new Date(Date.now() - DAY),
        }),
        chain: [inter],
      }),
    },
    {
      code: 'PIN_MISMATCH',
      title: 'a valid chain whose key is not the pinned one',
      serve: () => ({ cert: issue(inter), chain: [inter] }),
      options: { pin: `sha256//${Buffer.alloc(32, 7).toString('base64')}` },
    },
  ];
  // Under TLS 1.2 the server completes its handshake (and listens for the preface) before the
  // client has the server's Finished, so before our verifier runs: its 0 is a count it was
  // ready to make. Under TLS 1.3 the client may hang up first.
  for (const c of h2Cases.flatMap((x) => (['TLSv1.2', 'TLSv1.3'] as const).map((v) => ({ ...x, v })))) {
    test(`${c.code} over h2 (${c.v}): the server negotiated h2 and received 0 bytes`, async () => {
      const { cert, chain } = c.serve();
      const server = await startH2Impostor(cert, chain, c.v);
      try {
        const outcome = await session.get(server.url, { verify: root.pem, http2: true, ...c.options }).then(
          () => 'a response',
          (err: unknown) => err,
        );
        assert.ok(outcome instanceof SSLError, `expected SSLError ${c.code}, got ${String(outcome)}`);
        assert.equal(outcome.code, c.code, outcome.message);
        assert.deepEqual(server.alpn, [['h2', 'http/1.1']], 'the client offered h2 and the server chose it');
        assert.equal(server.received().length, 0, 'bytes (the preface) reached the server');
        if (c.v === 'TLSv1.2') assert.equal(server.secured(), 1, 'the server completed its handshake');
      } finally {
        await server.close();
      }
    });
  }

  test('control: the same server with a certificate that verifies receives the HTTP/2 preface', async () => {
    const server = await startH2Impostor(issue(inter), [inter]);
    try {
      await session.get(server.url, { verify: root.pem, http2: true, retries: 0 }).then(
        () => assert.fail('the server hung up; no response was expected'),
        () => {},
      );
      assert.deepEqual(server.alpn, [['h2', 'http/1.1']]);
      assert.ok(
        server.received().subarray(0, 24).equals(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')),
        `the server received: ${JSON.stringify(server.received().subarray(0, 40).toString('latin1'))}`,
      );
    } finally {
      await server.close();
    }
  });
});
