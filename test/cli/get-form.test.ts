/**
 * `get --compressed` and `get -F` as curl has them (issue 13 item 1). Without --compressed no
 * Accept-Encoding is sent and the body is written as the server sent it (a server that
 * compresses anyway gets its gzip bytes saved as they are); with it, the encodings are asked
 * for and undone. -F builds multipart/form-data through the library's `files`; the server
 * parses it with the WHATWG multipart parser (Node's Request.formData()), not with ours.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createRoot, issue, tempDir } from '../support/pki.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = tempDir('get-form-');
const PLAIN = 'hello, compressed world\n'.repeat(100);
const GZ = gzipSync(PLAIN);

interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const env = { PATH: process.env.PATH ?? '', NO_COLOR: '1' };
    execFile(
      process.execPath,
      [CLI, ...args],
      { env, timeout: 60_000, encoding: 'buffer', maxBuffer: 1 << 26 },
      (err, stdout, stderr) => {
        resolve({
          code: err ? (typeof err.code === 'number' ? err.code : 99) : 0,
          stdout,
          stderr: String(stderr),
        });
      },
    );
  });
}

interface Seen {
  acceptEncoding: string | undefined;
  contentType?: string;
  contentLength?: string;
  parts?: {
    name: string;
    value?: string;
    filename?: string;
    type?: string;
    sha256?: string;
    size?: number;
  }[];
}

let server: Server;
let base: string;
let caPath: string;
const seen: Seen[] = [];

before(async () => {
  const root = createRoot({ cn: 'get form root' });
  caPath = dir.write('root.pem', root.pem);
  const leaf = issue(root);
  server = createServer({ key: leaf.keyPem, cert: `${leaf.pem}` }, async (req, res) => {
    const s: Seen = { acceptEncoding: req.headers['accept-encoding'] };
    seen.push(s);
    if (req.url === '/gzip') {
      // Compressed whatever was asked, as some servers do.
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' });
      res.end(GZ);
      return;
    }
    s.contentType = req.headers['content-type'];
    if (req.headers['content-length'] !== undefined) s.contentLength = req.headers['content-length'];
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const form = await new Request('http://form.test/', {
      method: 'POST',
      headers,
      body: req as unknown as ReadableStream,
      duplex: 'half',
    } as RequestInit).formData();
    s.parts = [];
    for (const [name, v] of form) {
      if (typeof v === 'string') s.parts.push({ name, value: v });
      else {
        const bytes = Buffer.from(await v.arrayBuffer());
        s.parts.push({
          name,
          filename: v.name,
          type: v.type,
          size: bytes.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
        });
      }
    }
    res.end('ok\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://localhost:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  dir.cleanup();
});

test('without --compressed: no Accept-Encoding, and a compressed body is written byte for byte as sent', async () => {
  const r = await cli(['get', `${base}/gzip`, '--ca', caPath]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(seen.at(-1)!.acceptEncoding, undefined);
  assert.ok(r.stdout.equals(GZ), 'the gzip bytes, not decoded');
});

test('--compressed: asks for gzip, deflate, br and writes the decoded body', async () => {
  const r = await cli(['get', `${base}/gzip`, '--ca', caPath, '--compressed']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(seen.at(-1)!.acceptEncoding ?? '', /gzip/);
  assert.match(seen.at(-1)!.acceptEncoding ?? '', /br/);
  assert.equal(r.stdout.toString(), PLAIN);
  const o = dir.write('out.txt', '');
  const f = await cli(['get', `${base}/gzip`, '--ca', caPath, '--compressed', '-o', o]);
  assert.equal(f.code, 0, f.stderr);
});

test('--json decodes the body it holds as text either way', async () => {
  const r = await cli(['get', `${base}/gzip`, '--ca', caPath, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout.toString()).body, PLAIN);
});

test('-F: text fields, files (binary, byte-exact), ;type= and ;filename=, <file as a value', async () => {
  const bin = randomBytes(300_000);
  const binPath = dir.write('data.bin', bin);
  const txtPath = dir.write('note.txt', 'a note\n');
  const valuePath = dir.write('value.txt', 'value from a file');
  const r = await cli([
    'get',
    `${base}/form`,
    '--ca',
    caPath,
    '-F',
    'name=Ada Lovelace',
    '-F',
    `upload=@${binPath}`,
    '-F',
    `note=@${txtPath}`,
    '-F',
    `typed=@${txtPath};type=text/markdown;filename=renamed.md`,
    '-F',
    `fromfile=<${valuePath}`,
    '-F',
    'name=second value',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'ok\n');
  const s = seen.at(-1)!;
  assert.match(s.contentType ?? '', /^multipart\/form-data; boundary=/);
  assert.ok(Number(s.contentLength) > bin.length, 'sizes known: Content-Length is sent');
  assert.deepEqual(s.parts, [
    { name: 'name', value: 'Ada Lovelace' },
    {
      name: 'upload',
      filename: 'data.bin',
      type: 'application/octet-stream',
      size: bin.length,
      sha256: createHash('sha256').update(bin).digest('hex'),
    },
    {
      name: 'note',
      filename: 'note.txt',
      type: 'text/plain',
      size: 7,
      sha256: createHash('sha256').update('a note\n').digest('hex'),
    },
    {
      name: 'typed',
      filename: 'renamed.md',
      type: 'text/markdown',
      size: 7,
      sha256: createHash('sha256').update('a note\n').digest('hex'),
    },
    { name: 'fromfile', value: 'value from a file' },
    { name: 'name', value: 'second value' },
  ]);
});

test('-F mistakes are usage errors (exit 2, one line), before anything is sent', async () => {
  const n = seen.length;
  for (const args of [
    ['-F', 'novalue'],
    ['-F', '=x'],
    ['-F', `f=@${dir.path}/missing.bin`],
    ['-F', 'f=@'],
    ['-F', 'a=1', '-d', 'b=2'],
    ['-F', `f=<${dir.path}/x;filename=y`],
    ['-F', 'f=@/etc/hostname;type=not a type'],
  ]) {
    const r = await cli(['get', `${base}/form`, '--ca', caPath, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^certainly get: .*\nusage: /, args.join(' '));
  }
  assert.equal(seen.length, n, 'no request reached the server');
});
