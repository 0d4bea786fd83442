/**
 * `certainly/testing`: a throw-away PKI for your own tests, made at run time (like Python's
 * trustme). A CA, server and client certificates for DNS names and IP addresses, intermediates,
 * and the broken variants a client must refuse (expired, not yet valid, the wrong name,
 * self-signed), as PEM and as options ready for `tls.createServer`, `https.createServer` and
 * `http2.createSecureServer`.
 *
 * ```ts
 * import https from 'node:https';
 * import { get } from 'certainly';
 * import { createCA } from 'certainly/testing';
 *
 * const ca = createCA();
 * const server = https.createServer(ca.issue('localhost', '127.0.0.1').serverOptions(), handler);
 * await get(`https://localhost:${port}/`, { verify: ca.pem });
 * ```
 *
 * Nothing here is loaded by the main entry (`import … from 'certainly'`): it is a separate entry
 * point. Keys are generated in memory (P-256 by default, under a millisecond each) and never
 * written anywhere unless you write them. The lower-level factory the project's own tests use
 * (createRoot, issue, intermediate, every field of a certificate settable, good or bad on
 * purpose) is exported too.
 */

import { isIP } from 'node:net';
import { createRoot, type Issued, intermediate, issue, type KeyType, pemOf, selfSigned } from './pki.js';

export type { CertOptions, HashName, Issued, KeyPair, KeyType } from './pki.js';
export { createRoot, intermediate, issue, pemOf, reissue, selfSigned, standardPki } from './pki.js';

/** One hour, in milliseconds. */
const HOUR = 3_600_000;

export interface CAOptions {
  /** The CA's subject, as 'CN=…, O=…'. Default: 'CN=certainly testing CA <random>, O=certainly testing'. */
  subject?: string;
  /** 'p256' (default), 'p384', 'ed25519', 'rsa2048', … (see KeyType). */
  keyType?: KeyType;
}

export interface CertificateOptions {
  /**
   * The names the certificate is valid for: DNS names ('localhost', '*.example.com') and IP
   * addresses ('127.0.0.1', '::1'), told apart by their form. Default: localhost, 127.0.0.1, ::1.
   */
  names?: string[];
  /** The subject's common name. Default: the first name (clients ignore it; people read it). */
  commonName?: string;
  /** Expired an hour ago (notAfter in the past): a client must refuse it. */
  expired?: boolean;
  /** Valid only from tomorrow: a client must refuse it. */
  notYetValid?: boolean;
  /** Explicit validity; wins over expired / notYetValid. Default: an hour ago to 30 days ahead. */
  notBefore?: Date;
  notAfter?: Date;
  /** Key type of the certificate's own key. Default: the CA's. */
  keyType?: KeyType;
  /** Issue a client certificate (extended key usage clientAuth) instead of a server one. */
  client?: boolean;
}

/** A certificate with its private key, and the chain a server sends with it. */
export interface TestCertificate {
  /** The names it is valid for, as given. */
  readonly names: readonly string[];
  /** The certificate alone, PEM. */
  readonly certPem: string;
  /** Its private key, PKCS#8 PEM. */
  readonly keyPem: string;
  /** The certificate followed by the intermediates that lead to the CA (what a server sends). */
  readonly chainPem: string;
  /** The certificate's DER. */
  readonly der: Buffer;
  /** The factory's full record (key objects, every encoded field). */
  readonly issued: Issued;
  /**
   * `{ cert, key }` for tls.createServer / https.createServer / http2.createSecureServer (the
   * chain without the root, as servers should send), or, for a client certificate, for
   * certainly's `cert` option and tls.connect.
   */
  serverOptions(): { cert: string; key: string };
}

/** A certificate authority for tests: give `pem` to the client, issue certificates for the server. */
export interface TestCA {
  /** The CA certificate (the trust anchor): `get(url, { verify: ca.pem })`. */
  readonly pem: string;
  /** The CA's private key, PKCS#8 PEM. */
  readonly keyPem: string;
  /** The factory's full record of the CA certificate. */
  readonly issued: Issued;
  /** Issues a server certificate for these names (default: localhost, 127.0.0.1, ::1). */
  issue(...names: string[]): TestCertificate;
  /** Issues a certificate with options: variants (expired, not yet valid), client certificates. */
  issueCert(options?: CertificateOptions): TestCertificate;
  /**
   * An intermediate CA signed by this one. Certificates it issues carry it in their `chainPem`,
   * so a server sends the whole chain; the client still trusts only the root's `pem`.
   */
  intermediate(subject?: string): TestCA;
}

/** The SAN spelling the factory takes: 'IP:…' for an address, 'DNS:…' for a name. */
function sanOf(name: string): string {
  return isIP(name) ? `IP:${name}` : `DNS:${name}`;
}

function makeCA(self: Issued, above: Issued[], keyType: KeyType | undefined): TestCA {
  return {
    pem: self.pem,
    keyPem: self.keyPem,
    issued: self,
    issue: (...names: string[]) =>
      issueFrom(self, above, keyType, { names: names.length ? names : undefined }),
    issueCert: (options: CertificateOptions = {}) => issueFrom(self, above, keyType, options),
    intermediate(subject?: string) {
      const sub = intermediate(self, {
        subject: subject ?? `CN=certainly testing intermediate ${randomTag()}, O=certainly testing`,
        ...(keyType ? { keyType } : {}),
      });
      // `above` lists the chain from the issuing CA up, without the root.
      return makeCA(sub, [sub, ...above], keyType);
    },
  };
}

function issueFrom(
  ca: Issued,
  intermediates: Issued[],
  caKeyType: KeyType | undefined,
  options: CertificateOptions,
): TestCertificate {
  const names = options.names ?? ['localhost', '127.0.0.1', '::1'];
  if (names.length === 0) throw new RangeError('certainly/testing: a certificate needs at least one name');
  const now = Date.now();
  let notBefore = new Date(now - HOUR);
  let notAfter = new Date(now + 30 * 24 * HOUR);
  if (options.expired) {
    notBefore = new Date(now - 30 * 24 * HOUR);
    notAfter = new Date(now - HOUR);
  } else if (options.notYetValid) {
    notBefore = new Date(now + 24 * HOUR);
    notAfter = new Date(now + 30 * 24 * HOUR);
  }
  const keyType = options.keyType ?? caKeyType;
  const leaf = issue(ca, {
    cn: options.commonName ?? names[0],
    sans: names.map(sanOf),
    notBefore: options.notBefore ?? notBefore,
    notAfter: options.notAfter ?? notAfter,
    eku: [options.client ? 'clientAuth' : 'serverAuth'],
    ...(keyType ? { keyType } : {}),
  });
  return certificateOf(leaf, names, intermediates);
}

function certificateOf(leaf: Issued, names: readonly string[], intermediates: Issued[]): TestCertificate {
  const chainPem = pemOf(leaf, ...intermediates);
  return {
    names: [...names],
    certPem: leaf.pem,
    keyPem: leaf.keyPem,
    chainPem,
    der: leaf.der,
    issued: leaf,
    serverOptions: () => ({ cert: chainPem, key: leaf.keyPem }),
  };
}

function randomTag(): string {
  return Math.random().toString(36).slice(2, 8);
}

/** A new certificate authority (a self-signed root), with a fresh key. */
export function createCA(options: CAOptions = {}): TestCA {
  const root = createRoot({
    subject: options.subject ?? `CN=certainly testing CA ${randomTag()}, O=certainly testing`,
    ...(options.keyType ? { keyType: options.keyType } : {}),
    freshKey: true,
  });
  return makeCA(root, [], options.keyType);
}

/**
 * A self-signed server certificate (no CA): what a client must refuse unless it trusts this very
 * certificate (`verify: cert.certPem`).
 */
export function selfSignedCertificate(...names: string[]): TestCertificate {
  const list = names.length ? names : ['localhost', '127.0.0.1', '::1'];
  const leaf = selfSigned({ cn: list[0], sans: list.map(sanOf), eku: ['serverAuth'] });
  return certificateOf(leaf, list, []);
}
