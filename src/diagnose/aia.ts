/**
 * Fetching a missing intermediate from the Authority Information Access extension's caIssuers
 * URL (RFC 5280 §4.2.2.1), as browsers do when a server forgets to send its chain.
 *
 * What is fetched only ever joins the pool of *untrusted* intermediates: it must still chain to
 * an anchor the user trusts, with every check of the verifier. Fetches are bounded in size,
 * time, count and redirects, use http or https only, and never go to a private, loopback or
 * link-local address unless `allowPrivate` says so (a certificate is data from the server: it
 * must not make this process reach into the local network).
 *
 * Self-contained (node:http/https, node:dns, the DER reader and the certificate parser), so that
 * the library's `aia: true` (issue 6) can move it into verify/ unchanged.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { DerReader, TAG } from '../der/index.js';
import type { TrustAnchors } from '../trust/types.js';
import { defaultVerifier, type SignatureVerifier } from '../verify/crypto.js';
import { parseCertificate, parseIp, parsePem } from '../x509/index.js';
import type { Certificate } from '../x509/types.js';

/** Chromium's cert_issuer_source_aia.cc: 64 KiB per response (a certificate is 1-2 KB). */
export const AIA_MAX_BYTES = 64 * 1024;
/** Chromium's cert_issuer_source_aia.cc: 10 s per fetch. */
export const AIA_TIMEOUT_MS = 10_000;
/** Chromium fetches at most 5 URLs per certificate; we allow as many for a whole chain. */
export const AIA_MAX_FETCHES = 5;
/** Intermediates fetched in a row at most: Web PKI paths have 1-3 (as DEFAULT_MAX_DEPTH's note). */
export const AIA_MAX_DEPTH = 4;
/** Redirects followed per fetch; each target is checked again (scheme, address). */
export const AIA_MAX_REDIRECTS = 3;

export interface AiaOptions {
  /** Allow URLs that resolve to private, loopback or link-local addresses. Default false. */
  allowPrivate?: boolean;
  /** Per fetch, ms; default AIA_TIMEOUT_MS. */
  timeout?: number;
  /** Per response, bytes; default AIA_MAX_BYTES. */
  maxBytes?: number;
  /** Fetches for one chain; default AIA_MAX_FETCHES. */
  maxFetches?: number;
  /** Signature checks; default the verifier's node:crypto one. */
  verifier?: SignatureVerifier;
}

/** One fetch and what came of it. */
export interface AiaFetch {
  url: string;
  /** Subject of the certificate whose issuer was looked for. */
  for: string;
  ok: boolean;
  /** Certificates in the response (DER, PEM or a PKCS#7 "certs-only" bundle). */
  certificates: Certificate[];
  /** The one that issued `for` (its signature verified), when found. */
  issuer?: Certificate;
  ms: number;
  bytes?: number;
  /** Why the fetch failed or gave nothing usable. */
  error?: string;
}

// ---------------------------------------------------------------------------------------------
// Addresses

/** [prefix bytes, prefix bits, what] for addresses that are not public (IANA special registries). */
const PRIVATE_V4: [number[], number, string][] = [
  [[0], 8, '"this network" (RFC 1122)'],
  [[10], 8, 'private (RFC 1918)'],
  [[100, 64], 10, 'shared address space (RFC 6598)'],
  [[127], 8, 'loopback (RFC 1122)'],
  [[169, 254], 16, 'link-local (RFC 3927)'],
  [[172, 16], 12, 'private (RFC 1918)'],
  [[192, 168], 16, 'private (RFC 1918)'],
];
const PRIVATE_V6: [number[], number, string][] = [
  [new Array(16).fill(0), 127, 'loopback or unspecified (RFC 4291)'],
  [[0xfc], 7, 'unique local (RFC 4193)'],
  [[0xfe, 0x80], 10, 'link-local (RFC 4291)'],
];

function matchesPrefix(bytes: Uint8Array, prefix: number[], bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const mask = 0x80 >> (i & 7);
    if ((bytes[i >> 3]! & mask) !== ((prefix[i >> 3] ?? 0) & mask)) return false;
  }
  return true;
}

/** Why `address` is not a public address ('loopback (RFC 1122)', …), or undefined if it is one. */
export function privateAddressKind(address: string): string | undefined {
  const bytes = parseIp(address);
  if (!bytes) return undefined;
  if (bytes.length === 16) {
    // IPv4-mapped (::ffff:a.b.c.d) is judged by its IPv4 address.
    if (matchesPrefix(bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 96)) {
      return privateAddressKind(Array.from(bytes.subarray(12)).join('.'));
    }
    return PRIVATE_V6.find(([p, b]) => matchesPrefix(bytes, p, b))?.[2];
  }
  return PRIVATE_V4.find(([p, b]) => matchesPrefix(bytes, p, b))?.[2];
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A dns.lookup for http.request that refuses private addresses (checked at connect: no rebinding gap). */
function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) {
        callback(err, '');
        return;
      }
      const usable = allowPrivate ? addresses : addresses.filter((a) => !privateAddressKind(a.address));
      if (usable.length === 0) {
        const first = addresses[0];
        const e: NodeJS.ErrnoException = new Error(
          `${hostname} resolves to ${first?.address ?? 'nothing'}, a ${first ? privateAddressKind(first.address) : 'missing'} address; AIA fetches go to public addresses only`,
        );
        e.code = 'ERR_AIA_PRIVATE_ADDRESS';
        callback(e, '');
        return;
      }
      if (options.all) callback(null, usable);
      else callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}

// ---------------------------------------------------------------------------------------------
// Fetching

/** Checks a URL before it is fetched; returns why it is refused, or undefined. */
export function refuseUrl(raw: string, allowPrivate: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `'${raw}' is not a URL`;
  }
  // RFC 5280 §4.2.2.1 also allows ldap; we fetch over http(s) only, as the issue asks.
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `${url.protocol} URLs are not fetched (http and https only)`;
  if (url.username || url.password) return 'URLs with credentials are not fetched';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const kind = privateAddressKind(host);
  if (kind && !allowPrivate) return `${host} is a ${kind} address; AIA fetches go to public addresses only`;
  if (!allowPrivate && /^localhost\.?$/i.test(host)) return 'localhost is not fetched';
  return undefined;
}

interface Body {
  bytes: Buffer;
  status: number;
}

function getOnce(
  url: URL,
  opts: Required<Pick<AiaOptions, 'allowPrivate' | 'timeout' | 'maxBytes'>>,
  deadline: number,
): Promise<Body & { location?: string }> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.get(url, {
      agent: false,
      lookup: guardedLookup(opts.allowPrivate) as never,
      headers: { accept: 'application/pkix-cert, application/pkcs7-mime, application/x-x509-ca-cert, */*' },
      // The content is checked by signature, not by the transport (that is why CAs publish over
      // http): an https URL with a certificate we cannot verify is still worth reading.
      ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`no complete answer within ${opts.timeout} ms`)),
      Math.max(1, deadline - performance.now()),
    );
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        clearTimeout(timer);
        res.resume();
        req.destroy();
        resolve({ bytes: Buffer.alloc(0), status, location: res.headers.location });
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > opts.maxBytes) {
        req.destroy(new Error(`the response is ${declared} bytes, more than the ${opts.maxBytes} allowed`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > opts.maxBytes) {
          req.destroy(new Error(`the response is larger than the ${opts.maxBytes} bytes allowed`));
          return;
        }
        chunks.push(d);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ bytes: Buffer.concat(chunks), status });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  });
}

/** GET with bounded redirects, each target checked like the first. */
async function get(
  raw: string,
  opts: Required<Pick<AiaOptions, 'allowPrivate' | 'timeout' | 'maxBytes'>>,
): Promise<Body> {
  const deadline = performance.now() + opts.timeout;
  let url = raw;
  for (let hop = 0; ; hop++) {
    const refused = refuseUrl(url, opts.allowPrivate);
    if (refused) throw new Error(refused);
    const r = await getOnce(new URL(url), opts, deadline);
    if (r.location === undefined) return r;
    if (hop >= AIA_MAX_REDIRECTS) throw new Error(`more than ${AIA_MAX_REDIRECTS} redirects`);
    url = new URL(r.location, url).toString();
  }
}

/**
 * The certificates in an AIA response: one DER certificate (application/pkix-cert), PEM text,
 * or a PKCS#7 SignedData "certs-only" bundle (application/pkcs7-mime; RFC 5280 §4.2.2.1).
 */
export function certificatesInResponse(bytes: Uint8Array): Certificate[] {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (text.includes('-----BEGIN ')) {
    return [...parsePem(text, 'CERTIFICATE'), ...parsePem(text, 'PKCS7').flatMap(pkcs7Certificates)].map(
      (d) => parseCertificate(d),
    );
  }
  const r = new DerReader(bytes);
  const outer = r.sequence('AIA response');
  const first = outer.peekTag();
  // A Certificate starts with a SEQUENCE (tbsCertificate); a ContentInfo with an OID.
  if (first === TAG.SEQUENCE) return [parseCertificate(bytes)];
  return pkcs7Certificates(bytes).map((d) => parseCertificate(d));
}

/** The `certificates` of a DER PKCS#7 / CMS SignedData (RFC 5652 §5.1), as DER. */
function pkcs7Certificates(der: Uint8Array): Uint8Array[] {
  const SIGNED_DATA = '1.2.840.113549.1.7.2';
  const info = new DerReader(der).sequence('ContentInfo');
  const type = info.oid('ContentInfo contentType');
  if (type !== SIGNED_DATA) throw new Error(`a PKCS#7 bundle of type ${type}, not SignedData`);
  const explicit = info.optionalExplicit(0, 'ContentInfo content');
  if (!explicit) return [];
  const sd = explicit.sequence('SignedData');
  sd.smallInteger('SignedData version');
  sd.set('SignedData digestAlgorithms');
  sd.sequence('SignedData encapContentInfo');
  const certsTlv = sd.optional(0xa0, 'SignedData certificates');
  if (!certsTlv) return [];
  const certs = sd.enter(certsTlv, 'SignedData certificates');
  const out: Uint8Array[] = [];
  while (!certs.atEnd()) {
    const tlv = certs.next('certificate');
    if (tlv.tag === TAG.SEQUENCE) out.push(tlv.der); // other CertificateChoices are skipped
  }
  return out;
}

/** Fetches one caIssuers URL and picks the certificate that issued `child`, if any. */
export async function fetchIssuer(
  url: string,
  child: Certificate,
  options: AiaOptions = {},
): Promise<AiaFetch> {
  const started = performance.now();
  const opts = {
    allowPrivate: options.allowPrivate ?? false,
    timeout: options.timeout ?? AIA_TIMEOUT_MS,
    maxBytes: options.maxBytes ?? AIA_MAX_BYTES,
  };
  const verifier = options.verifier ?? defaultVerifier;
  const base = { url, for: child.subject.text };
  let body: Body;
  try {
    body = await get(url, opts);
  } catch (err) {
    return {
      ...base,
      ok: false,
      certificates: [],
      ms: performance.now() - started,
      error: (err as Error).message,
    };
  }
  const ms = performance.now() - started;
  if (body.status !== 200) {
    return {
      ...base,
      ok: false,
      certificates: [],
      ms,
      bytes: body.bytes.length,
      error: `HTTP status ${body.status}`,
    };
  }
  let certificates: Certificate[];
  try {
    certificates = certificatesInResponse(body.bytes);
  } catch (err) {
    return {
      ...base,
      ok: false,
      certificates: [],
      ms,
      bytes: body.bytes.length,
      error: `the response is not a certificate: ${(err as Error).message}`,
    };
  }
  const issuer = certificates.find(
    (c) => c.subject.key === child.issuer.key && verifier.verifySignedBy(child, c),
  );
  return {
    ...base,
    ok: issuer !== undefined,
    certificates,
    ms,
    bytes: body.bytes.length,
    ...(issuer
      ? { issuer }
      : {
          error:
            certificates.length === 0
              ? 'the response holds no certificate'
              : `none of the ${certificates.length} certificate(s) in the response issued "${child.subject.text}"`,
        }),
  };
}

/**
 * Completes a chain through AIA: from the leaf, follows issuers among the certificates sent;
 * where the next issuer is neither sent nor a trust anchor, fetches it from the caIssuers URL of
 * the certificate on top. Returns the intermediates fetched (never to be trusted by themselves)
 * and every fetch made.
 */
export async function completeChain(
  chain: readonly Certificate[],
  trust: TrustAnchors,
  options: AiaOptions = {},
): Promise<{ added: Certificate[]; fetches: AiaFetch[] }> {
  const verifier = options.verifier ?? defaultVerifier;
  const maxFetches = options.maxFetches ?? AIA_MAX_FETCHES;
  const pool = [...chain];
  const added: Certificate[] = [];
  const fetches: AiaFetch[] = [];
  let top: Certificate | undefined = chain[0];
  for (let depth = 0; top && depth < AIA_MAX_DEPTH + chain.length; depth++) {
    const cur: Certificate = top;
    if (trust.issuersOf(cur).some((a) => verifier.verifySignedBy(cur, a.cert))) break;
    if (cur.selfIssued) break;
    const sent = pool.find(
      (c) => c !== cur && c.subject.key === cur.issuer.key && verifier.verifySignedBy(cur, c),
    );
    if (sent) {
      top = sent;
      continue;
    }
    top = undefined;
    for (const url of cur.authorityInfoAccess?.caIssuers ?? []) {
      if (fetches.length >= maxFetches) break;
      const f = await fetchIssuer(url, cur, { ...options, verifier });
      fetches.push(f);
      if (f.issuer) {
        if (!pool.some((c) => c.fingerprintSha256 === f.issuer!.fingerprintSha256)) {
          pool.push(f.issuer);
          added.push(f.issuer);
        }
        top = f.issuer;
        break;
      }
    }
    if (added.length >= AIA_MAX_DEPTH) break;
  }
  return { added, fetches };
}
