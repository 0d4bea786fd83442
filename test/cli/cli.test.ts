/** The certainly command, run as a real process: get and demo. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRoot, type Issued, intermediate, issue, keyPemOf, pfxOf, tempDir } from '../support/pki.js';
import { startProxy } from '../support/proxy.js';
import { startHttpServer, startTlsServer, type TestServer } from '../support/servers.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cli = CLI,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { env: { PATH: process.env.PATH, NO_COLOR: '1', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 99) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let root: Issued;
let server: TestServer;
let caPath: string;
const dir = tempDir('cli-');

before(async () => {
  root = createRoot({ cn: 'Example Corp Private CA' });
  const leaf = issue(root, { sans: ['DNS:*.example.com', 'DNS:example.com'] });
  caPath = dir.write('ca.pem', root.pem);
  server = await startTlsServer({ cert: leaf, host: '127.0.0.1' });
});

after(async () => {
  await server.close();
  dir.cleanup();
});

describe('certainly get', () => {
  test('the seed failure: exit 1, the names the certificate carries, and the serverName fix', async () => {
    const r = await run(['get', server.url('/'), '--verify', caPath]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /HOSTNAME_MISMATCH/);
    assert.match(r.stderr, /\*\.example\.com/);
    assert.match(r.stderr, /fix: .*--server-name example\.com/);
    assert.doesNotMatch(r.stderr, /serverName/);
    assert.equal(server.bytesReceived, 0);
  });

  test('--server-name fixes it; --json prints status, tls and body', async () => {
    const r = await run([
      'get',
      server.url('/x'),
      '--verify',
      caPath,
      '--server-name',
      'api.example.com',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      status: number;
      tls: { sni: string; anchor: { sources: string[] } };
      body: string;
    };
    assert.equal(out.status, 200);
    assert.equal(out.tls.sni, 'api.example.com');
    assert.ok(out.tls.anchor.sources[0]?.includes('ca.pem'));
    assert.match(out.body, /"url":"\/x"/);
  });

  test('--connect-to with a header', async () => {
    const r = await run([
      'get',
      `https://api.example.com:${server.port}/h`,
      '--verify',
      caPath,
      '--connect-to',
      `127.0.0.1:${server.port}`,
      '-H',
      'X-Demo: 1',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"x-demo":"1"/);
  });

  test('--insecure connects and warns', async () => {
    const r = await run(['get', server.url('/'), '--insecure']);
    assert.equal(r.code, 0, r.stderr);
    // Once, in the CLI's terms (not the library's InsecureRequestWarning about verify: false).
    assert.match(r.stderr, /warning: --insecure: the certificate of 127\.0\.0\.1:\d+ is not verified/);
    assert.doesNotMatch(r.stderr, /InsecureRequestWarning|verify: false/);
  });

  test('--json on failure prints the error fields', async () => {
    const r = await run(['get', server.url('/'), '--json']);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as { code: string; error: string };
    assert.equal(out.error, 'SSLError');
    assert.equal(out.code, 'UNKNOWN_ISSUER');
  });

  test('usage errors exit 2', async () => {
    assert.equal((await run(['get'])).code, 2);
    assert.equal((await run(['get', 'not a url'])).code, 2);
    assert.equal((await run(['get', server.url('/'), '--verify', `${dir.path}/missing.pem`])).code, 2);
    assert.equal((await run(['frobnicate'])).code, 2);
  });
});

describe('certainly demo', () => {
  // The README's `npm run demo` runs the bundle in dist/ (what npm ships), not build/: a bundling
  // fault (esbuild's require shim once broke the public-suffix look-up of every wildcard name
  // there, and only there) shows up in this second run.
  const BUNDLE = fileURLToPath(new URL('../../../dist/esm/cli.js', import.meta.url));
  for (const [label, cli] of [
    ['build/', CLI],
    ['the dist/ bundle', BUNDLE],
  ] as const) {
    test(`runs the seed scenario and its fix on loopback, exit 0 (${label})`, async () => {
      const r = await run(['demo'], {}, cli);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /UNKNOWN_ISSUER/);
      assert.match(r.stdout, /HOSTNAME_MISMATCH/);
      assert.match(r.stdout, /certificate is valid for \*\.example\.com, example\.com, not 127\.0\.0\.1/);
      assert.match(r.stdout, /HTTP 200/);
      assert.match(r.stdout, /serverName/);
      assert.match(r.stdout, /received 0 bytes/);
    });
  }
});

describe('CERTAINLY_SYSTEM_ROOT: every command reads the system store under it', () => {
  // A CA only the (fake) operating system store holds, and a server it issued for 127.0.0.1.
  const osDir = `${dir.path}/os`;
  let osCa: Issued;
  let osServer: TestServer;
  before(async () => {
    osCa = createRoot({ cn: 'Fake OS Store Root' });
    dir.write('os/etc/ssl/certs/ca-certificates.crt', osCa.pem);
    osServer = await startTlsServer({ cert: issue(osCa), host: '127.0.0.1' });
  });
  after(async () => {
    await osServer.close();
  });
  const env = () => ({ CERTAINLY_SYSTEM_ROOT: osDir });

  test('certainly ca info shows the fake store and who chose it; --no-env ignores the variable', async () => {
    const r = await run(['ca', 'info'], env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`system:${osDir}/etc/ssl/certs/ca-certificates\\.crt +1\\n`));
    assert.match(r.stdout, /system-only +1 /);
    assert.ok(r.stdout.includes(`system store:    read under ${osDir} (set by CERTAINLY_SYSTEM_ROOT)`));
    const off = await run(['ca', 'info', '--no-env'], env());
    assert.equal(off.code, 0, off.stderr);
    assert.ok(!off.stdout.includes(osDir), off.stdout);
    assert.doesNotMatch(off.stdout, /system store: +read under/);
  });

  test('certainly get verifies a server whose CA only the fake store holds', async () => {
    const r = await run(['get', osServer.url('/'), '--json'], env());
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { status: number; tls: { anchor: { sources: string[] } } };
    assert.equal(out.status, 200);
    assert.deepEqual(out.tls.anchor.sources, [`system:${osDir}/etc/ssl/certs/ca-certificates.crt`]);
    assert.equal((await run(['get', osServer.url('/')], {})).code, 1); // without it: not trusted
  });

  test('certainly check verifies it too', async () => {
    const r = await run(['check', `127.0.0.1:${osServer.port}`], env());
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const without = await run(['check', `127.0.0.1:${osServer.port}`], {});
    assert.notEqual(without.code, 0, without.stdout);
  });
});

describe('certainly ca explain', () => {
  test('names the anchor that verifies a server, and where it came from', async () => {
    const ok = await startTlsServer({ cert: issue(root), host: '127.0.0.1' });
    try {
      const r = await run(['ca', 'explain', ok.url('/'), '--ca', caPath]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /verified by: Example Corp Private CA, a CA you configured \(file:/);
      const bad = await run(['ca', 'explain', server.url('/'), '--ca', caPath]);
      assert.equal(bad.code, 1, bad.stdout + bad.stderr);
      assert.match(bad.stdout, /not verified: HOSTNAME_MISMATCH/);
    } finally {
      await ok.close();
    }
  });
});

describe('certainly get: client certificates, pins, proxies, --ca, --aia', () => {
  type Echo = { tls: { clientCert: string | null } };
  let serverRoot: Issued;
  let rootPath: string;
  let mtls: TestServer;
  let alice: Issued;
  before(async () => {
    serverRoot = createRoot({ cn: 'cli get server root' });
    rootPath = dir.write('server-root.pem', serverRoot.pem);
    // The client CA is kept apart from the server's (test/support/README.md: auto-chain caveat).
    const clientRoot = createRoot({ cn: 'cli get client root' });
    alice = issue(clientRoot, { cn: 'alice', sans: ['DNS:alice.client'], eku: ['clientAuth'] });
    mtls = await startTlsServer({ cert: issue(serverRoot), requestCert: true, clientCa: clientRoot.pem });
  });
  after(async () => {
    await mtls.close();
  });

  test('--cert, --key and --pass send an encrypted-key client certificate; a wrong --pass is exit 2', async () => {
    const certPath = dir.write('alice.pem', alice.pem);
    const keyPath = dir.write('alice.key', keyPemOf(alice.key, { passphrase: 'open sesame' }));
    const args = ['get', mtls.url('/'), '--ca', rootPath, '--cert', certPath, '--key', keyPath];
    const r = await run([...args, '--pass', 'open sesame']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as Echo).tls.clientCert, 'alice');
    const wrong = await run([...args, '--pass', 'guess']);
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /passphrase/i);
    const without = await run(['get', mtls.url('/'), '--ca', rootPath]);
    assert.notEqual(without.code, 0, 'the server requires a client certificate');
  });

  test('--pass env:VAR and file:PATH keep the passphrase out of the process list', async () => {
    const certPath = dir.write('alice2.pem', alice.pem);
    const keyPath = dir.write('alice2.key', keyPemOf(alice.key, { passphrase: 'open sesame' }));
    const args = ['get', mtls.url('/'), '--ca', rootPath, '--cert', certPath, '--key', keyPath];
    const fromEnv = await run([...args, '--pass', 'env:ALICE_PASS'], { ALICE_PASS: 'open sesame' });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    const passFile = dir.write('alice.pass', 'open sesame\n');
    const fromFile = await run([...args, '--pass', `file:${passFile}`]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const unset = await run([...args, '--pass', 'env:NOT_SET_ANYWHERE']);
    assert.equal(unset.code, 2);
    assert.match(unset.stderr, /NOT_SET_ANYWHERE is not set/);
  });

  test('--cert alone takes the key from the same file, as curl does', async () => {
    const both = dir.write('alice-both.pem', `${alice.pem}${alice.keyPem}`);
    const r = await run(['get', mtls.url('/'), '--ca', rootPath, '--cert', both]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as Echo).tls.clientCert, 'alice');
  });

  test('--cert-type p12 (and a .p12 name) reads a PKCS#12 bundle with --pass', async () => {
    const bundle = pfxOf(alice, { passphrase: 'p12 pass' });
    const p12 = dir.write('alice.bundle', bundle);
    const r = await run([
      'get',
      mtls.url('/'),
      '--ca',
      rootPath,
      '--cert',
      p12,
      '--cert-type',
      'P12',
      '--pass',
      'p12 pass',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as Echo).tls.clientCert, 'alice');
    const named = dir.write('alice.p12', bundle);
    const byName = await run(['get', mtls.url('/'), '--ca', rootPath, '--cert', named, '--pass', 'p12 pass']);
    assert.equal(byName.code, 0, byName.stderr);
    const usage = await run(['get', mtls.url('/'), '--cert', named, '--key', named]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /the bundle holds the key/);
    assert.equal((await run(['get', mtls.url('/'), '--cert-type', 'jks', '--cert', named])).code, 2);
    assert.equal((await run(['get', mtls.url('/'), '--key', named])).code, 2);
  });

  test('--pin accepts the right SPKI hash (among several) and refuses a wrong one with PIN_MISMATCH', async () => {
    const leaf = issue(serverRoot);
    const srv = await startTlsServer({ cert: leaf });
    try {
      const right = `sha256//${createHash('sha256').update(leaf.spkiDer).digest('base64')}`;
      const wrong = `sha256//${createHash('sha256').update('not the key').digest('base64')}`;
      const ok = await run(['get', srv.url('/'), '--ca', rootPath, '--pin', wrong, '--pin', right]);
      assert.equal(ok.code, 0, ok.stderr);
      const curlStyle = await run(['get', srv.url('/'), '--ca', rootPath, '--pin', `${wrong};${right}`]);
      assert.equal(curlStyle.code, 0, curlStyle.stderr);
      const before = srv.bytesReceived;
      const bad = await run(['get', srv.url('/'), '--ca', rootPath, '--pin', wrong, '--json']);
      assert.equal(bad.code, 1, bad.stderr);
      assert.equal((JSON.parse(bad.stdout) as { code: string }).code, 'PIN_MISMATCH');
      assert.equal(srv.bytesReceived, before, 'no request byte reached the server');
      assert.equal((await run(['get', srv.url('/'), '--ca', rootPath, '--pin', 'md5//x'])).code, 2);
    } finally {
      await srv.close();
    }
  });

  test('--proxy (and -x) tunnels through a proxy, which sees only the CONNECT; --proxy "" beats HTTPS_PROXY', async () => {
    const leaf = issue(serverRoot);
    const srv = await startTlsServer({ cert: leaf });
    const proxy = await startProxy();
    try {
      const r = await run(['get', srv.url('/p'), '--ca', rootPath, '--proxy', proxy.url]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        proxy.connects.map((c) => c.target),
        [`127.0.0.1:${srv.port}`],
      );
      assert.equal((await run(['get', srv.url('/p'), '--ca', rootPath, '-x', proxy.url])).code, 0);
      assert.equal(proxy.connects.length, 2);
      // A proxy that does not answer in the environment: --proxy '' goes direct.
      const dead = 'http://127.0.0.1:9';
      const direct = await run(['get', srv.url('/p'), '--ca', rootPath, '--proxy', ''], {
        HTTPS_PROXY: dead,
      });
      assert.equal(direct.code, 0, direct.stderr);
      const viaEnv = await run(['get', srv.url('/p'), '--ca', rootPath, '--timeout', '3000'], {
        HTTPS_PROXY: dead,
      });
      assert.equal(viaEnv.code, 2, 'HTTPS_PROXY is used without --proxy');
    } finally {
      await proxy.close();
      await srv.close();
    }
  });

  test('--ca is --verify; giving both with different paths is a usage error', async () => {
    const ok = await startTlsServer({ cert: issue(serverRoot) });
    try {
      assert.equal((await run(['get', ok.url('/'), '--ca', rootPath])).code, 0);
      assert.equal((await run(['get', ok.url('/'), '--verify', rootPath])).code, 0);
      assert.equal((await run(['get', ok.url('/'), '--ca', rootPath, '--verify', rootPath])).code, 0);
      const both = await run(['get', ok.url('/'), '--ca', rootPath, '--verify', caPath]);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /--ca is another name for --verify/);
      assert.equal((await run(['get', ok.url('/'), '--ca', rootPath, '-k'])).code, 2);
    } finally {
      await ok.close();
    }
  });

  test('--aia completes a chain whose intermediate the server did not send (loopback: allowed for a loopback server)', async () => {
    const inter = intermediate(serverRoot, { cn: 'cli get AIA intermediate' });
    const http = await startHttpServer((req, res) => {
      if (req.url === '/inter.der')
        res.writeHead(200, { 'content-type': 'application/pkix-cert' }).end(inter.der);
      else res.writeHead(404).end();
    });
    const srv = await startTlsServer({
      cert: issue(inter, { aia: { caIssuers: [http.url('/inter.der')] } }),
    });
    try {
      const without = await run(['get', srv.url('/'), '--ca', rootPath, '--json']);
      assert.equal(without.code, 1, without.stderr);
      assert.match(
        (JSON.parse(without.stdout) as { code: string }).code,
        /^(INCOMPLETE_CHAIN|UNKNOWN_ISSUER)$/,
      );
      const r = await run(['get', srv.url('/'), '--ca', rootPath, '--aia', '--json']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal((JSON.parse(r.stdout) as { status: number }).status, 200);
      assert.equal(http.requests, 1);
    } finally {
      await srv.close();
      await http.close();
    }
  });
});
