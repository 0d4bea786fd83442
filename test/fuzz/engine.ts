/**
 * A small mutation fuzzer: a seeded PRNG, byte and text mutators, and a loop that runs a target
 * over mutated inputs and records every broken property (an exception that is not the target's
 * typed error, an input slower than the limit, heap growth).
 *
 * Written here on purpose (no dependency): the point is reproducibility. Every input is a pure
 * function of (seed, target, iteration), so a failure report names the three numbers that replay it.
 */

/** xorshift128 (Marsaglia 2003), seeded through a splitmix32-style mixer so that nearby seeds diverge. */
export class Rng {
  #s: Uint32Array;
  constructor(seed: number) {
    let x = seed >>> 0;
    const mix = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s = Uint32Array.of(mix(), mix(), mix(), mix() | 1);
  }
  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const s = this.#s;
    let t = s[3]!;
    const first = s[0]!;
    s[3] = s[2]!;
    s[2] = s[1]!;
    s[1] = first;
    t ^= t << 11;
    t ^= t >>> 8;
    s[0] = (t ^ first ^ (first >>> 19)) >>> 0;
    return s[0]!;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }
  /** True with probability 1/n. */
  oneIn(n: number): boolean {
    return this.int(n) === 0;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** Mixes a run seed, a target name and an iteration into the seed of one input. */
export function inputSeed(seed: number, target: string, iteration: number): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < target.length; i++) h = Math.imul(h ^ target.charCodeAt(i), 0x01000193) >>> 0;
  return (Math.imul(h ^ iteration, 0x9e3779b1) ^ (iteration >>> 16)) >>> 0;
}

/** Inputs never grow past this (bounded memory per input; larger than any real certificate chain). */
export const MAX_INPUT_BYTES = 256 * 1024;

/** Byte values that sit on DER boundaries: tags, length forms, sign bits. */
const INTERESTING_BYTES = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x16, 0x17, 0x18, 0x1e, 0x1f, 0x30, 0x31, 0x7f, 0x80,
  0x81, 0x82, 0x83, 0x84, 0x85, 0x88, 0xa0, 0xa3, 0xbf, 0xff,
];

/** TLV headers found by a shallow, lenient walk (for length- and tag-aware mutations). */
function tlvHeaders(b: Uint8Array, limit = 64): { start: number; lenAt: number; lenBytes: number }[] {
  const out: { start: number; lenAt: number; lenBytes: number }[] = [];
  const stack: [number, number][] = [[0, b.length]];
  while (stack.length > 0 && out.length < limit) {
    const [from, to] = stack.pop()!;
    let p = from;
    while (p + 2 <= to && out.length < limit) {
      const start = p;
      const tag = b[p++]!;
      if ((tag & 0x1f) === 0x1f) break; // high tag numbers: stop this level
      const first = b[p]!;
      let len = first;
      let lenBytes = 1;
      if (first & 0x80) {
        const n = first & 0x7f;
        if (n === 0 || n > 3 || p + 1 + n > to) break;
        len = 0;
        for (let i = 0; i < n; i++) len = len * 256 + b[p + 1 + i]!;
        lenBytes = 1 + n;
      }
      const content = p + lenBytes;
      if (content + len > to) break;
      out.push({ start, lenAt: p, lenBytes });
      if (tag & 0x20) stack.push([content, content + len]);
      p = content + len;
    }
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(Math.min(n, MAX_INPUT_BYTES));
  let o = 0;
  for (const p of parts) {
    if (o >= out.length) break;
    const take = Math.min(p.length, out.length - o);
    out.set(p.subarray(0, take), o);
    o += take;
  }
  return out;
}

/** One random change to `b` (returns a new array). `corpus` feeds splices. */
export function mutateBytes(rng: Rng, input: Uint8Array, corpus: readonly Uint8Array[]): Uint8Array {
  const b = Uint8Array.from(input);
  const n = b.length;
  const at = () => rng.int(n);
  switch (n === 0 ? 6 : rng.int(13)) {
    case 0: // flip one bit
      b[at()]! ^= 1 << rng.int(8);
      return b;
    case 1: // an interesting byte
      b[at()] = rng.pick(INTERESTING_BYTES);
      return b;
    case 2: // a random byte
      b[at()] = rng.int(256);
      return b;
    case 3: {
      // delete a range
      const a = at();
      return concat(b.subarray(0, a), b.subarray(a + 1 + rng.int(Math.min(64, n - a))));
    }
    case 4: {
      // duplicate a range in place
      const a = at();
      const e = a + 1 + rng.int(Math.min(128, n - a));
      return concat(b.subarray(0, e), b.subarray(a, e), b.subarray(e));
    }
    case 5: // truncate
      return b.subarray(0, at());
    case 6: {
      // insert random bytes
      const extra = new Uint8Array(1 + rng.int(8));
      for (let i = 0; i < extra.length; i++)
        extra[i] = rng.oneIn(2) ? rng.pick(INTERESTING_BYTES) : rng.int(256);
      const a = rng.int(n + 1);
      return concat(b.subarray(0, a), extra, b.subarray(a));
    }
    case 7: {
      // splice: our head, another corpus entry's tail
      const other = rng.pick(corpus);
      if (other.length === 0) return b;
      return concat(b.subarray(0, at()), other.subarray(rng.int(other.length)));
    }
    case 8:
    case 9:
    case 10: {
      // change a TLV length: off by one, by a lot, indefinite, non-minimal, huge
      const hs = tlvHeaders(b);
      if (hs.length === 0) {
        b[at()] = rng.pick(INTERESTING_BYTES);
        return b;
      }
      const h = rng.pick(hs);
      const choice = rng.int(6);
      if (choice === 0) {
        b[h.lenAt + h.lenBytes - 1] = (b[h.lenAt + h.lenBytes - 1]! + 1) & 0xff;
        return b;
      }
      if (choice === 1) {
        b[h.lenAt + h.lenBytes - 1] = (b[h.lenAt + h.lenBytes - 1]! + 255) & 0xff;
        return b;
      }
      const header: Record<number, number[]> = {
        2: [0x80], // indefinite (BER)
        3: [0x81, rng.int(0x80)], // long form for a short length
        4: [0x84, 0xff, 0xff, 0xff, 0xff], // 4 GiB
        5: [0x82, 0x00, rng.int(256)], // leading zero octet
      };
      return concat(
        b.subarray(0, h.lenAt),
        Uint8Array.from(header[choice]!),
        b.subarray(h.lenAt + h.lenBytes),
      );
    }
    case 11: {
      // change a tag (class, constructed bit, number, high-tag form)
      const hs = tlvHeaders(b);
      if (hs.length === 0) return b;
      const h = rng.pick(hs);
      const choice = rng.int(4);
      if (choice === 0) b[h.start]! ^= 0x20;
      else if (choice === 1) b[h.start]! ^= 0xc0;
      else if (choice === 2) b[h.start] = rng.pick(INTERESTING_BYTES);
      else
        return concat(
          b.subarray(0, h.start),
          Uint8Array.of((b[h.start]! & 0xe0) | 0x1f, rng.pick([0x80, 0x81, 0x1e, 0xff]), rng.int(0x80)),
          b.subarray(h.start + 1),
        );
      return b;
    }
    default: {
      // wrap a TLV in many SEQUENCEs (nesting depth)
      const hs = tlvHeaders(b);
      const h = hs.length ? rng.pick(hs) : { start: 0, lenAt: 1, lenBytes: 1 };
      let inner: Uint8Array = b.subarray(h.start);
      const depth = 1 + rng.int(48);
      for (let i = 0; i < depth && inner.length < 60_000; i++)
        inner = concat(derHeader(0x30, inner.length), inner);
      return concat(b.subarray(0, h.start), inner);
    }
  }
}

function derHeader(tag: number, len: number): Uint8Array {
  if (len < 0x80) return Uint8Array.of(tag, len);
  if (len < 0x100) return Uint8Array.of(tag, 0x81, len);
  if (len < 0x10000) return Uint8Array.of(tag, 0x82, len >> 8, len & 0xff);
  return Uint8Array.of(tag, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff);
}

/** Characters that matter to host, URL, PEM and IP parsers, and some that confuse them. */
const INTERESTING_TEXT = [
  '[',
  ']',
  ':',
  '::',
  '%',
  '%25',
  '.',
  '..',
  '/',
  '\\',
  '@',
  '#',
  '?',
  ' ',
  '\t',
  '\n',
  '\r\n',
  '\0',
  '-',
  '_',
  '*',
  '*.',
  'xn--',
  'XN--',
  '0x',
  '0',
  '00',
  '255',
  '256',
  '65535',
  '65536',
  '4294967296',
  'ffff',
  '::ffff:',
  '127.0.0.1',
  '1.2.3.4',
  'localhost',
  'ü',
  'ß',
  'İ',
  '\u200b',
  '\u00ad',
  '\uff0e',
  '\u3002',
  '\uff11',
  '\u0130',
  '\ud83d\ude00',
  '\ud800',
  '\udfff',
  '\ufffd',
  '=',
  '==',
  '+',
  '-----BEGIN ',
  '-----END ',
  'CERTIFICATE-----',
  '-----',
  'https://',
  'http://',
  'file:',
  'user:pass@',
];

/** One random change to a string. */
export function mutateText(rng: Rng, s: string, corpus: readonly string[]): string {
  const n = s.length;
  const at = () => rng.int(n + 1);
  let out: string;
  switch (n === 0 ? 0 : rng.int(9)) {
    case 0: {
      const a = at();
      out = s.slice(0, a) + rng.pick(INTERESTING_TEXT) + s.slice(a);
      break;
    }
    case 1: {
      const a = at();
      out = s.slice(0, a) + s.slice(a + 1 + rng.int(8));
      break;
    }
    case 2: {
      const a = rng.int(n);
      out =
        s.slice(0, a) + String.fromCharCode(rng.oneIn(4) ? rng.int(0x10000) : rng.int(0x80)) + s.slice(a + 1);
      break;
    }
    case 3: {
      // repeat a slice many times (long labels, long inputs)
      const a = rng.int(n);
      const piece = s.slice(a, a + 1 + rng.int(16));
      out = s.slice(0, a) + piece.repeat(1 + rng.int(rng.oneIn(8) ? 400 : 8)) + s.slice(a);
      break;
    }
    case 4: {
      const other = rng.pick(corpus);
      out = s.slice(0, at()) + other.slice(rng.int(other.length + 1));
      break;
    }
    case 5:
      out = rng.oneIn(2) ? s.toUpperCase() : s.toLowerCase();
      break;
    case 6:
      out = s.slice(0, at());
      break;
    case 7: {
      // swap two characters
      const a = rng.int(n);
      const b = rng.int(n);
      const chars = [...s];
      if (a < chars.length && b < chars.length) [chars[a], chars[b]] = [chars[b]!, chars[a]!];
      out = chars.join('');
      break;
    }
    default: {
      const a = at();
      out = s.slice(0, a) + rng.pick(INTERESTING_TEXT).repeat(1 + rng.int(4)) + s.slice(a);
    }
  }
  return out.length > MAX_INPUT_BYTES ? out.slice(0, MAX_INPUT_BYTES) : out;
}

/** A fuzz target: a corpus of valid-ish seeds and a function that must return or throw its typed error. */
export interface FuzzTarget<T> {
  name: string;
  corpus: () => T[];
  mutate: (rng: Rng, input: T, corpus: readonly T[]) => T;
  /**
   * Runs one input. Returns 'ok' or 'error' (the typed error the contract allows); throws a
   * FuzzViolation (or anything else) when a property is broken.
   */
  run: (input: T) => 'ok' | 'error';
  /** For reports: a short, copyable form of an input. */
  show: (input: T) => string;
}

/** A broken property (as opposed to an unexpected exception, which is one too). */
export class FuzzViolation extends Error {}

export interface Failure {
  target: string;
  seed: number;
  iteration: number;
  kind: 'exception' | 'violation' | 'slow';
  message: string;
  input: string;
}

export interface RunStats {
  target: string;
  inputs: number;
  ok: number;
  errors: number;
  failures: Failure[];
  /** Slowest single input, ms. */
  slowestMs: number;
  elapsedMs: number;
  /** Heap in use after the run minus before, MB (after a GC when --expose-gc is on). */
  heapGrowthMb: number;
}

export interface RunOptions {
  seed: number;
  /** Stop after this many inputs … */
  iterations: number;
  /** … or after this long, whichever comes first. */
  timeBudgetMs?: number;
  /** An input that takes longer than this (twice in a row) is a failure: the brief's 50 ms. */
  slowMs?: number;
  /** Stop collecting after this many failures. */
  maxFailures?: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function heapMb(): number {
  gc?.();
  return process.memoryUsage().heapUsed / 1e6;
}

/** How many stacked mutations an input gets: mostly one or two, sometimes many. */
function mutationCount(rng: Rng): number {
  return rng.oneIn(8) ? 2 + rng.int(8) : 1 + rng.int(2);
}

/** The input for one iteration, a pure function of (seed, target, iteration, corpus). */
export function inputFor<T>(target: FuzzTarget<T>, corpus: readonly T[], seed: number, iteration: number): T {
  const rng = new Rng(inputSeed(seed, target.name, iteration));
  let input = rng.pick(corpus);
  // Every 16th input is a seed as it is, so valid inputs keep being exercised too.
  if (iteration % 16 === 0) return input;
  for (let k = mutationCount(rng); k > 0; k--) input = target.mutate(rng, input, corpus);
  return input;
}

export function runTarget<T>(target: FuzzTarget<T>, opts: RunOptions, corpus = target.corpus()): RunStats {
  const slowMs = opts.slowMs ?? 50;
  const maxFailures = opts.maxFailures ?? 20;
  const failures: Failure[] = [];
  const stats = { ok: 0, errors: 0 };
  let slowest = 0;
  const heapBefore = heapMb();
  const started = performance.now();
  let i = 0;
  for (; i < opts.iterations; i++) {
    if (opts.timeBudgetMs !== undefined && (i & 63) === 0 && performance.now() - started > opts.timeBudgetMs)
      break;
    const input = inputFor(target, corpus, opts.seed, i);
    const record = (kind: Failure['kind'], message: string) =>
      failures.push({
        target: target.name,
        seed: opts.seed,
        iteration: i,
        kind,
        message,
        input: target.show(input),
      });
    let t0 = performance.now();
    try {
      stats[target.run(input) === 'ok' ? 'ok' : 'errors']++;
    } catch (err) {
      record(err instanceof FuzzViolation ? 'violation' : 'exception', describe(err));
    }
    let took = performance.now() - t0;
    if (took > slowMs) {
      // Once more, to tell a slow input from a GC pause or a busy machine.
      t0 = performance.now();
      try {
        target.run(input);
      } catch {
        // reported above
      }
      took = Math.min(took, performance.now() - t0);
      if (took > slowMs) record('slow', `took ${took.toFixed(1)} ms (limit ${slowMs} ms)`);
    }
    if (took > slowest) slowest = took;
    if (failures.length >= maxFailures) {
      i++;
      break;
    }
  }
  return {
    target: target.name,
    inputs: i,
    ...stats,
    failures,
    slowestMs: slowest,
    elapsedMs: performance.now() - started,
    heapGrowthMb: heapMb() - heapBefore,
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const where = err.stack?.split('\n').slice(1, 4).join(' | ').trim() ?? '';
    return `${err.name}: ${err.message}${where ? ` (${where})` : ''}`;
  }
  return `non-Error thrown: ${String(err)}`;
}

/** Hex for bytes, capped; JSON for text, capped. */
export function showBytes(b: Uint8Array): string {
  const hex = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return hex.length > 4000 ? `${hex.slice(0, 4000)}… (${b.length} bytes)` : hex;
}

export function showText(s: string): string {
  const j = JSON.stringify(s);
  return j.length > 4000 ? `${j.slice(0, 4000)}… (${s.length} chars)` : j;
}
