/**
 * What every trust source shares: the result shape, reading bounded files, finding the
 * certificates in PEM or DER bytes, and a parse cache so that a root seen in several sources
 * (Node's bundle, the system bundle, the system directory) is parsed once per process.
 */
import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  openSync,
  readSync,
  type Stats,
  statSync,
} from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Certificate } from '../x509/types.js';
import { caError } from './codes.js';
import { lazyCertificate, parseCached } from './lazy.js';
import type { AnchorSource } from './types.js';

export { parseCached };

/** What one source contributed: its certificates in order, and what it had to skip. */
export interface SourceResult {
  source: AnchorSource;
  certs: Certificate[];
  /** Things skipped or not found, as sentences (never fatal by themselves). */
  warnings: string[];
  /** Files and directories read, with their stat signatures, so a change can be noticed. */
  stamps: Stamp[];
}

/** A path and what stat said about it when it was read. */
export interface Stamp {
  path: string;
  sig: string;
}

// The largest public bundles (Mozilla's, ~150 roots) are about 220 KB; 16 MiB is 70 times
// that and still refuses to read a disk image or a log file given by mistake.
export const MAX_CA_FILE_BYTES = 16 * 1024 * 1024;

/** The stat signature of a path: mtime, size and inode ('missing' if it cannot be stat'ed). */
export function signatureOf(path: string): string {
  return fileIdentity(path)?.sig ?? 'missing';
}

/**
 * One stat of a path (following links): the file's identity (device and inode: the same file
 * reached through a link and through its own name, or through two links, has one) and its
 * signature as signatureOf gives it. Throws what statSync throws.
 */
export function statIdentity(path: string): { id: string; sig: string } {
  const st = statSync(path, { bigint: true });
  // mtime in ns, size and inode: an atomic rename changes the inode even within one mtime tick.
  return { id: `${st.dev}:${st.ino}`, sig: `${st.mtimeNs}:${st.size}:${st.ino}` };
}

function fileIdentity(path: string): { id: string; sig: string } | undefined {
  try {
    return statIdentity(path);
  } catch {
    return undefined;
  }
}

/** Why a path could not be read, in words ('does not exist', 'cannot be read (permission denied)'). */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'ENOTDIR':
      return 'does not exist (a part of the path is not a directory)';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied)';
    case 'ELOOP':
      return 'cannot be read (too many symbolic links)';
    case 'EISDIR':
      return 'is a directory';
    default:
      return `cannot be read (${code ?? (err instanceof Error ? err.message : String(err))})`;
  }
}

/** Why readBounded failed, in words: too large, not a regular file, or the fs error described. */
export function describeReadError(err: unknown): string {
  return err instanceof RangeError ? err.message : describeFsError(err);
}

/** Size caps for the files the library and the CLI read (each in bytes; see readBounded). */
export const FILE_LIMITS = {
  /** CA bundles and certificate chains: MAX_CA_FILE_BYTES. */
  certificates: MAX_CA_FILE_BYTES,
  /** CRLs: the largest public CRLs are tens of megabytes; 64 MiB refuses a disk image. */
  crl: 64 * 1024 * 1024,
  /** Client certificates, keys and PKCS#12 bundles: a few KB in practice; 1 MiB is generous. */
  key: 1024 * 1024,
  /** A passphrase file (--pass file:): one line. */
  passphrase: 64 * 1024,
  /** A list of hosts (check --targets FILE). */
  list: MAX_CA_FILE_BYTES,
} as const;

/** What the file type bits of a stat say a non-regular file is, for messages. */
/** What a non-regular file is, as a noun phrase ('a FIFO (named pipe)'), for messages. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Reads a whole regular file of at most `limit` bytes (default MAX_CA_FILE_BYTES). The file is
 * opened first, non-blocking (opening a FIFO for reading would otherwise wait for a writer
 * forever), and what was opened is checked with fstat, so a path swapped between a check and the
 * read cannot slip a device or a FIFO in: anything but a regular file is refused, and so is a
 * file larger than the limit (or one that grows past it while read). Throws the fs error, or a
 * RangeError whose message ends a sentence ("is a FIFO (named pipe), not a regular file").
 */
export function readBounded(path: string, limit: number = MAX_CA_FILE_BYTES): Buffer {
  const fd = openSync(path, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new RangeError(`is ${fileKind(st)}, not a regular file`);
    if (st.size > limit) throw new RangeError(`is ${st.size} bytes, more than the limit of ${limit} bytes`);
    // One byte more than the limit, to notice a file that grows while it is read.
    const buf = Buffer.allocUnsafe(Math.min(st.size, limit) + 1);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    if (off > limit) throw new RangeError(`grew past the limit of ${limit} bytes while it was read`);
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/**
 * readBounded for a user-given file (a client key, a chain, a passphrase file): any failure is a
 * ConfigError with `code`, naming `what` and the path, and saying the limit when it is the size.
 */
export function readUserFile(path: string, what: string, limit: number, code: string): Buffer {
  try {
    return readBounded(path, limit);
  } catch (err) {
    throw new ConfigError(`${what} '${path}' ${describeReadError(err)}`, {
      code,
      cause: err,
      hint:
        err instanceof RangeError
          ? `give a regular file of at most ${limit} bytes`
          : 'give the path of a readable regular file',
    });
  }
}

/** One PEM block: its label, where it starts, and its bytes (undefined if the base64 is broken). */
interface PemBlock {
  label: string;
  /** Offset of its BEGIN line in the text (see lineCounter). */
  start: number;
  der?: Uint8Array;
}

/**
 * Line numbers of offsets asked in increasing order, counted only when asked: only a block that
 * is reported (malformed) needs its line, and counting every newline of a system bundle up front
 * was a measurable part of reading it. Each character is still looked at once at most.
 */
function lineCounter(text: string): (offset: number) => number {
  let line = 1;
  let counted = 0;
  return (offset) => {
    for (let i = counted; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
    if (offset > counted) counted = offset;
    return line;
  };
}

const BEGIN = '-----BEGIN ';
const DASHES = '-----';

/**
 * The bytes of `body` if it is strict base64 (RFC 4648 §4: the standard alphabet only, a length
 * that is a multiple of 4, at most two '=' and only at the end), else undefined. Node's decoder
 * skips characters outside its alphabets (or stops at them), so any such character, or an '='
 * before the end, gives fewer bytes than the length promises; the only extra characters it
 * decodes are base64url's '-' and '_', refused first. This accepts exactly what the regular
 * expression /^[A-Za-z0-9+/]*={0,2}$/ with the length rule did (checked exhaustively for single
 * substitutions and on random bodies), without running it over every body of a system bundle
 * (~4 ms of a cold start, measured).
 */
function strictBase64(body: string): Buffer | undefined {
  if (body.length === 0 || body.length % 4 !== 0) return undefined;
  if (body.includes('-') || body.includes('_')) return undefined;
  let pad = 0;
  while (pad < 3 && body.charCodeAt(body.length - 1 - pad) === 0x3d) pad++;
  if (pad > 2) return undefined;
  const der = Buffer.from(body, 'base64');
  return der.length === (body.length / 4) * 3 - pad ? der : undefined;
}

/** Finds PEM blocks with a linear scan (no regular expression that could backtrack). */
function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  let at = 0;
  for (;;) {
    const start = text.indexOf(BEGIN, at);
    if (start < 0) break;
    const labelEnd = text.indexOf(DASHES, start + BEGIN.length);
    if (labelEnd < 0) break;
    const label = text.slice(start + BEGIN.length, labelEnd);
    const endMarker = `-----END ${label}-----`;
    const end = text.indexOf(endMarker, labelEnd + DASHES.length);
    if (end < 0) {
      blocks.push({ label, start });
      break;
    }
    const body = text.slice(labelEnd + DASHES.length, end).replace(/\s+/g, '');
    const block: PemBlock = { label, start };
    const der = strictBase64(body);
    if (der) block.der = der;
    blocks.push(block);
    at = end + endMarker.length;
  }
  return blocks;
}

/** The certificates found in some bytes, and what could not be used. */
export interface Extracted {
  certs: Certificate[];
  /** Certificate blocks that are malformed: 'block 3 (line 41): <reason>'. */
  invalid: string[];
  /** Other things skipped, as sentences ('2 PRIVATE KEY blocks', …). */
  skipped: string[];
  /** True when the bytes held PEM text (at least one BEGIN line). */
  pem: boolean;
}

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE']);

/**
 * Every certificate in `bytes`: PEM (any number of CERTIFICATE blocks, text between them
 * ignored) or, when there is no PEM block, a single DER certificate. OpenSSL's TRUSTED
 * CERTIFICATE blocks are skipped: they carry trust settings (rejections, purposes) that this
 * client does not interpret, and trusting them without those settings could trust too much.
 */
export function extractCertificates(bytes: Uint8Array, opts: { lazy?: boolean } = {}): Extracted {
  // Lazy (bundled roots, OS stores, directory entries): indexed now, parsed on first use (lazy.ts).
  const parse = opts.lazy ? lazyCertificate : parseCached;
  const out: Extracted = { certs: [], invalid: [], skipped: [], pem: false };
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (!text.includes(BEGIN)) {
    // A DER certificate starts with a SEQUENCE tag (X.690 §8.9); anything else is not one.
    if (bytes.length > 0 && bytes[0] === 0x30) {
      try {
        out.certs.push(parse(bytes));
      } catch (err) {
        out.invalid.push(`DER certificate: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return out;
  }
  out.pem = true;
  const other = new Map<string, number>();
  let index = 0;
  const lineAt = lineCounter(text);
  for (const block of pemBlocks(text)) {
    if (!CERT_LABELS.has(block.label)) {
      other.set(block.label, (other.get(block.label) ?? 0) + 1);
      continue;
    }
    index++;
    const where = () => `certificate ${index} (line ${lineAt(block.start)})`;
    if (!block.der) {
      out.invalid.push(`${where()}: the base64 text is malformed or the END line is missing`);
      continue;
    }
    try {
      out.certs.push(parse(block.der));
    } catch (err) {
      out.invalid.push(`${where()}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  for (const [label, n] of other) {
    const why =
      label === 'TRUSTED CERTIFICATE'
        ? " (OpenSSL's format with trust settings, which this client does not interpret)"
        : '';
    out.skipped.push(`${n} ${label} block${n === 1 ? '' : 's'}${why}`);
  }
  return out;
}

/** Where a path came from, for messages: 'verify', 'verify.ca', '--ca', or an env variable's name. */
export type PathOrigin = string;

export interface LoadPathOptions {
  /** Who gave the path ('verify', 'REQUESTS_CA_BUNDLE', …); the message and hint name it. */
  origin: PathOrigin;
  /** The source to record; default 'file:<abs>' or 'dir:<abs>'. */
  source?: string;
  /**
   * Lenient (system stores, directory entries): problems become warnings and an empty result is
   * returned. Strict (default, paths a user gave): they throw ConfigError.
   */
  lenient?: boolean;
}

/** The sentence that says how to fix a bad path, depending on who gave it. */
export function pathFix(origin: PathOrigin, raw?: string): string {
  const tilde = raw?.startsWith('~') ? ' A leading ~ is not expanded here: write the full path.' : '';
  if (/^[A-Z][A-Z0-9_]*$/.test(origin)) {
    return `Fix or unset the ${origin} environment variable.${tilde}`;
  }
  return `Check the path given in ${origin} (relative paths are resolved against ${process.cwd()}).${tilde}`;
}

/** Resolves a path a user gave and says where it came from, for messages. */
export function describePath(raw: string, origin: PathOrigin): { abs: string; where: string } {
  const abs = resolve(raw);
  return { abs, where: `${abs} (from ${origin})` };
}

export function emptyResult(source: string, abs: string, warning: string): SourceResult {
  return { source, certs: [], warnings: [warning], stamps: [{ path: abs, sig: signatureOf(abs) }] };
}

/**
 * A path that cannot be used (missing, unreadable, neither file nor directory): a warning and an
 * empty result when `lenient`, else ConfigError ERR_CA_PATH with the fix for whoever gave it.
 */
export function unusablePath(
  raw: string,
  opts: LoadPathOptions,
  source: string,
  abs: string,
  problem: string,
  cause?: unknown,
): SourceResult {
  if (opts.lenient) return emptyResult(source, abs, problem);
  throw caError('ERR_CA_PATH', problem, pathFix(opts.origin, raw), cause);
}

/** What an operating system store yielded: one result per file, directory or keychain read. */
export interface SystemLoad {
  /** Only sources that yielded certificates. */
  sources: SourceResult[];
  /** Everything that could not be read or was skipped, as sentences. */
  warnings: string[];
}
