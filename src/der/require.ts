/**
 * A CommonJS `require` for the ES module code of this package, for packages loaded on first use
 * (tldts) or by path (undici's parts). It sits in the lowest layer so that every layer may use it;
 * it has nothing to do with DER.
 *
 * Resolved from this file (ESM, and our CommonJS build, which defines import.meta.url). A
 * consumer's bundler may leave import.meta empty (esbuild's CommonJS output of an app that
 * imports certainly): then from the bundle's own file, else from the working directory.
 */
// Named apart: a consumer that bundles certainly into ESM with esbuild's documented banner
// (`import { createRequire } from 'module'`) must not meet a second top-level createRequire.
import { createRequire as requireFrom } from 'node:module';

let cached: NodeJS.Require | undefined;

export function packageRequire(): NodeJS.Require {
  if (cached === undefined) {
    const own = import.meta.url as string | undefined;
    const base = own ? own : typeof __filename === 'string' ? __filename : `${process.cwd()}/`;
    cached = requireFrom(base);
  }
  return cached;
}
