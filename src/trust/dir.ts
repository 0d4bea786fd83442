/**
 * A CA directory, as OpenSSL's c_rehash (and `openssl rehash`) lays it out: `<hash>.<n>` files
 * or links named by subject hash, and plain `.pem`, `.crt`, `.cer` files as distributions ship
 * them. Every certificate in the directory is loaded (as Go does), rather than looked up by
 * hash on demand (as OpenSSL does): the verifier needs them all indexed by subject anyway.
 * Source 'dir:<absolute path>'.
 */
import { type Dirent, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { caError } from './codes.js';
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
  statIdentity,
  unusablePath,
} from './load.js';
import { renderSource } from './source.js';

// c_rehash names: 8 hex digits of the subject hash, '.', a collision counter (openssl-rehash(1)).
const HASHED_CERT = /^[0-9a-f]{8}\.\d+$/i;
// c_rehash names CRLs '<hash>.r<n>': not certificates, skipped without a word.
const HASHED_CRL = /^[0-9a-f]{8}\.r\d+$/i;
// The extensions distributions use for one certificate per file (Debian .crt/.pem, Windows .cer).
const CERT_EXTENSION = /\.(pem|crt|cer)$/i;
// How many skipped names a warning lists before it says "and N more".
const NAMES_IN_WARNING = 5;

export interface LoadDirOptions extends LoadPathOptions {
  /**
   * Files already read, by identity (statIdentity's `id`; shared across sources): a file reached
   * twice, through a hash link and its own name, or as the system bundle and a directory entry,
   * is read once.
   */
  seen?: Set<string>;
}

function listNames(names: string[]): string {
  const shown = names.slice(0, NAMES_IN_WARNING).join(', ');
  return names.length > NAMES_IN_WARNING ? `${shown} and ${names.length - NAMES_IN_WARNING} more` : shown;
}

/** Loads every certificate file in a directory. Strict unless `lenient`: see LoadPathOptions. */
export function loadCaDir(raw: string, opts: LoadDirOptions): SourceResult {
  const { abs, where } = describePath(raw, opts.origin);
  const source = opts.source ?? renderSource({ kind: 'dir', path: abs });
  const sig = signatureOf(abs);
  let entries: Dirent[];
  try {
    entries = readdirSync(abs, { withFileTypes: true });
  } catch (err) {
    return unusablePath(raw, opts, source, abs, `CA directory ${where} ${describeFsError(err)}.`, err);
  }
  // Directory order is whatever the file system returns; sorting makes the anchor order stable.
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const result: SourceResult = { source, certs: [], warnings: [], stamps: [{ path: abs, sig }] };
  const seen = opts.seen ?? new Set<string>();
  const otherNames: string[] = [];
  const unreadable: string[] = [];
  const noCertificate: string[] = [];
  const malformed: string[] = [];
  let candidates = 0;
  for (const entry of entries) {
    if (!entry.isFile() && !entry.isSymbolicLink()) continue; // subdirectories, sockets, …
    const name = entry.name;
    if (HASHED_CRL.test(name)) continue;
    if (!HASHED_CERT.test(name) && !CERT_EXTENSION.test(name)) {
      otherNames.push(name);
      continue;
    }
    candidates++;
    const full = join(abs, name);
    // One stat per entry, following links: the identity that spots a file already read (c_rehash's
    // '<hash>.0' links to a file named in the same directory; Debian's names link on into
    // /usr/share/ca-certificates) and the signature that notices a change. It replaced a readlink
    // and a realpath per entry: 9 of the 23 ms that Debian's /etc/ssl/certs took to read.
    let file: { id: string; sig: string };
    try {
      file = statIdentity(full);
    } catch (err) {
      unreadable.push(`${name} (${describeFsError(err)})`);
      continue;
    }
    if (seen.has(file.id)) continue;
    seen.add(file.id);
    let bytes: Buffer;
    try {
      bytes = readBounded(full);
    } catch (err) {
      unreadable.push(`${name} (${describeReadError(err)})`);
      continue;
    }
    result.stamps.push({ path: full, sig: file.sig });
    const got = extractCertificates(bytes, { lazy: opts.lenient === true });
    result.certs.push(...got.certs);
    if (got.invalid.length > 0) malformed.push(`${name}: ${got.invalid.join('; ')}`);
    else if (got.certs.length === 0) noCertificate.push(name);
  }

  if (unreadable.length > 0) {
    result.warnings.push(`CA directory ${abs}: skipped unreadable ${listNames(unreadable)}.`);
  }
  if (malformed.length > 0) {
    result.warnings.push(`CA directory ${abs}: skipped malformed certificates in ${listNames(malformed)}.`);
  }
  if (noCertificate.length > 0) {
    result.warnings.push(`CA directory ${abs}: no certificate in ${listNames(noCertificate)}.`);
  }
  if (otherNames.length > 0) {
    result.warnings.push(
      `CA directory ${abs}: skipped ${otherNames.length} file${otherNames.length === 1 ? '' : 's'} ` +
        `not named <hash>.<n>, *.pem, *.crt or *.cer (${listNames(otherNames)}).`,
    );
  }

  if (result.certs.length === 0) {
    const what =
      entries.length === 0
        ? 'is empty'
        : candidates === 0
          ? 'has no certificate files (looked for <hash>.<n> as made by c_rehash, *.pem, *.crt, *.cer)'
          : 'has no readable certificate';
    const problem = `CA directory ${where} ${what}.`;
    if (opts.lenient) {
      result.warnings.unshift(problem);
      return result;
    }
    const detail = result.warnings.length > 0 ? ` ${result.warnings.join(' ')}` : '';
    throw caError(
      'ERR_CA_EMPTY',
      `${problem}${detail}`,
      `Put the CA certificates in it as .pem files (and run \`openssl rehash\` if OpenSSL tools share it). ${pathFix(opts.origin, raw)}`,
    );
  }
  return result;
}
