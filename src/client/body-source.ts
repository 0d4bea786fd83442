/**
 * What a request body is read from: helpers shared by body.ts and multipart.ts (kinds of input,
 * their bytes, their size when known before sending).
 */
import { fstatSync, statSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { BodyError, ConfigError } from '../errors.js';

/** What undici is handed: a string or bytes (sent as is), or a stream / async iterable of bytes. */
export type SendBody = string | Uint8Array | Readable | AsyncIterable<Uint8Array>;

/** A request body ready to send. */
export interface EncodedBody {
  /** The Content-Type it implies (multipart with its boundary, form, JSON, a Blob's type), if any. */
  readonly contentType: string | undefined;
  /** Its length in bytes, when known before sending (Content-Length); undefined: chunked. */
  readonly length: number | undefined;
  /** True when open() can be called again (a retry, a 307/308 redirect): strings, bytes, Blobs. */
  readonly replayable: boolean;
  /** The body to hand to undici; a stream body can be opened once. */
  open(): SendBody;
  /**
   * Present when the body owns streams that may still be opening (a `files` fs.ReadStream):
   * resolves once they are open, rejects with the typed error of one that failed (a missing
   * file), so that nothing is sent for a body that cannot be read.
   */
  readonly ready?: (() => Promise<void>) | undefined;
}

/** A name for a value's type, for messages: 'number', 'Date', 'Map', 'null'. */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  const ctor = (v as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'object';
}

/** Bytes of any ArrayBuffer view or ArrayBuffer, without copying. */
export function bytesOf(v: ArrayBufferView | ArrayBuffer): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return new Uint8Array(v);
}

export function isArrayBuffer(v: unknown): v is ArrayBuffer {
  return v instanceof ArrayBuffer || Object.prototype.toString.call(v) === '[object SharedArrayBuffer]';
}

export function isBlob(v: unknown): v is Blob {
  return typeof Blob !== 'undefined' && v instanceof Blob;
}

export function isWebStream(v: unknown): v is ReadableStream<Uint8Array> {
  return typeof ReadableStream !== 'undefined' && v instanceof ReadableStream;
}

export function isFileHandle(v: unknown): v is FileHandle {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as FileHandle).fd === 'number' &&
    typeof (v as FileHandle).createReadStream === 'function' &&
    typeof (v as FileHandle).stat === 'function'
  );
}

export function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof (v as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';
}

export function isIterable(v: unknown): v is Iterable<unknown> {
  return typeof (v as Iterable<unknown>)?.[Symbol.iterator] === 'function';
}

/**
 * The error of a body source that failed while it was read (a file stream whose file is missing,
 * a stream piped from elsewhere that broke) as a BodyError naming the body, not the connection:
 * undici would pass the stream's own error on, and an errno code such as ENOENT read as a socket
 * failure. A BodyError already made (a source wrapping another) is kept as it is.
 */
export function bodyStreamError(err: unknown, what: string, source?: unknown): BodyError {
  if (err instanceof BodyError) return err;
  const path = (source as { path?: unknown } | undefined)?.path;
  const file = typeof path === 'string' ? path : undefined;
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const said = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : '';
  const fileProblem = file !== undefined && /^E(NOENT|ACCES|PERM|ISDIR|NOTDIR|MFILE|NFILE|IO)$/.test(code);
  return new BodyError(
    `the request body could not be read: ${what}${file !== undefined ? ` (${file})` : ''} failed: ${said}`,
    {
      cause: err,
      hint: fileProblem
        ? `Check that ${file} exists and is readable by this process before sending it (a file stream opens its file only when the body is read). The request was cut short, with nothing or part of the body sent, and is not sent again.`
        : `The source of the request body failed (its error is the cause); fix it and send the request again. The request was cut short, with nothing or part of the body sent; a body stream is never sent twice.`,
    },
  );
}

/**
 * Chunks of a stream or iterable as bytes: strings become UTF-8, anything else is an error that
 * names it (undici would fail with a TypeError of its own). An error of the source itself is a
 * BodyError (bodyStreamError); the consumer stopping early (undici's return()) is not an error.
 */
export async function* chunksOf(source: AsyncIterable<unknown> | Iterable<unknown>, what: string) {
  // True while the source is asked for its next chunk: only what it throws then is its failure.
  let pulling = true;
  try {
    for await (const chunk of source as AsyncIterable<unknown>) {
      pulling = false;
      if (chunk instanceof Uint8Array) yield chunk;
      else if (typeof chunk === 'string') yield Buffer.from(chunk);
      else if (ArrayBuffer.isView(chunk) || isArrayBuffer(chunk)) yield bytesOf(chunk as ArrayBuffer);
      else {
        throw new ConfigError(
          `${what} produced a chunk of type ${typeName(chunk)}; only strings and bytes (Buffer, Uint8Array) can be sent`,
          { code: 'ERR_BODY_TYPE' },
        );
      }
      pulling = true;
    }
  } catch (err) {
    throw pulling ? bodyStreamError(err, what, source) : err;
  }
}

/**
 * A Node Readable given as the body, as undici is handed it: a stream that carries its bytes and,
 * when it fails, fails with a BodyError (bodyStreamError) instead of its own error. undici
 * destroys what it was handed when the request fails (a connection refused before the body was
 * read included), and that destroys the source too, so a file stream's descriptor is closed.
 *
 * It reads the source only when undici reads it (not piped ahead): a stream already ended and
 * buffered is one whose length undici takes as a Content-Length, so a small body would go out
 * chunked or not depending on Node's buffer size (16 KiB on Node 20, 64 KiB on 22) and timing.
 */
export function guardedStream(source: Readable, what: string): Readable {
  // A file stream of a missing file emits its error on its own, before anyone reads: noted here
  // (no uncaught 'error'), thrown by the iteration below.
  const noted = (_err: unknown) => {};
  source.on('error', noted);
  async function* pull(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of source) yield chunk as Buffer;
    } catch (err) {
      throw bodyStreamError(err, what, source);
    }
  }
  const out = Readable.from(pull(), { objectMode: false });
  // undici gave up on the body before reading it (or it was sent whole): the source is closed.
  out.once('close', () => {
    if (!source.destroyed) source.destroy();
  });
  return out;
}

/**
 * The size of a file stream or handle when it is a whole regular file read from its start
 * (then Content-Length can be sent), else undefined (chunked).
 */
export function knownSize(c: Readable | FileHandle): number | undefined {
  try {
    if (isFileHandle(c)) {
      const st = fstatSync(c.fd);
      return st.isFile() ? st.size : undefined;
    }
    const rs = c as Readable & { path?: unknown; start?: unknown; end?: unknown; bytesRead?: unknown };
    if (typeof rs.path === 'string' && rs.start === undefined && rs.end === Infinity && rs.bytesRead === 0) {
      const st = statSync(rs.path);
      return st.isFile() ? st.size : undefined;
    }
  } catch {
    // unknown: sent chunked
  }
  return undefined;
}
