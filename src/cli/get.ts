/** `certainly get URL`: fetch a URL with verification, printing the body (or JSON). */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ClientCertOption } from '../client/options.js';
import { Session } from '../client/session.js';
import { ConfigError } from '../errors.js';
import { parseConnectTo } from '../tls/connector.js';
import { privateAddressKind } from '../verify/aia.js';
import { describeTls, errorToJson, exitCodeFor, type Io, renderError } from './render.js';

export const GET_USAGE = `usage: certainly get URL [options]

  --verify PATH        CA file or directory to trust instead of the defaults
  --ca PATH            the same as --verify
  -k, --insecure       do not verify the certificate (warns; for diagnosis only)
  --server-name NAME   verify NAME (and send it as SNI) instead of the URL host
  --connect-to H:P     connect to H:P instead of the URL host; still verify the URL host
  --cert FILE          client certificate (PEM or DER; with its key in it, unless --key)
  --key FILE           the client certificate's private key
  --pass SOURCE        passphrase of the key (or of the PKCS#12 bundle): env:VAR or file:PATH
                       (as openssl's -passin; kept out of ps), or the passphrase itself
  --cert-type TYPE     PEM, DER or P12 (a PKCS#12 bundle: certificate and key in one;
                       the default for files ending .p12 or .pfx)
  --pin sha256//B64    accept the server only if its public key has this SPKI hash
                       (repeatable, or several separated by ';'; after verification)
  -x, --proxy URL      use this proxy (http:// or https://); '' for none, whatever
                       HTTPS_PROXY says
  --aia                fetch an intermediate the server did not send from the URL in its
                       certificate (from a private or loopback address only when the
                       server's own address is one)
  -H, --header 'K: V'  add a request header (repeatable)
  -X, --method M       request method (default GET)
  -d, --data TEXT      request body
  -i, --include        print the status line and headers before the body
  -v, --verbose        print the TLS details to stderr
  --timeout MS         connect and read timeout
  --json               print {status, url, headers, tls, body} as JSON (errors too)
`;

export async function runGet(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.stderr.write(`${(err as Error).message}\n\n${GET_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(GET_USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    io.stderr.write(`certainly get takes exactly one URL\n\n${GET_USAGE}`);
    return 2;
  }
  const session = new Session();
  try {
    if (values.verify !== undefined && values.ca !== undefined && values.verify !== values.ca) {
      throw new ConfigError('--ca is another name for --verify: give one of them', { code: 'ERR_OPTIONS' });
    }
    const verify = values.verify ?? values.ca;
    if (values.insecure && verify) {
      throw new ConfigError('--insecure and --verify contradict each other; choose one', {
        code: 'ERR_OPTIONS',
      });
    }
    const cert = clientCertOf(values);
    // curl's --pinnedpubkey takes several hashes separated by ';'.
    const pins = (values.pin ?? []).flatMap((p) => p.split(';')).map((p) => p.trim());
    const aia = values.aia
      ? { allowPrivate: serverIsLocal(positionals[0]!, values['connect-to']) }
      : undefined;
    const headers: [string, string][] = [];
    for (const h of values.header ?? []) {
      const i = h.indexOf(':');
      if (i <= 0) throw new ConfigError(`header '${h}' is not 'Name: value'`, { code: 'ERR_OPTIONS' });
      headers.push([h.slice(0, i).trim(), h.slice(i + 1).trim()]);
    }
    const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
    const r = await session.request(
      values.method ?? (values.data !== undefined ? 'POST' : 'GET'),
      positionals[0]!,
      {
        headers,
        ...(values.insecure ? { verify: false } : verify ? { verify } : {}),
        ...(values['server-name'] ? { serverName: values['server-name'] } : {}),
        ...(values['connect-to'] ? { connectTo: values['connect-to'] } : {}),
        ...(values.data !== undefined ? { data: values.data } : {}),
        ...(timeout !== undefined ? { timeout } : {}),
        ...(cert ? { cert } : {}),
        ...(pins.length > 0 ? { pin: pins } : {}),
        ...(values.proxy !== undefined ? { proxy: values.proxy === '' ? false : values.proxy } : {}),
        ...(aia ? { aia } : {}),
      },
    );
    const body = await r.text();
    if (values.json) {
      const out = {
        status: r.status,
        url: r.url,
        headers: Object.fromEntries(r.headers),
        history: r.history.map((h) => ({ status: h.status, url: h.url })),
        tls: r.tls ?? null,
        body,
      };
      io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return 0;
    }
    if (values.verbose && r.tls)
      io.stderr.write(
        `${describeTls(r.tls)
          .map((l) => `* ${l}`)
          .join('\n')}\n`,
      );
    if (values.include) {
      io.stdout.write(`HTTP ${r.status} ${r.reason}\n`);
      for (const [k, v] of r.headers) io.stdout.write(`${k}: ${v}\n`);
      io.stdout.write('\n');
    }
    io.stdout.write(body);
    if (body !== '' && !body.endsWith('\n') && (io.stdout as { isTTY?: boolean }).isTTY)
      io.stdout.write('\n');
    return 0;
  } catch (err) {
    if (values.json) io.stdout.write(`${JSON.stringify(errorToJson(err), null, 2)}\n`);
    else io.stderr.write(renderError(err, io));
    return exitCodeFor(err);
  } finally {
    await session.close();
  }
}

type Values = ReturnType<typeof parse>['values'];

/** --cert, --key, --pass and --cert-type as the client's `cert` option (curl's flags and defaults). */
function clientCertOf(values: Values): ClientCertOption | undefined {
  const { cert, key, pass } = values;
  const type = values['cert-type']?.toLowerCase();
  if (type !== undefined && type !== 'pem' && type !== 'der' && type !== 'p12') {
    throw new ConfigError(`--cert-type must be PEM, DER or P12, not '${values['cert-type']}'`, {
      code: 'ERR_OPTIONS',
    });
  }
  if (cert === undefined) {
    if (key !== undefined || pass !== undefined || type !== undefined) {
      throw new ConfigError('--key, --pass and --cert-type go with --cert FILE (the client certificate)', {
        code: 'ERR_OPTIONS',
      });
    }
    return undefined;
  }
  const passphrase = pass === undefined ? {} : { passphrase: passphraseFrom(pass) };
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
 * Is the server's own address (--connect-to's host, else the URL's) private or loopback? Then
 * AIA may fetch from such addresses too: a server on the local network may point to its local
 * CA, a public one may not make this process reach into it (the rule certainly check uses).
 */
function serverIsLocal(url: string, connectTo: string | undefined): boolean {
  let host: string;
  try {
    host = connectTo === undefined ? new URL(url).hostname : parseConnectTo(connectTo).host;
  } catch {
    return false; // the request reports the bad URL or --connect-to itself
  }
  host = host.replace(/^\[|\]$/g, '');
  return host.toLowerCase() === 'localhost' || privateAddressKind(host) !== undefined;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      verify: { type: 'string' },
      ca: { type: 'string' },
      insecure: { type: 'boolean', short: 'k' },
      cert: { type: 'string' },
      key: { type: 'string' },
      pass: { type: 'string' },
      'cert-type': { type: 'string' },
      pin: { type: 'string', multiple: true },
      proxy: { type: 'string', short: 'x' },
      aia: { type: 'boolean' },
      'server-name': { type: 'string' },
      'connect-to': { type: 'string' },
      header: { type: 'string', short: 'H', multiple: true },
      method: { type: 'string', short: 'X' },
      data: { type: 'string', short: 'd' },
      include: { type: 'boolean', short: 'i' },
      verbose: { type: 'boolean', short: 'v' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/**
 * --pass as openssl's -passin reads it: 'env:VAR' and 'file:PATH' keep the secret out of the
 * process list (`ps`); anything else is the passphrase itself (curl's --pass).
 */
function passphraseFrom(value: string): string {
  if (value.startsWith('env:')) {
    const name = value.slice(4);
    const v = process.env[name];
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
      return readFileSync(path, 'utf8').split(/\r?\n/)[0] ?? '';
    } catch (err) {
      throw new ConfigError(
        `--pass file:${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        {
          code: 'ERR_OPTIONS',
          cause: err,
        },
      );
    }
  }
  return value;
}
