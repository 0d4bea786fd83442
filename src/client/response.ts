import { STATUS_CODES } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { CertainlyError, HTTPError } from '../errors.js';
import type { TlsInfo } from '../tls/connector.js';

/** The body as undici hands it over: a Readable with the fetch-style consumers. */
export interface BodySource extends Readable {
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** An HTTP response, like requests' Response: status, headers, url, history, tls, and the body. */
export class Response {
  readonly status: number;
  readonly reason: string;
  readonly headers: Headers;
  /** The final URL, after redirects. */
  readonly url: string;
  /** The redirect responses that led here, oldest first (bodies already read). */
  readonly history: Response[];
  /** What the TLS connection proved (https only): protocol, cipher, chain, anchor and its source. */
  readonly tls: TlsInfo | undefined;
  /** The request that produced this response. */
  readonly request: { method: string; url: string; headers: Headers };
  /** Milliseconds from sending the request to receiving the headers. */
  readonly elapsed: number;
  #body: BodySource | null;
  #buffer: Promise<Buffer> | null = null;
  #mapError: (err: unknown) => unknown;

  constructor(init: {
    status: number;
    headers: Headers;
    url: string;
    body: BodySource | null;
    history?: Response[];
    tls?: TlsInfo | undefined;
    request: { method: string; url: string; headers: Headers };
    elapsed: number;
    /** Turns an error of the body stream (undici's) into ours. */
    mapError?: (err: unknown) => unknown;
  }) {
    this.#mapError = init.mapError ?? ((e) => e);
    this.status = init.status;
    this.reason = STATUS_CODES[init.status] ?? '';
    this.headers = init.headers;
    this.url = init.url;
    this.history = init.history ?? [];
    this.tls = init.tls;
    this.request = init.request;
    this.elapsed = init.elapsed;
    this.#body = init.body;
  }

  /** True for status < 400, as requests' Response.ok. */
  get ok(): boolean {
    return this.status < 400;
  }

  /** The whole body as bytes (read once, then cached). */
  bytes(): Promise<Buffer> {
    if (this.#buffer === null) {
      const body = this.#body;
      this.#body = null;
      if (body === null) {
        this.#buffer = Promise.reject(
          new CertainlyError('the response body was already taken as a stream', { code: 'ERR_BODY_USED' }),
        );
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

  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = await this.bytes();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }

  /** The body decoded as UTF-8 (or the charset the content-type names, if node knows it). */
  async text(): Promise<string> {
    const b = await this.bytes();
    const m = /charset=([^;\s]+)/i.exec(this.headers.get('content-type') ?? '');
    const charset = m?.[1]?.replace(/"/g, '').toLowerCase();
    try {
      return new TextDecoder(charset ?? 'utf-8').decode(b);
    } catch {
      return new TextDecoder('utf-8').decode(b);
    }
  }

  async json<T = unknown>(): Promise<T> {
    const text = await this.text();
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new CertainlyError(`the response from ${this.url} is not valid JSON: ${(err as Error).message}`, {
        code: 'ERR_INVALID_JSON',
        cause: err,
      });
    }
  }

  /** The body as a stream, for large downloads; the other readers cannot be used after. */
  stream(): Readable {
    const body = this.#body;
    if (body === null) {
      throw new CertainlyError('the response body was already read', { code: 'ERR_BODY_USED' });
    }
    this.#body = null;
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
