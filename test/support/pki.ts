/**
 * Test-only helpers on top of the certificate factory (src/x509/build/pki.ts, which the
 * `certainly demo` command shares): temporary directories and PKCS#12 bundles.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { type Issued, pemOf } from '../../src/x509/build/pki.js';

export * from '../../src/x509/build/pki.js';

/** A fresh directory under the OS temp dir; write() creates parent directories and returns the path. */
export function tempDir(prefix = 'certainly-test-'): {
  path: string;
  write(name: string, data: string | Uint8Array): string;
  cleanup(): void;
} {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    write(name, data) {
      const file = resolve(path, name);
      if (!file.startsWith(path + sep)) throw new RangeError(`tempDir.write(): '${name}' is outside ${path}`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, data);
      return file;
    },
    cleanup() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/**
 * A PKCS#12 (PFX) bundle of `cert`, its private key and `chain`, for `{ pfx, passphrase }` tests.
 * Node cannot write PKCS#12, so this runs the openssl command (OpenSSL 3 defaults: AES-256-CBC,
 * PBKDF2), which Node's OpenSSL reads back; it throws a clear error when openssl is missing.
 */
export function pfxOf(cert: Issued, opts: { passphrase?: string; chain?: Issued[] } = {}): Buffer {
  const dir = tempDir('certainly-pfx-');
  try {
    const args = ['pkcs12', '-export', '-passout', `pass:${opts.passphrase ?? ''}`];
    args.push('-inkey', dir.write('key.pem', cert.keyPem), '-in', dir.write('cert.pem', cert.pem));
    if (opts.chain?.length) args.push('-certfile', dir.write('chain.pem', pemOf(...opts.chain)));
    const out = join(dir.path, 'bundle.p12');
    args.push('-out', out);
    try {
      execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
      if (e.code === 'ENOENT')
        throw new Error('pfxOf() needs the openssl command: apt-get install -y openssl');
      throw new Error(`openssl pkcs12 -export failed: ${e.stderr?.toString().trim() ?? e.message}`);
    }
    return readFileSync(out);
  } finally {
    dir.cleanup();
  }
}
