/** `certainly get URL`: fetch a URL with verification, printing the body (or JSON). */

import { mkdirSync, openAsBlob, statSync, writeFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { DEFAULTS } from '../client/options.js';
import { selectProxy } from '../client/proxy.js';
import { Session } from '../client/session.js';
import { CertainlyError, ConfigError, INSECURE_WARNING, ResponseTooLarge } from '../errors.js';
import { formatAddress, parseConnectTo, stripBrackets } from '../tls/target.js';
import { privateAddressKind } from '../verify/aia.js';
import { parseReferenceName } from '../verify/identity.js';
import { type CommandSpec, helpText, type Parsed, parseCommand, UsageError, usageFailure } from './args.js';
import {
  CLIENT_CERT_OPTIONS,
  clientCertOf,
  FAMILY_OPTIONS,
  familyOf,
  PROXY_OPTIONS,
  proxyOptionsOf,
} from './client-flags.js';
import { cookieArgPairs, formatCookieFile, MAX_COOKIE_FILE, parseCookieFile } from './cookie-file.js';
import { formParts, MAX_DATA_FILE, readFileArg, remoteName, requestBody, writeBody } from './download.js';
import { describeTls, errorToJson, exitCodeFor, type Io, renderError, tlsJson } from './render.js';
import { esc, jsonText, quote } from './safe.js';
import { parseWriteOut, type WriteOut, type WriteOutFacts } from './write-out.js';

export const GET = {
  name: 'get',
  synopsis: 'URL [options]',
  about: 'Fetches URL, verifying the server; prints the body (or, with --json, everything as JSON).',
  // min 0: the URL may come as --url instead (checked in runGet).
  args: { min: 0, max: 1, name: 'a URL' },
  options: {
    url: { type: 'string', value: 'URL', help: "the URL, as curl's --url (instead of the argument)" },
    verify: { type: 'string', value: 'PATH', help: 'CA file or directory to trust instead of the defaults' },
    ca: {
      type: 'string',
      value: 'PATH',
      alias: ['cacert', 'capath'],
      help: "the same as --verify (curl's --cacert FILE and --capath DIR)",
    },
    insecure: {
      type: 'boolean',
      short: 'k',
      help: 'do not verify the certificate (warns; for diagnosis only)',
    },
    'server-name': {
      type: 'string',
      value: 'NAME',
      help: 'verify NAME (and send it as SNI) instead of the URL host',
    },
    'connect-to': {
      type: 'string',
      value: 'H:P',
      help: "connect to H:P instead of the URL host; still verify the URL host\n(curl's HOST1:PORT1:HOST2:PORT2 form too, for the URL's host and port)",
    },
    resolve: {
      type: 'string',
      value: 'HOST:PORT:ADDR',
      help: "curl's --resolve: for the URL's HOST:PORT, connect to ADDR; the URL's host\nis still what is verified and sent as SNI",
    },
    ...FAMILY_OPTIONS,
    ...CLIENT_CERT_OPTIONS,
    pin: {
      type: 'string',
      value: 'sha256//B64',
      multiple: true,
      help: "accept the server only if its public key has this SPKI hash\n(repeatable, or several separated by ';'; after verification)",
    },
    ...PROXY_OPTIONS,
    aia: {
      type: 'boolean',
      help: "fetch an intermediate the server did not send from the URL in its\ncertificate (from a private or loopback address only when the\nserver's own address is one)",
    },
    revocation: {
      type: 'string',
      value: 'MODE',
      choices: ['off', 'soft', 'hard'],
      help: 'soft (default: a stapled OCSP response is checked, must-staple\nenforced), hard (a good stapled status is required), off',
    },
    'cert-status': { type: 'boolean', help: "the same as --revocation hard (curl's flag)" },
    'ocsp-online': {
      type: 'boolean',
      help: "when the server staples no OCSP response, ask the responder named in\nits certificate (a private or loopback one only when the server's own\naddress is one)",
    },
    header: {
      type: 'string',
      short: 'H',
      value: "'K: V'",
      multiple: true,
      help: 'add a request header (repeatable)',
    },
    'user-agent': {
      type: 'string',
      short: 'A',
      value: 'TEXT',
      help: `send User-Agent: TEXT (default certainly/VERSION; '' sends none)`,
    },
    referer: { type: 'string', short: 'e', value: 'URL', help: 'send Referer: URL' },
    cookie: {
      type: 'string',
      short: 'b',
      value: 'DATA|FILE',
      multiple: true,
      help: "send cookies: 'NAME=VALUE; NAME2=VALUE2' to the URL's origin, or FILE, a\nNetscape cookie file (as -c writes), through the cookie rules (as curl)",
    },
    'cookie-jar': {
      type: 'string',
      short: 'c',
      value: 'FILE',
      help: 'after the transfer, write the cookies held (those read with -b FILE and\nthose the server set) to FILE in the Netscape format (- for stdout), as curl',
    },
    method: {
      type: 'string',
      short: 'X',
      value: 'M',
      help: 'request method (default GET, or POST with --data)',
    },
    data: {
      type: 'string',
      short: 'd',
      value: 'TEXT',
      multiple: true,
      help: 'request body: TEXT, @FILE (newlines dropped) or @- (stdin), as a form\n(several are joined with &); POST unless -X',
    },
    'data-raw': {
      type: 'string',
      value: 'TEXT',
      multiple: true,
      help: "request body part as -d, but a leading @ is just a character (curl's\n--data-raw, as browsers' 'Copy as cURL' writes)",
    },
    'data-urlencode': {
      type: 'string',
      value: 'DATA',
      multiple: true,
      help: "request body part, percent-encoded as curl: CONTENT, =CONTENT, NAME=CONTENT,\n@FILE or NAME@FILE; joined with -d's parts by &",
    },
    get: {
      type: 'boolean',
      short: 'G',
      help: "send -d and --data-urlencode in the URL's query with GET (HEAD with -I)\ninstead of as a POST body (as curl)",
    },
    'data-binary': {
      type: 'string',
      value: 'TEXT',
      multiple: true,
      help: 'request body sent as it is: TEXT, @FILE or @- (alone, a file or stdin streams)',
    },
    form: {
      type: 'string',
      short: 'F',
      value: 'NAME=…',
      multiple: true,
      help: "multipart/form-data field: NAME=TEXT, NAME=@FILE (a file; ';type=T'\nand ';filename=N' may follow) or NAME=<FILE (the file's content as\nthe value); repeatable; POST unless -X",
    },
    'upload-file': {
      type: 'string',
      short: 'T',
      value: 'FILE',
      help: "send FILE (- for stdin) as the body, streamed, with PUT unless -X (as curl);\nits Content-Length is sent, as some servers (S3 presigned URLs) require, and\nit is read again for --retry; a URL ending in / gets FILE's name appended",
    },
    compressed: {
      type: 'boolean',
      help: 'ask for a compressed body (Accept-Encoding: gzip, deflate, br) and\ndecompress it; without it, nothing is asked and the body is written\nas the server sent it (as curl)',
    },
    'oauth2-bearer': { type: 'string', value: 'TOKEN', help: 'send Authorization: Bearer TOKEN (as curl)' },
    'proxy-user': {
      type: 'string',
      short: 'U',
      value: 'USER:PASS',
      help: "the proxy's credentials (Basic), as curl; or in the proxy URL",
    },
    globoff: {
      type: 'boolean',
      short: 'g',
      help: 'accepted for curl: URLs are never globbed here ([ ] and { } are sent as\nthey are)',
    },
    user: {
      type: 'string',
      short: 'u',
      value: 'USER:PASS',
      help: 'basic auth; with USER alone the password is asked on the terminal',
    },
    digest: {
      type: 'boolean',
      help: 'with -u: HTTP Digest authentication (RFC 7616: MD5 or SHA-256, qop=auth)\nas curl --digest, instead of Basic',
    },
    retry: {
      type: 'number',
      value: 'N',
      integer: true,
      min: 0,
      max: 100,
      help: 'send again, up to N times, after a transient failure (as curl): a timeout,\na connection error, or HTTP 408, 429, 500, 502, 503, 504; waits 1 s, doubled\neach time up to 10 min, or what Retry-After asks; never after a certificate\nfailure; a body from stdin is not sent again',
    },
    'retry-delay': {
      type: 'number',
      value: 'SECONDS',
      max: 600,
      help: 'with --retry: wait this long before each retry instead of doubling\n(0: the doubling default); Retry-After still counts',
    },
    'retry-max-time': {
      type: 'number',
      value: 'SECONDS',
      max: 86_400,
      help: 'with --retry: no retry later than this long after the first attempt began',
    },
    'retry-all-errors': {
      type: 'boolean',
      help: 'with --retry: every error is retried, and with --fail so is every HTTP status\nof 400 or more (as curl; a certificate failure never is)',
    },
    'retry-connrefused': {
      type: 'boolean',
      help: 'accepted for curl: with --retry a refused connection is always retried',
    },
    output: { type: 'string', short: 'o', value: 'FILE', help: 'write the body to FILE (- for stdout)' },
    'continue-at': {
      type: 'string',
      short: 'C',
      value: 'N|-',
      help: "resume a download, as curl: ask for the body from byte N on (Range) and\nappend it to -o FILE (or -O's); - takes N from FILE's size. A server that\nsends anything but that range is exit 33, FILE left as it was; a 416 for a\nFILE that is already whole is exit 0",
    },
    'output-dir': {
      type: 'string',
      value: 'DIR',
      help: 'put the file -o or -O names in DIR (as curl; DIR must exist unless\n--create-dirs)',
    },
    'create-dirs': { type: 'boolean', help: "create -o's (and --output-dir's) missing directories, as curl" },
    'max-filesize': {
      type: 'number',
      value: 'BYTES',
      integer: true,
      min: 1,
      help: 'refuse a body larger than BYTES: exit 63 (as curl), the transfer stopped\nas soon as it passes (ResponseTooLarge)',
    },
    'remote-name': {
      type: 'boolean',
      short: 'O',
      help: "write the body to a file named as the URL's last path segment",
    },
    silent: { type: 'boolean', short: 's', help: 'no progress line' },
    'no-progress-meter': { type: 'boolean', help: 'no progress line (the same as -s here, as curl)' },
    'show-error': {
      type: 'boolean',
      short: 'S',
      help: 'accepted for curl (-sS): errors are always shown; -s silences only the\nprogress line',
    },
    fail: {
      type: 'boolean',
      short: 'f',
      help: 'exit 22 without writing the body when the status is 400 or more (as curl)',
    },
    'fail-with-body': {
      type: 'boolean',
      help: 'exit 22 when the status is 400 or more, after writing the body (as curl)',
    },
    head: { type: 'boolean', short: 'I', help: 'send HEAD and print the status line and headers' },
    location: {
      type: 'boolean',
      short: 'L',
      help: `follow redirects (not followed without it, as curl), at most --max-redirs`,
    },
    // The library's default (requests' Session.max_redirects), so the CLI and code agree; curl's is 50.
    'max-redirs': {
      type: 'number',
      value: 'N',
      integer: true,
      min: 0,
      max: 1000,
      help: `most redirects -L follows (default ${DEFAULTS.maxRedirects}, as requests and the library)`,
    },
    'tlsv1.2': {
      type: 'boolean',
      alias: ['tlsv1', 'tlsv1.0', 'tlsv1.1'],
      help: 'TLS 1.2 or later: what this client always does (curl asks for 1.0 or 1.1\nor later with the others; TLS below 1.2 is never offered here, RFC 8996)',
    },
    'tlsv1.3': { type: 'boolean', help: 'TLS 1.3 only: refuse a server that cannot speak it (as curl)' },
    'tls-max': {
      type: 'string',
      value: 'VERSION',
      choices: ['1.2', '1.3', 'default'],
      help: 'the highest TLS version offered: 1.2, or 1.3 (the default), as curl',
    },
    'http1.1': {
      type: 'boolean',
      help: 'HTTP/1.1 only: the default (accepted for curl; the opposite of --http2)',
    },
    http2: {
      type: 'boolean',
      help: 'offer HTTP/2 (ALPN h2, http/1.1; the server chooses, after verification);\n-i and --json show the version used',
    },
    include: { type: 'boolean', short: 'i', help: 'print the status line and headers before the body' },
    verbose: { type: 'boolean', short: 'v', help: 'print the TLS details to stderr' },
    // 10 minutes: past that a connect or a read is not slow, it is stuck.
    timeout: { type: 'number', value: 'MS', min: 1, max: 600_000, help: 'connect and read timeout' },
    'connect-timeout': {
      type: 'number',
      value: 'SECONDS',
      min: 0.001,
      max: 600,
      help: 'the connect timeout, in seconds, as curl (TCP, proxy and TLS handshake)',
    },
    'max-time': {
      type: 'number',
      value: 'SECONDS',
      min: 0.001,
      max: 86_400,
      help: 'the longest the whole transfer may take, in seconds, as curl (body included;\nexit 2 with TotalTimeout)',
    },
    'write-out': {
      type: 'string',
      short: 'w',
      value: 'FORMAT',
      help: "after the body, print FORMAT to stdout with %{http_code}, %{url_effective},\n%{time_total}, %{size_download}, %header{NAME}… filled in (curl's -w; @FILE\nreads it from a file); printed on failure too, with http_code 000",
    },
    json: { type: 'boolean', help: 'print {status, url, headers, tls, body} as JSON (errors too)' },
  },
  footer:
    'exit codes: 0 done, 1 the certificate was refused, 2 a usage or connection error,\n            22 an HTTP error with --fail, 23 the output could not be written,\n            33 -C could not resume (the server sent no range from that byte)',
} as const satisfies CommandSpec;

export async function runGet(argv: string[], io: Io): Promise<number> {
  let parsed: Parsed<typeof GET.options>;
  try {
    parsed = parseCommand(GET, argv);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(GET, curlJsonHint(argv) ?? err, io.stderr);
    throw err;
  }
  const { values, args: positionals } = parsed;
  if (parsed.help) {
    io.stdout.write(helpText(GET));
    return 0;
  }
  if (values.url !== undefined && positionals.length > 0)
    return usageFailure(
      GET,
      new UsageError(`give the URL once: as an argument or as --url, not both (${quote(positionals[0]!)})`),
      io.stderr,
    );
  const given = values.url ?? positionals[0];
  if (given === undefined) return usageFailure(GET, new UsageError('a URL is needed'), io.stderr);
  // A target without a scheme is https, as for check (curl would take http: this client verifies).
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(given) ? given : `https://${given}`;
  try {
    checkUrl(url, given);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(GET, err, io.stderr);
    throw err;
  }
  let writeOut: WriteOut | undefined;
  let jarCookies: Record<string, unknown>[] | undefined;
  let literalCookies: [string, string][] = [];
  try {
    for (const arg of values.cookie ?? []) {
      const pairs = cookieArgPairs(arg);
      if (pairs) literalCookies = [...literalCookies, ...pairs];
      else if (arg !== '')
        jarCookies = [
          ...(jarCookies ?? []),
          ...parseCookieFile(readFileArg('-b', arg, MAX_COOKIE_FILE).toString('utf8'), arg),
        ];
    }
    writeOut =
      values['write-out'] === undefined ? undefined : parseWriteOut(writeOutFormat(values['write-out']));
    if (writeOut && values.json)
      throw new UsageError('-w and --json both describe the result: give one of them');
    if (values['cookie-jar'] === '-' && values.json)
      throw new UsageError(
        '-c - would write the cookies into the JSON on stdout: give -c a file with --json',
      );
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(GET, err, io.stderr);
    throw err;
  }
  const started = performance.now();
  const facts: WriteOutFacts = { url, method: 'GET', redirects: 0, bytes: 0, total: 0, exitCode: 0 };
  /** The exit code, after the -w line (if asked for) is printed. */
  const done = (code: number, err?: unknown): number => {
    if (values['cookie-jar'] !== undefined) code = writeJar(values['cookie-jar'], code);
    if (!writeOut) return code;
    facts.total = (performance.now() - started) / 1000;
    facts.exitCode = code;
    if (err !== undefined) facts.errorMessage = err instanceof Error ? err.message : String(err);
    io.stdout.write(writeOut(facts));
    return code;
  };
  const session = new Session(jarCookies ? { cookies: jarCookies } : {});
  /** -c FILE: the jar written as curl writes it; a write failure is exit 23 (curl's write error). */
  const writeJar = (path: string, code: number): number => {
    const text = formatCookieFile(session.cookies?.list() ?? []);
    if (path === '-') {
      io.stdout.write(text);
      return code;
    }
    try {
      writeFileSync(path, text, { mode: 0o600 });
      return code;
    } catch (e) {
      io.stderr.write(
        `certainly get: cannot write the cookie jar ${quote(path)}: ${esc((e as NodeJS.ErrnoException).code ?? String(e))}\n`,
      );
      return code === 0 ? 23 : code;
    }
  };
  // The library's InsecureRequestWarning speaks of verify: false; the CLI says it in its own terms.
  const unmute = values.insecure ? muteInsecureWarning(io.stderr, url) : undefined;
  // --tlsv1.x and --tls-max: Node's defaults for this process (the command owns it), put back after.
  const tlsDefaults = { min: tls.DEFAULT_MIN_VERSION, max: tls.DEFAULT_MAX_VERSION };
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
    const cert = clientCertOf(values, io.env);
    // curl's --pinnedpubkey takes several hashes separated by ';'.
    const pins = (values.pin ?? []).flatMap((p) => p.split(';')).map((p) => p.trim());
    const connectTo = curlConnectTo(url, values['connect-to'], values.resolve);
    const aia = values.aia ? { allowPrivate: serverIsLocal(url, connectTo) } : undefined;
    const revocation = values['cert-status'] ? 'hard' : values.revocation;
    if (values['cert-status'] && values.revocation !== undefined && values.revocation !== 'hard')
      throw new ConfigError(`--cert-status and --revocation ${values.revocation} contradict each other`, {
        code: 'ERR_OPTIONS',
      });
    if (values['ocsp-online'] && revocation === 'off')
      throw new ConfigError('--ocsp-online and --revocation off contradict each other', {
        code: 'ERR_OPTIONS',
      });
    const revocationOption = values['ocsp-online']
      ? {
          mode: (revocation ?? 'soft') as 'soft' | 'hard',
          online: { allowPrivate: serverIsLocal(url, connectTo) },
        }
      : (revocation as 'off' | 'soft' | 'hard' | undefined);
    const headers: [string, string | undefined][] = [];
    for (const h of values.header ?? []) {
      const i = h.indexOf(':');
      if (i <= 0) throw new ConfigError(`header '${h}' is not 'Name: value'`, { code: 'ERR_OPTIONS' });
      headers.push([h.slice(0, i).trim(), h.slice(i + 1).trim()]);
    }
    // -A and -e are headers with curl's names; given both ways, which one was meant is unclear.
    for (const [flag, name, value] of [
      ['-A', 'User-Agent', values['user-agent']],
      ['-e', 'Referer', values.referer],
    ] as const) {
      if (value === undefined) continue;
      if (headers.some(([k]) => k.toLowerCase() === name.toLowerCase()))
        throw new UsageError(`${flag} and -H '${name}: …' both set ${name}: give one of them`);
      if (flag === '-e' && value.endsWith(';auto'))
        throw new UsageError(
          "-e URL;auto (curl's automatic Referer on redirects) is not supported: give the URL alone",
        );
      // -A '' sends no User-Agent, as curl.
      headers.push([name, value === '' ? undefined : value]);
    }
    if (values['tlsv1.3'] && values['tls-max'] === '1.2')
      throw new UsageError('--tlsv1.3 and --tls-max 1.2 leave no TLS version to speak');
    if (values['tlsv1.3']) tls.DEFAULT_MIN_VERSION = 'TLSv1.3';
    // A process started with --tls-min-v1.0 (NODE_OPTIONS) goes no lower than 1.2 when asked.
    else if (values['tlsv1.2'] && (tlsDefaults.min === 'TLSv1' || tlsDefaults.min === 'TLSv1.1'))
      tls.DEFAULT_MIN_VERSION = 'TLSv1.2';
    if (values['tls-max'] === '1.2') tls.DEFAULT_MAX_VERSION = 'TLSv1.2';
    const family = familyOf(values);
    if (values['http1.1'] && values.http2)
      throw new UsageError('--http1.1 and --http2 contradict each other');
    if (values.fail && values['fail-with-body'])
      throw new UsageError('--fail and --fail-with-body contradict each other (as in curl): give one');
    const timeout = timeoutOf(values.timeout, values['connect-timeout'], values['max-time']);
    const stdin = (io as { stdin?: NodeJS.ReadableStream }).stdin ?? process.stdin;
    // A Buffer is taken as it is (--data-raw: a leading @ names no file).
    const formData: (string | Buffer)[] = [
      ...values.data,
      ...values['data-raw'].map((d) => Buffer.from(d)),
      ...values['data-urlencode'].map(urlencodedPart),
    ];
    const bodies = [
      values.form.length > 0 ? '-F' : '',
      formData.length > 0 || values['data-binary'].length > 0 ? '-d/--data-binary' : '',
      values['upload-file'] !== undefined ? '-T' : '',
    ].filter(Boolean);
    if (
      values.get &&
      (values.form.length > 0 || values['upload-file'] !== undefined || values['data-binary'].length > 0)
    )
      throw new UsageError(
        '-G puts -d and --data-urlencode data in the URL: give those (no -F, -T or --data-binary)',
      );
    if (bodies.length > 1)
      throw new UsageError(`${bodies.join(' and ')} are different kinds of body: give one of them (as curl)`);
    const files = values.form.length > 0 ? await formParts(values.form) : undefined;
    const upload =
      values['upload-file'] === undefined ? undefined : await uploadBody(values['upload-file'], stdin);
    let target = upload ? uploadUrl(url, values['upload-file']!) : url;
    if (values.get && formData.length > 0)
      target = withQuery(url, (await requestBody(formData, [], stdin))!.data as Buffer);
    const body = values.get
      ? undefined
      : (upload ?? (await requestBody(formData, values['data-binary'], stdin)));
    if (
      body &&
      'contentType' in body &&
      body.contentType &&
      !headers.some(([k]) => k.toLowerCase() === 'content-type')
    )
      headers.push(['Content-Type', body.contentType]);
    // curl: no Accept-Encoding and the body as sent, unless --compressed (docs/decisions.md).
    if (!values.compressed && !headers.some(([k]) => k.toLowerCase() === 'accept-encoding'))
      headers.push(['Accept-Encoding', undefined]);
    if (values.digest && values.user === undefined)
      throw new UsageError('--digest goes with -u USER:PASS (the credentials to answer the challenge with)');
    if (values['oauth2-bearer'] !== undefined && values.user !== undefined)
      throw new UsageError('-u and --oauth2-bearer are two kinds of credentials: give one');
    const credentials = values.user === undefined ? undefined : await userAuth(values.user, stdin, io.stderr);
    const auth =
      values['oauth2-bearer'] !== undefined
        ? { bearer: values['oauth2-bearer'] }
        : credentials && values.digest
          ? { digest: credentials }
          : credentials;
    if (
      values['proxy-user'] !== undefined &&
      selectProxy(new URL(target), { ...proxyOptionsOf(values), env: io.env }) === null
    )
      throw new UsageError(
        '-U gives credentials for a proxy, and none is used: add -x URL (or set HTTPS_PROXY)',
      );
    const file = outputFile(
      values.output ?? (values['remote-name'] ? remoteName(target) : undefined),
      values['output-dir'],
      values['create-dirs'] === true,
    );
    const method = values.method ?? (upload ? 'PUT' : values.head ? 'HEAD' : body || files ? 'POST' : 'GET');
    const resume =
      values['continue-at'] === undefined
        ? undefined
        : resumeOffset(values['continue-at'], file, {
            body: body !== undefined || files !== undefined,
            head: values.head === true,
            json: values.json === true,
            compressed: values.compressed === true,
            range: headers.some(([k]) => k.toLowerCase() === 'range'),
          });
    // Offset 0 is no resume at all (curl sends no Range then, and writes the file anew).
    if (resume) headers.push(['Range', `bytes=${resume.offset}-`]);
    const retryFlags = {
      delay: values['retry-delay'],
      maxTime: values['retry-max-time'],
      allErrors: values['retry-all-errors'] === true,
      fail: values.fail === true,
    };
    for (const flag of ['retry-delay', 'retry-max-time', 'retry-all-errors', 'retry-connrefused'] as const) {
      if (values[flag] !== undefined && !values.retry)
        throw new UsageError(`--${flag} goes with --retry N (how many times to send again)`);
    }
    facts.method = method;
    facts.url = target;
    const r = await session.request(method, target, {
      headers: headerRecord(headers),
      // --json holds the body as text: decoded whatever was asked.
      decompress: values.compressed === true || values.json === true,
      ...(files ? { files } : {}),
      ...(values.insecure ? { verify: false } : verify ? { verify } : {}),
      ...(values['server-name'] ? { serverName: values['server-name'] } : {}),
      ...(connectTo ? { connectTo } : {}),
      ...family,
      ...(literalCookies.length > 0 ? { cookies: literalCookies } : {}),
      ...(body ? { data: body.data } : {}),
      ...(timeout !== undefined ? { timeout } : {}),
      ...(cert ? { cert } : {}),
      ...(pins.length > 0 ? { pin: pins } : {}),
      ...proxyOptionsOf(values),
      ...(values['proxy-user'] !== undefined ? { proxyAuth: values['proxy-user'] } : {}),
      ...(values['max-filesize'] !== undefined ? { maxResponseSize: values['max-filesize'] } : {}),
      ...(aia ? { aia } : {}),
      ...(revocationOption ? { revocation: revocationOption } : {}),
      ...(auth ? { auth } : {}),
      ...(values.retry ? { retries: curlRetries(values.retry, method, retryFlags) } : {}),
      ...(values.http2 ? { http2: true } : {}),
      allowRedirects: values.location === true,
      ...(values['max-redirs'] !== undefined ? { maxRedirects: values['max-redirs'] } : {}),
    });
    Object.assign(facts, {
      status: r.status,
      effectiveUrl: r.url,
      httpVersion: r.httpVersion,
      headers: r.headers,
      redirects: r.history.length,
      startTransfer: (performance.now() - started) / 1000,
    });
    if (values.verbose) {
      for (const x of r.retries)
        io.stderr.write(
          `* attempt ${x.attempt} (${esc(x.url)}): ${esc(x.reason)}; sent again after ${x.wait} ms${x.retryAfter ? ' (Retry-After)' : ''}\n`,
        );
    }
    if (values.fail && r.status >= 400) {
      await r.dump();
      if (values.json) io.stdout.write(jsonText({ status: r.status, url: r.url, error: 'HTTPError' }));
      else io.stderr.write(`certainly get: the server answered ${r.status} ${esc(r.reason)} (--fail)\n`);
      return done(22);
    }
    // --fail-with-body: the body is written as usual, and the exit code says the status was an error.
    const failed = values['fail-with-body'] === true && r.status >= 400 ? 22 : 0;
    if (values.json) {
      const out = {
        status: r.status,
        url: r.url,
        httpVersion: r.httpVersion,
        headers: Object.fromEntries(r.headers),
        history: r.history.map((h) => ({ status: h.status, url: h.url })),
        tls: r.tls ? tlsJson(r.tls) : null,
        body: await r.text(),
      };
      io.stdout.write(jsonText(out));
      return done(failed);
    }
    if (values.verbose && r.tls)
      io.stderr.write(
        `${describeTls(r.tls)
          .map((l) => `* ${l}`)
          .join('\n')}\n`,
      );
    if (values.include || values.head) {
      // Every response of a followed redirect chain, as curl -i -L prints them.
      for (const hop of [...r.history, r]) {
        const lines = [`HTTP/${hop.httpVersion} ${hop.status} ${esc(hop.reason)}`];
        for (const [k, v] of hop.headers) lines.push(`${esc(k)}: ${esc(v)}`);
        io.stdout.write(`${lines.join('\n')}\n\n`);
      }
    }
    if (values.head) {
      await r.dump();
      return done(failed);
    }
    const length = Number(r.headers.get('content-length') ?? Number.NaN);
    if (resume) {
      const refused = resumeRefusal(r.status, r.reason, r.headers, resume.offset, length, file);
      if (refused !== undefined) {
        await r.dump();
        // A 416 for a file already whole (or a 200 of exactly its size): done, as curl.
        if (refused === '') {
          if (values.verbose)
            io.stderr.write(
              `* the server has nothing past byte ${resume.offset}: the download is already complete\n`,
            );
          return done(failed);
        }
        io.stderr.write(`certainly get: ${refused}\n`);
        return done(failed || 33);
      }
    }
    const written = await writeBody(
      r.stream(),
      {
        ...(file !== undefined ? { file } : {}),
        ...(resume ? { append: true } : {}),
        progress: values.silent !== true && values['no-progress-meter'] !== true,
        counter: facts,
        ...(Number.isSafeInteger(length) ? { length } : {}),
      },
      io.stdout,
      io.stderr,
    );
    if (written !== 0 || failed === 0) return done(written);
    io.stderr.write(`certainly get: the server answered ${r.status} ${esc(r.reason)} (--fail-with-body)\n`);
    return done(failed);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(GET, err, io.stderr);
    if (values.json) io.stdout.write(jsonText(errorToJson(err)));
    else io.stderr.write(renderError(err, io));
    // curl's exit code for --max-filesize.
    const code =
      err instanceof ResponseTooLarge && values['max-filesize'] !== undefined ? 63 : exitCodeFor(err);
    return done(code, err);
  } finally {
    unmute?.();
    tls.DEFAULT_MIN_VERSION = tlsDefaults.min;
    tls.DEFAULT_MAX_VERSION = tlsDefaults.max;
    await session.close();
  }
}

/**
 * Under --insecure: one warning in command-line syntax instead of the library's (which names
 * `verify: false`, and which Node prints with a --trace-warnings line). Other warnings pass.
 */
function muteInsecureWarning(stderr: NodeJS.WritableStream, url: string): () => void {
  const original = process.emitWarning;
  let host = url;
  try {
    host = new URL(url).host;
  } catch {}
  stderr.write(
    `certainly get: warning: --insecure: the certificate of ${esc(host)} is not verified; anyone on the network path can read and change this traffic (to verify instead: --ca FILE, or --server-name NAME)\n`,
  );
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const name = warning instanceof Error ? warning.name : type;
    if (name === INSECURE_WARNING) return;
    return (original as (...a: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  return () => {
    process.emitWarning = original;
  };
}

/** -w FORMAT, or the format in FILE for -w @FILE (bounded: a format is a line, not a file's worth). */
function writeOutFormat(value: string): string {
  if (!value.startsWith('@')) return value;
  if (value === '@-')
    throw new UsageError('-w @- (the format from stdin) is not supported: give the format or @FILE');
  return readFileArg('-w', value.slice(1), 64 << 10).toString('utf8');
}

/**
 * curl 7.82's --json DATA sends DATA as JSON; here --json prints the result as JSON and takes no
 * value, so DATA lands as a second URL. Say what happened and what to write instead.
 */
function curlJsonHint(argv: readonly string[]): UsageError | undefined {
  const i = argv.indexOf('--json');
  const next = i >= 0 ? argv[i + 1] : undefined;
  if (next === undefined || !/^\s*[[{"]/.test(next)) return undefined;
  return new UsageError(
    `--json prints the result as JSON and takes no value; to send ${quote(next)} as JSON (curl's --json DATA), ` +
      `use --data-binary ${quote(next)} -H 'Content-Type: application/json'`,
  );
}

/**
 * --timeout MS (connect and read, the library's number), curl's --connect-timeout S and
 * --max-time S (the whole transfer, the library's timeout.total) as one timeout option.
 */
function timeoutOf(ms?: number, connectS?: number, maxS?: number) {
  if (connectS === undefined && maxS === undefined) return ms;
  return {
    ...(ms !== undefined ? { connect: ms, read: ms } : {}),
    ...(connectS !== undefined ? { connect: connectS * 1000 } : {}),
    ...(maxS !== undefined ? { total: maxS * 1000 } : {}),
  };
}

/**
 * -T FILE: the file as a file-backed Blob (fs.openAsBlob): read from disk as it is sent, its size
 * known (Content-Length, which curl sends and S3 presigned PUT URLs require) and read again for a
 * retry or a 307, as curl reads the file again; -T - streams stdin, chunked, sent once. No
 * Content-Type, as curl.
 */
async function uploadBody(path: string, stdin: NodeJS.ReadableStream): Promise<{ data: Readable | Blob }> {
  if (path === '-') return { data: stdin as Readable };
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`-T ${quote(path)} is not a regular file`);
    return { data: await openAsBlob(path) };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(
      `-T ${quote(path)} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

/**
 * -C N or -C - as the byte offset to resume from, or undefined for 0 (-C 0, or -C - with an
 * empty or missing FILE: no Range, the file written anew, as curl). UsageError for a value that is not one, for flags resuming makes no sense with
 * (a request body: curl's upload resume is not done here; -I; --json, whose body is not a file;
 * --compressed: a Range counts the encoded bytes, which do not continue a decoded file; a Range
 * of one's own), for -C - without a file to measure (curl quietly downloads it all), and for -C N
 * with a FILE of another size (curl appends at its end whatever N is, which makes a corrupt file).
 */
function resumeOffset(
  value: string,
  file: string | undefined,
  clash: { body: boolean; head: boolean; json: boolean; compressed: boolean; range: boolean },
): { offset: number } | undefined {
  if (value !== '-' && !(/^\d+$/.test(value) && Number.isSafeInteger(Number(value))))
    throw new UsageError(
      `-C takes a byte offset (0 or more) or - (the size of -o FILE), not ${quote(value)}`,
    );
  const why = clash.body
    ? 'a request body (-d, -F, -T): resuming an upload is not supported'
    : clash.head
      ? '-I: a HEAD has no body to resume'
      : clash.json
        ? '--json: the body goes into the JSON, not a file to append to'
        : clash.compressed
          ? '--compressed: a range of a compressed body counts compressed bytes, which do not continue a decompressed file (resume without --compressed: the file then holds the body as sent)'
          : clash.range
            ? "-H 'Range: …': -C makes the Range header"
            : undefined;
  if (why !== undefined) throw new UsageError(`-C does not go with ${why}`);
  const toFile = file !== undefined && file !== '-';
  let size: number | undefined;
  if (toFile) {
    try {
      const st = statSync(file);
      size = st.isFile() ? st.size : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new UsageError(
          `-C: cannot read ${quote(file)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        );
    }
  }
  if (value === '-') {
    if (!toFile)
      throw new UsageError(
        '-C - continues the file -o FILE or -O names, and there is none: give one (or -C N to skip N bytes)',
      );
    return size ? { offset: size } : undefined;
  }
  const offset = Number(value);
  // -C 0 starts over: the file is written anew, as curl.
  if (offset === 0) return undefined;
  if (toFile && size !== undefined && size !== offset)
    throw new UsageError(
      `-C ${offset}: ${quote(file)} holds ${size} bytes, so the bytes from ${offset} on would not continue it; use -C - to resume from its end`,
    );
  return { offset };
}

/**
 * Why a response to `Range: bytes=OFFSET-` cannot be appended: a sentence (exit 33, curl's
 * "cannot resume"), '' for "nothing is missing" (a 416 whose complete length is OFFSET, or has
 * none, as curl; a 200 of exactly OFFSET bytes, curl's "already downloaded"), or undefined for a
 * 206 that starts at OFFSET.
 */
function resumeRefusal(
  status: number,
  reason: string,
  headers: Headers,
  offset: number,
  length: number,
  file: string | undefined,
): string | undefined {
  const kept = file !== undefined && file !== '-' ? `; ${quote(file)} is left as it was` : '';
  const range = headers.get('content-range');
  if (status === 206) {
    const m = range === null ? null : /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(range.trim());
    if (m && Number(m[1]) === offset) return undefined;
    return `the server sent a part ${range === null ? 'without Content-Range' : `starting elsewhere (Content-Range: ${esc(range)})`}, not the bytes from ${offset} on: cannot resume${kept}`;
  }
  if (status === 416) {
    const total = range === null ? null : /^bytes \*\/(\d+)$/.exec(range.trim());
    if (total === null || Number(total[1]) === offset) return '';
    return `the server's body has ${total[1]} bytes, fewer than the ${offset} already here: this is not the same file (416)${kept}`;
  }
  if (status === 200 && length === offset) return '';
  if (status === 200)
    return `the server sent the whole body (200) instead of the bytes from ${offset} on (206): it does not support resuming (byte ranges)${kept}`;
  return `the server answered ${status} ${esc(reason)}, not 206 Partial Content: cannot resume${kept}`;
}

/**
 * Where -o/-O writes, with curl's --output-dir (a relative name goes under DIR) and
 * --create-dirs (the missing directories are made); each without -o or -O is a usage error.
 */
function outputFile(name: string | undefined, dir: string | undefined, create: boolean): string | undefined {
  if (name === undefined) {
    if (dir !== undefined || create)
      throw new UsageError('--output-dir and --create-dirs go with -o FILE or -O');
    return undefined;
  }
  if (name === '-') return name;
  const path = dir !== undefined && !isAbsolute(name) ? join(dir, name) : name;
  if (create) {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (err) {
      throw new UsageError(
        `--create-dirs: cannot create ${quote(dirname(path))}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
  }
  return path;
}

/** RFC 3986 percent-encoding of all but the unreserved characters, as curl's --data-urlencode. */
function percentEncode(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * One --data-urlencode argument as a ready form part (curl's five forms): 'CONTENT' and
 * '=CONTENT' encode CONTENT; 'NAME=CONTENT' keeps NAME and encodes CONTENT; '@FILE' and
 * 'NAME@FILE' encode the file's bytes (64 MiB at most). The result never starts with '@', so
 * requestBody takes it as text.
 */
function urlencodedPart(arg: string): string {
  const eq = arg.indexOf('=');
  const at = arg.indexOf('@');
  if (at >= 0 && (eq < 0 || at < eq)) {
    const name = arg.slice(0, at);
    const file = readFileArg('--data-urlencode', arg.slice(at + 1), MAX_DATA_FILE);
    return name ? `${name}=${percentEncode(file)}` : percentEncode(file);
  }
  if (eq < 0) return percentEncode(Buffer.from(arg));
  const name = arg.slice(0, eq);
  const content = percentEncode(Buffer.from(arg.slice(eq + 1)));
  return name ? `${name}=${content}` : content;
}

/** -G: the form text appended to the URL's query ('?' or '&'), as curl. */
function withQuery(url: string, form: Buffer): string {
  const u = new URL(url);
  const text = form.toString('latin1');
  u.search = u.search ? `${u.search}&${text}` : `?${text}`;
  return u.href;
}

/** curl -T: a URL whose path ends in '/' gets the file's name appended. */
function uploadUrl(url: string, path: string): string {
  const u = new URL(url);
  if (path === '-' || !u.pathname.endsWith('/')) return url;
  u.pathname += encodeURIComponent(basename(path));
  return u.href;
}

/**
 * -H lines as the library's header record: a name given twice is sent twice (a list), in order;
 * undefined removes a default header (Accept-Encoding without --compressed).
 */
function headerRecord(
  list: readonly [string, string | undefined][],
): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  const byLower = new Map<string, string>();
  for (const [k, v] of list) {
    const key = byLower.get(k.toLowerCase()) ?? k;
    byLower.set(k.toLowerCase(), key);
    const prev = out[key];
    if (v === undefined || prev === undefined) out[key] = v;
    else out[key] = Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** -u USER:PASS as basic auth; -u USER asks for the password on the terminal, as curl does. */
/**
 * curl's --retry: a timeout, a connection error, or HTTP 408, 429, 500, 502, 503, 504 ("transient",
 * curl's man page); 1 s before the first retry, doubled up to 10 minutes, Retry-After honoured;
 * every method, as curl runs the transfer again (the library sends a body again only when it can:
 * not one read from stdin). Connection refused counts (curl needs --retry-connrefused for it).
 * --retry-delay S: S seconds before every retry (curl: no doubling), 0 keeps the default;
 * --retry-max-time S: no retry later than S seconds after the first attempt began; and
 * --retry-all-errors: with --fail every status of 400 or more too (curl: without --fail an HTTP
 * error is not an error). A read error (timeout, broken response) is retried with --retry alone,
 * as curl does; a certificate failure never is.
 */
function curlRetries(
  n: number,
  method: string,
  flags: { delay?: number; maxTime?: number; allErrors: boolean; fail: boolean },
) {
  const transient = [408, 429, 500, 502, 503, 504];
  const statuses = flags.allErrors && flags.fail ? Array.from({ length: 200 }, (_, i) => 400 + i) : transient;
  const delay = flags.delay ? flags.delay * 1000 : undefined;
  return {
    total: n,
    connect: n,
    read: n,
    status: n,
    statusForcelist: statuses,
    backoff: delay ?? 1000,
    backoffMax: delay ?? 600_000,
    // Retry-After may ask for up to 10 minutes, whatever the fixed delay.
    respectRetryAfter: 600_000,
    jitter: 0,
    allowedMethods: [method],
    ...(flags.maxTime !== undefined ? { maxTime: flags.maxTime * 1000 } : {}),
  };
}

async function userAuth(
  value: string,
  stdin: NodeJS.ReadableStream,
  stderr: NodeJS.WritableStream,
): Promise<[string, string]> {
  const i = value.indexOf(':');
  if (i >= 0) return [value.slice(0, i), value.slice(i + 1)];
  const tty = stdin as NodeJS.ReadStream;
  if (tty.isTTY !== true) {
    throw new UsageError(
      `-u ${quote(value)} has no password and standard input is not a terminal to ask for it; use -u USER:PASS`,
    );
  }
  stderr.write(`Enter the password for ${quote(value)}: `);
  tty.setRawMode(true);
  let password = '';
  try {
    for await (const chunk of tty as AsyncIterable<Buffer>) {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return [value, password];
        if (ch === '\u0003' || ch === '\u0004') throw new UsageError('no password given');
        password = ch === '\u007f' || ch === '\b' ? password.slice(0, -1) : password + ch;
      }
    }
    return [value, password];
  } finally {
    tty.setRawMode(false);
    tty.pause();
    stderr.write('\n');
  }
}

/** The URL argument: absolute, http or https, with a host that can be verified (a..b cannot). */
function checkUrl(text: string, given: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${quote(given)} is not a URL: give an absolute one, like https://example.com/`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`${quote(given)} is not an http or https URL`);
  }
  try {
    parseReferenceName(url.hostname);
  } catch (err) {
    if (err instanceof CertainlyError) throw new UsageError(err.message);
    throw err;
  }
}

/** Splits at ':' outside brackets: 'a:443:[::1]:8443' is ['a', '443', '[::1]', '8443']. */
function colonFields(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inBracket = false;
  for (const c of text) {
    if (c === '[') inBracket = true;
    else if (c === ']') inBracket = false;
    if (c === ':' && !inBracket) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * The address to dial, from --connect-to in either form or curl's --resolve, for the one URL
 * this command fetches. curl's forms name the host and port they apply to; one that does not
 * apply to the URL is a usage error (a typo would otherwise go unnoticed). Our own --connect-to
 * H:P applies whatever the URL.
 */
function curlConnectTo(url: string, connectTo?: string, resolve?: string): string | undefined {
  if (connectTo !== undefined && resolve !== undefined)
    throw new UsageError('--connect-to and --resolve both say where to connect: give one of them');
  const u = new URL(url);
  const urlHost = stripBrackets(u.hostname).toLowerCase();
  const urlPort = u.port || (u.protocol === 'http:' ? '80' : '443');
  const applies = (flag: string, value: string, host: string, port: string) => {
    const h = stripBrackets(host).toLowerCase();
    if ((h === '' || h === '*' || h === urlHost) && (port === '' || port === urlPort)) return;
    throw new UsageError(
      `${flag} ${quote(value)} is for ${host || '*'}:${port || '*'}, and the URL is ${urlHost}:${urlPort}; it would not be used`,
    );
  };
  if (resolve !== undefined) {
    if (/^[+-]/.test(resolve))
      throw new UsageError(`--resolve ${quote(resolve)}: curl's +/- prefixes are not supported`);
    const [host = '', port = '', ...rest] = colonFields(resolve);
    const addr = rest.join(':');
    if (host === '' || !/^\d+$/.test(port) || addr === '')
      throw new UsageError(
        `--resolve ${quote(resolve)} is not HOST:PORT:ADDR (e.g. example.com:443:10.0.0.6)`,
      );
    if (addr.includes(','))
      throw new UsageError(
        `--resolve ${quote(resolve)}: give one address (several, tried in turn, are not supported)`,
      );
    applies('--resolve', resolve, host, port);
    return formatAddress(stripBrackets(addr), Number(port));
  }
  if (connectTo === undefined) return undefined;
  const fields = colonFields(connectTo);
  if (fields.length !== 4 || isIPv6(connectTo)) return connectTo;
  const [h1, p1, h2, p2] = fields as [string, string, string, string];
  applies('--connect-to', connectTo, h1, p1);
  if (p2 !== '' && !/^\d+$/.test(p2))
    throw new UsageError(`--connect-to ${quote(connectTo)}: '${p2}' is not a port (HOST1:PORT1:HOST2:PORT2)`);
  return formatAddress(stripBrackets(h2 || urlHost), Number(p2 || urlPort));
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
  host = stripBrackets(host);
  return host.toLowerCase() === 'localhost' || privateAddressKind(host) !== undefined;
}
