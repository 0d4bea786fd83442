/**
 * Request bodies: every kind a user passes as `data`, `json` or `files`, turned into what undici
 * sends. One module for Session, get()/post()/… and the CLI (-d, -F): `encodeBody`.
 *
 * Strings and bytes are sent as they are (undici sets Content-Length). Blobs, streams, iterables
 * and multipart bodies are streamed: never read whole into memory; with a known length (Blob,
 * bytes, a regular file) Content-Length is set, otherwise undici sends them chunked.
 */
import type { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { ConfigError } from '../errors.js';
import {
  bytesOf,
  chunksOf,
  type EncodedBody,
  guardedStream,
  isArrayBuffer,
  isAsyncIterable,
  isBlob,
  isFileHandle,
  isIterable,
  isWebStream,
  knownSize,
  type SendBody,
  typeName,
} from './body-source.js';
import { jsonText } from './json-body.js';
import { type FilePart, multipart } from './multipart.js';

export type { EncodedBody, SendBody };

/** A value of a form field (`data: { … }`); arrays repeat the key, null/undefined are dropped. */
export type FormValue = string | number | boolean | bigint | null | undefined;
export type FormFields =
  | Record<string, FormValue | readonly FormValue[]>
  | Map<string, FormValue | readonly FormValue[]>
  | readonly (readonly [string, FormValue])[];

/** Content of a file (`files`): bytes, text, a Blob/File, a stream or an opened file. */
export type FileContent =
  | string
  | ArrayBufferView
  | ArrayBuffer
  | Blob
  | Readable
  | ReadableStream<Uint8Array>
  | FileHandle
  | AsyncIterable<Uint8Array | string>;

/**
 * requests' `files`: `{ field: content }` or `{ field: [filename, content, contentType?, headers?] }`
 * (filename null: a plain field without one), or a list of [field, …] pairs to repeat a field.
 */
export type FileSpec =
  | FileContent
  | readonly [
      filename: string | null,
      content: FileContent,
      contentType?: string | null,
      headers?: Record<string, string>,
    ];
export type FilesOption = Record<string, FileSpec> | readonly (readonly [string, FileSpec])[];

/** The kinds `data` takes. */
export type DataOption =
  | string
  | ArrayBufferView
  | ArrayBuffer
  | Blob
  | URLSearchParams
  | FormData
  | FormFields
  | Readable
  | ReadableStream<Uint8Array>
  | Iterable<Uint8Array | string>
  | AsyncIterable<Uint8Array | string>
  | null;

export interface BodyInput {
  data?: DataOption | undefined;
  json?: unknown;
  files?: FilesOption | undefined;
}

const ACCEPTED_DATA =
  'a string, Buffer/TypedArray/ArrayBuffer/DataView, Blob/File, URLSearchParams, FormData, a plain object or array of [key, value] pairs, a Node Readable, a ReadableStream, an (async) iterable of bytes, or null';
const ACCEPTED_FILE =
  'a string, Buffer/TypedArray/ArrayBuffer/DataView, Blob/File, a Node Readable (fs.createReadStream), a ReadableStream, an opened FileHandle, or an async iterable of bytes';

function bodyError(message: string, code = 'ERR_BODY_TYPE'): ConfigError {
  return new ConfigError(message, { code });
}

/** A fixed body: the same value every time. */
function fixed(value: string | Uint8Array, contentType: string | undefined): EncodedBody {
  return {
    contentType,
    length: typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength,
    replayable: true,
    open: () => value,
  };
}

/** A body read from a stream that can be opened once. */
function once(source: () => SendBody, contentType?: string, length?: number): EncodedBody {
  let opened = false;
  return {
    contentType,
    length,
    replayable: false,
    open() {
      if (opened) {
        throw bodyError('the request body was a stream and has already been sent', 'ERR_BODY_SPENT');
      }
      opened = true;
      return source();
    },
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** An array of [key, value] pairs (requests' list of tuples), as opposed to an array of chunks. */
function isPairs(v: unknown): v is readonly (readonly [string, unknown])[] {
  return Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string');
}

/** The form fields of `data` as [key, value] pairs: arrays repeat the key, null/undefined dropped. */
export function formPairs(fields: unknown, what = 'data'): [string, string][] {
  const entries: Iterable<readonly [unknown, unknown]> =
    fields instanceof Map
      ? fields.entries()
      : Array.isArray(fields)
        ? (fields as [unknown, unknown][])
        : Object.entries(fields as object);
  const out: [string, string][] = [];
  const push = (key: string, v: unknown) => {
    if (v === null || v === undefined) return; // requests drops None
    const t = typeof v;
    if (t === 'string' || t === 'number' || t === 'boolean' || t === 'bigint') out.push([key, String(v)]);
    else {
      throw bodyError(
        `${what} field '${key}' is a ${typeName(v)}; form fields take strings, numbers, booleans or arrays of them (nested objects are not form-encoded: pass json instead)`,
      );
    }
  };
  for (const [k, v] of entries) {
    if (typeof k !== 'string')
      throw bodyError(`${what} has a key of type ${typeName(k)}; form keys are strings`);
    if (Array.isArray(v)) for (const item of v) push(k, item);
    else push(k, v);
  }
  return out;
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * Encodes a request's body from `data`, `json` or `files` (json and data exclude each other;
 * files combine with data's fields). Undefined when there is no body. Throws ConfigError, naming
 * the type and what is accepted, for anything it cannot send.
 */
export function encodeBody(input: BodyInput): EncodedBody | undefined {
  const { data, json, files } = input;
  if (json !== undefined) {
    if (data !== undefined && data !== null)
      throw bodyError('pass either json or data, not both', 'ERR_OPTIONS');
    if (files !== undefined) throw bodyError('pass either json or files, not both', 'ERR_OPTIONS');
    return fixed(jsonText(json), 'application/json');
  }
  if (files !== undefined && files !== null) return encodeFiles(files, data);
  if (data === undefined || data === null) return undefined;
  if (typeof data === 'string') return fixed(data, undefined);
  if (ArrayBuffer.isView(data) || isArrayBuffer(data)) return fixed(bytesOf(data), undefined);
  if (isBlob(data)) {
    const blob = data;
    return {
      contentType: blob.type || undefined,
      length: blob.size,
      replayable: true,
      open: () => chunksOf(blob.stream() as unknown as AsyncIterable<Uint8Array>, 'the Blob'),
    };
  }
  if (data instanceof URLSearchParams) return fixed(data.toString(), FORM);
  if (typeof FormData !== 'undefined' && data instanceof FormData) {
    const parts: FilePart[] = [];
    for (const [name, value] of data.entries()) {
      if (typeof value === 'string') parts.push({ name, content: value });
      else parts.push({ name, filename: (value as File).name ?? 'blob', content: value });
    }
    return multipart(parts);
  }
  if (data instanceof Readable)
    return once(() => guardedStream(data, 'the data stream'), undefined, knownSize(data));
  if (isWebStream(data))
    return once(() => chunksOf(data as unknown as AsyncIterable<unknown>, 'the ReadableStream'));
  if (isPlainObject(data) || data instanceof Map || isPairs(data)) {
    return fixed(new URLSearchParams(formPairs(data)).toString(), FORM);
  }
  if (Array.isArray(data)) {
    throw bodyError(
      'data is an array but not of [key, value] pairs; pass [["a", "1"], ["b", "2"]] for a form, or a Buffer for bytes',
    );
  }
  if (isAsyncIterable(data) || isIterable(data)) {
    return once(() => chunksOf(data as AsyncIterable<unknown>, 'the data iterable'));
  }
  throw bodyError(`data cannot be a ${typeName(data)}; it takes ${ACCEPTED_DATA}`);
}

/** requests' files (and data's fields beside them) as one multipart/form-data body. */
function encodeFiles(files: unknown, data: unknown): EncodedBody {
  const parts: FilePart[] = [];
  if (data !== undefined && data !== null) {
    if (!(isPlainObject(data) || data instanceof Map || isPairs(data))) {
      throw bodyError(
        `with files, data must be form fields (a plain object or [key, value] pairs), not a ${typeName(data)}`,
      );
    }
    for (const [name, value] of formPairs(data)) parts.push({ name, content: value });
  }
  let entries: [string, unknown][];
  if (isPlainObject(files)) entries = Object.entries(files);
  else if (
    Array.isArray(files) &&
    files.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string')
  ) {
    entries = files as [string, unknown][];
  } else {
    throw bodyError(
      `files must be an object { field: content } or a list of [field, content] pairs, not a ${typeName(files)}`,
    );
  }
  for (const [name, spec] of entries) parts.push(filePart(name, spec));
  return multipart(parts);
}

/** A stream given as a body or a file's content: Node's or the web's. */
function releaseStream(v: unknown): void {
  if (v instanceof Readable) {
    // Its error, if it has one coming (a missing file), is ours to swallow: the request failed.
    v.on('error', () => {});
    if (!v.destroyed) v.destroy();
  } else if (isWebStream(v) && !v.locked) v.cancel().catch(() => {});
}

/**
 * Closes the streams a request was given (`files` contents, a `data` stream) when it fails or is
 * abandoned, whether or not its body was built or sent: a stream nobody will read would otherwise
 * hold its file descriptor, and an fs.ReadStream of a missing file would emit an error nobody
 * listens to (which ends the process). A FileHandle is left to its caller. Idempotent.
 */
export function releaseBody(input: BodyInput): void {
  const { data, files } = input;
  if (data !== undefined && data !== null) releaseStream(data);
  if (!isPlainObject(files) && !Array.isArray(files)) return;
  const specs = Array.isArray(files)
    ? files.map((p) => (Array.isArray(p) ? p[1] : undefined))
    : Object.values(files);
  for (const spec of specs) releaseStream(Array.isArray(spec) ? spec[1] : spec);
}

function filePart(name: string, spec: unknown): FilePart {
  if (Array.isArray(spec)) {
    const [filename, content, contentType, headers] = spec as unknown[];
    if (filename !== null && filename !== undefined && typeof filename !== 'string') {
      throw bodyError(
        `files field '${name}': the file name must be a string or null, not a ${typeName(filename)}`,
      );
    }
    if (contentType !== null && contentType !== undefined && typeof contentType !== 'string') {
      throw bodyError(
        `files field '${name}': the content type must be a string, not a ${typeName(contentType)}`,
      );
    }
    if (headers !== undefined && !isPlainObject(headers)) {
      throw bodyError(
        `files field '${name}': the part headers must be a plain object, not a ${typeName(headers)}`,
      );
    }
    return {
      name,
      label: `files field '${name}'`,
      ...(typeof filename === 'string' ? { filename } : {}),
      content: fileContent(name, content),
      ...(typeof contentType === 'string' ? { contentType } : {}),
      ...(headers ? { headers: headers as Record<string, string> } : {}),
    };
  }
  const content = fileContent(name, spec);
  // requests guesses the name from a file object, else uses the field's name.
  const filename =
    typeof File !== 'undefined' && content instanceof File
      ? content.name
      : content instanceof Readable && typeof (content as { path?: unknown }).path === 'string'
        ? basename((content as unknown as { path: string }).path)
        : name;
  return { name, label: `files field '${name}'`, filename, content };
}

function fileContent(name: string, c: unknown): FilePart['content'] {
  if (typeof c === 'string' || isBlob(c) || c instanceof Readable) return c;
  if (ArrayBuffer.isView(c) || isArrayBuffer(c)) return bytesOf(c);
  if (isFileHandle(c)) return c;
  if (isWebStream(c) || isAsyncIterable(c)) return c as AsyncIterable<unknown>;
  throw bodyError(`files field '${name}' cannot be a ${typeName(c)}; a file's content is ${ACCEPTED_FILE}`);
}

// Slices of a string or bytes body reported one by one (axios reports per chunk written too).
const PROGRESS_SLICE = 64 * 1024;

/** The body, counted as it is handed to the connection: onUploadProgress({ loaded, total }). */
export async function* withUploadProgress(
  body: SendBody,
  total: number | undefined,
  report: (p: { loaded: number; total: number | undefined }) => void,
): AsyncGenerator<Uint8Array> {
  let loaded = 0;
  const source: AsyncIterable<unknown> | Iterable<unknown> =
    typeof body === 'string' || body instanceof Uint8Array ? slices(body) : body;
  for await (const chunk of chunksOf(source, 'the request body')) {
    yield chunk;
    loaded += chunk.byteLength;
    report({ loaded, total });
  }
}

function* slices(body: string | Uint8Array): Generator<Uint8Array> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  for (let i = 0; i < bytes.byteLength; i += PROGRESS_SLICE) yield bytes.subarray(i, i + PROGRESS_SLICE);
}
