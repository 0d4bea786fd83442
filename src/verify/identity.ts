/**
 * Server identity (RFC 9525): does the certificate name the host the client asked for?
 *
 * Decisions (ARCHITECTURE.md, "Identity"), with the ones made here:
 * - Only subjectAltName dNSName and iPAddress entries count, never the subject Common Name
 *   (RFC 9525 §6.2.1 drops the CN fallback; Go since 1.15, Chrome since 58). A certificate without
 *   a SAN extension fails with NO_SUBJECT_ALT_NAME, and the message says whether its CN would
 *   have matched, because that is what the person reading it wants to know.
 * - DNS names: syntax and matching in hostname.ts (rustls-webpki's rules: wildcard only as the
 *   whole left-most label, one label, at least two labels after it, not over a public suffix of
 *   the ICANN section as Chromium; no partial wildcards; no hyphen at either end of a label;
 *   A-labels must decode; underscores in the reference name but not in the certificate's; trailing
 *   dot ignored on the reference, refused on the certificate).
 * - IDNs: a reference U-label is converted to an A-label with node:url domainToASCII (UTS #46,
 *   as the WHATWG URL parser does); presented names must already be A-labels (RFC 5280 §7.2).
 * - IP addresses match iPAddress SANs only, by bytes; DNS names never match iPAddress SANs and IP
 *   literals never match dNSName SANs (RFC 9525 §6.2.1, §6.3). An IPv4-mapped IPv6 address
 *   (::ffff:10.0.0.6) is NOT the IPv4 address 10.0.0.6: RFC 5280 §4.2.1.6 encodes IPv4 in four
 *   octets and IPv6 in sixteen, rustls-webpki and CPython compare them as different, and
 *   treating them as equal would let a certificate for one stand for the other. (Go's
 *   net.IP.Equal treats them as equal; we do not follow it.) The error hint explains it.
 * - IPv6 zone ids are stripped (x509/ip.ts, as urllib3 does): they are local, not an identity.
 */

import { domainToASCII, domainToUnicode } from 'node:url';
import { InvalidURL, SSLError } from '../errors.js';
import { ipEquals, ipToString, parseIp, parseIpv4 } from '../x509/ip.js';
import type { Certificate, GeneralName } from '../x509/types.js';
import { dnsNameMatches, dnsNameProblem } from './hostname.js';

export { dnsNameMatches, isValidPresentedDnsName, isValidReferenceDnsName } from './hostname.js';

/** The name a client verifies: what RFC 9525 calls the reference identifier. */
export type ReferenceName =
  /** `value`: lower-case, A-labels, no trailing dot. */
  | { kind: 'dns'; value: string }
  /** `bytes`: 4 (IPv4) or 16 (IPv6) octets; `text`: canonical text (RFC 5952), no brackets or zone. */
  | { kind: 'ip'; bytes: Uint8Array; text: string };

/**
 * The longest host text worth looking at: a valid DNS name is at most 253 characters, and its
 * Unicode form is not much longer (UTS #46 mapping removes a few characters such as soft
 * hyphens). Anything longer is refused before any conversion runs.
 */
const MAX_HOST_INPUT = 1024;

/** How many SANs a mismatch message lists before "and N more" (readability; `presented` has all). */
const MAX_NAMES_IN_MESSAGE = 10;

/**
 * Normalise a host as a URL would carry it ('[::1]', 'Example.COM.', 'bücher.de', '10.0.0.6')
 * into a {@link ReferenceName}. Also accepts an IPv6 address without brackets ('::1', as a
 * `serverName` might be written) and strips an IPv6 zone id ('fe80::1%eth0').
 *
 * Throws InvalidURL, with a sentence saying what is wrong, for text that cannot be a host:
 * empty, spaces, 'host:port', '[1.2.3.4]', a bad IDN, or a shortened or octal/hex IPv4 form such
 * as '127.1' (URL parsers read those as addresses; certificate matching does not guess).
 */
export function parseReferenceName(host: string): ReferenceName {
  if (typeof host !== 'string') {
    throw new InvalidURL(`a host name must be a string, not ${host === null ? 'null' : typeof host}`, {
      code: 'ERR_INVALID_HOST',
    });
  }
  if (host.length === 0) throw invalidHost(host, 'it is empty');
  if (host.length > MAX_HOST_INPUT) {
    throw invalidHost(host, `it is ${host.length} characters long; a DNS name has at most 253`);
  }

  if (host.startsWith('[') || host.includes(':')) {
    const bytes = parseIp(host);
    if (bytes?.length === 16) return { kind: 'ip', bytes, text: ipToString(bytes) };
    if (host.startsWith('[')) {
      return host.endsWith(']')
        ? fail(host, 'the text between the brackets is not an IPv6 address (brackets are for IPv6 only)')
        : fail(host, "it opens a '[' that is not closed");
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) {
      throw invalidHost(host, 'it is a URL, not a host', 'pass only the host part (new URL(text).hostname)');
    }
    if (/^[^:]+:[0-9]*$/.test(host)) {
      throw invalidHost(
        host,
        'it looks like host:port',
        'pass the host alone; give a port in the URL or in connectTo',
      );
    }
    return fail(host, "it is not a valid IPv6 address, and a DNS name cannot contain ':'");
  }

  const v4 = parseIpv4(host);
  if (v4) return { kind: 'ip', bytes: v4, text: ipToString(v4) };

  let ascii = host;
  if (/[^\x00-\x7f]/.test(host)) {
    // UTS #46 processing, as the WHATWG URL parser applies to a host (RFC 9525 §6.3 compares
    // A-labels; RFC 5890 defines them). '' means the name cannot be converted.
    ascii = domainToASCII(host);
    if (ascii === '') {
      return fail(host, 'it is not a valid internationalised domain name (IDNA / UTS #46 rejects it)');
    }
    // Full-width digits and dots can turn a Unicode name into an IPv4 address.
    const mapped = parseIpv4(ascii.endsWith('.') ? ascii.slice(0, -1) : ascii);
    if (mapped) return { kind: 'ip', bytes: mapped, text: ipToString(mapped) };
  }

  const problem = dnsNameProblem(ascii, 'reference');
  if (problem !== undefined) {
    const asUrl = whatwgIpv4(ascii);
    if (asUrl !== undefined) {
      throw invalidHost(
        host,
        'it is not a dotted-quad IPv4 address (four decimal numbers without leading zeros) and not a DNS name',
        `a URL parser would read it as ${asUrl}; write that if it is what you mean`,
      );
    }
    return fail(host, problem);
  }
  // ASCII 'xn--' labels were checked by dnsNameProblem with our own Punycode decoder (an empty or
  // undecodable A-label is refused), not with domainToASCII: the URL parsers of Node 20 and 24
  // disagree on them (domainToASCII('xn--zz.com') is '' on 20, 'xn--zz.com' on 24).
  return { kind: 'dns', value: (ascii.endsWith('.') ? ascii.slice(0, -1) : ascii).toLowerCase() };
}

/** The WHATWG URL parser's reading of a host that "ends in a number" (127.1, 0x7f.1), if any. */
function whatwgIpv4(host: string): string | undefined {
  const labels = (host.endsWith('.') ? host.slice(0, -1) : host).split('.');
  if (!/^(0x[0-9a-f]*|[0-9]+)$/i.test(labels[labels.length - 1]!)) return undefined;
  try {
    const parsed = new URL(`http://${host}/`).hostname;
    return parseIpv4(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function invalidHost(host: string, problem: string, hint?: string): InvalidURL {
  return new InvalidURL(`'${printable(host)}' cannot be a host name: ${problem}`, {
    code: 'ERR_INVALID_HOST',
    ...(hint === undefined ? {} : { hint }),
  });
}

function fail(host: string, problem: string): never {
  throw invalidHost(host, problem);
}

/**
 * True when one of `names` (a certificate's SAN entries) is the identity `ref`: a dNSName for a
 * DNS reference ({@link dnsNameMatches}), an iPAddress with the same bytes for an IP reference.
 * Other GeneralName types never match. The pure core of {@link verifyIdentity}, for tables.
 */
export function identityMatches(names: readonly GeneralName[], ref: ReferenceName): boolean {
  for (const n of names) {
    if (ref.kind === 'dns' && n.type === 'dns' && dnsNameMatches(n.value, ref.value)) return true;
    if (ref.kind === 'ip' && n.type === 'ip' && ipEquals(n.bytes, ref.bytes)) return true;
  }
  return false;
}

/** The identities a certificate presents, as text: dNSName values and iPAddress texts, in order. */
export function presentedIdentities(names: readonly GeneralName[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    if (n.type === 'dns') out.push(n.value);
    else if (n.type === 'ip') out.push(ipToString(n.bytes));
  }
  return out;
}

/** How a reference name reads in a message: the A-label, and the Unicode form when it differs. */
export function referenceNameText(ref: ReferenceName): string {
  if (ref.kind === 'ip') return ref.text;
  if (!/(^|\.)xn--/.test(ref.value)) return ref.value;
  const unicode = domainToUnicode(ref.value);
  return unicode && unicode !== ref.value ? `${ref.value} (${unicode})` : ref.value;
}

/**
 * What to do about a certificate without a subjectAltName extension: the SAN entry to add for
 * `ref`, or for "its host names" when no name is known (verifyChain without `name`). One text for
 * the identity check and the leaf profile (path/builder.ts), which refuse such a certificate alike.
 */
export function noSubjectAltNameHint(ref?: ReferenceName): string {
  const entry = ref === undefined ? undefined : ref.kind === 'dns' ? `DNS:${ref.value}` : `IP:${ref.text}`;
  return (
    `the server needs a certificate that lists ${entry ?? 'its host names'} in its subjectAltName extension ` +
    `(for example: openssl req -x509 … -addext "subjectAltName=${entry ?? 'DNS:host.example'}"); ` +
    'browsers, Go and certainly ignore the Common Name'
  );
}

/**
 * RFC 9525: check that `cert` (the server's certificate) is valid for `name`, using its
 * subjectAltName only. Returns nothing on success; throws SSLError otherwise:
 * - NO_SUBJECT_ALT_NAME when the certificate has no SAN extension (whether or not its Common
 *   Name would have matched; the message says which);
 * - HOSTNAME_MISMATCH when no SAN matches, with `expected` (the name), `presented` (the SANs as
 *   text), `certificate`, `position` 0, a Go-like message ("certificate is valid for
 *   *.example.com, example.com, not 10.0.0.6") and a `hint` naming the fix.
 * A string `name` goes through {@link parseReferenceName} first (which throws InvalidURL).
 */
export function verifyIdentity(cert: Certificate, name: ReferenceName | string): void {
  const ref = typeof name === 'string' ? parseReferenceName(name) : name;
  const san = cert.subjectAltName;
  const expected = ref.kind === 'dns' ? ref.value : ref.text;
  const shown = referenceNameText(ref);

  if (san === undefined) {
    const cn = cert.subject.commonName;
    let cnClause: string;
    if (cn === undefined) cnClause = 'it has no Common Name either';
    else if (commonNameWouldMatch(cn, ref)) {
      cnClause = `its Common Name '${printable(cn)}' would have matched, but RFC 9525 clients no longer use it`;
    } else cnClause = `its Common Name '${printable(cn)}' would not have matched either`;
    throw new SSLError(
      `certificate is not valid for ${shown}: it has no subjectAltName extension, and ${cnClause}`,
      {
        code: 'NO_SUBJECT_ALT_NAME',
        expected,
        presented: [],
        certificate: cert.summary(),
        position: 0,
        hint: noSubjectAltNameHint(ref),
      },
    );
  }

  if (identityMatches(san.names, ref)) return;

  const presented = presentedIdentities(san.names);
  let message: string;
  if (presented.length === 0) {
    const others = san.names.map(generalNameKind);
    const what =
      others.length === 0
        ? 'its subjectAltName extension is empty'
        : `its subjectAltName holds only ${[...new Set(others)].join(', ')} entries`;
    message = `certificate is not valid for any host name or IP address (${what}), so not for ${shown}`;
  } else if (ref.kind === 'ip' && san.names.some((n) => n.type === 'dns' && n.value === ref.text)) {
    // An IP address written as a dNSName: "valid for 8.8.8.8, not 8.8.8.8" would read as nonsense.
    message = `certificate lists ${ref.text} as a DNS name, not as an IP address, so it is not valid for the IP address ${ref.text}`;
  } else if (
    ref.kind === 'dns' &&
    presented.some((p) => p.toLowerCase() === ref.value && dnsNameProblem(p, 'presented', true))
  ) {
    // The name itself is there but malformed (an underscore): "valid for x, not x" would read as nonsense.
    message = `certificate lists ${printable(ref.value)}, but not as a valid DNS name, so it is not valid for ${shown}`;
  } else {
    const listed = presented.slice(0, MAX_NAMES_IN_MESSAGE).map(printable);
    const more = presented.length - listed.length;
    message = `certificate is valid for ${listed.join(', ')}${more > 0 ? `, and ${more} more` : ''}, not ${shown}`;
  }
  throw new SSLError(message, {
    code: 'HOSTNAME_MISMATCH',
    expected,
    presented,
    certificate: cert.summary(),
    position: 0,
    hint: mismatchHint(san.names, ref),
  });
}

function generalNameKind(n: GeneralName): string {
  switch (n.type) {
    case 'email':
      return 'email';
    case 'uri':
      return 'URI';
    case 'dirName':
      return 'directory name';
    case 'registeredID':
      return 'registered ID';
    case 'other':
      return 'otherName';
    default:
      return n.type;
  }
}

/** Whether a legacy client (CN fallback) would have accepted this CN, for the message only. */
function commonNameWouldMatch(cn: string, ref: ReferenceName): boolean {
  if (ref.kind === 'ip') {
    const bytes = parseIp(cn.trim());
    return bytes !== undefined && ipEquals(bytes, ref.bytes);
  }
  return legacyDnsMatch(cn, ref.value);
}

/**
 * The loose matching of older clients (CPython ≤3.6, urllib3 1.x, Node's checkServerIdentity):
 * trailing dots ignored on both sides, one '*' anywhere in the left-most label. Used only to
 * explain a failure ("would match under older, looser rules"), never to accept one.
 */
function legacyDnsMatch(presented: string, reference: string): boolean {
  const p = presented.toLowerCase().replace(/\.$/, '');
  const r = reference.toLowerCase().replace(/\.$/, '');
  if (p === r) return true;
  const pl = p.split('.');
  const rl = r.split('.');
  if (pl.length !== rl.length || pl.slice(1).join('.') !== rl.slice(1).join('.')) return false;
  const parts = pl[0]!.split('*');
  if (parts.length !== 2) return false;
  const [head, tail] = parts as [string, string];
  const label = rl[0]!;
  return label.length >= head.length + tail.length && label.startsWith(head) && label.endsWith(tail);
}

/** One sentence saying how to fix a mismatch, from what the certificate does carry. */
function mismatchHint(names: readonly GeneralName[], ref: ReferenceName): string {
  const dns = names.flatMap((n) => (n.type === 'dns' ? [n.value] : []));
  const validDns = dns.filter((d) => dnsNameProblem(d, 'presented', true) === undefined);
  const ips = names.flatMap((n) =>
    n.type === 'ip' && (n.bytes.length === 4 || n.bytes.length === 16) ? [n.bytes] : [],
  );

  if (ref.kind === 'ip') {
    if (dns.includes(ref.text)) {
      return (
        `the certificate has ${ref.text} as a dNSName entry, which never matches an IP address (RFC 9525 §6.2.1); ` +
        `the server needs a certificate that lists it as an iPAddress entry (IP:${ref.text})`
      );
    }
    const counterpart = ips.find((b) => isMappedCounterpart(b, ref.bytes));
    if (counterpart) {
      const text = ipToString(counterpart);
      return (
        `the certificate lists ${text}, and ${ref.text} is not the same identity: an IPv4-mapped IPv6 ` +
        `address and the IPv4 address are different iPAddress entries (RFC 5280 §4.2.1.6); connect to ${urlHost(counterpart)}`
      );
    }
    if (validDns.length > 0) {
      const suggestion = concreteName(validDns);
      return `connect to the IP but verify a name the certificate carries: serverName: '${suggestion}'`;
    }
    if (ips.length > 0) {
      return `the certificate is for ${ips.map(ipToString).join(', ')}; connect to one of those addresses, or get a certificate that lists IP:${ref.text}`;
    }
    return `the server needs a certificate that lists IP:${ref.text} in its subjectAltName extension`;
  }

  const host = ref.value;
  const dot = host.indexOf('.');
  const parent = dot > 0 ? host.slice(dot + 1) : undefined;
  for (const d of dns) {
    const problem = dnsNameProblem(d, 'presented', true);
    if (problem !== undefined && legacyDnsMatch(d, host)) {
      if (d.includes('_')) {
        // A name the certificate may carry: '_' as '-', none at either end of a label.
        const plain = host
          .split('.')
          .map((l) => l.replace(/_/g, '-').replace(/^-+|-+$/g, '') || 'host')
          .join('.');
        // A wildcard one label up covers the host as it is, when only its first label has '_'.
        const above = parent !== undefined && !parent.includes('_') ? `*.${parent}` : undefined;
        const wildcard = above !== undefined && dnsNameProblem(above, 'presented', true) === undefined;
        return (
          `the certificate names '${printable(d)}', but ${problem}, so it matches nothing; no certificate can ` +
          `name ${host} itself: re-issue it for ${plain} and verify that name, keeping the address: ` +
          `serverName: '${plain}'${wildcard ? `; or re-issue it for ${above}, which covers ${host} as it is` : ''}`
        );
      }
      return (
        `the certificate's name '${printable(d)}' would match under older, looser rules, but it is malformed: ${problem}; ` +
        `the server needs a certificate that lists ${host}`
      );
    }
  }
  if (validDns.some((d) => d.toLowerCase() === `*.${host}`)) {
    return `'*.${host}' covers names one label below ${host}, not ${host} itself; the certificate needs ${host} as a name too`;
  }
  const wider = validDns.find((d) => d.startsWith('*.') && host.endsWith(d.slice(1).toLowerCase()));
  if (wider) {
    return (
      `a wildcard matches exactly one label: '${wider}' covers ${concreteName([wider])}, not ${host}; ` +
      `the certificate needs ${host}${parent ? ` or *.${parent}` : ''}`
    );
  }
  if (dns.length === 0 && ips.length === 0) {
    return `the certificate names no host at all; the server needs a certificate that lists DNS:${host} in its subjectAltName extension`;
  }
  if (validDns.length === 0 && ips.length > 0) {
    return `the certificate names only IP addresses (${ips.map(ipToString).join(', ')}); connect to https://${urlHost(ips[0]!)}/ or get a certificate that lists DNS:${host}`;
  }
  return (
    `check that ${host} is the host you meant; if it is, the server sent a certificate for other names, ` +
    'often from a default or wrong virtual host (it should pick the certificate by SNI) or from a proxy that intercepts TLS'
  );
}

/** A name the certificate covers that a person can type: a non-wildcard SAN, or 'www.' under a wildcard. */
function concreteName(validDns: readonly string[]): string {
  const plain = validDns.find((d) => !d.startsWith('*.'));
  if (plain !== undefined) return plain.toLowerCase();
  return `www${validDns[0]!.slice(1).toLowerCase()}`;
}

/** True when `a` and `b` are an IPv4 address and its IPv4-mapped IPv6 form, in either order. */
function isMappedCounterpart(a: Uint8Array, b: Uint8Array): boolean {
  const [v4, v6] = a.length === 4 ? [a, b] : [b, a];
  if (v4.length !== 4 || v6.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (v6[i] !== 0) return false;
  return v6[10] === 0xff && v6[11] === 0xff && ipEquals(v6.subarray(12), v4);
}

function urlHost(bytes: Uint8Array): string {
  return bytes.length === 16 ? `[${ipToString(bytes)}]` : ipToString(bytes);
}

/** Text safe to put in a one-line message: control and non-printable characters escaped. */
function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
