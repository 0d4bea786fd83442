import { constants as bufferConstants } from 'node:buffer';
import { PassThrough, type Readable } from 'node:stream';
import { CertainlyError, HTTPError, ResponseTooLarge } from '../errors.js';
import type { TlsInfo } from '../tls/handshake.js';
import { type Cookie, ResponseCookies } from './cookies.js';
import { type BodyPlan, decodedBody } from './decode.js';
import { reasonPhrase } from './reasons.js';
import type { RetryRecord } from './retry.js';

const NO_RETRIES: readonly RetryRecord[] = Object.freeze([]);

/**
 * The most a reader can hold: V8's longest string (2^29 - 24 UTF-16 units on 64-bit), which
 * Node's decoders refuse for a buffer of more bytes than that whatever its characters; and the
 * largest Buffer (4 GiB on Node 20).
 */
const MAX_STRING = bufferConstants.MAX_STRING_LENGTH;
const MAX_BUFFER = bufferConstants.MAX_LENGTH;

type Reader = 'text()' | 'json()' | 'bytes()';

/** Header fields as undici returns them: lower-case names, repeated fields as arrays. */
export type RawHeaders = Record<string, string | string[] | undefined>;

/** The request that produced a response; `headers` is built on first use. */
export class SentRequest {
  readonly method: string;
  readonly url: string;
  readonly #record: Readonly<Record<string, string | readonly string[]>>;
  #headers: Headers | undefined;
  constructor(method: string, url: string, record: Readonly<Record<string, string | readonly string[]>>) {
    this.method = method;
    this.url = url;
    this.#record = record;
  }
  /** The headers as sent (cookies from the jar included). */
  get headers(): Headers {
    this.#headers ??= headersOf(this.#record);
    return this.#headers;
  }
}

/** The body as undici hands it over: a Readable with the fetch-style consumers. */
export interface BodySource extends Readable {
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Responses whose body the client read off and dropped (a redirect's, a Digest challenge's). */
const DISCARDED = new WeakSet<object>();

/** Marks `response` as one whose body the client discarded, for the message a later read gets. */
export function noteDiscarded(response: object): void {
  DISCARDED.add(response);
}

function discardedError(): CertainlyError {
  return new CertainlyError(
    "this response's body was discarded by the client: a redirect's (or a Digest challenge's) body is read off so that its connection can be reused",
    {
      code: 'ERR_BODY_USED',
      hint: 'Pass allowRedirects: false to get the redirect response itself, body included.',
    },
  );
}

/** An HTTP response, like requests' Response: status, headers, url, history, tls, and the body. */
export class Response {
  readonly status: number;
  readonly reason: string;
  /** The final URL, after redirects. */
  readonly url: string;
  /** The redirect responses that led here, oldest first (bodies already read). */
  readonly history: Response[];
  /** What the TLS connection proved (https only): protocol, cipher, chain, anchor and its source. */
  readonly tls: TlsInfo | undefined;
  /** The request that produced this response. */
  readonly request: SentRequest;
  /** The HTTP version the response came over: '2' when the connection negotiated h2 (the http2 option), else '1.1'. */
  readonly httpVersion: '1.1' | '2';
  /** Milliseconds from sending the request to receiving the headers. */
  readonly elapsed: number;
  /**
   * The retries made before this response (retries option): one record per failed attempt, with
   * its kind ('connect', 'read', 'status'), reason (an error code or 'HTTP 503') and the wait.
   * Empty when the first attempt was the answer.
   */
  readonly retries: readonly RetryRecord[];
  readonly #cookieList: readonly Cookie[] | undefined;
  #cookies: ResponseCookies | undefined;
  #body: BodySource | null;
  #buffer: Promise<Buffer> | null = null;
  /** Why the body was refused before it was read (too large for the reader asked): the other readers get it too. */
  #refused: Error | undefined;
  #mapError: (err: unknown) => unknown;
  readonly #raw: RawHeaders;
  #headers: Headers | undefined;
  readonly #plan: BodyPlan | undefined;
  readonly #decodeError: Error | undefined;

  constructor(init: {
    status: number;
    /** As undici returns them; the Headers object is built only if `headers` is read. */
    rawHeaders: RawHeaders;
    url: string;
    body: BodySource | null;
    history?: Response[];
    tls?: TlsInfo | undefined;
    request: SentRequest;
    elapsed: number;
    /** The cookies its Set-Cookie lines stored. */
    cookies?: readonly Cookie[];
    /** Default '1.1'. */
    httpVersion?: '1.1' | '2';
    retries?: readonly RetryRecord[];
    /** Turns an error of the body stream (undici's) into ours. */
    mapError?: (err: unknown) => unknown;
    /** Decoding, size limit, progress; undefined when none applies (the body is read as is). */
    plan?: BodyPlan | undefined;
    /** Why the body cannot be decoded (an unsupported Content-Encoding): reading it throws this. */
    decodeError?: Error | undefined;
  }) {
    this.#mapError = init.mapError ?? ((e) => e);
    this.status = init.status;
    this.reason = reasonPhrase(init.status);
    this.#raw = init.rawHeaders;
    this.url = init.url;
    this.history = init.history ?? [];
    this.tls = init.tls;
    this.request = init.request;
    this.#cookieList = init.cookies;
    this.httpVersion = init.httpVersion ?? '1.1';
    this.elapsed = init.elapsed;
    this.retries = init.retries ?? NO_RETRIES;
    this.#body = init.body;
    this.#plan = init.plan;
    this.#decodeError = init.decodeError;
  }

  /**
   * Calls `fn` once the body is finished with: read to the end, failed, or dropped (at once if
   * there is none). The session clears timeout.total's timer with it.
   */
  onBodyClosed(fn: () => void): void {
    const body = this.#body;
    if (body === null || body.destroyed || body.readableEnded) fn();
    else body.once('close', fn);
  }

  /** The response headers (case-insensitive Headers). */
  get headers(): Headers {
    this.#headers ??= headersOf(this.#raw);
    return this.#headers;
  }

  /** The cookies this response set (those the jar accepted): r.cookies.get('name'), .toObject(), .list(). */
  get cookies(): ResponseCookies {
    this.#cookies ??= new ResponseCookies(this.#cookieList);
    return this.#cookies;
  }

  /** One header's raw value(s), without building the Headers object (the redirect loop's path). */
  rawHeader(name: string): string | string[] | undefined {
    return this.#raw[name];
  }

  /** True for status < 400, as requests' Response.ok. */
  get ok(): boolean {
    return this.status < 400;
  }

  /** The whole body as bytes, decoded (read once, then cached). */
  bytes(): Promise<Buffer> {
    return this.#read('bytes()', MAX_BUFFER);
  }

  /**
   * The body read whole by `reader`, which can hold `limit` bytes: refused before reading when
   * the Content-Length (of a body not decoded) already passes it, and as soon as the bytes read
   * pass it otherwise, not after buffering everything. Read once; every reader shares it.
   */
  #read(reader: Reader, limit: number): Promise<Buffer> {
    if (this.#buffer === null) {
      const body = this.#body;
      this.#body = null;
      const declared = this.#declaredLength();
      if (body === null) {
        this.#buffer = Promise.reject(
          this.#refused ??
            (DISCARDED.has(this)
              ? discardedError()
              : new CertainlyError('the response body was already taken as a stream', {
                  code: 'ERR_BODY_USED',
                })),
        );
      } else if (this.#decodeError) {
        dropBody(body);
        this.#buffer = Promise.reject(this.#decodeError);
      } else if (declared !== undefined && declared > limit) {
        dropBody(body);
        this.#refused = this.#tooLarge(reader, `its Content-Length is ${declared} bytes`, false);
        this.#buffer = Promise.reject(this.#refused);
      } else if (this.#plan) {
        this.#buffer = collect(decodedBody(body, this.#plan, this.#mapError), limit, () =>
          this.#tooLarge(
            reader,
            `more than ${limit} bytes${this.#plan?.codings.length ? ' once decoded' : ''}`,
            true,
          ),
        );
      } else if (declared === undefined) {
        // No length given (chunked): counted as it comes.
        this.#buffer = collect(body, limit, () =>
          this.#tooLarge(reader, `more than ${limit} bytes`, true),
        ).catch((err: unknown) => {
          throw this.#mapError(err);
        });
      } else {
        this.#buffer = body.arrayBuffer().then(
          (ab) => Buffer.from(ab),
          (err: unknown) => {
            throw this.#mapError(err);
          },
        );
      }
    }
    return this.#buffer;
  }

  /** The body's length as read, when the headers say it: a Content-Length of a body not decoded. */
  #declaredLength(): number | undefined {
    if (this.#plan !== undefined && this.#plan.codings.length > 0) return undefined;
    if (this.status === 204 || this.status === 304 || this.request.method === 'HEAD') return undefined;
    const cl = this.#raw['content-length'];
    return typeof cl === 'string' && /^\d+$/.test(cl) ? Number(cl) : undefined;
  }

  #tooLarge(reader: Reader, what: string, started: boolean): ResponseTooLarge {
    const string = reader !== 'bytes()';
    const can = string
      ? `a string holds at most ${MAX_STRING} characters, and Node decodes no more bytes than that into one`
      : `a Buffer holds at most ${MAX_BUFFER} bytes`;
    return new ResponseTooLarge(`the response from ${this.url} is too large for ${reader}: ${what}; ${can}`, {
      code: string ? 'ERR_STRING_TOO_LONG' : 'ERR_BUFFER_TOO_LARGE',
      hint: `${started ? 'The transfer was stopped there.' : 'Nothing of it was read; its connection was closed.'} Read a body this large with r.stream() (pipe it to a file, or parse it as it comes), or set maxResponseSize to refuse such bodies.`,
    });
  }

  /** The whole body; the same ArrayBuffer on every call (no copy). */
  arrayBuffer(): Promise<ArrayBuffer> {
    // then(), not an async function: one promise fewer on every response read this way.
    return this.bytes().then(wholeArrayBuffer);
  }

  /** The body decoded as UTF-8 (or the charset the content-type names, if node knows it). */
  text(): Promise<string> {
    return this.#text('text()');
  }

  async #text(reader: Reader): Promise<string> {
    const b = await this.#read(reader, MAX_STRING);
    // Read by bytes() first, which holds more: Node's decoders would throw (one of them ends the
    // process) for more bytes than a string holds.
    if (b.length > MAX_STRING) throw this.#tooLarge(reader, `it is ${b.length} bytes`, true);
    const ct = this.#raw['content-type'];
    const m = /charset=([^;\s]+)/i.exec(typeof ct === 'string' ? ct : '');
    const charset = m?.[1]?.replace(/"/g, '').toLowerCase();
    // UTF-8 without a BOM check, as TextDecoder would (but without building one per call).
    if (charset === undefined || charset === 'utf-8' || charset === 'utf8') {
      const start = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
      return b.toString('utf8', start);
    }
    try {
      return new TextDecoder(charset).decode(b);
    } catch {
      return b.toString('utf8');
    }
  }

  async json<T = unknown>(): Promise<T> {
    const text = await this.#text('json()');
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new CertainlyError(`the response from ${this.url} is not valid JSON: ${(err as Error).message}`, {
        code: 'ERR_INVALID_JSON',
        cause: err,
      });
    }
  }

  /** The body as a stream (decoded), for large downloads; the other readers cannot be used after. */
  stream(): Readable {
    const body = this.#takeBody();
    if (this.#decodeError) {
      dropBody(body);
      throw this.#decodeError;
    }
    if (this.#plan) return decodedBody(body, this.#plan, this.#mapError);
    return this.#mapped(body);
  }

  /**
   * The body as the server sent it, Content-Encoding not undone (requests' r.raw); the other
   * readers cannot be used after. maxResponseSize still applies, to the bytes as sent.
   */
  rawStream(): Readable {
    const body = this.#takeBody();
    const plan = this.#plan;
    if (plan?.maxSize !== undefined) {
      return decodedBody(body, { ...plan, codings: [], onProgress: undefined }, this.#mapError);
    }
    return this.#mapped(body);
  }

  #takeBody(): BodySource {
    const body = this.#body;
    if (body === null) {
      if (this.#refused) throw this.#refused;
      if (DISCARDED.has(this)) throw discardedError();
      throw new CertainlyError('the response body was already read', { code: 'ERR_BODY_USED' });
    }
    this.#body = null;
    return body;
  }

  #mapped(body: BodySource): Readable {
    // Errors while streaming (a stall past the read timeout, a reset) arrive as ours too.
    const out = new PassThrough();
    body.on('error', (err) => out.destroy(this.#mapError(err) as Error));
    out.on('close', () => {
      if (!body.destroyed && !body.readableEnded) body.destroy();
    });
    return body.pipe(out);
  }

  /** Throws HTTPError for 4xx and 5xx statuses, as requests' raise_for_status(). */
  raiseForStatus(): this {
    if (this.status >= 400) {
      const kind = this.status < 500 ? 'Client Error' : 'Server Error';
      throw new HTTPError(`${this.status} ${kind}: ${this.reason} for url: ${this.url}`, {
        status: this.status,
        url: this.url,
        response: this,
      });
    }
    return this;
  }

  /** Discards an unread body so the connection can be reused. */
  async dump(): Promise<void> {
    const body = this.#body;
    this.#body = null;
    if (body) {
      for await (const _ of body) {
        // drain
      }
    }
  }
}

/** The bytes of `b` as an ArrayBuffer: its own when it spans all of it, else a copy. */
function wholeArrayBuffer(b: Buffer): ArrayBuffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b.buffer as ArrayBuffer;
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** A stream's chunks as one Buffer; past `limit` bytes the stream is destroyed and `over()` thrown. */
async function collect(stream: Readable, limit: number, over: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    // Leaving the loop destroys the stream, and with it undici's body and connection.
    if (size > limit) throw over();
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}

/** Destroys a body nobody will read (undici then emits an abort error, which is expected). */
export function dropBody(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

/** A Headers object for users (Response.headers, Response.request.headers), built from a record. */
export function headersOf(record: Readonly<Record<string, string | readonly string[] | undefined>>): Headers {
  const h = new Headers();
  for (const k in record) {
    const v = record[k];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) h.append(k, item);
    else h.append(k, v as string);
  }
  return h;
}
