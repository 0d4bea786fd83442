/**
 * Pins and client certificates: the per-connection security options beyond trust.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { ConfigError, SSLError } from '../errors.js';
import type { TlsInfo } from '../tls/connector.js';
import type { Certificate } from '../x509/types.js';
import type { ClientCertOption } from './options.js';

/**
 * Normalises pins to base64 SHA-256 digests of the SubjectPublicKeyInfo. Accepts curl's
 * 'sha256//BASE64' (and 'sha256/BASE64'), several in one string separated by ';' as curl does.
 */
export function normalisePins(input: string | readonly string[], what: string): string[] {
  const items = (typeof input === 'string' ? [input] : [...input]).flatMap((s) => String(s).split(';'));
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
    out.push(m[1]!);
  }
  if (out.length === 0) throw new ConfigError(`${what}: no pin given`, { code: 'ERR_PIN_FORMAT' });
  return out;
}

/** Throws PIN_MISMATCH unless the server's key matches one of the pins. Runs after path validation. */
export function checkPins(pins: readonly string[], chain: readonly Certificate[], info: TlsInfo): void {
  const leaf = chain[0];
  if (!leaf) return;
  const actual = leaf.spkiSha256;
  if (pins.includes(actual)) return;
  throw new SSLError(
    `the public key of ${info.verifiedName} (sha256//${actual}) matches none of the pinned keys: ${pins
      .map((p) => `sha256//${p}`)
      .join(', ')}`,
    {
      code: 'PIN_MISMATCH',
      position: 0,
      certificate: leaf.summary(),
      expected: info.verifiedName,
      presented: [`sha256//${actual}`],
      hint:
        'The server presents a different key than pinned. If the key was rotated on purpose, add the new pin ' +
        '(keep a backup pin); otherwise someone may be intercepting the connection.',
    },
  );
}

function readMaybeFile(v: string | Uint8Array, what: string): string | Buffer {
  if (typeof v !== 'string') return Buffer.from(v);
  if (v.includes('-----BEGIN')) return v;
  try {
    return readFileSync(v);
  } catch (err) {
    throw new ConfigError(
      `${what}: cannot read '${v}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        code: 'ERR_CLIENT_CERT',
        cause: err,
        hint: 'Pass a readable file path or the PEM text itself.',
      },
    );
  }
}

/** Reads and checks a client certificate option; ConfigError says which part is wrong. */
export function clientTlsOptions(
  opt: ClientCertOption,
): Pick<tls.ConnectionOptions, 'cert' | 'key' | 'passphrase' | 'pfx'> {
  let out: Pick<tls.ConnectionOptions, 'cert' | 'key' | 'passphrase' | 'pfx'>;
  if ('pfx' in opt) {
    out = {
      pfx: readMaybeFile(opt.pfx, 'cert.pfx'),
      ...(opt.passphrase !== undefined ? { passphrase: opt.passphrase } : {}),
    };
  } else if ('cert' in opt && 'key' in opt) {
    out = {
      cert: readMaybeFile(opt.cert, 'cert.cert'),
      key: readMaybeFile(opt.key, 'cert.key'),
      ...(opt.passphrase !== undefined ? { passphrase: opt.passphrase } : {}),
    };
  } else {
    throw new ConfigError('cert must be { cert, key, passphrase? } or { pfx, passphrase? }', {
      code: 'ERR_CLIENT_CERT',
    });
  }
  try {
    tls.createSecureContext(out);
  } catch (err) {
    const msg = (err as Error).message;
    let why = msg;
    if (/bad decrypt|bad password|mac verify failure|interrupted or cancelled|BAD_DECRYPT/i.test(msg)) {
      why = 'the passphrase is wrong (or missing) for the encrypted key';
    } else if (/key values mismatch|KEY_VALUES_MISMATCH/i.test(msg)) {
      why = 'the private key does not belong to the certificate';
    } else if (/no start line|NO_START_LINE|unsupported|DECODER/i.test(msg)) {
      why = 'the certificate or key is not in a format OpenSSL can read (PEM or DER expected)';
    }
    throw new ConfigError(`client certificate: ${why} (${msg})`, { code: 'ERR_CLIENT_CERT', cause: err });
  }
  return out;
}
