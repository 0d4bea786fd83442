/**
 * `get -w FORMAT` (curl's --write-out): a line of facts about the transfer, printed to stdout
 * after the body, most often `-s -o /dev/null -w '%{http_code}'` in a health check.
 *
 * The format is parsed before anything is sent, so a variable we do not have is a usage error
 * naming it (curl warns and prints nothing for it; a script would then compare an empty string).
 * Supported: the variables below, `%header{name}` (a response header), `%%`, and the escapes
 * `\n`, `\r`, `\t`, `\\`; `@FILE` reads the format from a file, `@-` from stdin, as curl.
 * Values that come from the server (headers, URLs, messages) are escaped as everything else we
 * print ({@link esc}): a header cannot move the cursor of the terminal reading them.
 * When the transfer failed, the line is still printed, with http_code 000, as curl does: that is
 * what a health check reads.
 */
import { UsageError } from './args.js';
import { esc, quote } from './safe.js';

/** What a finished (or failed) transfer tells the template. */
export interface WriteOutFacts {
  /** The URL as given (after the scheme default). */
  url: string;
  method: string;
  /** Undefined when no response came. */
  status?: number;
  effectiveUrl?: string;
  httpVersion?: string;
  headers?: { get(name: string): string | null };
  redirects: number;
  /** Body bytes written. */
  bytes: number;
  /** Seconds from the start to the response head, and to the end. */
  startTransfer?: number;
  total: number;
  exitCode: number;
  errorMessage?: string;
}

type Render = (f: WriteOutFacts) => string;

const seconds = (s: number | undefined) => (s === undefined ? '0.000000' : s.toFixed(6));

const VARIABLES: Record<string, Render> = {
  http_code: (f) => String(f.status ?? 0).padStart(3, '0'),
  response_code: (f) => String(f.status ?? 0).padStart(3, '0'),
  url: (f) => esc(f.url),
  url_effective: (f) => esc(f.effectiveUrl ?? f.url),
  method: (f) => f.method,
  scheme: (f) => (f.url.startsWith('http:') ? 'HTTP' : 'HTTPS'),
  content_type: (f) => esc(f.headers?.get('content-type') ?? ''),
  http_version: (f) => f.httpVersion ?? '0',
  num_redirects: (f) => String(f.redirects),
  redirect_url: (f) =>
    f.status !== undefined && f.status >= 300 && f.status < 400
      ? esc(resolved(f.headers?.get('location'), f.effectiveUrl ?? f.url))
      : '',
  size_download: (f) => String(f.bytes),
  speed_download: (f) => String(f.total > 0 ? Math.round(f.bytes / f.total) : 0),
  time_starttransfer: (f) => seconds(f.startTransfer),
  time_total: (f) => seconds(f.total),
  exitcode: (f) => String(f.exitCode),
  errormsg: (f) => esc(f.errorMessage ?? ''),
};

function resolved(location: string | null | undefined, base: string): string {
  if (!location) return '';
  try {
    return new URL(location, base).href;
  } catch {
    return location;
  }
}

/** A parsed -w format: render it with the facts of the transfer. */
export type WriteOut = (f: WriteOutFacts) => string;

/** Parses a -w format (already read from @FILE if it was one). Throws UsageError on an unknown variable. */
export function parseWriteOut(format: string): WriteOut {
  const parts: (string | Render)[] = [];
  let text = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c === '\\' && i + 1 < format.length) {
      const e = format[i + 1]!;
      const mapped = e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === '\\' ? '\\' : undefined;
      if (mapped !== undefined) {
        text += mapped;
        i++;
        continue;
      }
    }
    if (c === '%' && format[i + 1] === '%') {
      text += '%';
      i++;
      continue;
    }
    if (c === '%' && format.startsWith('%header{', i)) {
      const end = format.indexOf('}', i);
      if (end < 0) throw new UsageError(`-w: '%header{' is not closed with '}'`);
      const name = format.slice(i + 8, end);
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
        throw new UsageError(`-w: ${quote(name)} is not a header name`);
      parts.push(text, (f) => esc(f.headers?.get(name) ?? ''));
      text = '';
      i = end;
      continue;
    }
    if (c === '%' && format[i + 1] === '{') {
      const end = format.indexOf('}', i);
      if (end < 0) throw new UsageError(`-w: '%{' is not closed with '}'`);
      const name = format.slice(i + 2, end);
      const render = Object.hasOwn(VARIABLES, name) ? VARIABLES[name] : undefined;
      if (!render) {
        throw new UsageError(
          `-w: %{${esc(name)}} is not a variable this command has; it has ${Object.keys(VARIABLES)
            .map((v) => `%{${v}}`)
            .join(' ')} and %header{NAME}`,
        );
      }
      parts.push(text, render);
      text = '';
      i = end;
      continue;
    }
    text += c;
  }
  parts.push(text);
  return (f) => parts.map((p) => (typeof p === 'string' ? p : p(f))).join('');
}
