/**
 * Safe output: a certificate whose subject and SANs carry terminal control sequences and a bidi
 * override, served on loopback, with a header value holding a C1 control. No raw control byte
 * reaches stdout or stderr of any command in human mode; --json stays exact JSON.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { esc, jsonText, terminalText } from '../../src/cli/safe.js';
import { CLI, runCli } from '../support/cli.js';
import {
  createRoot,
  type Issued,
  issue,
  startTlsServer,
  type TestServer,
  tempDir,
} from '../support/index.js';

/** The CLI's output as text, decoded as UTF-8 (a C1 control written in UTF-8 is seen as itself). */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runCli(args);
  return { ...r, stdout: r.stdout.toString() };
}

/** What must never be written raw: C0 but \n and \t, DEL, C1, format characters, U+2028/9. */
const RAW_CONTROL = /[\0-\x08\x0b-\x1f\x7f-\x9f\p{Cf}\u2028\u2029]/u;

const dir = tempDir('cli-safe-');
let root: Issued;
let leaf: Issued;
let server: TestServer;
let caPath: string;
let chainPath: string;

before(async () => {
  root = createRoot({ subject: 'CN=Evil \u202eAC\x1b]0 pwned\x07 Root, O=Evil\x1b[2J' });
  leaf = issue(root, {
    subject: 'CN=ok\x1b[2J\x1b[H\u2713 verified\r',
    sans: ['DNS:localhost', 'DNS:evil\x1b[31m.test'],
  });
  caPath = dir.write('evil-root.pem', root.pem);
  chainPath = dir.write('evil-chain.pem', leaf.pem + root.pem);
  server = await startTlsServer({
    cert: leaf,
    host: '127.0.0.1',
    handler: (_req, res) => {
      // 0x9b is CSI in C1: a terminal may act on it as on ESC [.
      res.setHeader('x-evil', '\u009b2J\u009b31mred');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello\n');
    },
  });
});

after(async () => {
  await server.close();
  dir.cleanup();
});

describe('no raw control byte from a certificate or a server reaches the terminal', () => {
  const ip = () => server.url('/');
  const named = () => `https://localhost:${server.port}/`;
  const cases: [string, () => string[]][] = [
    ['get, failing (the names the certificate carries)', () => ['get', ip(), '--ca', caPath]],
    [
      'get -v -i, verified (anchor subject, header values)',
      () => ['get', named(), '--ca', caPath, '-v', '-i'],
    ],
    ['get, unknown issuer', () => ['get', named()]],
    ['check, failing (the full report)', () => ['check', ip(), '--ca', caPath]],
    ['check -v, verified', () => ['check', named(), '--ca', caPath, '-v']],
    ['ca explain, failing', () => ['ca', 'explain', ip(), '--ca', caPath]],
    ['ca explain, verified', () => ['ca', 'explain', named(), '--ca', caPath]],
    ['ca list --ca', () => ['ca', 'list', '--ca', caPath]],
    ['ca find', () => ['ca', 'find', 'Evil', '--ca', caPath]],
    ['verify, failing', () => ['verify', chainPath, '--ca', caPath, '--name', '127.0.0.1']],
    ['verify, verified', () => ['verify', chainPath, '--ca', caPath, '--name', 'localhost']],
    ['ca pem --server (subjects as comments)', () => ['ca', 'pem', '--server', `localhost:${server.port}`]],
    ['check, several targets (the closing table)', () => ['check', ip(), named(), '--ca', caPath]],
    ['get -k -v', () => ['get', named(), '-k', '-v']],
  ];
  const seen: string[] = [];
  for (const [what, args] of cases) {
    test(what, async () => {
      const r = await run(args());
      assert.ok(r.code <= 2, `${r.code}: ${r.stderr}`);
      for (const [name, text] of [
        ['stdout', r.stdout],
        ['stderr', r.stderr],
      ] as const) {
        const m = RAW_CONTROL.exec(text);
        assert.equal(m, null, `raw ${JSON.stringify(m?.[0])} in ${name}:\n${JSON.stringify(text)}`);
      }
      seen.push(r.stdout + r.stderr);
    });
  }
  test('and what was escaped is shown, not dropped', () => {
    const all = seen.join('\n');
    assert.ok(all.includes('\\x1b[31m'), 'ESC [ 31m shown as \\x1b[31m');
    assert.ok(all.includes('\\u202e'), 'the bidi override shown as \\u202e');
    assert.ok(all.includes('\\x9b2J'), 'the C1 CSI in a header value shown as \\x9b');
  });

  test('--json stays exact JSON: the same strings, parsed back', async () => {
    const r = await run(['get', ip(), '--ca', caPath, '--json']);
    assert.equal(r.code, 1);
    assert.equal(RAW_CONTROL.exec(r.stdout), null, r.stdout);
    const out = JSON.parse(r.stdout) as { presented: string[] };
    assert.ok(out.presented.includes('evil\x1b[31m.test'), JSON.stringify(out.presented));
  });
});

describe('esc, terminalText, jsonText', () => {
  test('esc shows controls and format characters as escapes, on one line', () => {
    assert.equal(
      esc('a\x1b[2Jb\r\n\t\x7f\x9b\u202e\u200b\u2028'),
      'a\\x1b[2Jb\\x0d\\x0a\\x09\\x7f\\x9b\\u202e\\u200b\\u2028',
    );
    assert.equal(esc('plain ✓ text, ü'), 'plain ✓ text, ü');
  });
  test('terminalText keeps newlines, tabs and our colour only when colour is on', () => {
    assert.equal(terminalText('a\n\tb\x1b[31mred\x1b[39m\x1b[2J', true), 'a\n\tb\x1b[31mred\x1b[39m\\x1b[2J');
    assert.equal(terminalText('\x1b[31mred\x1b[39m', false), '\\x1b[31mred\\x1b[39m');
  });
  test('jsonText parses to the same value and holds no raw control', () => {
    const value = { s: 'a\x1b\x7f\x9b\u202e\u2028z' };
    const text = jsonText(value);
    assert.deepEqual(JSON.parse(text), value);
    assert.equal(RAW_CONTROL.exec(text.replace(/\n/g, '')), null);
  });
});

describe('a closed pipe', () => {
  test("certainly ca pem | head -1: exit 23 (curl's write error), nothing on stderr, no stack trace", async () => {
    const child = spawn(process.execPath, [CLI, 'ca', 'pem'], {
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Read the first line, then close our end, as head -1 does.
    const first = await new Promise<string>((resolve) => {
      let text = '';
      child.stdout.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('\n')) {
          child.stdout.destroy();
          resolve(text.split('\n')[0]!);
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.match(first, /^# /);
    assert.equal(code, 23);
    assert.equal(stderr, '');
  });
});
