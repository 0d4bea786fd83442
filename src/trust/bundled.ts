/**
 * Node's bundled Mozilla roots (`tls.rootCertificates`): a snapshot of Mozilla's CA list fixed
 * when this Node version was released, so `ca info` reports the Node version it came from.
 */
import { createHash } from 'node:crypto';
import tls from 'node:tls';
import { extractCertificates, type SourceResult } from './load.js';
import { renderSource } from './source.js';

export const BUNDLED_SOURCE = renderSource({ kind: 'bundled' });

/** The Node version whose bundled roots are in use (the snapshot's date follows from it). */
export function bundledNodeVersion(): string {
  return process.versions.node;
}

let loaded: SourceResult | undefined;

/** The bundled roots, indexed on first use (each parsed when a path first needs it: lazy.ts). */
export function loadBundled(): SourceResult {
  if (loaded) return loaded;
  const result: SourceResult = { source: BUNDLED_SOURCE, certs: [], warnings: [], stamps: [] };
  for (const pem of tls.rootCertificates) {
    const got = extractCertificates(Buffer.from(pem, 'latin1'), { lazy: true });
    result.certs.push(...got.certs);
    // A root our parser rejects is left out (and said so) rather than failing every request.
    for (const problem of got.invalid) result.warnings.push(`a bundled root was skipped: ${problem}`);
  }
  loaded = result;
  return result;
}

let fingerprints: ReadonlySet<string> | undefined;

/**
 * SHA-256 fingerprints (lower-case hex) of the bundled roots, computed from the PEM without
 * parsing, so that classifying an anchor never costs a full parse of the bundle.
 */
export function bundledFingerprints(): ReadonlySet<string> {
  if (fingerprints) return fingerprints;
  // When the bundled roots were loaded (the default trust) and none was skipped, their
  // certificates already carry these fingerprints: ~1.3 ms less for the first request whose
  // chain ends at a root that is not bundled (a private CA, NODE_EXTRA_CA_CERTS).
  if (loaded && loaded.warnings.length === 0) {
    fingerprints = new Set(loaded.certs.map((c) => c.fingerprintSha256));
    return fingerprints;
  }
  const set = new Set<string>();
  for (const pem of tls.rootCertificates) {
    const body = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
    set.add(createHash('sha256').update(Buffer.from(body, 'base64')).digest('hex'));
  }
  fingerprints = set;
  return set;
}
