#!/usr/bin/env node
/**
 * The installed `certainly` command (package.json "bin"). It turns on Node's on-disk compile cache
 * (module.enableCompileCache, Node 22.1+; a no-op where absent) before anything else loads, so a
 * second run skips compiling the CLI and undici; then it loads the command line.
 */
import module from 'node:module';

(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { runCli } = await import('./main.js');
runCli();
