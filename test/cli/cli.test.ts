/** The certainly command, run as a real process: get and demo. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
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
    assert.match(r.stderr, /serverName/);
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
    assert.match(r.stderr, /InsecureRequestWarning/);
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
  test('runs the seed scenario and its fix on loopback, exit 0', async () => {
    const r = await run(['demo']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /UNKNOWN_ISSUER/);
    assert.match(r.stdout, /HOSTNAME_MISMATCH/);
    assert.match(r.stdout, /certificate is valid for \*\.example\.com, example\.com, not 127\.0\.0\.1/);
    assert.match(r.stdout, /HTTP 200/);
    assert.match(r.stdout, /serverName/);
    assert.match(r.stdout, /received 0 bytes/);
  });
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
