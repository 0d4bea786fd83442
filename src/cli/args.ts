/**
 * The one argument parser of the `certainly` command.
 *
 * Every command declares its flags once, in a table (`CommandSpec`); the same table parses argv,
 * validates values (numbers with their range, choices), and prints `--help`. A mistake is a
 * `UsageError`: one line saying which flag or value is wrong, then the usage line, exit 2
 * (curl exits 2 for a bad option too). Nothing here throws anything else for any argv.
 *
 * Syntax, as curl and GNU getopt_long read it: `--name value`, `--name=value`, `-x value`,
 * `-xvalue`, grouped short booleans (`-sSL`), `--` ends the options, and `-` alone is an
 * argument (standard input). A flag that takes a value takes the next argument whatever it
 * looks like (`-d -x` sends "-x"), as curl does.
 */

import { esc, quote as quoteArg } from './safe.js';

export type OptionType = 'boolean' | 'string' | 'number';

export interface OptionSpec {
  readonly type: OptionType;
  /** One letter: `-k`. */
  readonly short?: string;
  /** Other long names accepted for the same flag (kept for old command lines). */
  readonly alias?: readonly string[];
  /** May be given several times; the value is then an array, in order. */
  readonly multiple?: boolean;
  /** The value's name in --help: `--ca PATH`. */
  readonly value?: string;
  /** Numbers: inclusive bounds, and whether a fraction is allowed. */
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
  /** Strings: the values allowed (compared case-insensitively, returned as listed here). */
  readonly choices?: readonly string[];
  /** What it does, for --help (may hold newlines). */
  readonly help: string;
}

export interface CommandSpec {
  /** `get`, `check`, `ca`… (as typed after `certainly`). */
  readonly name: string;
  /** What follows the name in the usage line: `URL [options]`. */
  readonly synopsis: string;
  /** A paragraph under the usage line in --help. */
  readonly about?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** How many arguments the command takes (after the options are taken out). */
  readonly args: { readonly min: number; readonly max: number; readonly name: string };
  /** Text after the options in --help (exit codes, examples). */
  readonly footer?: string;
}

type Scalar<S extends OptionSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['type'] extends 'number'
    ? number
    : string;

/** The values parsed for a command's table: arrays for `multiple`, else the value or undefined. */
export type Values<O extends Readonly<Record<string, OptionSpec>>> = {
  -readonly [K in keyof O]: O[K] extends { multiple: true } ? Scalar<O[K]>[] : Scalar<O[K]> | undefined;
};

export interface Parsed<O extends Readonly<Record<string, OptionSpec>>> {
  values: Values<O>;
  args: string[];
  help: boolean;
}

/** A command line that cannot be run: the message is one line naming the flag or value. */
export class UsageError extends Error {
  override get name(): string {
    return 'UsageError';
  }
}

/** The help flag every command has. */
const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'this text' };

export function usageLine(spec: CommandSpec): string {
  return `usage: certainly ${spec.name}${spec.synopsis ? ` ${spec.synopsis}` : ''}`;
}

/** The --help text, from the table. */
export function helpText(spec: CommandSpec): string {
  const lines = [usageLine(spec), ''];
  if (spec.about) lines.push(spec.about.trimEnd(), '');
  const rows: [string, string][] = [];
  for (const [name, o] of [...Object.entries(spec.options), ['help', HELP] as const]) {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'boolean' ? '' : ` ${o.value ?? (o.type === 'number' ? 'N' : 'VALUE')}`}`;
    let text = o.help;
    if (o.alias?.length) text += `\n(also ${o.alias.map((a) => `--${a}`).join(', ')})`;
    rows.push([flag, text]);
  }
  const width = Math.min(28, Math.max(...rows.map(([f]) => f.length)) + 2);
  for (const [flag, text] of rows) {
    const [first, ...rest] = text.split('\n');
    if (flag.length + 2 > width) {
      lines.push(`  ${flag}`);
      lines.push(`  ${' '.repeat(width)}${first}`);
    } else {
      lines.push(`  ${flag.padEnd(width)}${first}`);
    }
    for (const r of rest) lines.push(`  ${' '.repeat(width)}${r}`);
  }
  if (spec.footer) lines.push('', spec.footer.trimEnd());
  return `${lines.join('\n')}\n`;
}

/** 'a, b or c'. */
function listOr(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** Edit distance, for "did you mean": small strings only (flag names). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function unknown(spec: CommandSpec, raw: string, names: string[]): UsageError {
  const name = raw.replace(/^--?/, '');
  let best: string | undefined;
  let bestD = 3; // at most two edits away: a typo, not another word
  for (const n of names) {
    const d = distance(name, n);
    if (d < bestD) {
      best = n;
      bestD = d;
    }
  }
  const hint = best ? ` (did you mean --${best}?)` : '';
  return new UsageError(`unknown option ${quoteArg(raw)} for certainly ${spec.name}${hint}`);
}

function convert(flag: string, o: OptionSpec, text: string): string | number {
  if (o.type === 'number') {
    const n = Number(text);
    const form = o.integer ? /^\d+$/ : /^\d+(\.\d+)?$/;
    const min = o.min ?? 0;
    const max = o.max ?? Number.MAX_SAFE_INTEGER;
    if (!form.test(text) || !Number.isFinite(n) || n < min || n > max) {
      throw new UsageError(
        `${flag} takes ${o.integer ? 'a whole number' : 'a number'} from ${min} to ${max}, not ${quoteArg(text)}`,
      );
    }
    return n;
  }
  if (o.choices) {
    const hit = o.choices.find((c) => c.toLowerCase() === text.toLowerCase());
    if (hit === undefined) throw new UsageError(`${flag} takes ${listOr(o.choices)}, not ${quoteArg(text)}`);
    return hit;
  }
  return text;
}

/** Parses argv by the command's table. Throws UsageError, and nothing else. */
export function parseCommand<O extends Readonly<Record<string, OptionSpec>>>(
  spec: CommandSpec & { options: O },
  argv: readonly string[],
): Parsed<O> {
  const byLong = new Map<string, [string, OptionSpec]>();
  const byShort = new Map<string, [string, OptionSpec]>();
  for (const [name, o] of [...Object.entries(spec.options), ['help', HELP] as const]) {
    byLong.set(name, [name, o]);
    for (const a of o.alias ?? []) byLong.set(a, [name, o]);
    if (o.short) byShort.set(o.short, [name, o]);
  }
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(spec.options)) if (o.multiple) values[name] = [];
  const args: string[] = [];
  const set = (name: string, o: OptionSpec, v: string | number | boolean) => {
    if (o.multiple) (values[name] as unknown[]).push(v);
    else values[name] = v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const long = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      const hit = byLong.get(long);
      const flag = `--${long}`;
      if (!hit) throw unknown(spec, eq > 0 ? flag : arg, [...byLong.keys()]);
      const [name, o] = hit;
      if (o.type === 'boolean') {
        if (eq > 0) throw new UsageError(`${flag} takes no value (given ${quoteArg(arg.slice(eq + 1))})`);
        set(name, o, true);
        continue;
      }
      let text: string;
      if (eq > 0) text = arg.slice(eq + 1);
      else {
        const next = argv[++i];
        if (next === undefined) throw new UsageError(`${flag} needs a value (${o.value ?? 'VALUE'})`);
        text = next;
      }
      set(name, o, convert(flag, o, text));
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') {
      // A group of short flags: booleans, then at most one that takes a value (the rest of the
      // argument, or the next one).
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j]!;
        const hit = byShort.get(letter);
        if (!hit) {
          throw new UsageError(
            `unknown option ${quoteArg(`-${letter}`)} for certainly ${spec.name}${arg.length > 2 ? ` (in ${quoteArg(arg)})` : ''}`,
          );
        }
        const [name, o] = hit;
        const flag = `-${letter}`;
        if (o.type === 'boolean') {
          set(name, o, true);
          continue;
        }
        let text = arg.slice(j + 1);
        if (text === '') {
          const next = argv[++i];
          if (next === undefined) throw new UsageError(`${flag} needs a value (${o.value ?? 'VALUE'})`);
          text = next;
        }
        set(name, o, convert(flag, o, text));
        break;
      }
      continue;
    }
    args.push(arg);
  }
  const help = values.help === true;
  delete values.help;
  if (!help) {
    const { min, max, name } = spec.args;
    if (args.length < min) throw new UsageError(`${name} is needed`);
    if (args.length > max) {
      throw new UsageError(
        `it takes ${max === 0 ? 'no arguments' : max === 1 ? `one ${name.replace(/^an? /, '')}` : `at most ${max} arguments`}; ${quoteArg(args[max]!)} is one too many`,
      );
    }
  }
  return { values: values as Values<O>, args, help };
}

/** How a usage error is shown: one line saying what is wrong, then the usage line. Exit 2. */
export function usageFailure(spec: CommandSpec, err: UsageError, stderr: NodeJS.WritableStream): number {
  stderr.write(
    `certainly ${spec.name}: ${esc(err.message)}\n${usageLine(spec)}  (certainly ${spec.name} --help lists the options)\n`,
  );
  return 2;
}
