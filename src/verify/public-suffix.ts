/**
 * The Public Suffix List (https://publicsuffix.org/), through the `tldts` package: the one copy
 * the library uses, for wildcard certificates (hostname.ts) and for the cookie jar (client/).
 *
 * `tldts` is loaded on first use, synchronously (createRequire: the package ships CommonJS as its
 * main entry), so that `import 'certainly'` and verifications that never ask about a public
 * suffix do not pay for parsing its ~220 KB list. Measured on the development machine: loading it
 * costs a few tens of milliseconds once; a look-up then costs about 1-3 µs.
 *
 * The list has two sections: ICANN (suffixes under a registry's policy: com, co.uk, *.ck) and
 * PRIVATE (suffixes that companies run for their customers: github.io, s3.amazonaws.com,
 * appspot.com). Callers choose which they mean; see `privateDomains`.
 */

import type * as Tldts from 'tldts';
import { packageRequire } from '../der/require.js';

let tldts: typeof Tldts | undefined;

function load(): typeof Tldts {
  if (tldts === undefined) {
    // Always through createRequire: in the ES module bundle a bare `require` is esbuild's shim,
    // which throws ("Dynamic require of "tldts" is not supported"); the CommonJS bundle defines
    // import.meta.url as its own file URL (scripts/build.mjs), so this works in both.
    tldts = packageRequire()('tldts') as typeof Tldts;
  }
  return tldts;
}

export interface PublicSuffixOptions {
  /**
   * Whether suffixes from the list's PRIVATE section count (github.io, s3.amazonaws.com).
   * Cookies: yes (a site on github.io must not set a cookie for every other one). Wildcard
   * certificates: no, as Chromium (those companies do hold '*.s3.amazonaws.com').
   */
  privateDomains: boolean;
}

/**
 * The public suffix of `host` (lower-case ASCII, no trailing dot, A-labels), or undefined when the
 * list has no rule for it. A host under an unknown top-level domain ('intranet.corp') has none:
 * the list's implicit '*' rule is not applied, so only listed suffixes are public suffixes.
 */
export function publicSuffix(host: string, options: PublicSuffixOptions): string | undefined {
  const parsed = load().parse(host, {
    allowPrivateDomains: options.privateDomains,
    extractHostname: false,
    validateHostname: false,
    detectIp: false,
    mixedInputs: false,
  });
  const listed = parsed.isIcann === true || (options.privateDomains && parsed.isPrivate === true);
  return listed && parsed.publicSuffix !== null ? parsed.publicSuffix : undefined;
}

/** True when `name` is itself a public suffix ('co.uk', 'com'; 'github.io' only with privateDomains). */
export function isPublicSuffix(name: string, options: PublicSuffixOptions): boolean {
  const host = (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
  return host.length > 0 && publicSuffix(host, options) === host;
}

/**
 * The registrable domain of `host` (the public suffix and one more label: 'example.co.uk' for
 * 'www.example.co.uk'), or undefined when `host` is a public suffix itself or under no listed one.
 */
export function registrableDomain(host: string, options: PublicSuffixOptions): string | undefined {
  const name = (host.endsWith('.') ? host.slice(0, -1) : host).toLowerCase();
  const suffix = publicSuffix(name, options);
  if (suffix === undefined || suffix === name) return undefined;
  const rest = name.slice(0, name.length - suffix.length - 1);
  return `${rest.slice(rest.lastIndexOf('.') + 1)}.${suffix}`;
}
