/**
 * The macOS system store. On Node with `tls.getCACertificates('system')` that is used (it
 * applies the keychains' "Always Trust" settings; see tool.ts). Otherwise
 * `security find-certificate -a -p` lists the certificates of three keychains: Apple's system
 * roots, the System keychain (where an administrator or an MDM profile installs corporate
 * roots) and the user's login keychain.
 *
 * Trust-settings caveat: `find-certificate` says which certificates a keychain holds, not
 * whether they are trusted. Trust settings ("Always Trust", "Never Trust", per-policy) live
 * apart (`security dump-trust-settings -d`) and are not read on this path, so a root marked
 * "Never Trust" in the System or login keychain is still loaded, and an Apple root that Apple
 * has distrusted through settings is too. To limit this, only CA certificates and self-issued
 * ones (a self-signed server certificate a user chose to trust) are kept from the System and
 * login keychains. If that is too wide, `verify: { system: false }` leaves the system store out.
 */
import type os from 'node:os';
import { join } from 'node:path';
import { extractCertificates, type SourceResult, type SystemLoad } from '../load.js';
import { renderSource } from '../source.js';
import { fromNodeReader, type NodeSystemReader, nodeSystemReader, runTool, type ToolRunner } from './tool.js';

export const SYSTEM_ROOTS_KEYCHAIN = '/System/Library/Keychains/SystemRootCertificates.keychain';
export const SYSTEM_KEYCHAIN = '/Library/Keychains/System.keychain';
export const LOGIN_KEYCHAIN = 'Library/Keychains/login.keychain-db'; // under the home directory

/** The keychains read, in order; `filtered` keychains keep only CA and self-issued certificates. */
export function darwinKeychains(
  // node:os loaded on macOS only (process.getBuiltinModule), not at every start-up.
  home: string = (process.getBuiltinModule('node:os') as typeof os).homedir(),
): { path: string; filtered: boolean }[] {
  return [
    { path: SYSTEM_ROOTS_KEYCHAIN, filtered: false },
    { path: SYSTEM_KEYCHAIN, filtered: true },
    { path: join(home, LOGIN_KEYCHAIN), filtered: true },
  ];
}

/** Parses the output of `security find-certificate -a -p KEYCHAIN` (concatenated PEM). */
export function parseSecurityOutput(output: string, keychain: string, filtered: boolean): SourceResult {
  const result: SourceResult = {
    source: renderSource({ kind: 'system', path: keychain }),
    certs: [],
    warnings: [],
    stamps: [],
  };
  const got = extractCertificates(Buffer.from(output, 'latin1'));
  let dropped = 0;
  for (const cert of got.certs) {
    if (filtered && !cert.basicConstraints?.ca && !cert.selfIssued) dropped++;
    else result.certs.push(cert);
  }
  if (got.invalid.length > 0) result.warnings.push(`${keychain}: skipped ${got.invalid.join('; ')}.`);
  if (dropped > 0) {
    result.warnings.push(
      `${keychain}: left out ${dropped} certificate${dropped === 1 ? '' : 's'} that ` +
        `${dropped === 1 ? 'is' : 'are'} neither a CA nor self-issued (intermediates, personal certificates).`,
    );
  }
  return result;
}

export interface DarwinOptions {
  run?: ToolRunner;
  nodeReader?: NodeSystemReader;
  home?: string;
}

/** Reads the macOS store. Never throws: a keychain that cannot be read is a warning. */
export function loadDarwinSystem(opts: DarwinOptions = {}): SystemLoad {
  const out: SystemLoad = { sources: [], warnings: [] };
  const viaNode = (opts.nodeReader ?? nodeSystemReader)();
  if (viaNode !== undefined) {
    const r = fromNodeReader(viaNode, 'system:keychains');
    out.warnings.push(...r.warnings);
    if (r.certs.length > 0) {
      out.sources.push(r);
      return out;
    }
  }
  const run = opts.run ?? runTool;
  for (const { path, filtered } of darwinKeychains(opts.home)) {
    const res = run('/usr/bin/security', ['find-certificate', '-a', '-p', path]);
    if (!res.ok) {
      out.warnings.push(`keychain ${path} could not be read: ${res.error}.`);
      continue;
    }
    const r = parseSecurityOutput(res.stdout, path, filtered);
    out.warnings.push(...r.warnings);
    if (r.certs.length > 0) out.sources.push(r);
  }
  if (out.sources.length === 0) out.warnings.push('no certificate could be read from the macOS keychains.');
  return out;
}
