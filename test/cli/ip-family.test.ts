/**
 * `certainly get -4 / -6` (curl's --ipv4 / --ipv6), run as a real process against HTTPS servers
 * that listen on one address family only: the family asked for is the one dialled, a name or
 * address of the other family is exit 2 with a sentence naming the family, and -4 with -6 is a
 * usage error.
 */
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { after, before, test } from 'node:test';
import { runCli } from '../support/cli.js';
import {
  createRoot,
  type Issued,
  issue,
  startTlsServer,
  type TestServer,
  tempDir,
} from '../support/index.js';

/** The CLI's output as text. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runCli(args);
  return { ...r, stdout: r.stdout.toString() };
}

const dir = tempDir('cli-family-');
let root: Issued;
let caPath: string;
let v4: TestServer;
let v6: TestServer;
let localhostHasV6: boolean;

before(async () => {
  root = createRoot({ cn: 'cli family root' });
  caPath = dir.write('root.pem', root.pem);
  v4 = await startTlsServer({ cert: issue(root), host: '127.0.0.1' });
  v6 = await startTlsServer({ cert: issue(root), host: '::1' });
  localhostHasV6 = (await lookup('localhost', { all: true })).some((a) => a.family === 6);
});

after(async () => {
  await Promise.all([v4.close(), v6.close()]);
  dir.cleanup();
});

test('-4 reaches a server on 127.0.0.1 by name; -6 does not, and says why', async () => {
  const url = `https://localhost:${v4.port}/`;
  const ok = await run(['get', '-4', '--ca', caPath, url]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /"message":"hello"/);
  const before = v4.connections;
  const no = await run(['get', '--ipv6', '--ca', caPath, url]);
  assert.equal(no.code, 2, no.stderr);
  assert.match(
    no.stderr,
    localhostHasV6
      ? /refused/
      : /localhost has no IPv6 address \(only 127\.0\.0\.1\), and only IPv6 was asked for/,
  );
  assert.equal(v4.connections, before, 'the IPv4 server was not reached with -6');
});

test('-6 reaches a server on ::1; -4 refuses an IPv6 address (and -6 an IPv4 one) before dialling', async () => {
  const ok = await run(['get', '-6', '--ca', caPath, v6.url('/')]);
  assert.equal(ok.code, 0, ok.stderr);
  const before = v6.connections;
  const no = await run(['get', '-4', '--ca', caPath, v6.url('/')]);
  assert.equal(no.code, 2);
  assert.match(no.stderr, /\[::1\]:\d+: it is an IPv6 address, and only IPv4 was asked for/);
  // --resolve's address is what is dialled: the same rule.
  const resolved = await run([
    'get',
    '-6',
    '--ca',
    caPath,
    '--resolve',
    `localhost:${v4.port}:127.0.0.1`,
    `https://localhost:${v4.port}/`,
  ]);
  assert.equal(resolved.code, 2);
  assert.match(resolved.stderr, /it is an IPv4 address, and only IPv6 was asked for/);
  assert.equal(v6.connections, before);
  // And with the family's own address, --connect-to reaches the server and verifies the URL's name.
  const via = await run([
    'get',
    '-6',
    '--ca',
    caPath,
    '--connect-to',
    `[::1]:${v6.port}`,
    `https://localhost:${v6.port}/`,
  ]);
  assert.equal(via.code, 0, via.stderr);
});

test('-4 with -6 is a usage error; the help lists both', async () => {
  const both = await run(['get', '-4', '-6', '--ca', caPath, v4.url('/')]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /-4 and -6 contradict each other/);
  const help = await run(['get', '--help']);
  assert.match(help.stdout, /-4, --ipv4/);
  assert.match(help.stdout, /-6, --ipv6/);
});

test("check -4 / -6: the family asked for is the one checked (a dual-stack server's two endpoints)", async () => {
  const ok = await run(['check', '-4', '--ca', caPath, `localhost:${v4.port}`]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const before = v4.connections;
  const no = await run(['check', '-6', '--ca', caPath, `localhost:${v4.port}`]);
  assert.equal(no.code, 2, no.stdout + no.stderr);
  if (!localhostHasV6) assert.match(no.stdout, /localhost has no IPv6 address \(only 127\.0\.0\.1\)/);
  assert.equal(v4.connections, before, 'the IPv4 server was not reached with -6');
  const literal = await run(['check', '-4', '--ca', caPath, `[::1]:${v6.port}`]);
  assert.equal(literal.code, 2);
  assert.match(literal.stdout, /it is an IPv6 address, and only IPv4 was asked for/);
  const via = await run([
    'check',
    '-6',
    '--ca',
    caPath,
    '--connect-to',
    `[::1]:${v6.port}`,
    `localhost:${v6.port}`,
  ]);
  assert.equal(via.code, 0, via.stdout + via.stderr);
  const both = await run(['check', '-4', '-6', `localhost:${v4.port}`]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /-4 and -6 contradict each other/);
});

test('ca explain and ca pem --server take -4 / -6 too', async () => {
  const explain = await run(['ca', 'explain', '-4', '--ca', caPath, `https://[::1]:${v6.port}/`]);
  assert.notEqual(explain.code, 0);
  assert.match(explain.stdout + explain.stderr, /it is an IPv6 address, and only IPv4 was asked for/);
  const pem = await run([
    'ca',
    'pem',
    '-6',
    '--server',
    `localhost:${v6.port}`,
    '--connect-to',
    `[::1]:${v6.port}`,
  ]);
  assert.equal(pem.code, 0, pem.stdout + pem.stderr);
  assert.match(pem.stdout, /BEGIN CERTIFICATE/);
  const refused = await run(['ca', 'pem', '-6', '--server', `127.0.0.1:${v4.port}`]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stdout + refused.stderr, /it is an IPv4 address, and only IPv6 was asked for/);
});
