/**
 * `certainly check` over a fleet (issue 13 item 5), with 20 loopback endpoints of five kinds:
 * targets from arguments, a file (# comments) and stdin; NDJSON for --json, one report per line
 * in input order; the closing table sorted by severity then days to expiry; the exit code of
 * the worst; --fail-on-warning; a bad line of a file is a usage error naming the line before
 * anything is dialled. The real command, as a subprocess.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRoot, intermediate, issue, tempDir } from '../support/pki.js';
import { closedPort, startTlsServer, type TestServer } from '../support/servers.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const DAY = 86_400_000;
const dir = tempDir('check-fleet-');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' }, timeout: 120_000, maxBuffer: 1 << 26 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr });
      },
    );
    child.stdin!.end(stdin ?? '');
  });
}

const servers: TestServer[] = [];
let ca: string;
/** target → kind, in the order the targets are given. */
const fleet: { target: string; kind: string }[] = [];

before(async () => {
  const root = createRoot({ cn: 'fleet test root' });
  const inter = intermediate(root, { cn: 'fleet test CA' });
  ca = dir.write('root.pem', root.pem);
  const certs = {
    good: { cert: issue(inter), chain: [inter] },
    // 5, 8, 11, 2 days: the table orders them by days left.
    soon: [5, 8, 11, 2].map((d) => ({
      cert: issue(inter, { notAfter: new Date(Date.now() + d * DAY + 3_600_000) }),
      chain: [inter],
    })),
    expired: {
      cert: issue(inter, {
        notBefore: new Date(Date.now() - 90 * DAY),
        notAfter: new Date(Date.now() - 3 * DAY),
      }),
      chain: [inter],
    },
    'wrong-name': { cert: issue(inter, { sans: ['DNS:elsewhere.test'] }), chain: [inter] },
  };
  const add = async (kind: string, opts: Parameters<typeof startTlsServer>[0]) => {
    const s = await startTlsServer(opts);
    servers.push(s);
    fleet.push({ target: `localhost:${s.port}`, kind });
  };
  for (let i = 0; i < 4; i++) {
    await add('good', certs.good);
    await add('soon', certs.soon[i]!);
    await add('expired', certs.expired);
    await add('wrong-name', certs['wrong-name']);
    const port = await closedPort();
    fleet.push({ target: `127.0.0.1:${port}`, kind: 'unreachable' });
  }
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  dir.cleanup();
});

/** The targets split over arguments (2), a file (14, with comments) and stdin (4). */
function spread(): { args: string[]; stdin: string } {
  const t = fleet.map((f) => f.target);
  const file = dir.write('fleet.txt', `# the fleet\n${t.slice(2, 16).join('\n')}\n\n# end\n`);
  return { args: [t[0]!, t[1]!, '--targets', file, '-'], stdin: `${t.slice(16).join('\n')}\n` };
}

test('--json: NDJSON, one report per line, in input order; exit code of the worst (unreachable: 2)', async () => {
  const { args, stdin } = spread();
  const r = await cli(['check', ...args, '--ca', ca, '--json', '--concurrency', '6'], stdin);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  assert.equal(lines.length, 20);
  const reports = lines.map((l) => JSON.parse(l) as { target: string; status: string; exitCode: number });
  assert.deepEqual(
    reports.map((x) => x.target),
    fleet.map((f) => f.target),
  );
  const want: Record<string, string> = {
    good: 'ok',
    soon: 'warning',
    expired: 'error',
    'wrong-name': 'error',
    unreachable: 'unreachable',
  };
  assert.deepEqual(
    reports.map((x) => x.status),
    fleet.map((f) => want[f.kind]),
  );
});

test('human output: the closing table is sorted by severity, then days to expiry', async () => {
  const { args, stdin } = spread();
  const r = await cli(['check', ...args, '--ca', ca], stdin);
  assert.equal(r.code, 2);
  const at = r.stdout.lastIndexOf('\n  status ');
  assert.ok(at > 0, r.stdout);
  const rows = r.stdout
    .slice(at + 1)
    .split('\n')
    .slice(1)
    .filter((l) => /^[✓!✗] /.test(l))
    .map((l) => {
      const [, status, days, url] = /^\S (\S+)\s+(-|-?\d+)\s+(\S+)/.exec(l)!;
      return { status: status!, days: days === '-' ? Number.POSITIVE_INFINITY : Number(days), url: url! };
    });
  assert.equal(rows.length, 20);
  assert.deepEqual(
    rows.map((x) => x.status),
    [
      ...Array(8).fill('error'),
      ...Array(4).fill('unreachable'),
      ...Array(4).fill('warning'),
      ...Array(4).fill('ok'),
    ],
  );
  // Within a status, fewest days first: the expired (negative days) before the wrong names.
  assert.ok(
    rows.slice(0, 4).every((x) => x.days < 0),
    JSON.stringify(rows),
  );
  assert.ok(
    rows.slice(4, 8).every((x) => x.days > 0),
    JSON.stringify(rows),
  );
  assert.deepEqual(
    rows.slice(12, 16).map((x) => x.days),
    [2, 5, 8, 11],
  );
  assert.match(r.stdout, /20 checked: 4 ok, 4 with warnings, 8 failing, 4 unreachable\n$/);
});

test('exit codes: warnings alone are 0, or 1 with --fail-on-warning; a failure is 1', async () => {
  const okAndSoon = fleet.filter((f) => f.kind === 'good' || f.kind === 'soon').map((f) => f.target);
  assert.equal((await cli(['check', ...okAndSoon, '--ca', ca])).code, 0);
  assert.equal((await cli(['check', ...okAndSoon, '--ca', ca, '--fail-on-warning'])).code, 1);
  const withBad = [...okAndSoon, fleet.find((f) => f.kind === 'expired')!.target];
  assert.equal((await cli(['check', ...withBad, '--ca', ca])).code, 1);
});

test('a bad line in a targets file: exit 2 naming the file and line, nothing checked', async () => {
  const file = dir.write('bad.txt', `${fleet[0]!.target}\n# fine\nexample..com\n`);
  const r = await cli(['check', '--targets', file, '--ca', ca]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.txt line 3: /);
  assert.equal(r.stdout, '');
  const empty = dir.write('empty.txt', '# nothing\n');
  assert.equal((await cli(['check', '--targets', empty, '--ca', ca])).code, 2);
});
