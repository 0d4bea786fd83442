#!/usr/bin/env node
/**
 * The installed `certainly` command (package.json "bin"). It turns on Node's on-disk compile cache
 * (module.enableCompileCache, Node 22.1+; a no-op where absent) before anything else loads, so a
 * second run skips compiling the CLI and undici; then it loads the command line.
 *
 * The command owns its process, so it also sets two V8 flags a library cannot set for its users
 * (docs/decisions.md, "Memory"; a process started with flags of its own on either point keeps them):
 * - `--liftoff-only` (with the two flags it implies, which a flag set at run time does not
 *   bring along): undici's HTTP/1.1 parser (llhttp, WebAssembly) stays on V8's baseline
 *   compiler. Otherwise V8 recompiles its 33 KB state machine with TurboFan on a background thread
 *   during the first request, a compilation that alone takes ~30 MB (60–180 ms of CPU): a
 *   one-GET `certainly get` peaked at ~101 MB with it and ~66 MB without. Nothing else here runs
 *   WebAssembly, and parsing is a sliver of a request's cost.
 * - for `get`, `--semi-space-growth-factor=1`: V8's young generation stays at its starting size.
 *   A download reads the socket into fresh 16 KiB buffers that are garbage at once but freed only
 *   when a scavenge finds them; with a young generation grown to 16 MiB per semi-space, tens of
 *   MiB of spent buffers pile up between scavenges (a 100 MiB download peaked at ~110 MB).
 */
import module from 'node:module';
import { setFlagsFromString } from 'node:v8';

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const own = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
// The two flags --liftoff-only implies are given too: V8 applies implications when it starts, not
// to a flag set later, and V8 13.6 (Node 24) decides tier-up from them (with --liftoff-only alone
// it still recompiled the parser during a 2 MB download; V8 11.3 and 12.4 did not).
if (!/--(no-)?(liftoff|wasm-tier|wasm-dynamic-tier)/.test(own))
  setFlagsFromString('--liftoff-only --no-wasm-tier-up --no-wasm-dynamic-tiering');
if (process.argv[2] === 'get' && !/semi-space/.test(own)) setFlagsFromString('--semi-space-growth-factor=1');
const { runCli } = await import('./main.js');
runCli();
