/**
 * Rendering for the CLI: always from an error's fields, never by parsing messages.
 */
import { CertainlyError, SSLError, VERIFY_CODES } from '../errors.js';
import type { TlsInfo } from '../tls/handshake.js';
import type { CertificateSummary } from '../x509/types.js';
import { colourOn, esc } from './safe.js';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/** Colour only on a TTY and when NO_COLOR is unset (https://no-color.org). */
export function styler(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv) {
  const on = colourOn(stream, env);
  const wrap = (open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return {
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    bold: wrap(1, 22),
    dim: wrap(2, 22),
  };
}

export function describeCertificate(c: CertificateSummary, indent = '  '): string[] {
  const lines = [
    `${indent}subject: ${esc(c.subject) || '(empty)'}`,
    `${indent}issuer:  ${esc(c.issuer) || '(empty)'}`,
  ];
  if (c.subjectAltNames.length > 0) {
    const shown = c.subjectAltNames.slice(0, 8).map(esc).join(', ');
    const more = c.subjectAltNames.length > 8 ? ` … (${c.subjectAltNames.length} in all)` : '';
    lines.push(`${indent}names:   ${shown}${more}`);
  } else {
    lines.push(`${indent}names:   (no subjectAltName)`);
  }
  lines.push(`${indent}valid:   ${c.notBefore} to ${c.notAfter}`);
  lines.push(
    `${indent}key:     ${c.keyType} ${c.keyBits}, signed with ${c.signatureAlgorithm}${c.isCA ? ', CA' : ''}`,
  );
  return lines;
}

/**
 * Renders an error for a person: what failed, what the certificate says, and the fix, once, in
 * command-line syntax (cliHint), or as the library wrote it for `syntax: 'library'` (the demo
 * shows library calls).
 */
export function renderError(
  err: unknown,
  io: Io,
  syntax: 'cli' | 'library' = 'cli',
  command?: (flag: string) => string,
): string {
  const s = styler(io.stderr, io.env);
  const fix = (h: string) => esc(syntax === 'cli' ? cliHint(h, command) : h);
  if (err instanceof SSLError) {
    // HANDSHAKE_FAILED is the connection failing, or the server refusing this client after
    // our verification passed: not a verdict on the certificate.
    const title =
      err.code === 'HANDSHAKE_FAILED' ? 'TLS handshake failed' : 'certificate verification failed';
    const lines = [`${s.red(s.bold(title))} ${s.dim(`[${err.code}]`)}`, `  ${esc(err.message)}`];
    if (err.expected !== undefined) lines.push(`  expected name: ${esc(err.expected)}`);
    if (err.presented && err.presented.length > 0)
      lines.push(`  the certificate says: ${err.presented.map(esc).join(', ')}`);
    if (err.position !== undefined) lines.push(`  failing certificate: #${err.position} in the chain`);
    if (err.certificate) lines.push(...describeCertificate(err.certificate, '    '));
    if (err.hint) lines.push(`  ${s.bold('fix:')} ${fix(err.hint)}`);
    const meaning = VERIFY_CODES[err.code]?.meaning;
    if (meaning && !err.message.includes(meaning) && !err.message.startsWith('after the TLS handshake'))
      lines.push(s.dim(`  (${err.code}: ${meaning})`));
    return `${lines.join('\n')}\n`;
  }
  if (err instanceof CertainlyError) {
    const lines = [`${s.red(s.bold(err.name))} ${s.dim(`[${esc(err.code)}]`)}: ${esc(err.message)}`];
    // After --retry: how many attempts the failure ended, and why each was not the last.
    if (err.retries && err.retries.length > 0) {
      lines.push(
        `  after ${err.retries.length + 1} attempts: ${err.retries.map((x) => `${esc(x.reason)} (then ${x.wait} ms)`).join(', ')}`,
      );
    }
    if (err.hint) lines.push(`  ${s.bold('fix:')} ${fix(err.hint)}`);
    return `${lines.join('\n')}\n`;
  }
  return `${s.red('error')}: ${esc(err instanceof Error ? err.message : String(err))}\n`;
}

/** JSON form of an error: its fields, for --json. */
export function errorToJson(err: unknown): Record<string, unknown> {
  if (err instanceof CertainlyError) {
    const out: Record<string, unknown> = { error: err.name, code: err.code, message: err.message };
    for (const k of [
      'hint',
      'expected',
      'presented',
      'position',
      'certificate',
      'chain',
      'retries',
    ] as const) {
      const v = (err as unknown as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  // Not ours (a bug, or something a dependency threw that no mapping knows): still its class and
  // code, never a bare {"error":"Error"}.
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      error: err.name || 'Error',
      ...(typeof code === 'string' ? { code } : {}),
      message: err.message,
    };
  }
  return { error: 'Error', message: String(err) };
}

/**
 * The TLS details of a response (get -v): what was dialled (the IP), the SNI, and whether the
 * name and chain were verified. Under --insecure nothing was: the lines say so, and never
 * "verified name".
 */
export function describeTls(t: TlsInfo): string[] {
  const lines = [
    `TLS: ${t.protocol ?? '?'} ${t.cipher ?? ''}${t.alpn ? `, ALPN ${t.alpn}` : ''}`,
    `connected to ${t.address}, SNI ${t.sni ?? '(none: IP literal)'}`,
  ];
  if (!t.verified) {
    lines.push(
      `NOT VERIFIED (--insecure): neither the certificate nor the name ${t.verifiedName} was checked`,
    );
    return lines;
  }
  lines.push(`verified name ${t.verifiedName}`);
  if (t.anchor) lines.push(`trusted via: ${esc(t.anchor.subject)} (from ${t.anchor.sources.join(', ')})`);
  const leaf = t.revocation?.certificates[0];
  if (t.revocation && t.revocation.mode !== 'off')
    lines.push(
      `revocation: ${leaf && leaf.status !== 'unchecked' ? `${leaf.status}${leaf.source === 'staple' ? ' (stapled OCSP response)' : leaf.source === 'online' && leaf.url ? ` (OCSP response from ${esc(leaf.url)}${leaf.cached ? ', cached' : ''})` : leaf.source ? ` (${leaf.source})` : ''}` : 'not checked (no stapled OCSP response)'}${t.revocation.mustStaple ? ', must-staple' : ''}`,
    );
  return lines;
}

/**
 * Response.tls for `get --json`: under --insecure `verifiedName` becomes `name` (nothing was
 * verified) next to `verified: false`; otherwise the library's object as it is.
 */
export function tlsJson(t: TlsInfo): Record<string, unknown> {
  if (t.verified) return { ...t };
  const { verifiedName, ...rest } = t;
  return { ...rest, name: verifiedName, verified: false };
}

/**
 * A library hint in command-line syntax: the flags a person types instead of the options code
 * passes (`serverName: 'x'` is `--server-name x`, `verify: 'f.pem'` is `--ca f.pem`). The
 * library writes hints for code (it does not know who called it); the CLI shows them in its
 * own terms. `command`, when given, turns `--server-name X` into the whole command line to run.
 */
export function cliHint(hint: string, command?: (flag: string) => string): string {
  return (
    hint
      .replace(/verify: \{[^}]*\} \(on the command line: ([^)]*)\)/g, '$1')
      .replace(
        /\(verify: \{ system: true \}, part of the defaults\)/g,
        '(part of the defaults: leave out --ca and --no-system)',
      )
      .replace(/verify: \{ bundled: true, system: true \}/g, 'the defaults (leave out --ca)')
      .replace(/proxyVerify: ['"]([^'"]*)['"]/g, '--proxy-cacert $1')
      // A serverName suggestion becomes the whole command line when one is given (check).
      .replace(/serverName: ['"]([^'"]*)['"]/g, (_m, n: string) =>
        command ? command(`--server-name ${n}`) : `--server-name ${n}`,
      )
      .replace(/connectTo: ['"]([^'"]*)['"]/g, '--connect-to $1')
      .replace(/verify: ['"]([^'"]*)['"]/g, '--ca $1')
      .replace(/verify: false/g, '--insecure')
      .replace(/pass proxy: false/g, "pass --proxy ''")
      .replace(/Pass http2: true/g, 'Pass --http2')
      .replace(
        /pass cert: \{ cert, key \}(?: \(or \{ pfx \}\)| or \{ pfx \})?/g,
        'pass --cert FILE --key FILE (or --cert FILE.p12)',
      )
      .replace(/ \((connectTo|serverName)\)/g, '')
      .replace(/\bserverName\b/g, '--server-name')
      .replace(/\bconnectTo\b/g, '--connect-to')
      .replace(/\btimeout\.connect\b/g, '--timeout')
      .replace(
        /Raise maxResponseSize, or read the body with stream\(\) and stop when you have enough\./g,
        'Raise --max-filesize, or leave it out (the command sets no limit of its own).',
      )
  );
}

/** Exit codes: 0 ok, 1 a verification problem, 2 a usage or connection error. */
export function exitCodeFor(err: unknown): number {
  return err instanceof SSLError ? 1 : 2;
}
