/**
 * The one argument parser (src/cli/args.ts): every invalid flag, value and host is exit 2 with
 * one line saying which and the usage line, for every command, run as a real process.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type CommandSpec, helpText, parseCommand, UsageError } from '../../src/cli/args.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
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

const LONG_HOST = 'a'.repeat(300);

// [argv, what the one line must say]
const INVALID: [string[], RegExp][] = [
  [['check', 'a..b'], /'a\.\.b' cannot be a host name: it has an empty label/],
  [['check', '-a.b'], /unknown option '-a' for certainly check \(in '-a\.b'\)/],
  [['check', LONG_HOST], /cannot be a host name: it is 300 characters long/],
  [['check', `${LONG_HOST}:443`], /cannot be a host name/],
  [['check', 'https://a..b/'], /'a\.\.b' cannot be a host name/],
  [['check', 'http://example.com/'], /is not an https URL/],
  [['check', 'a\x1b[2Jb'], /'a\\x1b\[2Jb' is not a target/],
  [['check'], /no target given/],
  [['check', 'x', '--concurrency', '0'], /--concurrency takes a whole number from 1 to 256, not '0'/],
  [['check', 'x', '--concurrency', '2.5'], /--concurrency takes a whole number/],
  [['check', 'x', '--timeout=abc'], /--timeout takes a number from 1 to 600000, not 'abc'/],
  [['check', 'x', '--warn-days', '-1'], /--warn-days takes a number from 0 to 3650, not '-1'/],
  [['check', 'x', '--json=1'], /--json takes no value \(given '1'\)/],
  [['check', 'x', '--ca'], /--ca needs a value \(PATH\)/],
  [['check', 'x', '--server-name', 'a..b'], /--server-name: 'a\.\.b' cannot be a host name/],
  [['check', 'x', '--connect-to', 'a b'], /--connect-to: .*'a b'/],
  [['check', 'x', '--targets', '/nonexistent/list'], /\/nonexistent\/list: it does not exist/],
  [['demo', '--bogus'], /unknown option '--bogus' for certainly demo/],
  [['demo', 'extra'], /it takes no arguments; 'extra' is one too many/],
  [['get'], /a URL is needed/],
  [['get', '--bogus'], /unknown option '--bogus' for certainly get/],
  [['get', 'https://x/', '--timout', '5'], /unknown option '--timout' .*\(did you mean --timeout\?\)/],
  [['get', 'https://a..b/'], /'a\.\.b' cannot be a host name/],
  [['get', `https://${LONG_HOST}.com/`], /cannot be a host name/],
  [['get', 'not a url'], /'not a url' is not a URL/],
  [['get', 'ftp://x/'], /'ftp:\/\/x\/' is not an http or https URL/],
  [['get', 'https://x/', 'https://y/'], /it takes one URL; 'https:\/\/y\/' is one too many/],
  [['get', 'https://x/', '--cert-type', 'jks'], /--cert-type takes PEM, DER or P12, not 'jks'/],
  [['get', 'https://x/', '--timeout', '0'], /--timeout takes a number from 1 to 600000/],
  [['get', 'https://x/', '-Z'], /unknown option '-Z' for certainly get/],
  [['get', 'https://x/', '-H'], /-H needs a value/],
  [['verify', 'x.pem', '--max-depth', '-1'], /--max-depth takes a whole number from 0 to 64, not '-1'/],
  [['verify', 'x.pem', '--purpose', 'mail'], /--purpose takes server or client, not 'mail'/],
  [['verify'], /a chain file is needed/],
  [['ca'], /which command\? info, list, find, pem or explain/],
  [['ca', 'bogus'], /unknown command 'bogus'/],
  [['ca', 'list', '--sauce', 'x'], /unknown option '--sauce' for certainly ca \(did you mean --source\?\)/],
  [['ca', 'explain'], /ca explain needs a URL/],
];

describe('every invalid flag, value and host: exit 2, one line saying which, then the usage line', {
  concurrency: 4,
}, () => {
  for (const [argv, said] of INVALID) {
    const shown = argv.map((a) => (a.length > 40 ? `${a.slice(0, 12)}…(${a.length})` : JSON.stringify(a)));
    test(`certainly ${shown.join(' ')}`, async () => {
      const r = await run(argv);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 2, r.stderr);
      assert.match(lines[0]!, new RegExp(`^certainly ${argv[0]}: `));
      assert.match(lines[0]!, said);
      assert.match(lines[1]!, new RegExp(`^usage: certainly ${argv[0]}`));
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
      // No raw control character from the argument comes back to the terminal.
      assert.doesNotMatch(r.stderr.replace(/\n/g, ''), /[\0-\x1f\x7f]/);
    });
  }

  test('an unknown command, and names Object.prototype has', async () => {
    for (const name of ['frobnicate', 'constructor', '__proto__', 'toString']) {
      const r = await run([name]);
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^certainly: unknown command '${name}'`));
    }
  });
});

describe('--help comes from the same table', () => {
  for (const cmd of ['get', 'check', 'verify', 'ca', 'demo']) {
    test(`certainly ${cmd} --help and certainly help ${cmd}`, async () => {
      const r = await run([cmd, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^usage: certainly ${cmd}`));
      assert.match(r.stdout, /-h, --help/);
      assert.equal((await run(['help', cmd])).stdout, r.stdout);
    });
  }
});

describe('parseCommand', () => {
  const SPEC = {
    name: 't',
    synopsis: 'X [options]',
    args: { min: 0, max: 3, name: 'an X' },
    options: {
      silent: { type: 'boolean', short: 's', help: 's' },
      location: { type: 'boolean', short: 'L', help: 'l' },
      output: { type: 'string', short: 'o', value: 'FILE', help: 'o' },
      header: { type: 'string', short: 'H', multiple: true, help: 'h' },
      n: { type: 'number', integer: true, min: 1, max: 9, help: 'n' },
      old: { type: 'string', alias: ['older'], help: 'o' },
    },
  } as const satisfies CommandSpec;

  test('long, long=value, grouped shorts, a short with its value attached, --, and -', () => {
    const p = parseCommand(SPEC, [
      '-sL',
      '-oout.bin',
      '--header',
      'A: 1',
      '-H',
      'B: 2',
      '--n=3',
      'x',
      '-',
      '--',
      '-s',
    ]);
    assert.equal(p.values.silent, true);
    assert.equal(p.values.location, true);
    assert.equal(p.values.output, 'out.bin');
    assert.deepEqual(p.values.header, ['A: 1', 'B: 2']);
    assert.equal(p.values.n, 3);
    assert.deepEqual(p.args, ['x', '-', '-s']);
    assert.equal(p.help, false);
  });

  test('a flag that takes a value takes the next argument whatever it looks like (as curl)', () => {
    assert.equal(parseCommand(SPEC, ['-o', '-L']).values.output, '-L');
    assert.equal(parseCommand(SPEC, ['-so', 'f']).values.output, 'f');
  });

  test('aliases set the flag they stand for; --help skips the argument count', () => {
    assert.equal(parseCommand(SPEC, ['--older', 'v']).values.old, 'v');
    assert.equal(parseCommand({ ...SPEC, args: { min: 1, max: 1, name: 'an X' } }, ['-h']).help, true);
  });

  test('only UsageError, whatever the input', () => {
    const inputs = [
      ['--'],
      ['-'],
      ['---'],
      ['--='],
      ['-='],
      ['--n'],
      ['--n', ''],
      ['-o'],
      ['a', 'b', 'c', 'd'],
      ['-\u202e'],
    ];
    for (const argv of inputs) {
      try {
        parseCommand(SPEC, argv);
      } catch (err) {
        assert.ok(err instanceof UsageError, `${JSON.stringify(argv)}: ${String(err)}`);
        assert.doesNotMatch(err.message, /[\0-\x1f\u202e]/);
      }
    }
  });

  test('help lists every flag of the table with its value name', () => {
    const text = helpText(SPEC);
    for (const f of [
      '-s, --silent',
      '-L, --location',
      '-o, --output FILE',
      '--n N',
      '--old VALUE',
      '(also --older)',
    ])
      assert.ok(text.includes(f), `${f} in\n${text}`);
  });
});

test("curl's --cacert and --capath name --ca in every command that takes one", async () => {
  const { GET } = await import('../../src/cli/get.js');
  const { CHECK } = await import('../../src/cli/check.js');
  assert.equal(parseCommand(GET, ['https://x/', '--cacert', 'a.pem']).values.ca, 'a.pem');
  assert.deepEqual(parseCommand(CHECK, ['x', '--cacert', 'a.pem', '--capath', 'd']).values.ca, [
    'a.pem',
    'd',
  ]);
});
