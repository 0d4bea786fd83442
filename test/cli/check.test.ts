/**
 * `certainly check`: targets from arguments, stdin and files; exit codes; short and complete
 * output; colour and NO_COLOR; the progress bar on a terminal only; --concurrency; --json
 * validated against schema/check-report.schema.json.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCheck, targetLines } from '../../src/cli/check.js';
import { validate } from '../diagnose/json-schema.js';
import {
  createRoot,
  type Issued,
  intermediate,
  issue,
  startHttpServer,
  startTlsServer,
  type TestServer,
  tempDir,
} from '../support/index.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const SCHEMA_URL = new URL('../../../schema/check-report.schema.json', import.meta.url);
const DAY = 86_400_000;

class Capture extends Writable {
  text = '';
  isTTY?: boolean;
  columns = 100;
  constructor(tty = false) {
    super();
    if (tty) this.isTTY = true;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function check(
  argv: string[],
  opts: { env?: NodeJS.ProcessEnv; stdin?: string; ttyOut?: boolean; ttyErr?: boolean } = {},
): Promise<Run> {
  const stdout = new Capture(opts.ttyOut);
  const stderr = new Capture(opts.ttyErr);
  const code = await runCheck(argv, {
    stdout,
    stderr,
    env: opts.env ?? {},
    ...(opts.stdin !== undefined ? { stdin: Readable.from([opts.stdin]) } : {}),
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The lines of NDJSON output, parsed. */
function ndjson(text: string): unknown[] {
  assert.ok(text.endsWith('\n'), 'NDJSON ends with a newline');
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
}

let root: Issued;
let inter: Issued;
let caPath: string;
let good: TestServer;
let soon: TestServer;
let seed: TestServer;
let missing: TestServer;
let deadPort: number;
const dir = tempDir('check-cli-');
const closers: (() => Promise<void>)[] = [];

before(async () => {
  root = createRoot({ subject: 'CN=Check CLI Root' });
  inter = intermediate(root, { subject: 'CN=Check CLI Issuing CA' });
  caPath = dir.write('root.pem', root.pem);
  good = await startTlsServer({ cert: issue(inter), chain: [inter] });
  soon = await startTlsServer({
    cert: issue(inter, { notAfter: new Date(Date.now() + 3 * DAY) }),
    chain: [inter],
  });
  seed = await startTlsServer({ cert: issue(root, { sans: ['DNS:*.example.com', 'DNS:example.com'] }) });
  const aia = await startHttpServer((_req, res) => res.end(inter.der));
  missing = await startTlsServer({ cert: issue(inter, { aia: { caIssuers: [aia.url('/ca.der')] } }) });
  const gone = await startHttpServer();
  deadPort = gone.port;
  await gone.close();
  for (const s of [good, soon, seed, missing, aia]) closers.push(() => s.close());
});

after(async () => {
  await Promise.all(closers.map((c) => c()));
  dir.cleanup();
});

const target = (s: TestServer) => `localhost:${s.port}`;

describe('exit codes and output', () => {
  test('a healthy endpoint: exit 0, one short line', async () => {
    const r = await check([target(good), '--ca', caPath]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^✓ https:\/\/localhost:\d+\/ {2}verified for localhost/);
    assert.doesNotMatch(r.stdout, /chain as sent/);
  });

  test('a warning: still exit 0, the warning and its fix under the line', async () => {
    const r = await check([target(soon), '--ca', caPath]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^! https/);
    // Whole days, rounded down, in both lines: 3 days less a moment is "2 days" in each.
    assert.match(r.stdout, /\(2 days left\)/);
    assert.match(r.stdout, /! CERT_EXPIRING_SOON .*expires in 2 days/);
    assert.match(r.stdout, /fix: Renew the server certificate/);
    const quiet = await check([target(soon), '--ca', caPath, '--warn-days', '1']);
    assert.match(quiet.stdout, /^✓/);
  });

  test('the seed scenario: exit 1, the complete report, and the command that fixes it', async () => {
    const r = await check([`https://127.0.0.1:${seed.port}/`, '--ca', caPath]);
    assert.equal(r.code, 1);
    for (const part of [
      /✗ https:\/\/127\.0\.0\.1:\d+\/ {2}certificate verification failed/,
      /SNI none: IP literal/,
      /chain as sent:\n {4}#0 CN=\*\.example\.com/,
      /names {4}DNS:\*\.example\.com, DNS:example\.com/,
      /pin {6}sha256\/\/[A-Za-z0-9+/]{43}=/,
      /✗ IP_ADDRESS_MISMATCH {2}certificate is valid for \*\.example\.com, example\.com, not 127\.0\.0\.1/,
    ]) {
      assert.match(r.stdout, part);
    }
    // The fix once, in command-line syntax: the whole command to run.
    const fix = `fix: connect to the IP but verify a name the certificate carries: certainly check https://127.0.0.1:${seed.port}/ --server-name example.com --ca ${caPath}`;
    assert.ok(r.stdout.includes(fix), r.stdout);
    assert.equal(r.stdout.split('--server-name example.com').length - 1, 1, r.stdout);
    assert.doesNotMatch(r.stdout, /serverName/);
    const fixed = await check([
      `https://127.0.0.1:${seed.port}/`,
      '--ca',
      caPath,
      '--server-name',
      'api.example.com',
    ]);
    assert.equal(fixed.code, 0, fixed.stdout);
  });

  test('a missing intermediate: AIA on by default, off with --no-aia', async () => {
    const r = await check([target(missing), '--ca', caPath]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /✗ MISSING_INTERMEDIATE .*"CN=Check CLI Issuing CA"/);
    assert.match(r.stdout, /aia {9}http:\/\/127\.0\.0\.1:\d+\/ca\.der: found "CN=Check CLI Issuing CA"/);
    const off = await check([target(missing), '--ca', caPath, '--no-aia']);
    assert.equal(off.code, 1);
    assert.match(off.stdout, /✗ INCOMPLETE_CHAIN/);
    assert.doesNotMatch(off.stdout, /aia {9}/);
  });

  test('an endpoint that cannot be reached: exit 2; the worst target decides', async () => {
    const r = await check([`127.0.0.1:${deadPort}`, '--ca', caPath]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /could not be checked/);
    assert.match(r.stdout, /✗ CONNECTION_FAILED/);
    const mixed = await check([target(good), `https://127.0.0.1:${seed.port}/`, '--ca', caPath]);
    assert.equal(mixed.code, 1);
    assert.match(mixed.stdout, /2 checked: 1 ok, 0 with warnings, 1 failing, 0 unreachable/);
  });

  test('usage errors: exit 2, nothing dialled', async () => {
    const before = good.connections;
    for (const argv of [
      [],
      ['--bogus', target(good)],
      ['http://example.com/'],
      [target(good), 'host:notaport'],
      [target(good), '--warn-days', 'soon'],
      [target(good), '--concurrency', '0'],
      [target(good), '--server-name', 'bad name'],
      [target(good), '--connect-to', 'a:b:c:d'],
      [target(good), '--file', '/nonexistent/targets.txt'],
      [target(good), '--ca', '/nonexistent/ca.pem'],
    ]) {
      const r = await check(argv);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, /^certainly check: /, argv.join(' '));
    }
    assert.equal(good.connections, before);
  });

  test('--help: the usage, exit 0', async () => {
    const r = await check(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /usage: certainly check TARGET/);
  });
});

describe('targets', () => {
  test('from arguments, standard input (-) and a file, in order, comments skipped', async () => {
    const list = dir.write(
      'targets.txt',
      `# servers\n${target(good)}\n\n  ${target(soon)}  # expires soon\n`,
    );
    const r = await check([target(good), '-', '--file', list, '--ca', caPath, '--json'], {
      stdin: `https://localhost:${good.port}/\n`,
    });
    assert.equal(r.code, 0, r.stderr);
    const out = ndjson(r.stdout) as { target: string }[];
    assert.deepEqual(
      out.map((x) => x.target),
      [target(good), target(good), target(soon), `https://localhost:${good.port}/`],
    );
  });

  test('targetLines', () => {
    assert.deepEqual(targetLines('a\r\n # c\n\nb # note\nhttps://x/#frag\n'), ['a', 'b', 'https://x/#frag']);
  });
});

describe('terminal behaviour', () => {
  test('colour on a terminal, none with NO_COLOR or when piped', async () => {
    const tty = await check([target(good), '--ca', caPath], { ttyOut: true });
    assert.match(tty.stdout, /\x1b\[32m✓/);
    const noColor = await check([target(good), '--ca', caPath], { ttyOut: true, env: { NO_COLOR: '1' } });
    assert.doesNotMatch(noColor.stdout, /\x1b\[/);
    const piped = await check([target(good), '--ca', caPath]);
    assert.doesNotMatch(piped.stdout, /\x1b\[/);
  });

  test('a progress bar on a terminal for several targets only', async () => {
    const several = [target(good), target(soon), target(good), '--ca', caPath];
    const tty = await check(several, { ttyErr: true });
    assert.match(tty.stderr, /\r\x1b\[2K\[=+ *\] 3\/3 /);
    assert.ok(tty.stderr.endsWith('\r\x1b[2K'), 'the bar is cleared at the end');
    assert.equal(tty.stdout.split('\n').filter((l) => /^[✓!✗] https:/.test(l)).length, 3);
    const piped = await check(several);
    assert.equal(piped.stderr, '');
    const one = await check([target(good), '--ca', caPath], { ttyErr: true });
    assert.equal(one.stderr, '');
  });
});

/** TCP servers that accept and never answer, recording when each connection arrived. */
async function stallServers(
  n: number,
): Promise<{ ports: number[]; accepted: number[]; close(): Promise<void> }> {
  const accepted: number[] = [];
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  for (let i = 0; i < n; i++) {
    const server = createServer((socket) => {
      accepted.push(performance.now());
      sockets.add(socket);
      socket.on('error', () => {});
      socket.resume();
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
  }
  return {
    ports: servers.map((s) => (s.address() as { port: number }).port),
    accepted,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

describe('--concurrency', () => {
  test('bounds the targets checked at once', async () => {
    // Each check waits out a 300 ms timeout: one at a time, connections arrive 300 ms apart;
    // four at a time, all four arrive together.
    const timeout = 300;
    for (const concurrency of [1, 4]) {
      const stall = await stallServers(4);
      try {
        const r = await check([
          ...stall.ports.map((p) => `127.0.0.1:${p}`),
          '--ca',
          caPath,
          '--timeout',
          String(timeout),
          '--concurrency',
          String(concurrency),
        ]);
        assert.equal(r.code, 2);
        assert.equal((r.stdout.match(/^ {2}✗ CONNECT_TIMEOUT/gm) ?? []).length, 4);
        const t = [...stall.accepted].sort((a, b) => a - b);
        assert.equal(t.length, 4);
        const gaps = t.slice(1).map((x, i) => x - t[i]!);
        if (concurrency === 1) assert.ok(Math.min(...gaps) >= timeout * 0.8, `gaps ${gaps.join(', ')}`);
        else assert.ok(t[3]! - t[0]! < timeout * 0.8, `spread ${t[3]! - t[0]!}`);
      } finally {
        await stall.close();
      }
    }
  });
});

describe('--json', () => {
  test('real output validates against schema/check-report.schema.json', async () => {
    const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as Record<string, unknown>;
    const r = await check(
      [
        target(good),
        target(soon),
        `https://127.0.0.1:${seed.port}/`,
        target(missing),
        `127.0.0.1:${deadPort}`,
        '--ca',
        caPath,
        '--json',
      ],
      { ttyErr: true },
    );
    assert.equal(r.code, 2);
    // NDJSON: one report per line, in the order given; each line validates on its own.
    assert.equal(r.stdout.split('\n').length, 6, 'five lines, each ended by a newline');
    const out = ndjson(r.stdout) as Record<string, unknown>[];
    for (const line of out) assert.deepEqual(validate(schema, line), []);
    assert.deepEqual(
      out.map((x) => x.status),
      ['ok', 'warning', 'error', 'error', 'unreachable'],
    );
    // The validator is not a rubber stamp.
    const broken = structuredClone(out);
    broken[0]!.status = 'fine';
    delete broken[1]!.findings;
    broken[2]!.extra = true;
    assert.equal(broken.slice(0, 3).flatMap((b) => validate(schema, b)).length, 3);
  });
});

describe('the real command', () => {
  function run(args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [CLI, ...args],
        { env: { PATH: process.env.PATH, NO_COLOR: '1' }, timeout: 60_000 },
        (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr });
        },
      );
    });
  }

  test('certainly check is registered, and exits with its code', async () => {
    const help = await run(['help']);
    assert.match(help.stdout, /check TARGET/);
    const r = await run(['check', `https://127.0.0.1:${seed.port}/`, '--ca', caPath]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /IP_ADDRESS_MISMATCH/);
  });
});
