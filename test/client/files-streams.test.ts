/**
 * `files` owns the streams it is given, as `data` does: a stream that fails (a missing file, an
 * error mid-body) rejects the request with a BodyError naming the field and the file instead of
 * an unhandled 'error' event that ends the process, and a stream is closed when its request fails
 * before or while the body is sent. Through a real TLS server on loopback.
 */
import assert from 'node:assert/strict';
import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { BodyError, ConfigError, Session } from '../../src/index.js';
import { createRoot, type Issued, issue, tempDir } from '../support/pki.js';
import { startTlsServer, type TestServer } from '../support/servers.js';

let root: Issued;
let server: TestServer;
let session: Session;
/** Bytes of request body the server has read, per request path. */
const received = new Map<string, number>();
const dir = tempDir('files-streams-');
const sample = dir.write('sample.txt', 'x'.repeat(10_000));
const missing = join(dir.path, 'no-such-report.pdf');

before(async () => {
  root = createRoot({ cn: 'Files Streams Root' });
  server = await startTlsServer({
    cert: issue(root, { sans: ['IP:127.0.0.1'] }),
    handler: (req, res) => {
      const path = req.url ?? '/';
      received.set(path, 0);
      req.on('data', (c: Buffer) => received.set(path, (received.get(path) ?? 0) + c.length));
      req.on('end', () => res.end('ok'));
      // A body aborted mid-way: the request errors, the response is never read.
      req.on('error', () => {});
    },
  });
  session = new Session({ verify: root.pem, trustEnv: false });
});
after(async () => {
  await session.close();
  await server.close();
  dir.cleanup();
});

function isReadError(field: string, file?: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof BodyError, `a BodyError, not ${String(err)}`);
    const e = err as BodyError;
    assert.equal(e.code, 'ERR_BODY_STREAM');
    assert.ok(e.message.includes(`files field '${field}'`), e.message);
    if (file !== undefined) assert.ok(e.message.includes(`(${file})`), e.message);
    assert.equal(typeof e.hint, 'string');
    return true;
  };
}

const openFds = () => readdirSync('/proc/self/fd').length;
const onLinux = process.platform === 'linux';

describe('files: a stream that fails is a typed error, not a crash', () => {
  test('a missing file rejects before anything is sent, naming the field and the path', async () => {
    const requests = server.requests;
    const stream = createReadStream(missing);
    await assert.rejects(
      session.post(server.url('/missing'), { files: { report: stream } }),
      (err: unknown) => {
        isReadError('report', missing)(err);
        const e = err as BodyError;
        assert.match(e.message, /could not be read: ENOENT/);
        assert.match(e.hint ?? '', /check the path/);
        assert.equal((e.cause as NodeJS.ErrnoException).code, 'ENOENT');
        return true;
      },
    );
    assert.equal(server.requests, requests, 'no request reached the server');
    assert.ok(stream.destroyed);
  });

  test('the same in the [filename, content] form and in a list of pairs, beside a good file', async () => {
    await assert.rejects(
      session.post(server.url('/missing'), {
        files: [
          ['good', ['sample.txt', createReadStream(sample)]],
          ['bad', ['report.pdf', createReadStream(missing), 'application/pdf']],
        ],
      }),
      isReadError('bad', missing),
    );
  });

  test('a stream that fails mid-body rejects the request with its error as the cause', async () => {
    const boom = new Error('disk went away');
    let pushed = 0;
    const stream = new Readable({
      read() {
        if (pushed < 4) {
          pushed++;
          this.push(Buffer.alloc(16 * 1024, 0x61));
        } else setTimeout(() => this.destroy(boom), 20);
      },
    });
    await assert.rejects(
      session.post(server.url('/midway'), { files: { upload: ['big.bin', stream] } }),
      (err: unknown) => {
        isReadError('upload')(err);
        const e = err as BodyError;
        assert.match(e.message, /failed while it was being sent: disk went away/);
        assert.equal(e.cause, boom);
        return true;
      },
    );
    assert.ok((received.get('/midway') ?? 0) > 0, 'the body had started');
    assert.ok(stream.destroyed);
  });

  test('a request refused on its options still closes a files stream (and its missing file does not crash)', async () => {
    const stream = createReadStream(missing);
    await assert.rejects(
      session.post(server.url('/'), { files: { f: stream }, timeout: 'soon' as never }),
      (err: unknown) => err instanceof ConfigError && (err as ConfigError).code === 'ERR_TIMEOUT_OPTION',
    );
    // Give the ENOENT time to be emitted: with no listener it would end this process.
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(stream.destroyed);
  });

  test('an aborted request closes the stream it was not going to send', async () => {
    const stream = createReadStream(sample);
    await assert.rejects(
      session.post(server.url('/'), { files: { f: stream }, signal: AbortSignal.abort() }),
      (err: unknown) => (err as Error).name === 'AbortError',
    );
    assert.ok(stream.destroyed);
  });
});

describe('files: streams of failed requests are closed', { skip: !onLinux && 'counts /proc/self/fd' }, () => {
  test('30 uploads refused at connect leave no file descriptor open', async () => {
    // A port nothing listens on: a server that was just closed.
    const closed = await startTlsServer({ cert: issue(root, { sans: ['IP:127.0.0.1'] }) });
    const port = closed.port;
    await closed.close();
    const url = `https://127.0.0.1:${port}/`;
    const s = new Session({ verify: root.pem, trustEnv: false });
    try {
      // One first, so that whatever a first request opens once (the pool) is counted before.
      await assert.rejects(s.post(url, { files: { f: createReadStream(sample) } }));
      const before = openFds();
      for (let i = 0; i < 30; i++) {
        await assert.rejects(
          s.post(url, { files: { f: createReadStream(sample), g: ['g.txt', createReadStream(sample)] } }),
          (err: unknown) => (err as ConfigError).code?.startsWith('ERR_CONNECTION') === true,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
      const grown = openFds() - before;
      assert.ok(grown <= 2, `open file descriptors grew by ${grown} over 30 refused uploads (60 streams)`);
    } finally {
      await s.close();
    }
  });
});
