/**
 * The README's "Everyday requests: requests, axios, certainly" table, run: every code span of
 * the certainly column that mentions `url` is executed as written (get, post and Session bound
 * to the library with the test CA as the only added option; `out` a collecting stream) against
 * a loopback server, and what the server saw is checked per row. Editing a cell changes what
 * runs; a row that stops working, or goes missing, fails here.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  closeDefaultSession,
  get,
  post,
  type RequestOptions,
  Response,
  Session,
  type SessionOptions,
} from '../../src/index.js';
import { createRoot, type Issued, issue } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

const ROWS = [
  'data (form)',
  'files',
  'json',
  'params',
  'headers',
  'auth',
  'cookies',
  'timeouts',
  'retries',
  'decompression',
  'stream',
];

/** The certainly cell of each row of the table, by its Task. */
function readmeRows(): Map<string, string> {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('### Everyday requests: requests, axios, certainly');
  assert.ok(start >= 0, 'README has the Everyday requests section');
  const lines = readme.slice(start).split('\n');
  const rows = new Map<string, string>();
  let inTable = false;
  for (const line of lines.slice(1)) {
    if (line.startsWith('|')) inTable = true;
    else if (inTable) break;
    else continue;
    const cells = line.split(' | ').map((c) => c.replace(/^\|\s*|\s*\|$/g, '').trim());
    if (cells.length !== 4 || cells[0] === 'Task' || cells[0]?.startsWith('---')) continue;
    rows.set(cells[0] as string, cells[3] as string);
  }
  return rows;
}

/** The runnable snippets of a cell: code spans that use `url`. */
function snippets(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string).filter((c) => /\burl\b/.test(c));
}

let root: Issued;
let server: TestServer;
const sessions: Session[] = [];
let retryHits = 0;
const NONCE = randomBytes(8).toString('hex');
const STREAM_BYTES = randomBytes(256 * 1024);
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

function echo(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  extra: Record<string, string> = {},
): void {
  res.writeHead(200, { 'content-type': 'application/json', ...extra });
  res.end(
    JSON.stringify({
      method: req.method,
      path: req.url,
      headers: req.headers,
      body: body.toString('latin1'),
    }),
  );
}

function handler(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    if (path === '/row/auth') {
      const a = req.headers.authorization ?? '';
      if (a === `Basic ${Buffer.from('u:p').toString('base64')}`) return echo(req, res, body);
      if (a.startsWith('Digest ')) {
        const p = Object.fromEntries(
          [...a.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)].map((m) => [m[1], m[2] ?? m[3]]),
        );
        const expected = md5(
          `${md5('u:realm:p')}:${NONCE}:${p.nc}:${p.cnonce}:auth:${md5(`${req.method}:${p.uri}`)}`,
        );
        if (p.username === 'u' && p.nonce === NONCE && p.response === expected) return echo(req, res, body);
      }
      res.writeHead(401, {
        'www-authenticate': `Digest realm="realm", nonce="${NONCE}", qop="auth", algorithm=MD5`,
      });
      return res.end();
    }
    if (path === '/row/cookies') return echo(req, res, body, { 'set-cookie': 'sid=abc; Path=/' });
    if (path === '/row/retries') {
      if (retryHits++ % 2 === 0) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        return res.end('busy');
      }
      return echo(req, res, body);
    }
    if (path === '/row/decompression') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      return res.end(gzipSync(JSON.stringify({ decoded: true })));
    }
    if (path === '/row/stream') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return res.end(STREAM_BYTES);
    }
    echo(req, res, body);
  });
}

before(async () => {
  root = createRoot({ cn: 'readme rows root' });
  server = await startTlsServer({ cert: issue(root), handler });
});

after(async () => {
  for (const s of sessions) await s.close();
  await closeDefaultSession();
  await server.close();
});

type Echo = { method: string; path: string; headers: IncomingMessage['headers']; body: string };

/** Runs one snippet as written; the value of its last statement, when that is an expression. */
async function run(code: string, url: string): Promise<{ value: unknown; out: Buffer }> {
  const trust = { verify: root.pem, trustEnv: false } as const;
  const boundGet = (u: string, o: RequestOptions = {}) => get(u, { ...trust, ...o });
  const boundPost = (u: string, o: RequestOptions = {}) => post(u, { ...trust, ...o });
  class BoundSession extends Session {
    constructor(o: SessionOptions = {}) {
      super({ ...trust, ...o });
      sessions.push(this);
    }
  }
  const written: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      written.push(chunk);
      done();
    },
  });
  const parts = code.split('; ');
  const last = parts.pop() as string;
  const body = [...parts, /^(for|const|let|if)\b/.test(last) ? last : `return (${last})`].join('; ');
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...args: string[]
  ) => (...a: unknown[]) => Promise<unknown>;
  const fn = new AsyncFunction('get', 'post', 'Session', 'url', 'out', body);
  const value = await fn(boundGet, boundPost, BoundSession, url, out);
  return { value, out: Buffer.concat(written) };
}

async function echoOf(value: unknown): Promise<Echo> {
  assert.ok(value instanceof Response, `a Response, not ${String(value)}`);
  assert.equal(value.status, 200);
  return value.json<Echo>();
}

/** What each row's snippets must have done, checked from the server's side where there is one. */
const CHECKS: Record<string, (results: { value: unknown; out: Buffer }[]) => Promise<void>> = {
  async 'data (form)'([r]) {
    const e = await echoOf(r?.value);
    assert.equal(e.body, 'a=1&b=1&b=2');
    assert.equal(e.headers['content-type'], 'application/x-www-form-urlencoded');
  },
  async files([r]) {
    const e = await echoOf(r?.value);
    assert.match(e.headers['content-type'] ?? '', /^multipart\/form-data; boundary=/);
    assert.match(
      e.body,
      /Content-Disposition: form-data; name="f"; filename="a.txt"\r\nContent-Type: text\/plain\r\n\r\nhi\r\n/,
    );
  },
  async json([r]) {
    const e = r?.value as Echo;
    assert.equal(e.body, '{"a":1}');
    assert.equal(e.headers['content-type'], 'application/json');
  },
  async params([r]) {
    assert.equal((await echoOf(r?.value)).path, '/row/params?q=x&n=1&n=2');
  },
  async headers([r]) {
    assert.equal((await echoOf(r?.value)).headers['x-token'], 't');
  },
  async auth([basic, digest]) {
    assert.match((await echoOf(basic?.value)).headers.authorization ?? '', /^Basic /);
    assert.match((await echoOf(digest?.value)).headers.authorization ?? '', /^Digest username="u"/);
  },
  async cookies([jar, fromResponse, perRequest]) {
    assert.equal(jar?.value, 'abc');
    assert.equal(fromResponse?.value, 'abc');
    assert.equal((await echoOf(perRequest?.value)).headers.cookie, 'a=1');
  },
  async timeouts([r]) {
    await echoOf(r?.value);
  },
  async retries([r]) {
    assert.ok(r?.value instanceof Response);
    assert.equal(r.value.retries.length, 1);
    assert.match(r.value.retries[0]?.reason ?? '', /503/);
    await echoOf(r.value);
  },
  async decompression([decoded, raw]) {
    assert.deepEqual(decoded?.value, { decoded: true });
    assert.ok(raw?.value instanceof Response);
    const bytes = await raw.value.bytes();
    assert.equal(raw.value.headers.get('content-encoding'), 'gzip');
    assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b]);
  },
  async stream([r]) {
    assert.ok(r?.out.equals(STREAM_BYTES), `the bytes written to out (${r?.out.length}) are the body`);
  },
};

describe('README: Everyday requests, every row run as shown', () => {
  const rows = readmeRows();

  test('the table has every row the issue asks for', () => {
    assert.deepEqual([...rows.keys()], ROWS);
  });

  for (const name of ROWS) {
    test(name, async () => {
      const cell = rows.get(name);
      assert.ok(cell, `row ${name}`);
      const codes = snippets(cell);
      assert.ok(codes.length > 0, `row ${name} has code`);
      const slug = name.split(' ')[0];
      const results = [];
      for (const code of codes) results.push(await run(code, server.url(`/row/${slug}`)));
      await CHECKS[name]?.(results);
    });
  }
});
