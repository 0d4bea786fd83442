/**
 * Certificates given in code: PEM text (a string containing a BEGIN line) or bytes (PEM or one
 * DER certificate). Source 'inline'.
 */
import { caError } from './codes.js';
import { extractCertificates, type SourceResult } from './load.js';
import { renderSource } from './source.js';

export const INLINE_SOURCE = renderSource({ kind: 'inline' });

/** True when a string is PEM text rather than a path: it has a PEM BEGIN line. */
export function looksLikePem(value: string): boolean {
  return value.includes('-----BEGIN ');
}

/** Loads inline PEM text or bytes; `origin` names the option for messages ('verify', 'verify.ca[2]'). */
export function loadInline(value: string | Uint8Array, origin: string): SourceResult {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const got = extractCertificates(bytes);
  const what = typeof value === 'string' ? 'PEM text' : 'certificate bytes';
  if (got.invalid.length > 0) {
    throw caError(
      'ERR_CA_INVALID',
      `The ${what} given in ${origin} has a malformed certificate: ${got.invalid.join('; ')}.`,
      'Pass the certificate exactly as exported (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----), or its DER bytes.',
    );
  }
  if (got.certs.length === 0) {
    const only = got.skipped.length > 0 ? ` (only ${got.skipped.join(', ')})` : '';
    throw caError(
      'ERR_CA_EMPTY',
      `The ${what} given in ${origin} contains no certificate${only}.`,
      'Pass PEM text with a -----BEGIN CERTIFICATE----- block, DER bytes, or a path to a CA file or directory.',
    );
  }
  const warnings = got.skipped.length > 0 ? [`${origin}: skipped ${got.skipped.join(', ')}.`] : [];
  return { source: INLINE_SOURCE, certs: got.certs, warnings, stamps: [] };
}
