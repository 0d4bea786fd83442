/**
 * PEM (RFC 7468): finding blocks in text, strictly decoding their base64, and writing them.
 *
 * Tolerant outside blocks (explanatory text, CRLF, other kinds of block, as in CA bundles) and
 * strict inside the blocks we are asked for: a block that is broken is an error naming its line,
 * never silently skipped, because a skipped CA certificate shows up much later as an
 * "unknown issuer" that nobody can explain.
 */

import { ParseError } from '../errors.js';

const BEGIN = /^-----BEGIN ([^-]*)-----$/;
const END = /^-----END ([^-]*)-----$/;
/** RFC 7468 §3 (strict base64 lines) plus the white space §2 lets parsers ignore. */
const BASE64_LINE = /^[A-Za-z0-9+/=]*$/;

function pemError(message: string, hint?: string): never {
  throw new ParseError(message, hint === undefined ? { code: 'ERR_PEM' } : { code: 'ERR_PEM', hint });
}

/**
 * The DER of every `label` block in `text`, in order. Blocks with other labels are skipped.
 * Throws ParseError code 'ERR_PEM' for a block of the requested label that has no END line, a
 * mismatched END, characters outside base64, bad padding, or no content. Returns [] when there
 * is no such block (the caller decides whether that is an error).
 */
export function parsePem(text: string, label = 'CERTIFICATE'): Uint8Array[] {
  const out: Uint8Array[] = [];
  // A quick exit for text with no PEM at all (a DER file read as text, an empty file).
  if (!text.includes('-----BEGIN ')) return out;
  const lines = text.split(/\r\n|\n|\r/);
  let i = 0;
  while (i < lines.length) {
    const begin = BEGIN.exec(lines[i]!.trim());
    i++;
    if (!begin) continue;
    const found = begin[1]!;
    const beginLine = i; // 1-based line number of the BEGIN line
    const body: string[] = [];
    let closed = false;
    for (; i < lines.length; i++) {
      const line = lines[i]!.trim();
      const end = END.exec(line);
      if (end) {
        if (found === label && end[1] !== found) {
          pemError(
            `PEM block "BEGIN ${found}" at line ${beginLine} ends with "END ${end[1]}" at line ${i + 1}`,
            'The file may have been edited by hand or concatenated badly; re-export the certificate.',
          );
        }
        closed = true;
        i++;
        break;
      }
      if (line.startsWith('-----BEGIN ')) break;
      if (found === label) body.push(line);
    }
    if (!closed) {
      if (found !== label) continue;
      pemError(
        `PEM block "BEGIN ${found}" at line ${beginLine} has no matching "END ${found}" line`,
        'The file is probably truncated; download or export it again.',
      );
    }
    if (found !== label) continue;
    out.push(decodeBody(body, found, beginLine));
  }
  return out;
}

function decodeBody(body: string[], label: string, beginLine: number): Uint8Array {
  let b64 = '';
  for (let k = 0; k < body.length; k++) {
    const line = body[k]!.replace(/[ \t]+/g, '');
    if (!BASE64_LINE.test(line)) {
      const bad = line.match(/[^A-Za-z0-9+/=]/)![0];
      const lineNo = beginLine + 1 + k;
      if (line.includes(':')) {
        pemError(
          `PEM block "${label}" at line ${beginLine} has a header line (line ${lineNo}); certificates carry none (RFC 7468 §5.1)`,
        );
      }
      pemError(
        `PEM block "${label}" at line ${beginLine}: line ${lineNo} contains ${JSON.stringify(bad)}, which is not base64`,
      );
    }
    b64 += line;
  }
  if (b64.length === 0) pemError(`PEM block "${label}" at line ${beginLine} is empty`);
  const pad = b64.indexOf('=');
  if (b64.length % 4 !== 0 || (pad >= 0 && (pad < b64.length - 2 || !/^=*$/.test(b64.slice(pad))))) {
    pemError(`PEM block "${label}" at line ${beginLine} is not valid base64 (bad length or padding)`);
  }
  const der = Buffer.from(b64, 'base64');
  // Strict: non-zero bits in the last character (e.g. "QR==" for one byte) are not canonical.
  if (der.toString('base64') !== b64) {
    pemError(`PEM block "${label}" at line ${beginLine} is not canonical base64`);
  }
  return new Uint8Array(der.buffer, der.byteOffset, der.byteLength);
}

/** PEM text of `der`: 64-character lines (RFC 7468 §2), ending with a newline. */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += `${b64.slice(i, i + 64)}\n`;
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}
