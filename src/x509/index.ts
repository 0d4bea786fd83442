/**
 * The certificate model: parse certificates from DER or PEM, names, extensions, summaries.
 */

import { DerReader } from '../der/reader.js';
import { ParseError } from '../errors.js';
import { parseCertificate } from './certificate.js';
import { parsePem } from './pem.js';
import type { Certificate } from './types.js';

export { generalNameToString, parseCertificate } from './certificate.js';
export { ipEquals, ipToString, parseIp } from './ip.js';
export { escapeValue, ParsedName } from './name.js';
export { ATTRIBUTE_NAMES, CURVES, EKU_NAMES, EXTENSION_NAMES, OID, SIGNATURE_ALGORITHMS } from './oids.js';
export { parsePem, toPem } from './pem.js';
export type * from './types.js';

/**
 * True when `bytes` should be read as PEM text: they are not one whole DER SEQUENCE and they
 * contain "-----BEGIN ".
 */
function looksLikePem(bytes: Uint8Array): boolean {
  if (bytes.length > 0 && bytes[0] === 0x30) {
    try {
      const r = new DerReader(bytes);
      r.next('certificate');
      if (r.atEnd()) return false;
    } catch {
      // Not one DER value: fall through to the PEM test.
    }
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes('-----BEGIN ');
}

/**
 * Certificates from PEM text (one or many CERTIFICATE blocks; other blocks are skipped) or from
 * one DER certificate (bytes starting with a SEQUENCE). `origin` ('/path/ca.pem', 'inline', …)
 * is named in every error message.
 *
 * @throws ParseError 'ERR_NO_CERTIFICATE' when the input holds no certificate, 'ERR_PEM' for a
 *   broken PEM block, 'ERR_CERTIFICATE' for a block or DER input that is not a valid certificate.
 */
export function readCertificates(input: string | Uint8Array, origin = 'inline'): Certificate[] {
  let ders: Uint8Array[];
  let fromPem = true;
  try {
    if (typeof input === 'string') {
      ders = parsePem(input, 'CERTIFICATE');
    } else if (looksLikePem(input)) {
      ders = parsePem(
        Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8'),
        'CERTIFICATE',
      );
    } else if (input.length > 0) {
      ders = [input];
      fromPem = false;
    } else {
      ders = [];
    }
  } catch (err) {
    if (err instanceof ParseError) throw withOrigin(err, origin, undefined);
    throw err;
  }
  if (ders.length === 0) {
    const empty = typeof input === 'string' ? input.trim().length === 0 : input.length === 0;
    throw new ParseError(
      empty
        ? `no PEM CERTIFICATE block found in ${origin}: it is empty`
        : `no PEM CERTIFICATE block found in ${origin}`,
      {
        code: 'ERR_NO_CERTIFICATE',
        hint: 'Expected "-----BEGIN CERTIFICATE-----" blocks (PEM) or one DER certificate.',
      },
    );
  }
  const certs: Certificate[] = [];
  for (let i = 0; i < ders.length; i++) {
    try {
      certs.push(parseCertificate(ders[i]!));
    } catch (err) {
      if (err instanceof ParseError) throw withOrigin(err, origin, fromPem ? i + 1 : undefined);
      throw err;
    }
  }
  return certs;
}

function withOrigin(err: ParseError, origin: string, index: number | undefined): ParseError {
  const where = index === undefined ? origin : `${origin}, certificate #${index}`;
  const fields: { code: string; cause: unknown; hint?: string } = { code: err.code, cause: err.cause ?? err };
  if (err.hint !== undefined) fields.hint = err.hint;
  return new ParseError(`${where}: ${err.message}`, fields);
}
