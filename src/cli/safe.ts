/**
 * Safe output: what came from a server or a certificate never reaches a terminal raw.
 *
 * A certificate's names and subject, a header value, a reason phrase, an error message quoting
 * any of them: all are bytes someone else chose. Written raw, `\x1b[2J` clears the screen,
 * `\x1b]8;;…` hides a link, `\r` or a newline rewrites a line (a fake "✓ verified"), and U+202E
 * shows text backwards (CVE-2021-42574, "Trojan Source"). So human output escapes them: a
 * control is shown as `\x1b`, a format character as `\u202e`. `--json` is left exact: JSON
 * escapes controls itself, and a program reads it.
 *
 * Two functions: `esc()` for a value from outside, before it goes into a line (escapes newlines
 * and tabs too, since a value is one line); `terminalText()` for a whole text about to be
 * written (keeps its newlines and tabs, and the colour sequences of our own styler), the net
 * under everything the command prints in human mode.
 */

/**
 * C0 controls, DEL, C1 controls, Unicode format characters (Cf: bidi embeddings, overrides and
 * isolates, zero-width characters, the BOM, soft hyphen…) and the line and paragraph separators.
 */
const UNSAFE = /[\0-\x1f\x7f-\x9f\p{Cf}\u2028\u2029]/gu;

/** The same, but tab and newline pass, and so do the colour sequences styler() writes. */
const UNSAFE_IN_TEXT = /\x1b\[(?:1|2|22|31|32|33|39)m|[\0-\x08\x0b-\x1f\x7f-\x9f\p{Cf}\u2028\u2029]/gu;

function visible(c: string): string {
  const n = c.codePointAt(0)!;
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/** A value from outside, made safe to print on one line of a terminal. */
export function esc(value: string): string {
  return value.replace(UNSAFE, visible);
}

/**
 * A text about to be written to a terminal (or a file a person will `cat`): every control but
 * newline and tab, and every format character, made visible; our own colour sequences kept
 * when `colour` is on (styler emits them only then, so with colour off none is kept).
 */
export function terminalText(text: string, colour: boolean): string {
  return text.replace(UNSAFE_IN_TEXT, (c) => (c.length > 1 ? (colour ? c : esc(c)) : visible(c)));
}

/** Longest argument quoted back in a message: a 10 kB argument must not become a 10 kB line. */
const QUOTE_MAX = 80;

/** A value quoted in a message: shortened to 80 characters and escaped. */
export function quote(value: string): string {
  const shown =
    value.length > QUOTE_MAX ? `${value.slice(0, QUOTE_MAX)}… (${value.length} characters)` : value;
  return `'${esc(shown)}'`;
}

/**
 * JSON for --json: exact (parses to the same value), with DEL, C1 controls and format
 * characters written as \uXXXX escapes, which JSON.stringify leaves raw; so a terminal showing
 * it is not steered either. C0 controls JSON escapes already.
 */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(/[\x7f-\x9f\p{Cf}\u2028\u2029]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

/** The stream under a safe one, for the few writes that are control sequences of our own. */
const RAW = Symbol('certainly.rawStream');

/** Colour only on a TTY and when NO_COLOR is unset (https://no-color.org). */
export function colourOn(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

/**
 * `stream` with every string written through terminalText(): the net under the renderers, so
 * that a value from outside that a renderer forgot to esc() still cannot steer the terminal.
 * Buffers pass as they are (a body being downloaded is bytes, not text for a person).
 */
export function safeStream(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): NodeJS.WritableStream {
  if ((stream as unknown as Record<symbol, unknown>)[RAW]) return stream;
  const colour = colourOn(stream, env);
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === RAW) return target;
      if (prop === 'write') {
        return (chunk: unknown, ...rest: unknown[]) =>
          (target.write as (...a: unknown[]) => boolean)(
            typeof chunk === 'string' ? terminalText(chunk, colour) : chunk,
            ...rest,
          );
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Writes a control sequence of our own (a progress line's \r and erase) past the net. */
export function writeControl(stream: NodeJS.WritableStream, text: string): void {
  const raw = (stream as unknown as Record<symbol, NodeJS.WritableStream | undefined>)[RAW] ?? stream;
  raw.write(text);
}
