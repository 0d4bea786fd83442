/**
 * multipart/form-data (RFC 7578), streamed: each part's content is read as it is sent, so a 1 GB
 * file costs no more memory than a 64 KiB one. When every part's length is known (text, bytes,
 * Blobs, whole regular files) the total is too, and Content-Length is sent; otherwise undici
 * sends the body chunked.
 */
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { BodyError, CertainlyError, ConfigError } from '../errors.js';
import { chunksOf, type EncodedBody, isBlob, isWebStream, knownSize } from './body-source.js';

/** One part: a text field (no filename) or a file. */
export interface FilePart {
  name: string;
  /** Sent as filename="…"; absent for a plain field. */
  filename?: string;
  content: string | Uint8Array | Blob | Readable | FileHandle | AsyncIterable<unknown>;
  /** A file's type: given, else the Blob's, else application/octet-stream. */
  contentType?: string;
  /** Extra headers for this part (requests' 4th tuple element). */
  headers?: Record<string, string>;
  /** How messages name the part ("files field 'report'"); default "part 'report'". */
  label?: string;
}

const CRLF = '\r\n';

/**
 * A quoted name or filename as the HTML standard's multipart encoder writes it: CR, LF and '"'
 * percent-encoded (browsers, undici's FormData and Python's urllib3 agree on these three).
 */
function quote(s: string): string {
  return s.replace(/[\r\n"]/g, (c) => (c === '"' ? '%22' : c === '\r' ? '%0D' : '%0A'));
}

function partHeader(boundary: string, p: FilePart): Buffer {
  let h = `--${boundary}${CRLF}Content-Disposition: form-data; name="${quote(p.name)}"`;
  if (p.filename !== undefined) h += `; filename="${quote(p.filename)}"`;
  h += CRLF;
  const type =
    p.contentType ??
    (p.filename === undefined
      ? undefined
      : (isBlob(p.content) && p.content.type) || 'application/octet-stream');
  if (type !== undefined) {
    if (/[\r\n]/.test(type))
      throw new ConfigError(`the content type of part '${p.name}' contains CR or LF`, { code: 'ERR_HEADER' });
    h += `Content-Type: ${type}${CRLF}`;
  }
  if (p.headers) {
    for (const [k, v] of Object.entries(p.headers)) {
      const lower = k.toLowerCase();
      // RFC 9110 §5.1 token names and §5.5 values, as request headers are checked (options.ts).
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(k) || typeof v !== 'string' || /[\r\n\0]/.test(v)) {
        throw new ConfigError(
          `part '${p.name}' has a bad header '${k}': names are tokens, values strings without CR, LF or NUL`,
          {
            code: 'ERR_HEADER',
          },
        );
      }
      if (lower === 'content-disposition' || (lower === 'content-type' && type !== undefined)) continue;
      h += `${k}: ${v}${CRLF}`;
    }
  }
  return Buffer.from(h + CRLF);
}

/** A part's content length when known without reading it. */
function lengthOf(c: FilePart['content']): number | undefined {
  if (typeof c === 'string') return Buffer.byteLength(c);
  if (c instanceof Uint8Array) return c.byteLength;
  if (isBlob(c)) return c.size;
  if (c instanceof Readable || (typeof c === 'object' && c !== null && 'fd' in c)) {
    return knownSize(c as Readable | FileHandle);
  }
  return undefined;
}

function isReplayable(c: FilePart['content']): boolean {
  return typeof c === 'string' || c instanceof Uint8Array || isBlob(c);
}

async function* contentOf(c: FilePart['content'], name: string): AsyncGenerator<Uint8Array> {
  if (typeof c === 'string') yield Buffer.from(c);
  else if (c instanceof Uint8Array) yield c;
  else if (isBlob(c)) yield* chunksOf(c.stream() as unknown as AsyncIterable<unknown>, `part '${name}'`);
  else if (c instanceof Readable) yield* chunksOf(c, `part '${name}'`);
  else if (
    typeof c === 'object' &&
    c !== null &&
    'fd' in c &&
    typeof (c as FileHandle).createReadStream === 'function'
  ) {
    // An opened file is sent whole, from its start; the caller keeps (and closes) the handle.
    yield* chunksOf((c as FileHandle).createReadStream({ start: 0, autoClose: false }), `part '${name}'`);
  } else yield* chunksOf(c as AsyncIterable<unknown>, `part '${name}'`);
}

/**
 * A stream a part reads from (a Node Readable or a web ReadableStream). The body owns it from the
 * moment the body is built: an 'error' listener at once (an fs.ReadStream of a missing file emits
 * ENOENT on its own, before anyone reads it, and with no listener that kills the process), and it
 * is destroyed when the body is abandoned. A FileHandle is not owned: the caller closes it.
 */
interface OwnedStream {
  readonly stream: Readable | ReadableStream<Uint8Array>;
  /** The part, and the file when the stream reads one: "files field 'report' (/tmp/r.pdf)". */
  readonly what: string;
  /** The first error it emitted, whenever that was. */
  error?: unknown;
}

function own(p: FilePart): OwnedStream | undefined {
  const c = p.content;
  const node = c instanceof Readable;
  if (!node && !isWebStream(c)) return undefined;
  const path = node ? (c as { path?: unknown }).path : undefined;
  const file = typeof path === 'string' || Buffer.isBuffer(path) ? ` (${String(path)})` : '';
  const o: OwnedStream = { stream: c, what: `${p.label ?? `part '${p.name}'`}${file}` };
  if (node) {
    c.on('error', (err) => {
      o.error ??= err;
    });
    // Destroyed with an error before it was given to us (the event may already have gone out).
    if (c.errored) o.error = c.errored;
  }
  return o;
}

/** Our error for a part's stream that failed: names the part and the file, keeps the cause. */
function readError(o: OwnedStream, err: unknown, sending: boolean): Error {
  if (err instanceof CertainlyError) return err;
  const e = err as { code?: unknown; message?: unknown } | null;
  const said = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : '';
  const hint =
    code === 'ENOENT'
      ? 'There is no file at that path: check the path (relative paths are resolved from the current directory).'
      : code === 'EACCES' || code === 'EPERM'
        ? 'This process may not read that file: check its permissions.'
        : code === 'EISDIR'
          ? 'That path is a directory: pass a file.'
          : sending
            ? 'The stream failed while the body was being sent, and the request was aborted there. A stream is read once: pass a new one to send again.'
            : 'The stream failed before the request was sent. A stream is read once: pass a new one to send again.';
  // A BodyError (as a data: stream's failure is): the caller's source failed, not an option.
  return new BodyError(
    `${o.what} ${sending ? 'failed while it was being sent' : 'could not be read'}: ${said}`,
    {
      cause: err,
      hint,
    },
  );
}

/** Destroys the owned streams not already destroyed (idempotent; a web stream being read is left to its reader). */
function dispose(owned: readonly (OwnedStream | undefined)[]): void {
  for (const o of owned) {
    if (o === undefined) continue;
    const s = o.stream;
    if (s instanceof Readable) {
      if (!s.destroyed) s.destroy();
    } else if (!s.locked) s.cancel().catch(() => {});
  }
}

/**
 * Waits for the owned fs.ReadStreams still opening their file, then throws the typed error of
 * any owned stream that has failed: a missing file fails the request before it is sent.
 */
async function ready(owned: readonly (OwnedStream | undefined)[]): Promise<void> {
  const opening: Promise<void>[] = [];
  for (const o of owned) {
    const s = o?.stream;
    if (o?.error !== undefined || !(s instanceof Readable) || (s as { pending?: unknown }).pending !== true) {
      continue;
    }
    opening.push(
      new Promise<void>((resolve) => {
        const done = () => {
          s.off('ready', done).off('error', done).off('close', done);
          resolve();
        };
        s.on('ready', done).on('error', done).on('close', done);
      }),
    );
  }
  if (opening.length > 0) await Promise.all(opening);
  for (const o of owned) if (o?.error !== undefined) throw readError(o, o.error, false);
}

/** The parts as one multipart/form-data body with a random boundary. */
export function multipart(parts: FilePart[]): EncodedBody {
  // Listened to before anything else can fail: a part's stream must never go unheard.
  const owned = parts.map(own);
  // 24 random bytes, as hex: cannot occur in a part by accident (RFC 2046 §5.1.1 allows 70 chars).
  const boundary = `certainly-${randomBytes(24).toString('hex')}`;
  let heads: Buffer[];
  try {
    heads = parts.map((p) => partHeader(boundary, p));
  } catch (err) {
    dispose(owned);
    throw err;
  }
  const tail = Buffer.from(`--${boundary}--${CRLF}`);
  let length: number | undefined = tail.length;
  for (let i = 0; i < parts.length; i++) {
    const n = lengthOf((parts[i] as FilePart).content);
    if (n === undefined || length === undefined) length = undefined;
    else length += (heads[i] as Buffer).length + n + 2;
  }
  const replayable = parts.every((p) => isReplayable(p.content));
  let opened = false;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length,
    replayable,
    ready: owned.some((o) => o !== undefined) ? () => ready(owned) : undefined,
    open() {
      if (opened && !replayable) {
        throw new ConfigError('the multipart body had a stream in it and has already been sent', {
          code: 'ERR_BODY_SPENT',
        });
      }
      opened = true;
      return generate(parts, heads, tail, owned);
    },
  };
}

async function* generate(
  parts: FilePart[],
  heads: Buffer[],
  tail: Buffer,
  owned: readonly (OwnedStream | undefined)[],
): AsyncGenerator<Uint8Array> {
  const crlf = Buffer.from(CRLF);
  try {
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] as FilePart;
      yield heads[i] as Buffer;
      const o = owned[i];
      if (o === undefined) yield* contentOf(p.content, p.name);
      else {
        if (o.error !== undefined) throw readError(o, o.error, true);
        try {
          yield* contentOf(p.content, p.name);
        } catch (err) {
          throw readError(o, o.error ?? err, true);
        }
      }
      yield crlf;
    }
    yield tail;
  } finally {
    // Sent, failed, or abandoned by the connection (undici returns the iterator): nothing stays open.
    dispose(owned);
  }
}
