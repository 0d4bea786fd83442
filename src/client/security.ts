/**
 * Pins, certificate fingerprints and client certificates: the per-connection security options
 * beyond trust.
 *
 * Pins and fingerprints are checked after path validation and identity, never instead of them
 * (the connector calls checkPins through `afterVerify`). A client certificate is read and checked
 * once, when its pool is created, so that a wrong passphrase or a key that belongs to another
 * certificate is a ConfigError before any connection, naming which of the two it is.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { domainToASCII } from 'node:url';
import { ConfigError, SSLError } from '../errors.js';
import type { ConnectorConfig } from '../tls/connector.js';
import type { TlsInfo } from '../tls/handshake.js';
import type { ConnectTarget } from '../tls/target.js';
import type { TrustAnchors } from '../trust/types.js';
import { completeChain, type ResolvedAia } from '../verify/aia.js';
import type { Certificate } from '../x509/types.js';
import type { ClientCertOption } from './options.js';

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
  return net.isIP(h) ? h : domainToASCII(h) || h;
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
  info: TlsInfo,
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

// ---------------------------------------------------------------------------------------------
// The connector configuration, as Session pools and the adapters both build it

/** What a pool's connections are made with, read and checked already (but the client certificate). */
export interface ConnectionOptions {
  /** The anchors, or null for verify: false. */
  trust: TrustAnchors | null;
  connectTimeout: number;
  serverName?: string;
  connectTo?: ConnectTarget;
  cert?: ClientCertOption;
  /** Checked after verification: one set for every server, or chosen by the name verified. */
  pins?: PinSet | ((verifiedName: string) => PinSet | undefined);
  /** AIA fetching for missing intermediates; only with trust. */
  aia?: ResolvedAia;
  onConnection?: ConnectorConfig['onConnection'];
  proxyFor?: ConnectorConfig['proxyFor'];
}

/** The connector configuration for these options; the client certificate is read and checked here (ConfigError). */
export function connectorConfig(o: ConnectionOptions): ConnectorConfig {
  const { pins, aia } = o;
  return {
    trust: o.trust,
    connectTimeout: o.connectTimeout,
    ...(o.serverName !== undefined ? { serverName: o.serverName } : {}),
    ...(o.connectTo ? { connectTo: o.connectTo } : {}),
    ...(o.cert !== undefined ? { tlsOptions: clientTlsOptions(o.cert) } : {}),
    ...(pins
      ? {
          afterVerify: (chain: Certificate[], info: TlsInfo) => {
            const set = typeof pins === 'function' ? pins(info.verifiedName) : pins;
            if (set) checkPins(set, chain, info);
          },
        }
      : {}),
    ...(aia && o.trust ? { completeChain: (chain, trust) => completeChain(chain, trust, aia) } : {}),
    ...(o.onConnection ? { onConnection: o.onConnection } : {}),
    ...(o.proxyFor ? { proxyFor: o.proxyFor } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Client certificates

type ClientTlsOptions = Pick<tls.ConnectionOptions, 'cert' | 'key' | 'passphrase' | 'pfx'>;

/** A value that is a path, PEM text, or bytes; `label` says which for messages. */
function readMaybeFile(v: unknown, what: string): { data: string | Buffer; label: string } {
  if (v instanceof Uint8Array) return { data: Buffer.from(v), label: `${what} (bytes)` };
  if (typeof v !== 'string' || v === '') {
    throw new ConfigError(`${what} must be a file path, PEM text or bytes, not ${describe(v)}`, {
      code: 'ERR_CLIENT_CERT',
    });
  }
  if (v.includes('-----BEGIN')) return { data: v, label: `${what} (PEM text)` };
  try {
    return { data: readFileSync(v), label: `${what} '${v}'` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `${what}: cannot read '${v}': ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? (err as Error).message)}`,
      {
        code: 'ERR_CLIENT_CERT',
        cause: err,
        hint: 'Pass a readable file path, or the PEM text itself.',
      },
    );
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === '') return 'an empty string';
  return Array.isArray(v) ? 'an array' : typeof v;
}

function isPem(data: string | Buffer): boolean {
  return (typeof data === 'string' ? data : data.toString('latin1')).includes('-----BEGIN');
}

/** Is this PEM key encrypted? PKCS#8 'ENCRYPTED PRIVATE KEY', or a traditional key with a Proc-Type header. */
function pemKeyIsEncrypted(text: string): boolean {
  return /-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text) || /Proc-Type:\s*4,\s*ENCRYPTED/i.test(text);
}

/** The certificate (the first, when the PEM holds a chain), or a ConfigError saying it is not one. */
function readClientCertificate(data: string | Buffer, label: string): X509Certificate {
  try {
    return new X509Certificate(data);
  } catch (err) {
    throw new ConfigError(
      `client certificate: ${label} is not a certificate (PEM "-----BEGIN CERTIFICATE-----" or DER expected)`,
      { code: 'ERR_CLIENT_CERT_FORMAT', cause: err },
    );
  }
}

/** The private key, decrypted; ConfigError says whether the passphrase or the format is wrong. */
function readClientKey(data: string | Buffer, label: string, passphrase: string | undefined): KeyObject {
  const pem = isPem(data);
  const text = pem ? (typeof data === 'string' ? data : data.toString('utf8')) : '';
  const encrypted = pem && pemKeyIsEncrypted(text);
  if (encrypted && passphrase === undefined) {
    throw new ConfigError(
      `client certificate: the private key ${label} is encrypted and no passphrase was given`,
      {
        code: 'ERR_CLIENT_KEY_PASSPHRASE',
        hint: "Pass the key's passphrase: cert: { cert, key, passphrase }.",
      },
    );
  }
  const attempts: Parameters<typeof createPrivateKey>[0][] = pem
    ? [{ key: text, ...(passphrase !== undefined ? { passphrase } : {}) }]
    : // DER: PKCS#8 (encrypted or not), then the traditional RSA and EC forms.
      (['pkcs8', 'pkcs1', 'sec1'] as const).map((type) => ({
        key: data as Buffer,
        format: 'der' as const,
        type,
        ...(passphrase !== undefined && type === 'pkcs8' ? { passphrase } : {}),
      }));
  let first: unknown;
  for (const a of attempts) {
    try {
      return createPrivateKey(a);
    } catch (err) {
      first ??= err;
    }
  }
  const code = (first as NodeJS.ErrnoException).code ?? '';
  if (encrypted || /BAD_DECRYPT|INTERRUPTED_OR_CANCELLED/.test(code)) {
    // A wrong passphrase nearly always fails the padding check (BAD_DECRYPT); the rare one that
    // passes it yields bytes that do not parse, which is still the passphrase's fault.
    throw new ConfigError(
      `client certificate: the passphrase is wrong for the encrypted private key ${label}`,
      {
        code: 'ERR_CLIENT_KEY_PASSPHRASE',
        cause: first,
        hint: 'Check the passphrase (and that this is the key file you meant); it is case-sensitive.',
      },
    );
  }
  throw new ConfigError(
    `client certificate: ${label} is not a private key OpenSSL can read (PEM or DER: PKCS#8, PKCS#1 RSA or SEC1 EC)`,
    { code: 'ERR_CLIENT_CERT_FORMAT', cause: first },
  );
}

function describeKey(k: KeyObject): string {
  const d = k.asymmetricKeyDetails ?? {};
  const type = k.asymmetricKeyType ?? 'unknown';
  if (d.modulusLength) return `${type.toUpperCase()} ${d.modulusLength}-bit`;
  if (d.namedCurve) return `EC ${d.namedCurve}`;
  return type === 'ed25519' || type === 'ed448' ? (type === 'ed25519' ? 'Ed25519' : 'Ed448') : type;
}

function subjectOf(x: X509Certificate): string {
  return x.subject.replace(/\n/g, ', ');
}

/** Reads a PKCS#12 bundle through OpenSSL and turns its errors into sentences. */
function checkPfx(out: ClientTlsOptions, label: string, passphrase: string | undefined): void {
  try {
    tls.createSecureContext(out);
  } catch (err) {
    const msg = (err as Error).message;
    if (/mac verify failure/i.test(msg)) {
      throw new ConfigError(
        passphrase === undefined || passphrase === ''
          ? `client certificate: the PKCS#12 file ${label} is protected by a passphrase and none was given`
          : `client certificate: the passphrase is wrong for the PKCS#12 file ${label}`,
        {
          code: 'ERR_CLIENT_KEY_PASSPHRASE',
          cause: err,
          hint: 'Pass the passphrase the bundle was exported with: cert: { pfx, passphrase }.',
        },
      );
    }
    if (/Unsupported PKCS12/i.test(msg)) {
      throw new ConfigError(
        `client certificate: the PKCS#12 file ${label} is encrypted with an algorithm OpenSSL 3 no longer enables by default (RC2 or 3DES, from older tools)`,
        {
          code: 'ERR_CLIENT_CERT_FORMAT',
          cause: err,
          hint:
            'Convert it once: openssl pkcs12 -legacy -in old.p12 -out all.pem -nodes, then ' +
            'openssl pkcs12 -export -in all.pem -out new.p12 (or pass cert and key as PEM).',
        },
      );
    }
    if (/private key/i.test(msg)) {
      throw new ConfigError(`client certificate: the PKCS#12 file ${label} holds no private key`, {
        code: 'ERR_CLIENT_CERT_FORMAT',
        cause: err,
        hint: 'Export the bundle with its key (openssl pkcs12 -export -inkey key.pem -in cert.pem).',
      });
    }
    throw new ConfigError(
      `client certificate: ${label} is not a PKCS#12 (PFX) file OpenSSL can read (${msg})`,
      {
        code: 'ERR_CLIENT_CERT_FORMAT',
        cause: err,
      },
    );
  }
}

/**
 * Reads and checks a client certificate option, returning the node:tls options for it. A
 * ConfigError says which part is wrong, with a stable code:
 * - ERR_CLIENT_CERT: the option's shape, or a file that cannot be read;
 * - ERR_CLIENT_CERT_FORMAT: not a certificate, key or PKCS#12 file;
 * - ERR_CLIENT_KEY_PASSPHRASE: an encrypted key (or PKCS#12) with a wrong or missing passphrase;
 * - ERR_CLIENT_CERT_MISMATCH: the key does not belong to the certificate.
 */
export function clientTlsOptions(opt: ClientCertOption): ClientTlsOptions {
  if (typeof opt !== 'object' || opt === null) {
    throw new ConfigError('cert must be { cert, key, passphrase? } or { pfx, passphrase? }', {
      code: 'ERR_CLIENT_CERT',
    });
  }
  const passphrase = (opt as { passphrase?: unknown }).passphrase;
  if (passphrase !== undefined && typeof passphrase !== 'string') {
    throw new ConfigError(`cert.passphrase must be a string, not ${describe(passphrase)}`, {
      code: 'ERR_CLIENT_CERT',
    });
  }
  if ('pfx' in opt) {
    if ('cert' in opt || 'key' in opt) {
      throw new ConfigError('cert: pass either { pfx } or { cert, key }, not both', {
        code: 'ERR_CLIENT_CERT',
      });
    }
    const pfx = readMaybeFile(opt.pfx, 'cert.pfx');
    const out: ClientTlsOptions = { pfx: pfx.data, ...(passphrase !== undefined ? { passphrase } : {}) };
    checkPfx(out, pfx.label, passphrase);
    return out;
  }
  if (!('cert' in opt) || !('key' in opt)) {
    throw new ConfigError(
      `cert must be { cert, key, passphrase? } or { pfx, passphrase? }; ${'cert' in opt ? 'key' : 'cert'} is missing`,
      {
        code: 'ERR_CLIENT_CERT',
        hint: 'Give the certificate and its private key (files or PEM text), or a PKCS#12 bundle.',
      },
    );
  }
  const cert = readMaybeFile(opt.cert, 'cert.cert');
  const key = readMaybeFile(opt.key, 'cert.key');
  const x509 = readClientCertificate(cert.data, cert.label);
  const keyObject = readClientKey(key.data, key.label, passphrase);
  if (keyObject.type !== 'private' || !x509.checkPrivateKey(keyObject)) {
    throw new ConfigError(
      `client certificate: the private key ${key.label} (${describeKey(keyObject)}) does not belong to the certificate ` +
        `"${subjectOf(x509)}" (${describeKey(x509.publicKey)})`,
      {
        code: 'ERR_CLIENT_CERT_MISMATCH',
        hint: 'Pair the certificate with the key it was issued for (check the file names).',
      },
    );
  }
  // node:tls takes PEM or DER; DER certificates are handed over as PEM (with the chain, if any, kept).
  const certOut = isPem(cert.data) ? cert.data : x509.toString();
  const out: ClientTlsOptions = {
    cert: certOut,
    // The decrypted key, as PEM in memory: OpenSSL holds it decrypted anyway, and handing it over
    // this way means DER keys work too and the passphrase is not needed again.
    key: keyObject.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
  try {
    tls.createSecureContext(out);
  } catch (err) {
    throw new ConfigError(`client certificate: OpenSSL refused it: ${(err as Error).message}`, {
      code: 'ERR_CLIENT_CERT_FORMAT',
      cause: err,
    });
  }
  return out;
}
