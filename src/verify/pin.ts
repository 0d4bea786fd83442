/**
 * Pins and certificate fingerprints: what the server's leaf must match besides a valid path.
 * Pure functions (no I/O): the tls layer calls checkPins after path validation and identity,
 * never instead of them.
 */

import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { ConfigError, SSLError } from '../errors.js';
import type { Certificate } from '../x509/types.js';

/** What a pin failure reports about the connection (TlsInfo carries these). */
export interface PinContext {
  /** host:port dialled. */
  address: string;
  /** The name verified. */
  verifiedName: string;
  /** False for verify: false (then only the pin protects the connection). */
  verified: boolean;
}

/** What the server's certificate must match, besides a valid path: either list may be empty. */
export interface PinSet {
  /** Base64 SHA-256 digests of the leaf's SubjectPublicKeyInfo (curl's --pinnedpubkey). */
  spki: string[];
  /** Lower-case hex SHA-256 digests of the leaf certificate's DER (urllib3's assert_fingerprint). */
  fingerprints: string[];
}

/** One string or an array of them, as an array; ConfigError with `code` for anything else. */
function listOf(input: unknown, what: string, code: string): readonly unknown[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input)) return input;
  throw new ConfigError(`${what} must be a string or an array of strings, not ${typeof input}`, { code });
}

/**
 * Normalises pins to base64 SHA-256 digests of the SubjectPublicKeyInfo. Accepts curl's
 * 'sha256//BASE64' (and 'sha256/BASE64'), several in one string separated by ';' as curl does.
 */
export function normalisePins(input: string | readonly string[], what: string): string[] {
  const items = listOf(input, what, 'ERR_PIN_FORMAT').flatMap((s) => String(s).split(';'));
  const out: string[] = [];
  for (const raw of items) {
    const item = raw.trim();
    if (item === '') continue;
    const m = /^sha256\/\/?([A-Za-z0-9+/]{43}=)$/.exec(item);
    if (!m || Buffer.from(m[1]!, 'base64').length !== 32) {
      throw new ConfigError(
        `${what}: '${item}' is not an SPKI pin; expected 'sha256//' followed by the base64 SHA-256 of the ` +
          'public key (44 characters), as curl --pinnedpubkey takes. `certainly check URL` prints the pin of a server.',
        { code: 'ERR_PIN_FORMAT' },
      );
    }
    if (!out.includes(m[1]!)) out.push(m[1]!);
  }
  if (out.length === 0) throw new ConfigError(`${what}: no pin given`, { code: 'ERR_PIN_FORMAT' });
  return out;
}

/**
 * Normalises certificate fingerprints to lower-case hex without separators. Accepts SHA-256 hex
 * with or without colons, in any case, one string or several. Like urllib3's assert_fingerprint,
 * but SHA-256 only: an MD5 or SHA-1 fingerprint (32 or 40 hex digits) is refused with a sentence,
 * since both hashes admit collisions (RFC 6151, SHAttered 2017).
 */
export function normaliseFingerprints(input: string | readonly string[], what: string): string[] {
  const out: string[] = [];
  for (const raw of listOf(input, what, 'ERR_FINGERPRINT_FORMAT')) {
    const item = String(raw).trim();
    const hex = item
      .replace(/^sha256[:/]+/i, '')
      .replace(/[:\s]/g, '')
      .toLowerCase();
    if (!/^[0-9a-f]*$/.test(hex) || hex.length !== 64) {
      const weak = /^[0-9a-f]+$/.test(hex) && (hex.length === 32 || hex.length === 40);
      throw new ConfigError(
        weak
          ? `${what}: '${item}' looks like an ${hex.length === 32 ? 'MD5' : 'SHA-1'} fingerprint; only SHA-256 is accepted (64 hex digits), because ${hex.length === 32 ? 'MD5' : 'SHA-1'} collisions can be made.`
          : `${what}: '${item}' is not a SHA-256 certificate fingerprint; expected 64 hex digits, colons optional ` +
              "(as `openssl x509 -noout -fingerprint -sha256` prints it, or a certificate's fingerprintSha256).",
        { code: 'ERR_FINGERPRINT_FORMAT' },
      );
    }
    if (!out.includes(hex)) out.push(hex);
  }
  if (out.length === 0)
    throw new ConfigError(`${what}: no fingerprint given`, { code: 'ERR_FINGERPRINT_FORMAT' });
  return out;
}

/** A host name as pins are looked up by it: lower case, no IPv6 brackets, no trailing dot, A-labels. */
function pinHost(host: string): string {
  const h = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  // URL hosts and names verified come as A-labels; a table key may be written in Unicode.
  return isIP(h) ? h : domainToASCII(h) || h;
}

/**
 * The `pins` option ({ host: pins }) as a table from host (see pinHost) to normalised SPKI pins.
 * ConfigError ERR_PIN_FORMAT when it is not an object or a pin is malformed; `what` names it.
 */
export function hostPinTable(
  pins: Readonly<Record<string, string | readonly string[]>>,
  what = 'pins',
): Map<string, string[]> {
  if (typeof pins !== 'object' || pins === null || Array.isArray(pins)) {
    throw new ConfigError(`${what} must be an object { host: pins }`, { code: 'ERR_PIN_FORMAT' });
  }
  const table = new Map<string, string[]>();
  for (const [host, value] of Object.entries(pins))
    table.set(pinHost(host), normalisePins(value, `pins['${host}']`));
  return table;
}

/** The pins a hostPinTable holds for `host` (a URL host or a name verified), if any. */
export function pinsForHost(table: ReadonlyMap<string, string[]>, host: string): string[] | undefined {
  return table.get(pinHost(host));
}

/** 'ab:cd:…' in upper case, as OpenSSL prints fingerprints. */
export function formatFingerprint(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}

/**
 * Throws PIN_MISMATCH unless the server's certificate matches the pins: the leaf's public key one
 * of `spki` (when given) and the leaf certificate one of `fingerprints` (when given). The leaf
 * only, as curl and urllib3 do. Runs after path validation and identity.
 */
export function checkPins(
  pinSet: PinSet | readonly string[],
  chain: readonly Certificate[],
  info: PinContext,
): void {
  const pins: PinSet = Array.isArray(pinSet) ? { spki: [...pinSet], fingerprints: [] } : (pinSet as PinSet);
  const leaf = chain[0];
  if (!leaf) {
    // Only with verify: false can a handshake end without a certificate: no pin matches nothing.
    if (pins.spki.length === 0 && pins.fingerprints.length === 0) return;
    throw new SSLError(
      `the server at ${info.address} presented no certificate, so it matches none of the pinned keys or fingerprints`,
      {
        code: 'PIN_MISMATCH',
        expected: info.verifiedName,
        presented: [],
        pins: [...pins.spki.map((p) => `sha256//${p}`), ...pins.fingerprints.map(formatFingerprint)],
        hint: 'A server that shows no certificate cannot be the one pinned; someone may be intercepting the connection.',
      },
    );
  }
  const verifiedNote = info.verified ? '' : ' (verification is off: only the pin protects this connection)';
  // PIN_MISMATCH on the leaf: what was presented, what was expected.
  const mismatch = (message: string, actual: string, expected: string[], hint: string) =>
    new SSLError(`${message}${verifiedNote}`, {
      code: 'PIN_MISMATCH',
      position: 0,
      certificate: leaf.summary(),
      expected: info.verifiedName,
      presented: [actual],
      pins: expected,
      hint,
    });
  if (pins.spki.length > 0 && !pins.spki.includes(leaf.spkiSha256)) {
    const expected = pins.spki.map((p) => `sha256//${p}`);
    const actual = `sha256//${leaf.spkiSha256}`;
    throw mismatch(
      `the public key of ${info.verifiedName} (${actual}) matches none of the pinned keys: ${expected.join(', ')}`,
      actual,
      expected,
      'The server presents a different key than pinned. If the key was rotated on purpose, add the new pin ' +
        '(and keep a backup pin); otherwise someone may be intercepting the connection.',
    );
  }
  if (pins.fingerprints.length > 0 && !pins.fingerprints.includes(leaf.fingerprintSha256)) {
    const expected = pins.fingerprints.map(formatFingerprint);
    const actual = formatFingerprint(leaf.fingerprintSha256);
    throw mismatch(
      `the certificate of ${info.verifiedName} has the SHA-256 fingerprint ${actual}, not ${expected.length === 1 ? 'the expected' : 'any of the expected'} ${expected.join(', ')}`,
      actual,
      expected,
      'The server presents another certificate than expected. A renewed certificate has a new fingerprint ' +
        '(pin the public key instead, with pin: "sha256//…", to survive renewals that keep the key); otherwise ' +
        'someone may be intercepting the connection.',
    );
  }
}
