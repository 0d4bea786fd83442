/**
 * Test-only helpers on top of the certificate factory (src/testing/pki.ts, shipped as
 * `certainly/testing` and used by the `certainly demo` command): temporary directories and PKCS#12 bundles.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { createRoot, generateKey, type Issued, intermediate, pemOf } from '../../src/testing/pki.js';

export * from '../../src/testing/pki.js';

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
 * `count` intermediates under one name, 'CN=Mesh CA', over eight P-256 keys, each key certified
 * by every other: every one is a candidate issuer of every other, which is what path-building
 * budgets must stop (the pathological case RFC 4158 §2.3 and rustls-webpki's budget guard against).
 */
export function crossSignedMesh(count: number): Issued[] {
  const keys = Array.from({ length: 8 }, () => generateKey('p256'));
  const seeds = keys.map((key) => createRoot({ subject: 'CN=Mesh CA', key }));
  const mesh: Issued[] = [];
  for (let a = 0; a < keys.length && mesh.length < count; a++) {
    for (let b = 0; b < keys.length && mesh.length < count; b++) {
      if (a !== b) mesh.push(intermediate(seeds[b]!, { subject: 'CN=Mesh CA', key: keys[a] }));
    }
  }
  return mesh;
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
