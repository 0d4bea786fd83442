/**
 * A CA file: a PEM bundle (any number of CERTIFICATE blocks) or one DER certificate.
 * Source 'file:<absolute path>' unless the caller names another (env variables do).
 */
import { statSync } from 'node:fs';
import { caError } from './codes.js';
import { loadCaDir } from './dir.js';
import {
  describeFsError,
  describePath,
  describeReadError,
  extractCertificates,
  type LoadPathOptions,
  pathFix,
  readBounded,
  type SourceResult,
  signatureOf,
  unusablePath,
} from './load.js';
import { renderSource } from './source.js';

/** A file or a directory, whichever the path is. */
export function loadCaPath(raw: string, opts: LoadPathOptions): SourceResult {
  const { abs, where } = describePath(raw, opts.origin);
  const source = opts.source ?? renderSource({ kind: 'file', path: abs });
  let kind: 'dir' | 'file' | 'other';
  try {
    const st = statSync(abs);
    kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch (err) {
    return unusablePath(raw, opts, source, abs, `CA path ${where} ${describeFsError(err)}.`, err);
  }
  if (kind === 'dir') return loadCaDir(raw, opts);
  if (kind === 'file') return loadCaFile(raw, opts);
  return unusablePath(raw, opts, source, abs, `CA path ${where} is neither a file nor a directory.`);
}

/** Loads one CA file. Strict unless `lenient`: see LoadPathOptions. */
export function loadCaFile(raw: string, opts: LoadPathOptions): SourceResult {
  const { abs, where } = describePath(raw, opts.origin);
  const source = opts.source ?? renderSource({ kind: 'file', path: abs });
  // Stat before reading: a file replaced between the two is seen as changed at the next check.
  const sig = signatureOf(abs);
  let bytes: Buffer;
  try {
    bytes = readBounded(abs);
  } catch (err) {
    return unusablePath(raw, opts, source, abs, `CA file ${where} ${describeReadError(err)}.`, err);
  }
  const result: SourceResult = { source, certs: [], warnings: [], stamps: [{ path: abs, sig }] };
  const got = extractCertificates(bytes, { lazy: opts.lenient === true });
  result.certs = got.certs;
  if (got.invalid.length > 0) {
    const problem = `CA file ${where} has a malformed certificate: ${got.invalid.join('; ')}.`;
    if (!opts.lenient) {
      throw caError(
        'ERR_CA_INVALID',
        problem,
        'Remove or re-export that certificate (for example with `openssl x509 -in FILE -out fixed.pem`).',
      );
    }
    result.warnings.push(problem);
  }
  if (got.skipped.length > 0) result.warnings.push(`CA file ${abs}: skipped ${got.skipped.join(', ')}.`);
  if (result.certs.length === 0 && got.invalid.length === 0) {
    const what =
      bytes.length === 0
        ? 'is empty'
        : got.pem
          ? `contains no CERTIFICATE block${got.skipped.length ? ` (only ${got.skipped.join(', ')})` : ''}`
          : 'contains no certificate (neither a PEM CERTIFICATE block nor a DER certificate)';
    const problem = `CA file ${where} ${what}.`;
    if (opts.lenient) {
      result.warnings.push(problem);
      return result;
    }
    throw caError(
      'ERR_CA_EMPTY',
      problem,
      `Put the CA certificate in it as PEM (-----BEGIN CERTIFICATE-----) or DER. ${pathFix(opts.origin, raw)}`,
    );
  }
  return result;
}
