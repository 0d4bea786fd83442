/**
 * Verification benchmarks, for the bench runner (bench/run.ts):
 * - a typical 3-certificate chain (leaf, intermediate, root anchor), cold (certificates parsed
 *   afresh, no key or signature cache) and warm (parsed certificates and caches reused, as on a
 *   pooled connection to the same server); first all P-256 (the loopback server's chain, the
 *   runner's "warm 3-certificate verification" target), then the common Web PKI shape
 *   (RSA-2048 root and intermediate, P-256 leaf);
 * - benchVerifySummary() adds the whole x509-limbo run (9,780 testcases) when
 *   ../shared/conformance is present, as { name, value, unit } rows.
 */
import { existsSync } from 'node:fs';
import { createRoot, type Issued, intermediate, issue, type KeyType } from '../src/testing/pki.js';
import { anchorsFrom, clearCryptoCaches, verifyServer } from '../src/verify/index.js';
import { parseCertificate } from '../src/x509/certificate.js';

export interface VerifyFigures {
  /** Which chain. */
  chain: string;
  /** Microseconds per verification, parsing included, with every cache cleared first. */
  coldUs: number;
  /** Microseconds per verification of already-parsed certificates with warm caches. */
  warmUs: number;
}

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

export interface BenchVerifyOptions {
  /** Cold verifications to time (default 300). */
  coldRuns?: number;
  /** Milliseconds to spend on warm verifications (default 1000). */
  warmMs?: number;
}

/** Runs `fn` `runs` times after a short JIT warm-up; returns microseconds per call. */
function perCall(fn: () => void, runs: number): number {
  for (let i = 0; i < 5; i++) fn();
  const start = performance.now();
  for (let i = 0; i < runs; i++) fn();
  return ((performance.now() - start) * 1000) / runs;
}

/** Runs `fn` for about `ms` milliseconds (at least 100 times); returns microseconds per call. */
function forAbout(fn: () => void, ms: number): number {
  for (let i = 0; i < 5; i++) fn();
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (n < 100 || elapsed < ms) {
    fn();
    n++;
    elapsed = performance.now() - start;
  }
  return (elapsed * 1000) / n;
}

function figures(
  label: string,
  caKey: KeyType,
  leafKey: KeyType,
  opts: Required<BenchVerifyOptions>,
): VerifyFigures {
  const root: Issued = createRoot({ keyType: caKey });
  const inter = intermediate(root, { keyType: caKey });
  const leaf = issue(inter, { keyType: leafKey });
  // The anchors are long-lived in a real client (a TrustStore built once), so they are parsed once.
  const trust = anchorsFrom([parseCertificate(root.der)], 'bundled');
  const time = new Date();
  const coldUs = perCall(() => {
    clearCryptoCaches();
    const chain = [parseCertificate(leaf.der), parseCertificate(inter.der)];
    verifyServer({ chain, name: 'localhost', trust, time });
  }, opts.coldRuns);
  const chain = [parseCertificate(leaf.der), parseCertificate(inter.der)];
  verifyServer({ chain, name: 'localhost', trust, time });
  const warmUs = forAbout(() => verifyServer({ chain, name: 'localhost', trust, time }), opts.warmMs);
  return { chain: label, coldUs: round(coldUs), warmUs: round(warmUs) };
}

/** Cold and warm verification of two typical 3-certificate chains; the P-256 one first. */
export function benchVerify(options: BenchVerifyOptions = {}): VerifyFigures[] {
  const opts = { coldRuns: options.coldRuns ?? 300, warmMs: options.warmMs ?? 1000 };
  return [
    figures('3 certificates, P-256 (leaf, intermediate, root)', 'p256', 'p256', opts),
    figures('3 certificates, RSA-2048 root and intermediate, P-256 leaf', 'rsa2048', 'p256', opts),
    // The start-up issue's target shape: all RSA-2048 (2 RSA signature checks).
    figures('3 certificates, all RSA-2048', 'rsa2048', 'rsa2048', opts),
  ];
}

/** The same figures as { name, value, unit } rows, plus the whole x509-limbo run when available. */
export async function benchVerifySummary(options: BenchVerifyOptions = {}): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  for (const f of benchVerify(options)) {
    rows.push({ name: `verify ${f.chain}, cold (parse, no caches)`, value: f.coldUs, unit: 'µs' });
    rows.push({ name: `verify ${f.chain}, warm caches`, value: f.warmUs, unit: 'µs' });
  }
  const { LIMBO_FILE, runLimbo } = await import('../scripts/limbo.js');
  if (existsSync(LIMBO_FILE)) {
    clearCryptoCaches();
    const s = runLimbo();
    rows.push({
      name: `x509-limbo full run (${s.total} testcases, ${s.pass} pass)`,
      value: round(s.elapsedMs / 1000, 2),
      unit: 's',
    });
  }
  return rows;
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
