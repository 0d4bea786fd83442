/**
 * Client certificates (mutual TLS): read and checked once, when a pool is made, so that a wrong
 * passphrase or a key that belongs to another certificate is a ConfigError before any
 * connection, naming which of the two it is. The result is what node:tls takes; handshake.ts
 * presents it.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { ConfigError } from '../errors.js';
import { FILE_LIMITS, readUserFile } from '../trust/load.js';
import type { ClientTlsOptions } from './handshake.js';

/** A client certificate: PEM/DER files or strings, or a PKCS#12 bundle. */
export type ClientCertOption =
  | { cert: string | Uint8Array; key: string | Uint8Array; passphrase?: string }
  | { pfx: string | Uint8Array; passphrase?: string };

/** A value that is a path, PEM text, or bytes; `label` says which for messages. */
function readMaybeFile(v: unknown, what: string): { data: string | Buffer; label: string } {
  if (v instanceof Uint8Array) return { data: Buffer.from(v), label: `${what} (bytes)` };
  if (typeof v !== 'string' || v === '') {
    throw new ConfigError(`${what} must be a file path, PEM text or bytes, not ${describe(v)}`, {
      code: 'ERR_CLIENT_CERT',
    });
  }
  if (v.includes('-----BEGIN')) return { data: v, label: `${what} (PEM text)` };
  // A regular file of at most FILE_LIMITS.key bytes: no FIFO, device or huge file (issue 14).
  return {
    data: readUserFile(v, `${what}: the file`, FILE_LIMITS.key, 'ERR_CLIENT_CERT'),
    label: `${what} '${v}'`,
  };
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
