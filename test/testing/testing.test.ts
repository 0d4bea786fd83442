/**
 * `certainly/testing` as a user gets it: `import { createCA } from 'certainly/testing'`, resolved
 * through package.json "exports" to the bundle dist/esm/testing.js. Its certificates serve from node:https and
 * node:http2 servers as they are, certainly verifies them (names and IPs, through an
 * intermediate), refuses each broken variant with the right code, and a client certificate from
 * it is accepted by a server that asks for one. The main entry does not load it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type * as mainEntry from '../../src/index.js';
import type * as testingEntry from '../../src/testing/index.js';

// Variables, so that type-checking does not need dist/ (it is built by `npm run build`).
const MAIN = 'certainly';
const TESTING = 'certainly/testing';
let certainly: typeof mainEntry;
let testing: typeof testingEntry;

before(async () => {
  certainly = (await import(MAIN)) as typeof mainEntry;
  testing = (await import(TESTING)) as typeof testingEntry;
});

type Listening = { port: number; connections: () => number; close(): Promise<void> };

async function listen(
  server: https.Server | http2.Http2SecureServer,
  host = '127.0.0.1',
): Promise<Listening> {
  let connections = 0;
  server.on('secureConnection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function httpsServer(options: { cert: string; key: string; requestCert?: boolean; ca?: string }) {
  return https.createServer({ ...options, rejectUnauthorized: false }, (req, res) => {
    const sock = req.socket as import('node:tls').TLSSocket;
    const peer = sock.getPeerCertificate?.();
    res.end(sock.authorized ? `client ${peer?.subject?.CN}` : 'ok');
  });
}

describe("certainly/testing, through the package's exports", () => {
  test('resolves to the bundle dist/esm/testing.js', () => {
    assert.match(import.meta.resolve(TESTING), /\/dist\/esm\/testing\.js$/);
  });

  test('a CA and a server certificate for names and IPs verify, from node:https', async () => {
    const ca = testing.createCA();
    const server = await listen(httpsServer(ca.issue('localhost', '127.0.0.1', '::1').serverOptions()));
    const session = new certainly.Session({ trustEnv: false });
    try {
      for (const host of ['127.0.0.1', 'localhost']) {
        const r = await session.get(`https://${host}:${server.port}/`, { verify: ca.pem });
        assert.equal(r.status, 200);
        assert.equal(await r.text(), 'ok');
      }
    } finally {
      await session.close();
      await server.close();
    }
  });

  test('an intermediate: the server sends the chain, the client trusts only the root', async () => {
    const ca = testing.createCA();
    const leaf = ca.intermediate().intermediate().issue('127.0.0.1');
    const server = await listen(httpsServer(leaf.serverOptions()));
    const session = new certainly.Session({ trustEnv: false });
    try {
      const r = await session.get(`https://127.0.0.1:${server.port}/`, { verify: ca.pem });
      assert.equal(r.status, 200);
      // The server sent the leaf and both intermediates; the path ends at the CA the client trusts.
      assert.equal(r.tls?.chain.length, 3);
      assert.match(r.tls?.anchor?.subject ?? '', /certainly testing CA/);
    } finally {
      await session.close();
      await server.close();
    }
  });

  const refused: [string, (ca: testingEntry.TestCA) => testingEntry.TestCertificate, string][] = [
    ['expired', (ca) => ca.issueCert({ names: ['127.0.0.1'], expired: true }), 'CERT_EXPIRED'],
    [
      'not yet valid',
      (ca) => ca.issueCert({ names: ['127.0.0.1'], notYetValid: true }),
      'CERT_NOT_YET_VALID',
    ],
    ['for another name', (ca) => ca.issue('wrong.example'), 'HOSTNAME_MISMATCH'],
    ['self-signed', () => testing.selfSignedCertificate('127.0.0.1'), 'SELF_SIGNED'],
    ['from another CA', () => testing.createCA().issue('127.0.0.1'), 'UNKNOWN_ISSUER'],
  ];
  for (const [name, make, code] of refused) {
    test(`a certificate ${name} is refused: ${code}, nothing sent`, async () => {
      const ca = testing.createCA();
      let bytes = 0;
      const srv = httpsServer(make(ca).serverOptions());
      srv.on('secureConnection', (s) => s.on('data', (d: Buffer) => (bytes += d.length)));
      const server = await listen(srv);
      const session = new certainly.Session({ trustEnv: false });
      try {
        const err = await session.get(`https://127.0.0.1:${server.port}/`, { verify: ca.pem }).then(
          () => assert.fail('expected a refusal'),
          (e: unknown) => e as InstanceType<typeof certainly.SSLError>,
        );
        assert.ok(err instanceof certainly.SSLError, String(err));
        assert.equal(err.code, code, err.message);
        assert.equal(bytes, 0);
      } finally {
        await session.close();
        await server.close();
      }
    });
  }

  test('serverOptions() fits http2.createSecureServer as is', async () => {
    const ca = testing.createCA({ keyType: 'p384' });
    const srv = http2.createSecureServer({ ...ca.issue().serverOptions(), allowHTTP1: true }, (_req, res) =>
      res.end('h2 ok'),
    );
    const server = await listen(srv);
    const session = new certainly.Session({ trustEnv: false });
    try {
      const r = await session.get(`https://localhost:${server.port}/`, { verify: ca.pem });
      assert.equal(await r.text(), 'h2 ok');
    } finally {
      await session.close();
      await server.close();
    }
  });

  test('a client certificate from the same CA is accepted by a server that asks for one', async () => {
    const ca = testing.createCA();
    const client = ca.issueCert({ names: ['client.example'], client: true });
    const srv = httpsServer({ ...ca.issue('127.0.0.1').serverOptions(), requestCert: true, ca: ca.pem });
    const server = await listen(srv);
    const session = new certainly.Session({ trustEnv: false });
    try {
      const r = await session.get(`https://127.0.0.1:${server.port}/`, {
        verify: ca.pem,
        cert: { cert: client.certPem, key: client.keyPem },
      });
      assert.equal(await r.text(), 'client client.example');
    } finally {
      await session.close();
      await server.close();
    }
  });

  test('a certificate needs a name', () => {
    assert.throws(() => testing.createCA().issueCert({ names: [] }), /at least one name/);
  });
});

describe('the main entry does not load certainly/testing', () => {
  // A module loader hook (module.register) reports every module Node loads; the main entry's
  // list must hold no file with the test-PKI factory in it, while importing certainly/testing
  // through the same hook does list one (so the hook sees what it should).
  const REPO = fileURLToPath(new URL('../../../', import.meta.url));
  const PROBE = `
    import { register } from 'node:module';
    import { MessageChannel } from 'node:worker_threads';
    const { port1, port2 } = new MessageChannel();
    const loaded = [];
    port1.on('message', (url) => loaded.push(url));
    port1.unref();
    const hook = 'let port; export function initialize(d) { port = d.port; }' +
      ' export async function load(url, context, next) { port.postMessage(url); return next(url, context); }';
    register('data:text/javascript,' + encodeURIComponent(hook), { data: { port: port2 }, transferList: [port2] });
    await import(process.argv[1]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    console.log(JSON.stringify(loaded));`;

  function loadedBy(specifier: string): string[] {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE, specifier], {
      cwd: REPO,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as string[];
  }

  // The bundles keep the sources' function names: a file holding the factory's createRoot is
  // test-PKI code, whichever chunk esbuild put it in (the demo command shares it).
  const FACTORY = /\bfunction createRoot\(/;
  const holdsFactory = (url: string) =>
    url.startsWith('file:') && FACTORY.test(readFileSync(new URL(url), 'utf8'));

  test("import 'certainly' loads no file that holds the test-PKI factory", () => {
    const fromMain = loadedBy(MAIN);
    assert.ok(
      fromMain.some((u) => u.endsWith('/dist/esm/index.js')),
      'the hook saw the main entry',
    );
    assert.ok(fromMain.length > 5, `only ${fromMain.length} modules seen`);
    assert.deepEqual(fromMain.filter(holdsFactory), []);
  });

  test("import 'certainly/testing' does load it (the hook sees what it should)", () => {
    assert.ok(loadedBy(TESTING).some(holdsFactory));
  });
});
