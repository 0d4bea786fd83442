/**
 * The connection flags `get`, `check` and `ca explain` share, declared once: the client
 * certificate (--cert/--key/--pass/--cert-type, curl's names and defaults) and the proxy
 * (--proxy/-x, --proxy-cacert, --noproxy, curl's names). Unset, the proxy comes from
 * HTTPS_PROXY / ALL_PROXY and NO_PROXY, as for requests and curl (trustEnv in the library).
 */
import type { ClientCertOption } from '../client/options.js';
import { ConfigError } from '../errors.js';
import { describeReadError, FILE_LIMITS, readBounded } from '../trust/load.js';
import { type OptionSpec, UsageError, type Values } from './args.js';

/** curl's -4 / -6: the library's `family` (tls/family.ts). */
export const FAMILY_OPTIONS = {
  ipv4: {
    type: 'boolean',
    short: '4',
    help: "resolve names to IPv4 addresses only, as curl (the URL's host, --connect-to's,\nthe proxy's); an IPv6 address is refused",
  },
  ipv6: {
    type: 'boolean',
    short: '6',
    help: 'resolve names to IPv6 addresses only, as curl; an IPv4 address is refused',
  },
} as const satisfies Record<string, OptionSpec>;

/** `family` from -4 / -6; both is a usage error (curl takes the last; which was meant is unclear). */
export function familyOf(values: Values<typeof FAMILY_OPTIONS>): { family?: 4 | 6 } {
  if (values.ipv4 && values.ipv6)
    throw new UsageError('-4 and -6 contradict each other: give one (or neither, for either family)');
  return values.ipv4 ? { family: 4 } : values.ipv6 ? { family: 6 } : {};
}

export const CLIENT_CERT_OPTIONS = {
  cert: {
    type: 'string',
    value: 'FILE',
    help: 'client certificate (PEM or DER; with its key in it, unless --key)',
  },
  key: { type: 'string', value: 'FILE', help: "the client certificate's private key" },
  pass: {
    type: 'string',
    value: 'SOURCE',
    help: "passphrase of the key (or of the PKCS#12 bundle): env:VAR or file:PATH\n(as openssl's -passin; kept out of ps), or the passphrase itself",
  },
  'cert-type': {
    type: 'string',
    value: 'TYPE',
    choices: ['PEM', 'DER', 'P12'],
    help: 'PEM, DER or P12 (a PKCS#12 bundle: certificate and key in one;\nthe default for files ending .p12 or .pfx)',
  },
} as const satisfies Record<string, OptionSpec>;

export const PROXY_OPTIONS = {
  proxy: {
    type: 'string',
    short: 'x',
    value: 'URL',
    help: "use this proxy (http://, https://, socks5:// or socks5h://); '' for none,\nwhatever HTTPS_PROXY or ALL_PROXY says",
  },
  'proxy-cacert': {
    type: 'string',
    value: 'FILE',
    help: "trust this CA for an https:// proxy's own certificate",
  },
  noproxy: {
    type: 'string',
    value: 'LIST',
    help: 'hosts to reach directly, comma-separated (replaces NO_PROXY)',
  },
} as const satisfies Record<string, OptionSpec>;

/** --cert, --key, --pass and --cert-type as the library's `cert` option (curl's flags and defaults). */
export function clientCertOf(
  values: Values<typeof CLIENT_CERT_OPTIONS>,
  env: NodeJS.ProcessEnv = process.env,
): ClientCertOption | undefined {
  const { cert, key, pass } = values;
  const type = values['cert-type']?.toLowerCase();
  if (cert === undefined) {
    if (key !== undefined || pass !== undefined || type !== undefined) {
      throw new ConfigError('--key, --pass and --cert-type go with --cert FILE (the client certificate)', {
        code: 'ERR_OPTIONS',
      });
    }
    return undefined;
  }
  const passphrase = pass === undefined ? {} : { passphrase: passphraseFrom(pass, env) };
  if (type === 'p12' || (type === undefined && /\.(p12|pfx)$/i.test(cert))) {
    if (key !== undefined) {
      throw new ConfigError('--key does not go with a PKCS#12 --cert: the bundle holds the key', {
        code: 'ERR_OPTIONS',
      });
    }
    return { pfx: cert, ...passphrase };
  }
  // Without --key, the key is looked for in the certificate's file, as curl does.
  return { cert, key: key ?? cert, ...passphrase };
}

/**
 * --pass as openssl's -passin reads it: 'env:VAR' and 'file:PATH' keep the secret out of the
 * process list (`ps`); anything else is the passphrase itself (curl's --pass).
 */
export function passphraseFrom(value: string, env: NodeJS.ProcessEnv = process.env): string {
  if (value.startsWith('env:')) {
    const name = value.slice(4);
    const v = env[name];
    if (v === undefined) {
      throw new ConfigError(`--pass env:${name}: the environment variable ${name} is not set`, {
        code: 'ERR_OPTIONS',
      });
    }
    return v;
  }
  if (value.startsWith('file:')) {
    const path = value.slice(5);
    try {
      // The first line, as openssl does: a trailing newline is not part of the passphrase.
      return readBounded(path, FILE_LIMITS.passphrase).toString('utf8').split(/\r?\n/)[0] ?? '';
    } catch (err) {
      throw new ConfigError(`--pass file:${path}: it ${describeReadError(err)}`, {
        code: 'ERR_OPTIONS',
        cause: err,
      });
    }
  }
  return value;
}

/** The library's proxy options from the flags: an explicit proxy, '' for none, else the environment. */
export function proxyOptionsOf(values: Values<typeof PROXY_OPTIONS>): {
  proxy?: string | false;
  proxyVerify?: string;
  noProxy?: string;
  trustEnv: true;
} {
  return {
    ...(values.proxy !== undefined ? { proxy: values.proxy === '' ? false : values.proxy } : {}),
    ...(values['proxy-cacert'] !== undefined ? { proxyVerify: values['proxy-cacert'] } : {}),
    ...(values.noproxy !== undefined ? { noProxy: values.noproxy } : {}),
    trustEnv: true,
  };
}
