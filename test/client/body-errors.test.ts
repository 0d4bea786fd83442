/**
 * A request body whose own source fails (a file stream whose file is missing, a stream or
 * iterable that throws part way) fails the request with a BodyError naming the body, not a
 * ConnectionError naming the host, and is never retried; a failure of the connection while a
 * stream is being sent stays a ConnectionError. Real loopback TLS server: it records how much of
 * each body arrived and whether any arrived whole.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { BodyError, ConnectionError, Session } from '../../src/index.js';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { closedPort, startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let server: TestServer;
let session: Session;
const dir = tempDir('body-errors-');

/** What the server saw: requests begun, bodies received whole, bytes of body received. */
const seen = { begun: 0, whole: 0, bytes: 0 };

before(async () => {
  root = createRoot({ cn: 'body errors root' });
  server = await startTlsServer({
    cert: issue(root),
    handler: (req, res) => {
      seen.begun++;
      req.on('data', (c: Buffer) => {
        seen.bytes += c.length;
      });
      req.on('end', () => {
        seen.whole++;
        res.end('ok');
      });
      req.on('error', () => {});
    },
  });
  session = new Session({ verify: root.pem, trustEnv: false });
});

after(async () => {
  await session.close();
  await server.close();
});

function reset(): void {
  seen.begun = 0;
  seen.whole = 0;
  seen.bytes = 0;
}

/** Lets the server's side of an aborted upload finish before its counters are read. */
const settle = () => new Promise((r) => setTimeout(r, 50));

function bodyError(re: RegExp, cause?: (c: unknown) => void) {
  return (err: unknown) => {
    assert.ok(err instanceof BodyError, `${(err as Error)?.name}: ${(err as Error)?.message}`);
    assert.ok(!(err instanceof ConnectionError));
    assert.equal(err.code, 'ERR_BODY_STREAM');
    assert.match(err.message, re);
    assert.ok(err.hint && err.hint.length > 20, 'a hint');
    assert.equal(err.retries, undefined, 'never retried');
    cause?.(err.cause);
    return true;
  };
}

/** A Readable that sends `first`, then fails with `error`. */
function failingAfter(first: string, error: Error): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(first);
      } else setTimeout(() => this.destroy(error), 10);
    },
  });
}

describe("a body source's own failure is a BodyError, never retried", () => {
  test('data: a file stream whose file does not exist (ENOENT): the path in the message and hint; no body reaches the server', async () => {
    reset();
    const missing = join(dir.path, 'no-such.iso');
    await assert.rejects(
      session.put(server.url('/upload'), {
        data: createReadStream(missing),
        retries: { total: 3, backoff: 10 },
      }),
      bodyError(
        /^the request body could not be read: the data stream \(.*no-such\.iso\) failed: ENOENT/,
        (c) => {
          assert.equal((c as NodeJS.ErrnoException).code, 'ENOENT');
        },
      ),
    );
    await settle();
    assert.equal(seen.whole, 0);
    assert.equal(seen.bytes, 0);
    assert.ok(seen.begun <= 1, `${seen.begun} requests began`);
  });

  test('data: a Readable that fails part way: the cause is its error; the server got at most part of the body, never all', async () => {
    reset();
    const boom = new Error('disk gone');
    await assert.rejects(
      session.put(server.url('/upload'), {
        data: failingAfter('first part;', boom),
        retries: { total: 3, allowedMethods: ['PUT'] },
      }),
      bodyError(/the data stream failed: disk gone/, (c) => assert.equal(c, boom)),
    );
    await settle();
    // Whether the server parsed the head and first chunk before the connection was cut depends
    // on timing (a reset may discard what it had not read); a whole body it never gets.
    assert.ok(seen.begun <= 1, `${seen.begun} requests began`);
    assert.equal(seen.whole, 0);
    assert.ok(seen.bytes <= 'first part;'.length, `${seen.bytes} bytes`);
  });

  test('data: an async iterable and a web ReadableStream that throw', async () => {
    reset();
    async function* parts() {
      yield 'a';
      throw new Error('generator broke');
    }
    await assert.rejects(
      session.post(server.url('/'), { data: parts() }),
      bodyError(/the data iterable failed: generator broke/),
    );
    const web = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('x'));
      },
      pull(c) {
        c.error(new Error('web stream broke'));
      },
    });
    await assert.rejects(
      session.post(server.url('/'), { data: web }),
      bodyError(/the ReadableStream failed: web stream broke/),
    );
    await settle();
    assert.equal(seen.whole, 0);
  });

  test('a replayable body (a Blob) whose stream fails is not sent again either, whatever retries allow', async () => {
    reset();
    class BrokenBlob extends Blob {
      override stream(): ReadableStream<Uint8Array> {
        return new ReadableStream({
          pull(c) {
            c.error(new Error('blob unreadable'));
          },
        });
      }
    }
    await assert.rejects(
      session.put(server.url('/'), { data: new BrokenBlob(['0123456789']), retries: 3 }),
      bodyError(/the Blob failed: blob unreadable/),
    );
    await settle();
    assert.ok(seen.begun <= 1, `${seen.begun} requests began`);
    assert.equal(seen.whole, 0);
  });

  test('files: a part whose iterable throws names the part', async () => {
    reset();
    async function* content() {
      yield 'partial';
      throw new Error('part broke');
    }
    await assert.rejects(
      session.post(server.url('/form'), { files: { report: ['report.pdf', content()] } }),
      bodyError(/part 'report' failed: part broke/),
    );
    await settle();
    assert.equal(seen.whole, 0);
  });

  test('with onUploadProgress (the body counted as it goes): still a BodyError', async () => {
    const progress: number[] = [];
    await assert.rejects(
      session.put(server.url('/'), {
        data: failingAfter('counted;', new Error('late failure')),
        onUploadProgress: (p) => progress.push(p.loaded),
      }),
      bodyError(/the data stream failed: late failure/),
    );
    assert.deepEqual(progress, ['counted;'.length]);
  });
});

describe('the connection failing while a stream is sent is still a ConnectionError', () => {
  test('a server that drops the connection mid-upload: ConnectionError phase exchange, and the source stream is closed', async () => {
    const dropper = await startTlsServer({
      cert: issue(root),
      handler: (req) => {
        req.once('data', () => req.socket.destroy());
      },
    });
    // An endless source: only the connection can end this upload.
    const source = new Readable({
      read() {
        setTimeout(() => this.push(Buffer.alloc(16 * 1024, 1)), 5);
      },
    });
    try {
      await assert.rejects(session.put(dropper.url('/'), { data: source }), (err: unknown) => {
        assert.ok(err instanceof ConnectionError, `${(err as Error)?.name}: ${(err as Error)?.message}`);
        assert.equal(err.phase, 'exchange');
        return true;
      });
      await settle();
      assert.ok(source.destroyed, 'the source stream was closed');
    } finally {
      await dropper.close();
    }
  });

  test('a refused connection: ConnectionError, and the file stream given as data is closed', async () => {
    const port = await closedPort();
    const file = dir.write('payload.txt', 'payload');
    const stream = createReadStream(file);
    await assert.rejects(
      session.put(`https://127.0.0.1:${port}/`, { data: stream }),
      (err: unknown) => err instanceof ConnectionError && err.phase === 'connect',
    );
    await settle();
    assert.ok(stream.destroyed, 'the file stream was closed');
  });
});
