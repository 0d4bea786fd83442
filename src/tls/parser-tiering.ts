/**
 * undici's HTTP/1.1 parser under Node 20's V8: a later tier-up, as later V8 versions do anyway.
 *
 * undici parses HTTP/1.1 with llhttp compiled to WebAssembly; the module is made on a process's
 * first HTTP/1.1 connection (client-h1.js, inside the connect callback). V8 starts every
 * WebAssembly function on its baseline compiler (Liftoff) and recompiles a function with TurboFan
 * once it has spent a "tiering budget". V8 11.3 (Node 20) sets that budget to 1,800,000, and
 * llhttp's one large parsing function spends it within the first response: measured with
 * `--trace-wasm-compilation-times`, one TurboFan compile of 57 ms holding 29 MB, on a background
 * thread that the process then waits for before it can exit. A process that makes one request
 * (a script, a cron job) paid ~60 ms of wall time and ~30 MB of peak memory for a parser it no
 * longer uses; Node's own fetch pays it too. V8 12.4 (Node 22) and 13.6 (Node 24) raised the
 * default budget to 13,000,000, so there one request no longer triggers it.
 *
 * On V8 11.3 the budget is raised to that later default for the moment undici makes its parser
 * module, and set back at once: only llhttp starts with the larger budget (each function's
 * budget is read when the module is made; a function that tiers up starts over at the default),
 * so WebAssembly of the application's own keeps V8's behaviour. A process that makes many
 * requests still gets the TurboFan parser after a few of them (npm run bench: keep-alive
 * throughput is unchanged). Nothing is done when the user set the budget themselves (their flag
 * stands), on other V8 versions, or once an HTTP/1.1 connection has been handed to undici. One
 * case cannot be seen: a budget the application set at run time (v8.setFlagsFromString) before
 * certainly's first connection is put back to V8's default, not to theirs.
 */

import type v8 from 'node:v8';

// V8 12.4 and 13.6's default (`node --v8-options`), and V8 11.3's, which is put back.
const LATER_DEFAULT = 13_000_000;
const V8_11_DEFAULT = 1_800_000;
const FLAG = '--wasm-tiering-budget';

let pending: boolean | undefined;

function applies(): boolean {
  if (!process.versions.v8.startsWith('11.3.')) return false;
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  return !/--wasm[-_]tiering[-_]budget/.test(given);
}

/**
 * Hands a connected socket to undici (`handOver` is undici's connect callback). For the first
 * HTTP/1.1 socket on V8 11.3, the callback (in which undici makes its parser) runs under the later
 * budget. A throw from the callback propagates, as it would without this wrapper.
 */
export function handOverSocket<S extends object>(socket: S, handOver: (err: null, socket: S) => void): void {
  pending ??= applies();
  if (!pending || (socket as { alpnProtocol?: unknown }).alpnProtocol === 'h2') {
    handOver(null, socket);
    return;
  }
  pending = false;
  const { setFlagsFromString } = process.getBuiltinModule('node:v8') as typeof v8;
  setFlagsFromString(`${FLAG}=${LATER_DEFAULT}`);
  try {
    handOver(null, socket);
  } finally {
    setFlagsFromString(`${FLAG}=${V8_11_DEFAULT}`);
  }
}
