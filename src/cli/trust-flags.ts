/** The trust flags `check` and `ca` share (--ca, --no-system, --no-bundled, --no-env, --system-root). */
import type { ResolveTrustOptions, VerifyOption } from '../trust/resolve.js';
import type { OptionSpec, Values } from './args.js';

export const TRUST_OPTIONS = {
  ca: {
    type: 'string',
    value: 'PATH',
    multiple: true,
    alias: ['cacert', 'capath'],
    help: 'trust this CA file or directory instead of the defaults (repeatable)',
  },
  'no-system': { type: 'boolean', help: "leave out the operating system's store" },
  'no-bundled': { type: 'boolean', help: "leave out Node's bundled Mozilla roots" },
  'no-env': {
    type: 'boolean',
    help: 'ignore REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, SSL_CERT_FILE, SSL_CERT_DIR,\nNODE_EXTRA_CA_CERTS',
  },
  'system-root': { type: 'string', value: 'DIR', help: 'read the Linux-layout system store under DIR' },
} as const satisfies Record<string, OptionSpec>;

/**
 * resolveTrust's options from the flags: --ca replaces the defaults, as `verify: PATH` does;
 * --no-system / --no-bundled leave one default out; nothing set is a client with no verify in code.
 */
export function trustOptionsOf(v: Values<typeof TRUST_OPTIONS>, env: NodeJS.ProcessEnv): ResolveTrustOptions {
  let verify: VerifyOption | undefined;
  if (v.ca.length > 0) verify = { ca: v.ca, bundled: false, system: false };
  else if (v['no-system'] || v['no-bundled']) verify = { bundled: !v['no-bundled'], system: !v['no-system'] };
  return {
    ...(verify === undefined ? {} : { verify }),
    trustEnv: v['no-env'] !== true,
    env,
    ...(v['system-root'] === undefined ? {} : { systemRoot: v['system-root'] }),
  };
}
