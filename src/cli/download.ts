/**
 * `certainly get` as a download tool: where the body goes (stdout, -o FILE, -O), byte for byte
 * and in constant memory, with a progress line on a terminal; and the request body of -d,
 * --data-binary (TEXT, @file, @- for stdin), as curl reads them.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, openAsBlob, readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Readable } from 'node:stream';
import type { FileSpec } from '../client/body.js';
import { UsageError } from './args.js';
import { esc, quote, writeControl } from './safe.js';

/** Bodies smaller than this finish before a progress line would be read: none is drawn. */
const PROGRESS_FROM = 1 << 20;
/** A progress line is redrawn at most this often (ms): a terminal is slower than a loopback. */
const PROGRESS_EVERY_MS = 100;
/**
 * Largest file -d @FILE reads into memory (it strips newlines, so it cannot stream); bigger
 * bodies go with --data-binary @FILE, which streams. 64 MiB: far past any form post.
 */
export const MAX_DATA_FILE = 64 << 20;

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1 << 30) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / (1 << 30)).toFixed(2)} GiB`;
}

/** A one-line progress display on stderr: bytes, percent when the length is known, rate. */
class Progress {
  readonly #stream: NodeJS.WritableStream;
  readonly #total: number | undefined;
  readonly #start = Date.now();
  #last = 0;
  #shown = false;
  constructor(stream: NodeJS.WritableStream, total: number | undefined) {
    this.#stream = stream;
    this.#total = total;
  }
  update(done: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.#last < PROGRESS_EVERY_MS) return;
    this.#last = now;
    const rate = done / Math.max(0.001, (now - this.#start) / 1000);
    const pct = this.#total ? ` ${((100 * done) / this.#total).toFixed(0).padStart(3)}%` : '';
    const of = this.#total ? ` of ${size(this.#total)}` : '';
    writeControl(this.#stream, `\r\x1b[2K${pct} ${size(done)}${of}  ${size(rate)}/s`);
    this.#shown = true;
  }
  clear(): void {
    if (this.#shown) writeControl(this.#stream, '\r\x1b[2K');
  }
}

export interface BodyTarget {
  /** '-' or undefined: stdout. */
  file?: string;
  /** Append to the file instead of replacing it (-C: the bytes continue what it holds). */
  append?: boolean;
  /** Show a progress line on stderr (when it is a terminal and the body is large). */
  progress: boolean;
  /** Content-Length, if the server sent one. */
  length?: number;
  /** Its `bytes` is raised by each chunk written (for -w %{size_download}). */
  counter?: { bytes: number };
}

/**
 * Writes the body, chunk by chunk (constant memory, whatever its size), to stdout or a file.
 * On a terminal, a body with a NUL byte is not written: curl refuses binary output to a
 * terminal too. Returns the exit code: 0, or 23 (curl's write error) when it cannot be written.
 */
export async function writeBody(
  body: Readable,
  target: BodyTarget,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
): Promise<number> {
  const toFile = target.file !== undefined && target.file !== '-';
  const out: NodeJS.WritableStream = toFile
    ? createWriteStream(target.file!, { flags: target.append ? 'a' : 'w' })
    : stdout;
  const tty = !toFile && (stdout as { isTTY?: boolean }).isTTY === true;
  const large = target.length === undefined || target.length >= PROGRESS_FROM;
  const progress =
    target.progress && large && (stderr as { isTTY?: boolean }).isTTY === true
      ? new Progress(stderr, target.length)
      : undefined;
  let failed: Error | undefined;
  const onError = (err: Error) => {
    failed = err;
    body.destroy();
  };
  if (toFile) out.on('error', onError);
  let done = 0;
  let last = -1;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (failed) break;
      if (chunk.length === 0) continue;
      if (tty && chunk.includes(0)) {
        body.destroy();
        stderr.write(
          'certainly get: the body is binary and output is a terminal; not written. Use -o FILE.\n',
        );
        return 23;
      }
      if (!out.write(chunk)) await drained(out);
      done += chunk.length;
      if (target.counter) target.counter.bytes += chunk.length;
      last = chunk[chunk.length - 1]!;
      progress?.update(done);
    }
  } catch (err) {
    if (!failed) throw err;
  } finally {
    progress?.clear();
  }
  if (toFile) {
    if (!failed) {
      out.end();
      await Promise.race([once(out, 'finish'), once(out, 'error')]).catch(() => {});
    }
    if (failed) {
      stderr.write(
        `certainly get: cannot write ${quote(target.file!)}: ${esc((failed as NodeJS.ErrnoException).code ?? failed.message)}\n`,
      );
      return 23;
    }
  }
  // On a terminal, end with a newline so the prompt does not follow the body on its last line.
  if (tty && last !== -1 && last !== 0x0a) out.write('\n');
  return 0;
}

/**
 * Resolves when `out` drains or fails (the failure itself is handled by the caller's listener),
 * leaving no listener behind: a race of two `once()` calls would leave one 'error' listener per
 * full buffer, thousands over a large download (and Node's MaxListenersExceededWarning on stderr).
 */
function drained(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.removeListener('drain', done);
      out.removeListener('error', done);
      resolve();
    };
    out.on('drain', done);
    out.on('error', done);
  });
}

/**
 * The file name -O takes from the URL: its last path segment, as curl does, refused when it
 * could land anywhere but in the current directory or is not a name at all.
 */
export function remoteName(url: string): string {
  const path = new URL(url).pathname;
  let name = path.slice(path.lastIndexOf('/') + 1);
  try {
    name = decodeURIComponent(name);
  } catch {
    // A malformed %-escape: keep the text as it is, checked below like any other.
  }
  const why =
    name === ''
      ? 'the URL path ends in /, so it names no file'
      : name === '.' || name === '..'
        ? 'it is a directory name'
        : /[/\\]/.test(name)
          ? 'it holds a path separator'
          : /[\0-\x1f\x7f-\x9f\p{Cf}]/u.test(name)
            ? 'it holds control or invisible characters'
            : name.startsWith('.')
              ? 'it would be a hidden file'
              : name.startsWith('-')
                ? 'it starts with -'
                : name.length > 255
                  ? 'it is longer than 255 characters'
                  : undefined;
  if (why !== undefined)
    throw new UsageError(`-O cannot take a file name from this URL: ${why}; use -o FILE`);
  return name;
}

/** The request body of -d and --data-binary, and the content type curl would send with -d. */
export interface RequestBody {
  data: string | Buffer | Readable;
  contentType?: string;
}

export function readFileArg(flag: string, path: string, limit: number): Buffer {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`${flag} @${path}: not a regular file`);
    if (st.size > limit)
      throw new UsageError(
        `${flag} @${path}: larger than ${size(limit)}; use --data-binary @FILE, which streams`,
      );
    return readFileSync(path);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(
      `${flag} @${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

async function readStdin(stdin: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stdin as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit)
      throw new UsageError(
        `-d @-: standard input is larger than ${size(limit)}; use --data-binary @-, which streams`,
      );
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/**
 * -d TEXT / @FILE / @- (newlines stripped from a file, as curl does; several joined with &;
 * sent as application/x-www-form-urlencoded unless a Content-Type is given) and --data-binary
 * (bytes as they are; one --data-binary @FILE or @- alone streams, in constant memory).
 */
export async function requestBody(
  data: readonly (string | Buffer)[],
  binary: readonly string[],
  stdin: NodeJS.ReadableStream,
): Promise<RequestBody | undefined> {
  if (data.length === 0 && binary.length === 0) return undefined;
  const form = 'application/x-www-form-urlencoded';
  if (data.length === 0 && binary.length === 1 && binary[0]!.startsWith('@')) {
    const path = binary[0]!.slice(1);
    if (path === '-') return { data: stdin as Readable, contentType: form };
    readFileArg('--data-binary', path, Number.MAX_SAFE_INTEGER); // exists and is a file
    return { data: createReadStream(path), contentType: form };
  }
  const parts: Buffer[] = [];
  for (const d of data) {
    if (typeof d !== 'string') parts.push(d);
    else if (!d.startsWith('@')) parts.push(Buffer.from(d));
    else {
      const raw =
        d === '@-' ? await readStdin(stdin, MAX_DATA_FILE) : readFileArg('-d', d.slice(1), MAX_DATA_FILE);
      parts.push(Buffer.from(raw.toString('latin1').replace(/[\r\n]/g, ''), 'latin1'));
    }
  }
  for (const b of binary) {
    if (!b.startsWith('@')) parts.push(Buffer.from(b));
    else
      parts.push(
        b === '@-'
          ? await readStdin(stdin, MAX_DATA_FILE)
          : readFileArg('--data-binary', b.slice(1), MAX_DATA_FILE),
      );
  }
  const joined: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i > 0) joined.push(Buffer.from('&'));
    joined.push(p);
  });
  return { data: Buffer.concat(joined), contentType: form };
}

/**
 * Content types curl's -F guesses from a file's extension (curl's lib/mime.c table); anything
 * else is application/octet-stream, and `;type=` overrides.
 */
const FORM_TYPES: Record<string, string> = {
  '.gif': 'image/gif',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain',
  '.htm': 'text/html',
  '.html': 'text/html',
  '.pdf': 'application/pdf',
  '.xml': 'application/xml',
};

/**
 * -F as curl reads it, as the library's `files` pairs (in order; a name may repeat):
 *   name=value              a text field
 *   name=@path              a file part: filename=basename, type by extension (as curl)
 *   name=<path              a text field whose value is the file's content
 * followed by `;type=TYPE` and, for @path, `;filename=NAME`. A file is sent from disk as it is
 * read (a Blob over the file: its size is known, so Content-Length is sent).
 */
export async function formParts(specs: readonly string[]): Promise<[string, FileSpec][]> {
  const out: [string, FileSpec][] = [];
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new UsageError(`-F ${quote(spec)}: give name=value, name=@file or name=<file`);
    const name = spec.slice(0, eq);
    const rest = spec.slice(eq + 1);
    const kind = rest.startsWith('@') ? 'file' : rest.startsWith('<') ? 'content' : 'text';
    let body = kind === 'text' ? rest : rest.slice(1);
    const params: Record<string, string> = {};
    // Parameters: ;type= and ;filename= at the end (for a text value, only a final ;type=).
    const re = kind === 'text' ? /;type=([^;]*)$/ : /;(type|filename)=([^;]*)$/;
    for (let m = re.exec(body); m; m = re.exec(body)) {
      if (kind === 'text') params.type = m[1]!;
      else params[m[1]!] ??= m[2]!;
      body = body.slice(0, m.index);
    }
    if (kind !== 'text' && body.includes(';'))
      throw new UsageError(
        `-F ${quote(spec)}: after the file name only ;type=TYPE and ;filename=NAME are understood`,
      );
    if (params.filename !== undefined && kind !== 'file')
      throw new UsageError(`-F ${quote(spec)}: ;filename= goes with name=@file`);
    const type = params.type;
    if (type !== undefined && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\/[^\r\n]+$/.test(type))
      throw new UsageError(`-F ${quote(spec)}: ${quote(type)} is not a content type (like text/plain)`);
    if (kind === 'text') {
      out.push([name, [null, body, type ?? null]]);
      continue;
    }
    if (body === '-' || body === '')
      throw new UsageError(`-F ${quote(spec)}: give a file path (standard input is not read by -F)`);
    if (kind === 'content') {
      out.push([name, [null, readFileArg('-F', body, MAX_DATA_FILE), type ?? null]]);
      continue;
    }
    readFileArg('-F', body, Number.MAX_SAFE_INTEGER); // a regular file that can be read
    const blob = await openAsBlob(body);
    const filename = params.filename ?? basename(body);
    out.push([
      name,
      [filename, blob, type ?? FORM_TYPES[extname(body).toLowerCase()] ?? 'application/octet-stream'],
    ]);
  }
  return out;
}
