/**
 * A self-signed certificate made the way OpenSSL makes one by default (`openssl req -x509`,
 * which sets basicConstraints cA TRUE) is SELF_SIGNED in the library error, in `get` and in
 * `check`, with a fix that works when followed: save it with `certainly ca pem --server`, pass
 * it with --ca (verify: in code), and the same commands succeed. A CA certificate issued by
 * someone else and presented as the server's stays CA_USED_AS_LEAF.
 *
 * Also the views of issue 13 item 6: `get -k -v` and `get -k --json` say "not verified", show
 * the IP dialled, the day counts of `check` agree between lines, no "TCP ?" for a refused
 * connection, and hints are in command-line syntax, once.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { get, SSLError } from '../../src/index.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'certainly-self-signed-'));
const servers: Server[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    // No CA variables from this machine: the defaults alone, as a new user has.
    const env = { PATH: process.env.PATH ?? '', NO_COLOR: '1' };
    execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 99) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `openssl req -x509` with its defaults (cA TRUE), as the user made it. */
function selfSigned(name: string, days: number, san: string): { key: string; cert: string } {
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    String(days),
    '-subj',
    '/CN=localhost',
    '-addext',
    `subjectAltName=${san}`,
  ]);
  return {
    key: readFileSync(join(dir, `${name}.key`), 'utf8'),
    cert: readFileSync(join(dir, `${name}.pem`), 'utf8'),
  };
}

async function serve(key: string, cert: string): Promise<number> {
  const server = createHttpsServer({ key, cert }, (_req, res) => res.end('hello from the server\n'));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

let port: number;
let caLeafPort: number;
let mismatchPort: number;
let rootPath: string;

before(async () => {
  const ss = selfSigned('self', 90, 'DNS:localhost,IP:127.0.0.1');
  assert.match(
    execFileSync('openssl', ['x509', '-in', join(dir, 'self.pem'), '-noout', '-ext', 'basicConstraints'], {
      encoding: 'utf8',
    }),
    /CA:TRUE/,
    "openssl req -x509's defaults set cA TRUE (the case of the issue)",
  );
  port = await serve(ss.key, ss.cert);

  // A root, and a CA certificate it issued, presented as the server certificate.
  const root = selfSigned('root', 30, 'DNS:root.invalid');
  rootPath = join(dir, 'root.pem');
  openssl(
    ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
      '-keyout',
      'ca-leaf.key',
      '-out',
      'ca-leaf.csr',
      '-subj',
      '/CN=localhost',
    ]),
  );
  writeFileSync(
    join(dir, 'ext.cnf'),
    'basicConstraints=critical,CA:TRUE\nsubjectAltName=DNS:localhost\nkeyUsage=critical,keyCertSign,digitalSignature\n',
  );
  openssl(
    ['x509', '-req', '-in', 'ca-leaf.csr', '-CA', 'root.pem', '-CAkey', 'root.key'].concat([
      '-CAcreateserial',
      '-days',
      '20',
      '-extfile',
      'ext.cnf',
      '-out',
      'ca-leaf.pem',
    ]),
  );
  caLeafPort = await serve(
    readFileSync(join(dir, 'ca-leaf.key'), 'utf8'),
    `${readFileSync(join(dir, 'ca-leaf.pem'), 'utf8')}${root.cert}`,
  );

  // A certificate for api.example.com only, for the IP-mismatch hint.
  const other = selfSigned('other', 30, 'DNS:api.example.com');
  mismatchPort = await serve(other.key, other.cert);
});

after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

test('library: SELF_SIGNED with the fix to save and trust the certificate; following it works', async () => {
  const url = `https://localhost:${port}/`;
  const err = await get(url).then(
    () => assert.fail('a self-signed certificate was accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SSLError);
  assert.equal(err.code, 'SELF_SIGNED');
  assert.match(err.hint ?? '', new RegExp(`certainly ca pem --server localhost:${port} > cert\\.pem`));
  assert.match(err.hint ?? '', /verify: 'cert\.pem'/);

  // Follow the fix: save the certificate with the command given, then trust it.
  const saved = await cli(['ca', 'pem', '--server', `localhost:${port}`]);
  assert.equal(saved.code, 0, saved.stderr);
  assert.match(saved.stdout, /-----BEGIN CERTIFICATE-----/);
  const certFile = join(dir, 'cert.pem');
  writeFileSync(certFile, saved.stdout);
  const r = await get(url, { verify: certFile });
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'hello from the server\n');
});

test('get: SELF_SIGNED, fix in CLI syntax (--ca) printed once; following it works', async () => {
  const url = `https://localhost:${port}/`;
  const r = await cli(['get', url]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\[SELF_SIGNED\]/);
  assert.doesNotMatch(r.stderr, /CA_USED_AS_LEAF/);
  assert.equal(r.stderr.match(/fix:/g)?.length, 1, r.stderr);
  const cmd = new RegExp(`certainly ca pem --server localhost:${port} > cert\\.pem`);
  assert.match(r.stderr, cmd);
  assert.match(r.stderr, /pass --ca cert\.pem/);
  assert.doesNotMatch(r.stderr, /verify: /, 'no library syntax on the command line');

  const saved = await cli(['ca', 'pem', '--server', `localhost:${port}`]);
  const certFile = join(dir, 'cert-get.pem');
  writeFileSync(certFile, saved.stdout);
  const ok = await cli(['get', url, '--ca', certFile]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'hello from the server\n');
});

test('check: SELF_SIGNED (and not also CA_USED_AS_LEAF); following the fix verifies', async () => {
  const r = await cli(['check', `localhost:${port}`]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /✗ SELF_SIGNED/);
  assert.doesNotMatch(r.stdout, /CA_USED_AS_LEAF/);
  assert.match(r.stdout, new RegExp(`certainly ca pem --server localhost:${port} > cert\\.pem`));
  assert.match(r.stdout, /pass --ca cert\.pem/);

  const json = JSON.parse((await cli(['check', `localhost:${port}`, '--json'])).stdout);
  assert.equal(json.findings[0].code, 'SELF_SIGNED');

  const saved = await cli(['ca', 'pem', '--server', `localhost:${port}`]);
  const certFile = join(dir, 'cert-check.pem');
  writeFileSync(certFile, saved.stdout);
  const ok = await cli(['check', `localhost:${port}`, '--ca', certFile]);
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(ok.stdout, /✓ https:\/\/localhost:\d+\/ {2}verified for localhost/);
  // Trusted from a file, its cA TRUE is a relaxed rule (info), not an error.
  const v = await cli(['check', `localhost:${port}`, '--ca', certFile, '-v']);
  assert.doesNotMatch(v.stdout, /✗ CA_USED_AS_LEAF/);
});

test('a CA certificate issued by another CA, presented as the server certificate, stays CA_USED_AS_LEAF', async () => {
  const g = await cli(['get', `https://localhost:${caLeafPort}/`, '--ca', rootPath]);
  assert.equal(g.code, 1);
  assert.match(g.stderr, /\[CA_USED_AS_LEAF\]/);
  const c = await cli(['check', `localhost:${caLeafPort}`, '--ca', rootPath]);
  assert.equal(c.code, 1);
  assert.match(c.stdout, /✗ CA_USED_AS_LEAF/);
  assert.doesNotMatch(c.stdout, /SELF_SIGNED/);
});

test('get -k -v: the IP dialled, "not verified", and the warning in CLI syntax once', async () => {
  const r = await cli(['get', `https://localhost:${port}/`, '-k', '-v']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`connected to 127\\.0\\.0\\.1:${port}, SNI localhost`));
  assert.match(r.stderr, /NOT VERIFIED \(--insecure\)/);
  assert.doesNotMatch(r.stderr, /verified name/);
  assert.doesNotMatch(r.stderr, /verify: false|InsecureRequestWarning|trace-warnings/);
  assert.equal(r.stderr.match(/--insecure: the certificate of/g)?.length, 1);
});

test('get -k --json: tls says verified false, the name is not called verified, the address is the IP', async () => {
  const r = await cli(['get', `https://localhost:${port}/`, '-k', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.tls.verified, false);
  assert.equal(out.tls.verifiedName, undefined);
  assert.equal(out.tls.name, 'localhost');
  assert.equal(out.tls.address, `127.0.0.1:${port}`);
  const v = JSON.parse(
    (await cli(['get', `https://localhost:${port}/`, '--json', '--ca', join(dir, 'self.pem')])).stdout,
  );
  assert.equal(v.tls.verified, true);
  assert.equal(v.tls.verifiedName, 'localhost');
});

test('check: one day count in every line (the summary, the chain, the expiry warning)', async () => {
  const r = await cli([
    'check',
    `localhost:${port}`,
    '--ca',
    join(dir, 'self.pem'),
    '--warn-days',
    '120',
    '-v',
  ]);
  const counts = new Set<string>();
  for (const m of r.stdout.matchAll(/(\d+) days left|expires in (\d+) days/g)) counts.add(m[1] ?? m[2]!);
  assert.equal(counts.size, 1, `day counts disagree: ${[...counts].join(' vs ')}\n${r.stdout}`);
  const json = JSON.parse(
    (await cli(['check', `localhost:${port}`, '--ca', join(dir, 'self.pem'), '--warn-days', '120', '--json']))
      .stdout,
  );
  assert.equal(String(json.chain[0].daysLeft), [...counts][0]);
});

test('check: a refused connection shows no "TCP ?"', async () => {
  const server = createHttpsServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dead = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  const r = await cli(['check', `127.0.0.1:${dead}`]);
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.stdout, /\?/);
  assert.match(r.stdout, /CONNECTION_FAILED/);
});

test('hints name the CLI flag, once: --server-name in get and the whole command in check', async () => {
  const ca = join(dir, 'other.pem');
  const g = await cli(['get', `https://127.0.0.1:${mismatchPort}/`, '--ca', ca]);
  assert.equal(g.code, 1);
  assert.match(g.stderr, /fix: .*--server-name api\.example\.com/);
  assert.doesNotMatch(g.stderr, /serverName/);
  assert.equal(g.stderr.split('--server-name api.example.com').length - 1, 1, g.stderr);
  const c = await cli(['check', `127.0.0.1:${mismatchPort}`, '--ca', ca]);
  assert.equal(c.code, 1);
  const cmd = `certainly check 127.0.0.1:${mismatchPort} --server-name api.example.com --ca ${ca}`;
  assert.equal(c.stdout.split(cmd).length - 1, 1, c.stdout);
  assert.doesNotMatch(c.stdout, /serverName|try:/);
  // Following it verifies.
  const ok = await cli([
    'check',
    `127.0.0.1:${mismatchPort}`,
    '--server-name',
    'api.example.com',
    '--ca',
    ca,
  ]);
  assert.equal(ok.code, 0, ok.stdout);
});

test('with --server-name and --connect-to, the printed save command reaches the same server; run as printed, it works', async () => {
  for (const flags of [
    ['--server-name', 'localhost'],
    ['--connect-to', `127.0.0.1:${port}`],
  ]) {
    const target = flags[0] === '--server-name' ? `127.0.0.1:${port}` : `localhost:${port}`;
    for (const cmd of ['check', 'get'] as const) {
      const r = await cli(
        cmd === 'check' ? ['check', target, ...flags] : ['get', `https://${target}/`, ...flags],
      );
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const out = r.stdout + r.stderr;
      const m = /certainly (ca pem --server [^>]*?) > cert\.pem/.exec(out);
      assert.ok(m, out);
      const argv = m[1]!.trim().split(/\s+/);
      assert.ok(argv.includes(flags[0]!) && argv.includes(flags[1]!), m[1]);
      const saved = await cli(argv);
      assert.equal(saved.code, 0, saved.stderr);
      const file = join(dir, `followed-${cmd}-${flags[0]!.slice(2)}.pem`);
      writeFileSync(file, saved.stdout);
      const ok = await cli(
        cmd === 'check'
          ? ['check', target, ...flags, '--ca', file]
          : ['get', `https://${target}/`, ...flags, '--ca', file],
      );
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    }
  }
});

test('certainly verify names its own flag in the hint (--name), not --server-name', async () => {
  const pem = join(dir, 'other.pem');
  const r = await cli(['verify', pem, '--ca', pem, '--name', '127.0.0.1']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /fix: .*--name api\.example\.com/);
  assert.doesNotMatch(r.stderr, /--server-name|serverName/);
});
