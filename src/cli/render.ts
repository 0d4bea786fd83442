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

/** Renders an error for a person: what failed, what the certificate says, and the fix. */
export function renderError(err: unknown, io: Io): string {
  const s = styler(io.stderr, io.env);
  if (err instanceof SSLError) {
    const lines = [
      `${s.red(s.bold('certificate verification failed'))} ${s.dim(`[${err.code}]`)}`,
      `  ${esc(err.message)}`,
    ];
    if (err.expected !== undefined) lines.push(`  expected name: ${esc(err.expected)}`);
    if (err.presented && err.presented.length > 0)
      lines.push(`  the certificate says: ${err.presented.map(esc).join(', ')}`);
    if (err.position !== undefined) lines.push(`  failing certificate: #${err.position} in the chain`);
    if (err.certificate) lines.push(...describeCertificate(err.certificate, '    '));
    if (err.hint) lines.push(`  ${s.bold('fix:')} ${esc(err.hint)}`);
    const meaning = VERIFY_CODES[err.code]?.meaning;
    if (meaning && !err.message.includes(meaning)) lines.push(s.dim(`  (${err.code}: ${meaning})`));
    return `${lines.join('\n')}\n`;
  }
  if (err instanceof CertainlyError) {
    const lines = [`${s.red(s.bold(err.name))} ${s.dim(`[${esc(err.code)}]`)}: ${esc(err.message)}`];
    if (err.hint) lines.push(`  ${s.bold('fix:')} ${esc(err.hint)}`);
    return `${lines.join('\n')}\n`;
  }
  return `${s.red('error')}: ${esc(err instanceof Error ? err.message : String(err))}\n`;
}

/** JSON form of an error: its fields, for --json. */
export function errorToJson(err: unknown): Record<string, unknown> {
  if (err instanceof CertainlyError) {
    const out: Record<string, unknown> = { error: err.name, code: err.code, message: err.message };
    for (const k of ['hint', 'expected', 'presented', 'position', 'certificate', 'chain'] as const) {
      const v = (err as unknown as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  return { error: 'Error', message: err instanceof Error ? err.message : String(err) };
}

export function describeTls(t: TlsInfo): string[] {
  const lines = [
    `TLS: ${t.protocol ?? '?'} ${t.cipher ?? ''}${t.alpn ? `, ALPN ${t.alpn}` : ''}`,
    `connected to ${t.address}, SNI ${t.sni ?? '(none: IP literal)'}, verified name ${t.verifiedName}`,
  ];
  if (t.anchor) lines.push(`trusted via: ${esc(t.anchor.subject)} (from ${t.anchor.sources.join(', ')})`);
  else if (!t.verified) lines.push('NOT VERIFIED (verify: false)');
  const leaf = t.revocation?.certificates[0];
  if (t.revocation && t.revocation.mode !== 'off')
    lines.push(
      `revocation: ${leaf && leaf.status !== 'unchecked' ? `${leaf.status}${leaf.source === 'staple' ? ' (stapled OCSP response)' : leaf.source ? ` (${leaf.source})` : ''}` : 'not checked (no stapled OCSP response)'}${t.revocation.mustStaple ? ', must-staple' : ''}`,
    );
  return lines;
}

/** Exit codes: 0 ok, 1 a verification problem, 2 a usage or connection error. */
export function exitCodeFor(err: unknown): number {
  return err instanceof SSLError ? 1 : 2;
}
