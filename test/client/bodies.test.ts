/**
 * Request bodies of every kind, through a real TLS server on loopback: the bytes and the
 * content-type the server receives equal what was given (SHA-256 compared), multipart is parsed on
 * the server by a real parser (the WHATWG Response.formData() of Node's fetch), and every type we
 * cannot send is a ConfigError that names it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ConfigError, type RequestOptions, Session } from '../../src/index.js';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let server: TestServer;
let session: Session;
const dir = tempDir('bodies-');

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

interface Received {
  method: string;
  sha256: string;
  size: number;
  text: string;
  contentType: string | null;
  contentLength: string | null;
  chunked: boolean;
}

interface FormEntry {
  name: string;
  value?: string;
  filename?: string;
  type?: string;
  sha256?: string;
  size?: number;
}

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'https://x');
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    if (url.pathname === '/form') {
      // A real multipart parser: the one behind fetch's Response.formData().
      try {
        const form = await new globalThis.Response(body, {
          headers: { 'content-type': req.headers['content-type'] ?? '' },
        }).formData();
        const entries: FormEntry[] = [];
        for (const [name, value] of form.entries()) {
          if (typeof value === 'string') entries.push({ name, value });
          else {
            const bytes = new Uint8Array(await value.arrayBuffer());
            entries.push({
              name,
              filename: (value as File).name,
              type: value.type,
              sha256: sha256(bytes),
              size: bytes.length,
            });
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            entries,
            contentLength: req.headers['content-length'] ?? null,
            chunked: req.headers['transfer-encoding'] === 'chunked',
          }),
        );
      } catch (err) {
        res.writeHead(400);
        res.end(String(err));
      }
      return;
    }
    if (url.pathname === '/redirect') {
      res.writeHead(Number(url.searchParams.get('code')), { location: '/echo' });
      res.end();
      return;
    }
    const received: Received = {
      method: req.method ?? '',
      sha256: sha256(body),
      size: body.length,
      text: body.length < 4096 ? body.toString('latin1') : '',
      contentType: req.headers['content-type'] ?? null,
      contentLength: req.headers['content-length'] ?? null,
      chunked: req.headers['transfer-encoding'] === 'chunked',
    };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(received));
  });
}

before(async () => {
  root = createRoot({ cn: 'Bodies Test Root' });
  server = await startTlsServer({ cert: issue(root, { sans: ['IP:127.0.0.1'] }), handler });
  session = new Session({ verify: root.pem });
});
after(async () => {
  await session.close();
  await server.close();
  dir.cleanup();
});

async function echo(options: RequestOptions, path = '/echo'): Promise<Received> {
  const r = await session.post(server.url(path), options);
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text) as Received;
}

async function form(
  options: RequestOptions,
): Promise<{ entries: FormEntry[]; contentLength: string | null; chunked: boolean }> {
  const r = await session.post(server.url('/form'), options);
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text);
}

/** Deterministic bytes of a given size (not all equal, so an offset error shows in the hash). */
function pattern(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

describe('data: bytes and text, byte for byte', () => {
  test('a string is sent as UTF-8, with no content-type of its own', async () => {
    const got = await echo({ data: 'héllo wörld ✓' });
    assert.equal(got.sha256, sha256(Buffer.from('héllo wörld ✓')));
    assert.equal(got.contentType, null);
    assert.equal(got.contentLength, String(Buffer.byteLength('héllo wörld ✓')));
  });

  test('a Buffer', async () => {
    const b = pattern(100_000);
    const got = await echo({ data: b });
    assert.equal(got.sha256, sha256(b));
    assert.equal(got.size, b.length);
  });

  test('a TypedArray view (Uint16Array at an offset) sends exactly its bytes', async () => {
    const backing = pattern(4096);
    const view = new Uint16Array(backing.buffer, backing.byteOffset + 64, 100);
    const got = await echo({ data: view });
    assert.equal(got.sha256, sha256(backing.subarray(64, 264)));
    assert.equal(got.size, 200);
  });

  test('an ArrayBuffer', async () => {
    const b = pattern(5000, 7);
    const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
    const got = await echo({ data: ab });
    assert.equal(got.sha256, sha256(b));
  });

  test('a DataView at an offset', async () => {
    const b = pattern(1000, 3);
    const got = await echo({ data: new DataView(b.buffer, b.byteOffset + 10, 500) });
    assert.equal(got.sha256, sha256(b.subarray(10, 510)));
  });

  test('a Blob is streamed with its length and type', async () => {
    const b = pattern(300_000, 5);
    const got = await echo({ data: new Blob([b], { type: 'image/png' }) });
    assert.equal(got.sha256, sha256(b));
    assert.equal(got.contentType, 'image/png');
    assert.equal(got.contentLength, String(b.length));
    assert.equal(got.chunked, false);
  });

  test('a File, and a user content-type wins over the Blob type', async () => {
    const file = new File(['a,b\n1,2\n'], 'x.csv', { type: 'text/csv' });
    const got = await echo({ data: file, headers: { 'Content-Type': 'text/plain' } });
    assert.equal(got.text, 'a,b\n1,2\n');
    assert.equal(got.contentType, 'text/plain');
  });

  test('data: null sends no body', async () => {
    const got = await echo({ data: null });
    assert.equal(got.size, 0);
    assert.equal(got.contentType, null);
  });
});

describe('data: forms', () => {
  test('a plain object is form-encoded: arrays repeat the key, null and undefined are dropped', async () => {
    const got = await echo({ data: { a: [1, 2], b: 'x y&z', c: null, d: undefined, e: true, f: 0 } });
    assert.equal(got.text, 'a=1&a=2&b=x+y%26z&e=true&f=0');
    assert.equal(got.contentType, 'application/x-www-form-urlencoded');
  });

  test('an array of pairs keeps order and repeats', async () => {
    const got = await echo({
      data: [
        ['k', '1'],
        ['j', 'é'],
        ['k', '2'],
      ],
    });
    assert.equal(got.text, 'k=1&j=%C3%A9&k=2');
  });

  test('a Map and URLSearchParams', async () => {
    assert.equal((await echo({ data: new Map([['m', 'v']]) as never })).text, 'm=v');
    const got = await echo({ data: new URLSearchParams('q=a+b&r=1') });
    assert.equal(got.text, 'q=a+b&r=1');
    assert.equal(got.contentType, 'application/x-www-form-urlencoded');
  });

  test('FormData is multipart: fields, and files with their name and type', async () => {
    const fd = new FormData();
    fd.append('field', 'value ✓');
    const bytes = pattern(70_000, 9);
    fd.append('upload', new File([bytes], 'photo.jpg', { type: 'image/jpeg' }));
    fd.append('blob', new Blob(['raw']));
    const got = await form({ data: fd });
    assert.deepEqual(got.entries, [
      { name: 'field', value: 'value ✓' },
      {
        name: 'upload',
        filename: 'photo.jpg',
        type: 'image/jpeg',
        sha256: sha256(bytes),
        size: bytes.length,
      },
      { name: 'blob', filename: 'blob', type: 'application/octet-stream', sha256: sha256('raw'), size: 3 },
    ]);
    assert.ok(got.contentLength !== null, 'every part has a known length, so Content-Length is sent');
  });

  test('field and file names with quotes and newlines are escaped, not injected', async () => {
    const fd = new FormData();
    fd.append('a"b\r\nX-Injected: 1', 'v');
    fd.append('f', new File(['x'], 'evil".txt'));
    const got = await form({ data: fd });
    assert.equal(got.entries.length, 2);
    assert.equal(got.entries[0]?.value, 'v');
    assert.equal(got.entries[1]?.sha256, sha256('x'));
  });
});

describe('data: streams and iterables, sent chunked', () => {
  test('a Node Readable', async () => {
    const parts = [pattern(10_000, 1), pattern(20_000, 2), pattern(5, 3)];
    const got = await echo({ data: Readable.from(parts) });
    assert.equal(got.sha256, sha256(Buffer.concat(parts)));
    assert.equal(got.chunked, true);
  });

  test('a web ReadableStream', async () => {
    const parts = [pattern(1000, 4), pattern(2000, 5)];
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(new Uint8Array(p));
        c.close();
      },
    });
    const got = await echo({ data: stream });
    assert.equal(got.sha256, sha256(Buffer.concat(parts)));
    assert.equal(got.chunked, true);
  });

  test('an async generator of bytes and strings', async () => {
    async function* gen() {
      yield Buffer.from('one,');
      yield 'two,';
      yield new Uint8Array([0x74, 0x68, 0x72, 0x65, 0x65]);
    }
    const got = await echo({ data: gen() });
    assert.equal(got.text, 'one,two,three');
    assert.equal(got.chunked, true);
  });

  test('a sync iterable (a generator) of bytes', async () => {
    function* gen() {
      yield Buffer.from('a');
      yield Buffer.from('b');
    }
    const got = await echo({ data: gen() });
    assert.equal(got.text, 'ab');
  });

  test('an fs.ReadStream of a regular file is sent with its Content-Length', async () => {
    const b = pattern(200_000, 11);
    const path = dir.write('data.bin', b);
    const got = await echo({ data: createReadStream(path) });
    assert.equal(got.sha256, sha256(b));
    assert.equal(got.contentLength, String(b.length));
  });

  test('json, as before', async () => {
    const got = await echo({ json: { a: [1, 'x'], b: null } });
    assert.equal(got.text, '{"a":[1,"x"],"b":null}');
    assert.equal(got.contentType, 'application/json');
  });
});

describe('files: multipart as requests has it', () => {
  test('{ field: content } for every kind of content, names guessed as requests does', async () => {
    const big = pattern(300_000, 13);
    const path = dir.write('report.pdf', big);
    const handle = await open(path);
    try {
      const got = await form({
        files: {
          buf: Buffer.from('buffer bytes'),
          text: 'a string',
          blob: new Blob(['blob bytes'], { type: 'text/x-blob' }),
          file: new File(['file bytes'], 'named.txt', { type: 'text/plain' }),
          stream: createReadStream(path),
          handle,
        },
      });
      assert.deepEqual(got.entries, [
        {
          name: 'buf',
          filename: 'buf',
          type: 'application/octet-stream',
          sha256: sha256('buffer bytes'),
          size: 12,
        },
        {
          name: 'text',
          filename: 'text',
          type: 'application/octet-stream',
          sha256: sha256('a string'),
          size: 8,
        },
        { name: 'blob', filename: 'blob', type: 'text/x-blob', sha256: sha256('blob bytes'), size: 10 },
        { name: 'file', filename: 'named.txt', type: 'text/plain', sha256: sha256('file bytes'), size: 10 },
        {
          name: 'stream',
          filename: 'report.pdf',
          type: 'application/octet-stream',
          sha256: sha256(big),
          size: big.length,
        },
        {
          name: 'handle',
          filename: 'handle',
          type: 'application/octet-stream',
          sha256: sha256(big),
          size: big.length,
        },
      ]);
      assert.ok(got.contentLength !== null, 'regular files have known sizes: Content-Length is sent');
    } finally {
      await handle.close();
    }
  });

  test('[filename, content, contentType, headers], a null filename, and data fields beside the files', async () => {
    const got = await form({
      data: { title: 'hello', tags: ['x', 'y'], skip: null },
      files: {
        doc: ['doc.json', '{"k":1}', 'application/json', { 'X-Part': 'yes' }],
        plain: [null, 'just a field'],
      },
    });
    assert.deepEqual(got.entries, [
      { name: 'title', value: 'hello' },
      { name: 'tags', value: 'x' },
      { name: 'tags', value: 'y' },
      { name: 'doc', filename: 'doc.json', type: 'application/json', sha256: sha256('{"k":1}'), size: 7 },
      { name: 'plain', value: 'just a field' },
    ]);
  });

  test('a list of pairs repeats a field; a stream of unknown length is sent chunked', async () => {
    async function* gen() {
      yield 'streamed ';
      yield 'content';
    }
    const got = await form({
      files: [
        ['f', ['a.txt', 'A']],
        ['f', ['b.txt', gen()]],
      ],
    });
    assert.deepEqual(
      got.entries.map((e) => [e.name, e.filename, e.sha256]),
      [
        ['f', 'a.txt', sha256('A')],
        ['f', 'b.txt', sha256('streamed content')],
      ],
    );
    assert.equal(got.chunked, true);
  });
});

describe('redirects and retries replay what can be replayed', () => {
  test('a 307 resends a Blob body; a stream body cannot follow it', async () => {
    const b = pattern(10_000, 17);
    const r = await session.post(server.url('/redirect?code=307'), { data: new Blob([b]) });
    const got = await r.json<Received>();
    assert.equal(got.sha256, sha256(b));
    assert.equal(r.history.length, 1);
    await assert.rejects(
      session.post(server.url('/redirect?code=307'), { data: Readable.from([b]) }),
      (err: unknown) => err instanceof ConfigError && (err as ConfigError).code === 'ERR_REDIRECT_BODY',
    );
  });

  test('a 307 resends a multipart body built from bytes', async () => {
    const r = await session.post(server.url('/redirect?code=307'), { files: { f: Buffer.from('again') } });
    const got = await r.json<Received>();
    assert.match(got.text, /again/);
  });
});

describe('json: what JSON cannot hold is refused, naming where it is', () => {
  const cases: [string, unknown, RegExp, RegExp][] = [
    [
      'a Map',
      new Map([['sku', 'A1']]),
      /json is a Map, which JSON cannot hold \(JSON\.stringify would send \{\}\)/,
      /Object\.fromEntries/,
    ],
    ['a Set inside', { tags: new Set(['a', 'b']) }, /json\.tags is a Set/, /\[\.\.\.set\]/],
    ['NaN', { price: Number.NaN }, /json\.price is NaN, .*would send null/, /finite/],
    [
      'Infinity deep in a list',
      { items: [{ q: 1 }, { q: Number.POSITIVE_INFINITY }] },
      /json\.items\[1\]\.q is Infinity/,
      /finite/,
    ],
    [
      '-Infinity under an odd key',
      { 'max value': Number.NEGATIVE_INFINITY },
      /json\["max value"\] is -Infinity/,
      /finite/,
    ],
    ['an invalid Date', { at: new Date('not a date') }, /json\.at is an invalid Date/, /date/],
    ['a Map returned by toJSON', { v: { toJSON: () => new Map() } }, /json\.v is a Map/, /./],
  ];
  for (const [what, json, message, hint] of cases) {
    test(what, async () => {
      const before = server.bytesReceived;
      await assert.rejects(session.post(server.url('/echo'), { json }), (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.equal((err as ConfigError).code, 'ERR_OPTIONS');
        assert.match((err as Error).message, message);
        assert.match((err as ConfigError).hint ?? '', hint);
        return true;
      });
      assert.equal(server.bytesReceived, before, 'nothing was sent');
    });
  }

  test('BigInt and cycles are refused as before; ordinary values, Dates, toJSON and undefined fields are sent as JSON.stringify sends them', async () => {
    await assert.rejects(
      session.post(server.url('/echo'), { json: { n: 1n } }),
      /cannot be serialised: .*BigInt/,
    );
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    await assert.rejects(
      session.post(server.url('/echo'), { json: cycle }),
      /cannot be serialised: .*circular/,
    );
    const self = {
      a: 1,
      toJSON() {
        return this;
      },
    };
    const value = {
      at: new Date(0),
      n: null,
      skip: undefined,
      list: [1, 'two', { three: [true, false] }],
      money: { toJSON: () => '12.50' },
      self,
    };
    const got = await echo({ json: value });
    assert.equal(got.text, JSON.stringify(value));
    assert.equal(
      got.text,
      '{"at":"1970-01-01T00:00:00.000Z","n":null,"list":[1,"two",{"three":[true,false]}],"money":"12.50","self":{"a":1}}',
    );
  });
});

describe('what cannot be sent is a ConfigError naming the type and what is accepted', () => {
  const cases: [string, RequestOptions, RegExp][] = [
    ['a number', { data: 42 as never }, /data cannot be a number; it takes a string, Buffer/],
    ['a Date', { data: new Date() as never }, /data cannot be a Date/],
    ['a nested object', { data: { a: { b: 1 } } as never }, /field 'a' is a Object; .*json/],
    ['a symbol value', { data: { a: Symbol('x') } as never }, /field 'a' is a symbol/],
    ['an array of non-pairs', { data: [1, 2, 3] as never }, /not of \[key, value\] pairs/],
    ['a file of a number', { files: { f: 42 as never } }, /files field 'f' cannot be a number/],
    ['files as a string', { files: 'x' as never }, /files must be an object/],
    [
      'files with a stream as data',
      { files: { f: 'x' }, data: Readable.from(['a']) as never },
      /with files, data must be form fields/,
    ],
    ['json and data', { json: {}, data: 'x' }, /either json or data/],
  ];
  for (const [what, options, message] of cases) {
    test(what, async () => {
      const before = server.bytesReceived;
      await assert.rejects(session.post(server.url('/echo'), options), (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match((err as Error).message, message);
        return true;
      });
      assert.equal(server.bytesReceived, before, 'nothing was sent');
    });
  }

  test('an iterable that yields a number fails the request with a ConfigError naming it', async () => {
    function* gen() {
      yield Buffer.from('ok');
      yield 7 as unknown as Buffer;
    }
    await assert.rejects(session.post(server.url('/echo'), { data: gen() }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match((err as Error).message, /chunk of type number/);
      return true;
    });
  });
});
