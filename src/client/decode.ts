/**
 * Response decoding (Content-Encoding) and the body's bounds: decoded bytes are counted against
 * maxResponseSize (so a decompression bomb stops at the limit) and reported to progress callbacks.
 *
 * Nothing here runs for a response without Content-Encoding, a size limit or a progress callback:
 * Response reads undici's body directly then (the keep-alive hot path).
 */
import { Duplex, Readable, Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { DecodeError, ResponseTooLarge } from '../errors.js';

// zstd arrived in node:zlib in Node 22.15 / 23.8: advertised only where it can be decoded.
const HAS_ZSTD = typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';

/** The codings we decode, in the order Accept-Encoding lists them. */
export const DECODED_CODINGS: readonly string[] = HAS_ZSTD
  ? ['gzip', 'deflate', 'br', 'zstd']
  : ['gzip', 'deflate', 'br'];
/** The default Accept-Encoding: exactly what we decode. */
export const ACCEPT_ENCODING = DECODED_CODINGS.join(', ');

// urllib3 refuses more than 5 stacked codings (response.py, MultiDecoder, since 2.0.6): each
// layer multiplies what a small body can expand to. Real servers send one.
const MAX_CODINGS = 5;

/** Progress of a download: decoded bytes, and the bytes as they came over the wire. */
export interface DownloadProgress {
  /** Bytes delivered (decoded). */
  loaded: number;
  /** The decoded size when known (Content-Length of an unencoded body), else undefined. */
  total: number | undefined;
  /** Bytes received as sent (before decoding). */
  rawLoaded: number;
  /** Content-Length as sent, when the server gave one. */
  rawTotal: number | undefined;
}

/** What the body pipeline needs, decided when the headers arrive. */
export interface BodyPlan {
  /** Codings to undo, in the order they were applied (Content-Encoding order); empty: none. */
  codings: readonly string[];
  /** Abort past this many decoded bytes (undefined: unlimited). */
  maxSize: number | undefined;
  onProgress: ((p: DownloadProgress) => void) | undefined;
  /** Content-Length as sent, if any. */
  rawTotal: number | undefined;
  /** The URL, for messages. */
  url: string;
}

/**
 * The codings of a Content-Encoding value, lower-cased, 'identity' dropped; [] for none.
 * An empty or absent header is no coding.
 */
export function parseCodings(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const joined = Array.isArray(value) ? value.join(',') : value;
  const out: string[] = [];
  for (const part of joined.split(',')) {
    const c = part.trim().toLowerCase();
    if (c !== '' && c !== 'identity') out.push(c);
  }
  return out;
}

/** A zlib-wrapped deflate stream starts with CMF/FLG: method 8, and a multiple of 31 (RFC 1950 §2.2). */
function isZlibHeader(b: Buffer): boolean {
  return (
    b.length >= 2 &&
    ((b[0] as number) & 0x0f) === 8 &&
    (((b[0] as number) << 8) | (b[1] as number)) % 31 === 0
  );
}

function decoderFor(coding: string, head: Buffer): Transform {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      // RFC 9110 says zlib-wrapped; some servers (old IIS) send raw deflate. Both are accepted,
      // told apart by the zlib header, as browsers and curl do.
      return isZlibHeader(head) ? zlib.createInflate() : zlib.createInflateRaw();
    case 'br':
      return zlib.createBrotliDecompress();
    default: {
      const z = zlib as unknown as { createZstdDecompress: () => Transform };
      return z.createZstdDecompress();
    }
  }
}

/**
 * A Duplex that undoes one coding. The decoder is chosen on the first bytes (deflate's two
 * formats) and made only if there are any: an empty body with a Content-Encoding is empty,
 * not an "unexpected end of file". A failure of the decoder is a DecodeError; a failure of the
 * body below it passes through as it is.
 */
function decodeLayer(coding: string, url: string): Duplex {
  return Duplex.from(async function* (source: AsyncIterable<Buffer>) {
    const it = source[Symbol.asyncIterator]();
    let head: Buffer = Buffer.alloc(0);
    while (head.length < 2) {
      const n = await it.next();
      if (n.done) break;
      head = head.length === 0 ? n.value : Buffer.concat([head, n.value]);
    }
    if (head.length === 0) return;
    let sourceError: unknown;
    const input = Readable.from(
      (async function* () {
        yield head;
        try {
          for (;;) {
            const n = await it.next();
            if (n.done) return;
            yield n.value;
          }
        } catch (err) {
          sourceError = err;
          throw err;
        }
      })(),
    );
    const decoder = decoderFor(coding, head);
    input.on('error', (err) => decoder.destroy(err));
    input.pipe(decoder);
    try {
      yield* decoder;
    } catch (err) {
      if (err === sourceError || !isCodecError(err)) throw err;
      throw new DecodeError(
        `the response from ${url} is not valid ${coding} (Content-Encoding: ${coding}): ${(err as Error).message}`,
        {
          cause: err,
          hint: 'The server sent a corrupt or truncated body. Pass decompress: false to get the bytes as sent.',
        },
      );
    } finally {
      input.destroy();
    }
  });
}

function isCodecError(err: unknown): boolean {
  return typeof (err as { errno?: unknown })?.errno === 'number';
}

/** Counts decoded bytes: the size limit and the progress callback. */
class Counter extends Transform {
  loaded = 0;
  rawLoaded = 0;
  readonly #plan: BodyPlan;
  constructor(plan: BodyPlan) {
    super();
    this.#plan = plan;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.loaded += chunk.length;
    const max = this.#plan.maxSize;
    if (max !== undefined && this.loaded > max) {
      done(tooLarge(this.#plan, `more than ${max} bytes`));
      return;
    }
    this.#report();
    done(null, chunk);
  }
  #report(): void {
    const p = this.#plan;
    if (!p.onProgress) return;
    p.onProgress({
      loaded: this.loaded,
      total: p.codings.length === 0 ? p.rawTotal : undefined,
      rawLoaded: this.rawLoaded,
      rawTotal: p.rawTotal,
    });
  }
}

export function tooLarge(
  plan: Pick<BodyPlan, 'maxSize' | 'url' | 'codings'>,
  what: string,
): ResponseTooLarge {
  return new ResponseTooLarge(
    `the response from ${plan.url} is larger than maxResponseSize (${plan.maxSize} bytes): ${what}${plan.codings.length > 0 ? ' once decoded' : ''}`,
    { hint: 'Raise maxResponseSize, or read the body with stream() and stop when you have enough.' },
  );
}

/**
 * The error for a Content-Encoding we do not decode (or too many stacked), or undefined when
 * the codings can be decoded.
 */
export function unsupportedCodings(codings: readonly string[], url: string): DecodeError | undefined {
  if (codings.length > MAX_CODINGS) {
    return new DecodeError(
      `the response from ${url} has ${codings.length} stacked content codings (${codings.join(', ')}); at most ${MAX_CODINGS} are decoded`,
      { code: 'ERR_UNSUPPORTED_ENCODING', hint: 'Pass decompress: false to get the bytes as sent.' },
    );
  }
  for (const c of codings) {
    if (c === 'x-gzip' || DECODED_CODINGS.includes(c)) continue;
    return new DecodeError(
      `the response from ${url} has Content-Encoding '${c}', which certainly does not decode (it decodes ${ACCEPT_ENCODING})`,
      {
        code: 'ERR_UNSUPPORTED_ENCODING',
        hint: `Pass decompress: false to get the bytes as sent${c === 'zstd' ? ', or use Node 22.15+ (zstd in node:zlib)' : ''}.`,
      },
    );
  }
  return undefined;
}

/**
 * The body as it should be read: decoded (last coding applied is undone first), counted,
 * limited. Errors of `raw` are mapped with `mapError`; the result's errors are ours.
 */
export function decodedBody(raw: Readable, plan: BodyPlan, mapError: (err: unknown) => unknown): Readable {
  const counter = new Counter(plan);
  const layers: Duplex[] = [];
  for (let i = plan.codings.length - 1; i >= 0; i--)
    layers.push(decodeLayer(plan.codings[i] as string, plan.url));
  if (plan.onProgress) raw.on('data', (c: Buffer) => (counter.rawLoaded += c.length));
  let last: Readable = raw;
  raw.on('error', (err) => counter.destroy(mapError(err) as Error));
  for (const layer of layers) {
    last.pipe(layer);
    layer.on('error', (err) => counter.destroy(mapError(err) as Error));
    last = layer;
  }
  last.pipe(counter);
  // The reader gave up (destroyed the stream, or stopped iterating): so does everything below.
  counter.on('close', () => {
    for (const l of layers) l.destroy();
    if (!raw.destroyed && !raw.readableEnded) raw.destroy();
  });
  return counter;
}

/** What decides a response's body plan: the request's options and what the server answered. */
export interface PlanInput {
  method: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  url: string;
  decompress: boolean;
  maxSize: number | undefined;
  onProgress: ((p: DownloadProgress) => void) | undefined;
}

/**
 * The plan for a response body, or undefined when it is read as is (no coding, no limit, no
 * callback: the hot path allocates nothing here). Throws ResponseTooLarge at once when the
 * Content-Length of an unencoded body already passes the limit.
 */
export function planFor(p: PlanInput): { plan?: BodyPlan; decodeError?: DecodeError } | undefined {
  const ce = p.headers['content-encoding'];
  if (ce === undefined && p.maxSize === undefined && p.onProgress === undefined) return undefined;
  // No body to decode: HEAD, 204, 304 (RFC 9110 §6.4.1).
  const bodiless = p.method === 'HEAD' || p.status === 204 || p.status === 304;
  const codings = p.decompress && !bodiless ? parseCodings(ce) : [];
  const cl = p.headers['content-length'];
  const rawTotal = typeof cl === 'string' && /^\d+$/.test(cl) ? Number(cl) : undefined;
  if (codings.length === 0 && p.maxSize === undefined && p.onProgress === undefined) return undefined;
  const decodeError = unsupportedCodings(codings, p.url);
  const plan: BodyPlan = { codings, maxSize: p.maxSize, onProgress: p.onProgress, rawTotal, url: p.url };
  if (p.maxSize !== undefined && codings.length === 0 && rawTotal !== undefined && rawTotal > p.maxSize) {
    throw tooLarge(plan, `its Content-Length is ${rawTotal}`);
  }
  return decodeError ? { plan, decodeError } : { plan };
}
