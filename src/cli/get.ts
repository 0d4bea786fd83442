/** `certainly get URL`: fetch a URL with verification, printing the body (or JSON). */
import { parseArgs } from 'node:util';
import { Session } from '../client/session.js';
import { ConfigError } from '../errors.js';
import { describeTls, errorToJson, exitCodeFor, type Io, renderError } from './render.js';

export const GET_USAGE = `usage: certainly get URL [options]

  --verify PATH        CA file or directory to trust instead of the defaults
  -k, --insecure       do not verify the certificate (warns; for diagnosis only)
  --server-name NAME   verify NAME (and send it as SNI) instead of the URL host
  --connect-to H:P     connect to H:P instead of the URL host; still verify the URL host
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
    if (values.insecure && values.verify) {
      throw new ConfigError('--insecure and --verify contradict each other; choose one', {
        code: 'ERR_OPTIONS',
      });
    }
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
        ...(values.insecure ? { verify: false } : values.verify ? { verify: values.verify } : {}),
        ...(values['server-name'] ? { serverName: values['server-name'] } : {}),
        ...(values['connect-to'] ? { connectTo: values['connect-to'] } : {}),
        ...(values.data !== undefined ? { data: values.data } : {}),
        ...(timeout !== undefined ? { timeout } : {}),
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

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      verify: { type: 'string' },
      insecure: { type: 'boolean', short: 'k' },
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
