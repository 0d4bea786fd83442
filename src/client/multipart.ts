/**
 * multipart/form-data (RFC 7578), streamed: each part's content is read as it is sent, so a 1 GB
 * file costs no more memory than a 64 KiB one. When every part's length is known (text, bytes,
 * Blobs, whole regular files) the total is too, and Content-Length is sent; otherwise undici
 * sends the body chunked.
 */
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { ConfigError } from '../errors.js';
import { chunksOf, type EncodedBody, isBlob, knownSize } from './body-source.js';

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

/** The parts as one multipart/form-data body with a random boundary. */
export function multipart(parts: FilePart[]): EncodedBody {
  // 24 random bytes, as hex: cannot occur in a part by accident (RFC 2046 §5.1.1 allows 70 chars).
  const boundary = `certainly-${randomBytes(24).toString('hex')}`;
  const heads = parts.map((p) => partHeader(boundary, p));
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
    open() {
      if (opened && !replayable) {
        throw new ConfigError('the multipart body had a stream in it and has already been sent', {
          code: 'ERR_BODY_SPENT',
        });
      }
      opened = true;
      return generate(parts, heads, tail);
    },
  };
}

async function* generate(parts: FilePart[], heads: Buffer[], tail: Buffer): AsyncGenerator<Uint8Array> {
  const crlf = Buffer.from(CRLF);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as FilePart;
    yield heads[i] as Buffer;
    yield* contentOf(p.content, p.name);
    yield crlf;
  }
  yield tail;
}
