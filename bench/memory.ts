/**
 * Memory of streamed transfers: a 1 GiB download read through `r.stream()` (over HTTP/1.1, and
 * over HTTP/2 with `http2: true`) and a 1 GiB upload sent from a stream (`data:` a Readable) and
 * as a multipart file (`files:` an opened file handle), each in a fresh process, beside undici's
 * `request` doing the same download (HTTP/1.1, and HTTP/2 with allowH2) and upload. The figure
 * is the process's peak resident set (process.resourceUsage().maxRSS) at the end, and the same
 * for a process that only imports the client (the floor under it).
 * The HTTPS server runs in this process, generating and discarding bytes.
 *
 *   npm run bench:memory                         1024 MiB, 3 runs each, writes the README block
 *   npm run bench:memory -- --mb 256 --runs 1 --no-write
 */

import { spawn } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeReadmeBlock } from '../scripts/readme-block.js';
import { createRoot, issue, tempDir } from '../test/support/index.js';

const MiB = 1 << 20;
const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SIZE_MB = opt('--mb', 1024);
const RUNS = opt('--runs', 3);
const WRITE = !args.includes('--no-write');
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The child programs, each given URL, CA file, size in bytes and (upload by file) a path. */
const PROGRAMS: Record<string, string> = {
  'certainly: import only': `
    await import('certainly');`,
  'certainly: download, r.stream()': `
    const { get, closeDefaultSession } = await import('certainly');
    const r = await get(url + 'download', { verify: ca });
    let n = 0; for await (const c of r.stream()) n += c.length;
    if (n !== size) throw new Error('got ' + n);
    await closeDefaultSession();`,
  'certainly: download, r.stream(), http2: true': `
    const { get, closeDefaultSession } = await import('certainly');
    const r = await get(url + 'download', { verify: ca, http2: true });
    if (r.httpVersion !== '2') throw new Error('spoke HTTP/' + r.httpVersion);
    let n = 0; for await (const c of r.stream()) n += c.length;
    if (n !== size) throw new Error('got ' + n);
    await closeDefaultSession();`,
  'certainly: upload, data: a Readable': `
    const { post, closeDefaultSession } = await import('certainly');
    const { Readable } = await import('node:stream');
    const chunk = Buffer.alloc(64 * 1024, 120);
    async function* body() { for (let s = 0; s < size; s += chunk.length) yield chunk; }
    const r = await post(url + 'upload', { verify: ca, data: Readable.from(body()) });
    if ((await r.text()) !== String(size)) throw new Error('server counted another size');
    await closeDefaultSession();`,
  'certainly: upload, files: an opened file': `
    const { post, closeDefaultSession } = await import('certainly');
    const { open } = await import('node:fs/promises');
    const fh = await open(file);
    const r = await post(url + 'upload', { verify: ca, files: { f: ['big.bin', fh, 'application/octet-stream'] } });
    if (Number(await r.text()) <= size) throw new Error('server counted too little');
    await fh.close();
    await closeDefaultSession();`,
  'undici request: import only': `
    await import('undici');`,
  'undici request: download': `
    const { request, Agent } = await import('undici');
    const dispatcher = new Agent({ connect: { ca: (await import('node:fs')).readFileSync(ca) } });
    const r = await request(url + 'download', { dispatcher });
    let n = 0; for await (const c of r.body) n += c.length;
    if (n !== size) throw new Error('got ' + n);
    await dispatcher.close();`,
  'undici request: download, allowH2: true': `
    const { request, Agent } = await import('undici');
    const dispatcher = new Agent({ allowH2: true, connect: { ca: (await import('node:fs')).readFileSync(ca) } });
    const r = await request(url + 'download', { dispatcher });
    let n = 0; for await (const c of r.body) n += c.length;
    if (n !== size) throw new Error('got ' + n);
    await dispatcher.close();`,
  'undici request: upload, body: a Readable': `
    const { request, Agent } = await import('undici');
    const { Readable } = await import('node:stream');
    const dispatcher = new Agent({ connect: { ca: (await import('node:fs')).readFileSync(ca) } });
    const chunk = Buffer.alloc(64 * 1024, 120);
    async function* body() { for (let s = 0; s < size; s += chunk.length) yield chunk; }
    const r = await request(url + 'upload', { method: 'POST', body: Readable.from(body()), dispatcher });
    if ((await r.body.text()) !== String(size)) throw new Error('server counted another size');
    await dispatcher.close();`,
  'undici request: upload, body: a file read stream': `
    const { request, Agent } = await import('undici');
    const { createReadStream, readFileSync } = await import('node:fs');
    const dispatcher = new Agent({ connect: { ca: readFileSync(ca) } });
    const r = await request(url + 'upload', { method: 'POST', body: createReadStream(file), dispatcher });
    if ((await r.body.text()) !== String(size)) throw new Error('server counted another size');
    await dispatcher.close();`,
};

/**
 * Rows run again under node flags a user can choose (a library cannot set them for its process;
 * the CLI sets them itself, src/cli/bin.ts): undici's parser kept on V8's baseline compiler, and
 * a young generation that stays small (docs/decisions.md, "Memory").
 */
const FLAGGED: Record<string, { program: string; flags: string[] }> = {
  'certainly: download, r.stream(), node --liftoff-only --max-semi-space-size=1': {
    program: 'certainly: download, r.stream()',
    flags: ['--liftoff-only', '--max-semi-space-size=1'],
  },
  'certainly: upload, files: an opened file, node --liftoff-only --max-semi-space-size=1': {
    program: 'certainly: upload, files: an opened file',
    flags: ['--liftoff-only', '--max-semi-space-size=1'],
  },
  'undici request: download, node --liftoff-only --max-semi-space-size=1': {
    program: 'undici request: download',
    flags: ['--liftoff-only', '--max-semi-space-size=1'],
  },
};

function runChild(name: string, url: string, ca: string, size: number, file: string): Promise<number> {
  const flagged = FLAGGED[name];
  const src = `const [url, ca, sizeText, file] = process.argv.slice(1); const size = Number(sizeText);
${PROGRAMS[flagged ? flagged.program : name]}
process.stdout.write(String(process.resourceUsage().maxRSS));`;
  return new Promise((resolve, reject) => {
    const argv = [...(flagged?.flags ?? []), '--input-type=module', '-e', src, url, ca, String(size), file];
    const child = spawn(process.execPath, argv, {
      cwd: ROOT,
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${name}: exit ${code}: ${err.slice(-2000)}`));
      else resolve(Number(out) / 1024);
    });
  });
}

async function main(): Promise<void> {
  const size = SIZE_MB * MiB;
  const dir = tempDir('bench-memory-');
  const root = createRoot({ cn: 'bench memory root' });
  const leaf = issue(root);
  const ca = dir.write('ca.pem', root.pem);
  // The file for the multipart upload, written once (sparse-free: real bytes).
  const file = join(dir.path, 'big.bin');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(MiB, 97);
  for (let i = 0; i < SIZE_MB; i++) writeSync(fd, block);
  closeSync(fd);

  const piece = Buffer.alloc(256 * 1024, 120);
  // HTTP/2 for the clients that ask for it (ALPN), HTTP/1.1 for the others.
  const server = createSecureServer({ cert: leaf.pem, key: leaf.keyPem, allowHTTP1: true }, (req, res) => {
    if (req.url === '/download') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      let sent = 0;
      const pump = () => {
        while (sent < size) {
          const n = Math.min(piece.length, size - sent);
          sent += n;
          if (!res.write(n === piece.length ? piece : piece.subarray(0, n)))
            return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    } else {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(String(n)));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://localhost:${(server.address() as AddressInfo).port}/`;

  const names = [...Object.keys(PROGRAMS), ...Object.keys(FLAGGED)];
  const got = new Map<string, number[]>(names.map((n) => [n, []]));
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const name of names) {
        process.stderr.write(`bench:memory: run ${run + 1}/${RUNS}: ${name}\n`);
        got.get(name)!.push(await runChild(name, url, ca, size, file));
      }
    }
  } finally {
    server.close();
    rmSync(file, { force: true });
  }

  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const lines = [
    `Node ${process.version}, ${SIZE_MB} MiB over HTTPS on loopback, ${RUNS} run(s) each, a fresh process per run; peak RSS (process.resourceUsage().maxRSS) in MiB, median (min–max).`,
    '',
    '| process | peak RSS (MiB) |',
    '|---|---:|',
    ...names.map((n) => {
      const xs = got.get(n)!;
      return `| ${n} | ${med(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}) |`;
    }),
  ];
  const block2 = lines.join('\n');
  process.stdout.write(`${block2}\n`);
  if (WRITE) writeReadmeBlock('memory', block2, 'bench:memory');
}

await main();
