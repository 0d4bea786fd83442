/**
 * The Linux (and other Unix) system store: the distribution's CA bundle file (the first one
 * that exists), plus every certificate in its CA directories, as Go's crypto/x509 reads them
 * (root_linux.go, root_unix.go). Directories are read as well as the bundle because admins drop a
 * .pem there without always rebuilding the bundle. `root` prefixes every path, so tests (and a
 * look into a container image) can place a whole /etc in a temporary directory.
 *
 * SSL_CERT_FILE and SSL_CERT_DIR are not read here: resolve.ts treats them as variables that
 * replace the default anchors as a whole (see env.ts), which is what a user setting them means.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { loadCaDir } from '../dir.js';
import { loadCaFile } from '../file.js';
import { type SystemLoad, statIdentity } from '../load.js';
import { renderSource } from '../source.js';

/** Bundle files, most common first; the first that exists and holds certificates is used. */
export const LINUX_CA_FILES: readonly { path: string; who: string }[] = [
  { path: '/etc/ssl/certs/ca-certificates.crt', who: 'Debian, Ubuntu, Gentoo, Alpine; Arch links it' },
  { path: '/etc/pki/tls/certs/ca-bundle.crt', who: 'Fedora, RHEL, CentOS (compatibility link)' },
  {
    path: '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
    who: 'Fedora, RHEL 7+, CentOS (update-ca-trust)',
  },
  { path: '/etc/ssl/ca-bundle.pem', who: 'openSUSE, SLES' },
  { path: '/etc/ca-certificates/extracted/tls-ca-bundle.pem', who: 'Arch (update-ca-trust)' },
  { path: '/etc/pki/tls/cacert.pem', who: 'OpenELEC' },
  { path: '/etc/ssl/cert.pem', who: 'Alpine, OpenBSD' },
  { path: '/usr/local/share/certs/ca-root-nss.crt', who: 'FreeBSD' },
];

/** Directories of one-certificate files; every one that exists is read. */
export const LINUX_CA_DIRS: readonly { path: string; who: string }[] = [
  { path: '/etc/ssl/certs', who: 'Debian, Ubuntu, SUSE, Alpine (c_rehash layout)' },
  { path: '/etc/pki/tls/certs', who: 'Fedora, RHEL' },
  { path: '/system/etc/security/cacerts', who: 'Android' },
];

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (err) {
    // Anything but "not there" (permission denied, …) is worth trying, so the loader reports it.
    return (
      (err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR'
    );
  }
}

/** Reads the system store under `root` (default '/'). Never throws: problems are warnings. */
export function loadLinuxSystem(opts: { root?: string } = {}): SystemLoad {
  const root = opts.root ?? '/';
  const out: SystemLoad = { sources: [], warnings: [] };
  const seen = new Set<string>();
  for (const { path } of LINUX_CA_FILES) {
    const full = join(root, path);
    if (!exists(full)) continue;
    const r = loadCaFile(full, {
      origin: 'the system store',
      source: renderSource({ kind: 'system', path: full }),
      lenient: true,
    });
    out.warnings.push(...r.warnings);
    if (r.certs.length === 0) continue;
    out.sources.push(r);
    try {
      seen.add(statIdentity(full).id);
    } catch {
      // It was just read; if it vanished since, the directory pass simply reads it again.
    }
    break;
  }
  for (const { path } of LINUX_CA_DIRS) {
    const full = join(root, path);
    if (!exists(full)) continue;
    const r = loadCaDir(full, {
      origin: 'the system store',
      source: renderSource({ kind: 'system', path: full }),
      lenient: true,
      seen,
    });
    // A directory that only holds the bundle read above adds nothing, and that is no problem.
    if (r.certs.length > 0) out.sources.push(r);
    out.warnings.push(
      ...r.warnings.filter((w) => !/ has no (readable )?certificate/.test(w) && !/ is empty\./.test(w)),
    );
  }
  if (out.sources.length === 0) {
    out.warnings.push(
      `no system CA store found under ${root} (looked for ${LINUX_CA_FILES.map((f) => f.path).join(', ')} ` +
        `and the directories ${LINUX_CA_DIRS.map((d) => d.path).join(', ')}).`,
    );
  }
  return out;
}
