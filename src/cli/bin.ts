#!/usr/bin/env node
/**
 * The installed `certainly` command (package.json "bin"). It turns on Node's on-disk compile cache
 * (module.enableCompileCache, Node 22.1+; a no-op where absent) before anything else loads, so a
 * second run skips compiling the CLI and undici; then it loads the command line.
 *
 * The command owns its process, so it also sets two V8 flags a library cannot set for its users
 * (docs/decisions.md, "Memory"; a process started with flags of its own on either point keeps them):
 * - `--liftoff-only`: undici's HTTP/1.1 parser (llhttp, WebAssembly) stays on V8's baseline
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
if (!/--(no-)?(liftoff|wasm-tier|wasm-dynamic-tier)/.test(own)) setFlagsFromString('--liftoff-only');
if (process.argv[2] === 'get' && !/semi-space/.test(own)) setFlagsFromString('--semi-space-growth-factor=1');
const { runCli } = await import('./main.js');
runCli();
