/**
 * OCSP responses made by the real `openssl ocsp` command (an index.txt, a responder certificate
 * and key), for staples in loopback tests. `when` runs it under faketime ('3 days ago') to date
 * a response in the past. `hasOpenssl` / `hasFaketime` let a suite skip with a message.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Issued } from './pki.js';
import { tempDir } from './pki.js';

function works(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const hasOpenssl = works('openssl', ['version']);
export const hasFaketime = works('faketime', ['-f', '-1d', 'true']);

/** A certificate's line in OpenSSL's CA database (index.txt). */
export interface IndexEntry {
  cert: Issued;
  /** Revoked, with the CRL reason name OpenSSL knows ('keyCompromise', …). */
  revoked?: { at: Date; reason?: string };
}

function opensslTime(d: Date): string {
  // YYMMDDHHMMSSZ
  return `${d.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`;
}

export interface OcspOptions {
  /** Issuer of `cert` (the CertID is computed from it). */
  issuer: Issued;
  /** The certificate the response is about. */
  cert: Issued;
  /** The CA database: certificates not listed are "unknown". */
  index: IndexEntry[];
  /** Who signs: the issuer (default) or a delegated responder certificate with its key. */
  signer?: Issued;
  /** faketime's time spec for the responder's clock, e.g. '3 days ago'. */
  when?: string;
  /** -ndays; default 1. */
  days?: number;
  /** An OCSPRequest (DER) to answer, as a responder would; default: one `openssl ocsp` makes for `cert`. */
  request?: Uint8Array;
}

/** A DER OCSPResponse made by `openssl ocsp -index … -rsigner … -respout`. */
export function opensslOcspResponse(o: OcspOptions): Buffer {
  const dir = tempDir('certainly-ocsp-');
  try {
    const f = (name: string, data: string) => dir.write(name, data);
    const issuer = f('issuer.pem', o.issuer.pem);
    const cert = f('cert.pem', o.cert.pem);
    const signer = o.signer ?? o.issuer;
    const rsigner = f('signer.pem', signer.pem);
    const rkey = f('signer.key', signer.keyPem);
    const index = f(
      'index.txt',
      o.index
        .map((e) => {
          const serial = e.cert.serial.toString('hex').toUpperCase() || '00';
          const rev = e.revoked
            ? `${opensslTime(e.revoked.at)}${e.revoked.reason ? `,${e.revoked.reason}` : ''}`
            : '';
          return `${e.revoked ? 'R' : 'V'}\t${opensslTime(e.cert.notAfter)}\t${rev}\t${serial}\tunknown\t/CN=serial ${serial}\n`;
        })
        .join(''),
    );
    // The subject column is informative only (the responder looks entries up by serial); the
    // test PKI gives many certificates one subject, which OpenSSL's database refuses by default.
    f('index.txt.attr', 'unique_subject = no\n');
    const req = join(dir.path, 'req.der');
    const resp = join(dir.path, 'resp.der');
    if (o.request) writeFileSync(req, o.request);
    else
      execFileSync('openssl', ['ocsp', '-issuer', issuer, '-cert', cert, '-no_nonce', '-reqout', req], {
        stdio: 'ignore',
      });
    const args = [
      'ocsp',
      '-index',
      index,
      '-rsigner',
      rsigner,
      '-rkey',
      rkey,
      '-CA',
      issuer,
      '-reqin',
      req,
      '-respout',
      resp,
      '-ndays',
      String(o.days ?? 1),
    ];
    if (o.when) execFileSync('faketime', [o.when, 'openssl', ...args], { stdio: 'ignore' });
    else execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    return readFileSync(resp);
  } finally {
    dir.cleanup();
  }
}
