/**
 * DNS name syntax and matching for certificate identities (RFC 9525 §6.3, RFC 5280 §4.2.1.6).
 *
 * Pure functions over ASCII strings, with no knowledge of certificates or URLs: identity.ts turns
 * a URL host into a reference name and walks a certificate's SANs; this file says what a valid
 * name is and whether a presented dNSName covers a reference name. The rules follow
 * rustls-webpki (src/subject_name/dns_name.rs), whose tables test/verify/ runs; each place where
 * we choose differently says so.
 */

import { isPublicSuffix } from './public-suffix.js';

/** RFC 1035 §2.3.4: 255 octets on the wire, which is 253 characters of text without the root dot. */
const MAX_NAME_LENGTH = 253;
/** RFC 1035 §2.3.4: labels are 63 octets or less. */
const MAX_LABEL_LENGTH = 63;

/** Which side of the comparison a name is on; the syntax rules differ slightly. */
export type DnsNameRole =
  /** A dNSName in a certificate: no trailing dot; a wildcard only when allowed. */
  | 'presented'
  /** The name the client asked for: may end with one dot (an absolute name); never a wildcard. */
  | 'reference';

/**
 * Why `name` is not a valid DNS name in `role`, as the end of a sentence ("it has an empty
 * label"), or undefined when it is valid.
 *
 * The syntax is RFC 1034 §3.5 "preferred name syntax" as relaxed by RFC 1123 §2.1 (labels may
 * start with a digit), which RFC 5280 §4.2.1.6 requires of dNSName, with these choices:
 * - Underscores: a reference name may carry one (a host people reach: Docker service names,
 *   '_dmarc.example.com'), and a wildcard covers such a label; a certificate's own dNSName may
 *   not. RFC 5280 §4.2.1.6 requires the preferred name syntax there (letters, digits, hyphens),
 *   the CA/B Forum forbade underscores in publicly trusted certificates from 2019 (ballot SC12;
 *   the last of them expired that year), and pyca/cryptography refuses them. rustls-webpki,
 *   mozilla::pkix (Mozilla bug 1136616, from when public certificates still carried them), Go and
 *   OpenSSL accept them; what refusing costs is a private CA's certificate for 'my_service', and
 *   the mismatch message says how to re-issue it (docs/decisions.md, "Identity").
 * - A label may neither start nor end with a hyphen (RFC 1034 §3.5 "must start with a letter,
 *   end with a letter or digit"; rustls-webpki refuses both). Go accepts a trailing hyphen
 *   (crypto/x509 TestValidHostname, 'eXample123-.com'); we follow rustls-webpki.
 * - A label starting with 'xn--' is an A-label (RFC 5890 §2.3.2.1) and must decode: the rest is
 *   valid Punycode (RFC 3492) that yields at least one non-ASCII character. 'xn--' alone, 'xn--zz'
 *   (no valid Punycode) and 'xn--abc-' (decodes to plain 'abc') are refused, as the WHATWG URL
 *   parser and Chromium refuse them in a host. Only labels with that prefix are checked: other
 *   labels with '--' in the third and fourth positions are accepted, as every verifier does.
 * - The last label may not be all digits: such a name is an IP address written as text, and
 *   IP addresses only match iPAddress SANs (rustls-webpki; RFC 1123 §2.1 notes the ambiguity).
 * - Presented names may not end with a dot; references may end with exactly one, which is
 *   ignored (rustls-webpki: "absolute presented IDs are not supported").
 * - A wildcard is '*' as the whole left-most label of a presented name, followed by at least two
 *   labels (rustls-webpki and NSS: '*.com' and '*.' are rejected), and what follows it may not be
 *   a public suffix of the list's ICANN section ('*.co.uk', '*.com.br' are refused), as Chromium
 *   (net/cert/x509_certificate.cc, X509Certificate::VerifyHostname: "prevent *.com or *.co.uk as
 *   valid presented names, but do not prevent *.appspot.com (a private registry controlled
 *   domain)", EXCLUDE_PRIVATE_REGISTRIES). Suffixes of the PRIVATE section stay allowed: their
 *   owners hold such certificates ('*.s3.amazonaws.com', '*.github.io', '*.appspot.com'), and
 *   refusing them would refuse those sites. CA/B BR §3.2.2.6 forbids CAs to issue a wildcard
 *   over a public suffix unless the applicant controls the whole namespace, which is exactly the
 *   private-section case. The list is loaded only when a wildcard name is examined.
 * - Only ASCII: dNSName is an IA5String holding A-labels (RFC 5280 §7.2); a U-label in a
 *   certificate is malformed. Reference U-labels are converted before they get here.
 */
export function dnsNameProblem(name: string, role: DnsNameRole, allowWildcard = false): string | undefined {
  const problem = syntaxProblem(name, role, allowWildcard);
  if (problem !== undefined || role !== 'presented' || !name.startsWith('*.')) return problem;
  return wildcardSuffixProblem(name.slice(2));
}

/** {@link dnsNameProblem} without the Public Suffix List look-up (the syntax alone). */
function syntaxProblem(name: string, role: DnsNameRole, allowWildcard: boolean): string | undefined {
  if (name.length === 0) return 'it is empty';
  let body = name;
  if (name.endsWith('.')) {
    if (role === 'presented') {
      // rustls-webpki: only reference names may be absolute; a certificate's name may not.
      return 'it ends with a dot (an absolute name), which a certificate name may not';
    }
    body = name.slice(0, -1);
    if (body.length === 0) return 'it is only a dot';
  }
  if (body.length > MAX_NAME_LENGTH) {
    return `it is ${body.length} characters long, more than the ${MAX_NAME_LENGTH} a DNS name can have`;
  }
  const labels = body.split('.');
  let first = 0;
  if (role === 'presented' && allowWildcard && labels[0] === '*') {
    // NSS and rustls-webpki: at least two labels after the wildcard, so '*.com' is refused.
    if (labels.length < 3) {
      return 'a wildcard must be followed by at least two labels (*.example.com, not *.com)';
    }
    first = 1;
  }
  for (let i = first; i < labels.length; i++) {
    const label = labels[i]!;
    if (label.length === 0) {
      return i === 0 ? 'it starts with a dot' : 'it has an empty label (two dots in a row)';
    }
    if (label.includes('*')) {
      if (role === 'reference') return "it contains '*', which a host name cannot";
      if (!allowWildcard) return "it contains '*', which is not allowed here";
      if (i === 0) {
        // RFC 9525 §6.3 allows only '*' as the complete left-most label (no 'f*o', '*foo', 'xn--*').
        return `'${label}' is a partial wildcard (only '*' as the whole left-most label is allowed)`;
      }
      return "a wildcard may only be the whole left-most label ('*.example.com')";
    }
    if (label.length > MAX_LABEL_LENGTH) {
      return `label '${label.slice(0, 20)}…' is ${label.length} characters long, more than ${MAX_LABEL_LENGTH}`;
    }
    const bad = /[^A-Za-z0-9_-]/.exec(label);
    if (bad) return `it contains ${describeChar(bad[0])}, which a DNS name cannot`;
    if (role === 'presented' && label.includes('_')) {
      return `label '${label}' contains '_', which a certificate's DNS name may not (RFC 5280 §4.2.1.6; public CAs stopped issuing them in 2019)`;
    }
    if (label.startsWith('-')) return `label '${label}' starts with a hyphen`;
    if (label.length >= 4 && label.slice(0, 4).toLowerCase() === 'xn--') {
      const problem = aLabelProblem(label);
      if (problem !== undefined) return problem;
    }
    if (label.endsWith('-')) return `label '${label}' ends with a hyphen`;
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) {
    return 'its last label is all digits, so it is an IP address or nothing, not a DNS name';
  }
  return undefined;
}

function describeChar(c: string): string {
  const code = c.codePointAt(0)!;
  if (code === 0) return 'a NUL character';
  if (code === 0x20) return 'a space';
  if (code < 0x20 || code === 0x7f)
    return `a control character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
  if (code > 0x7f) return `the non-ASCII character '${c}' (IDNs must be A-labels: xn--…)`;
  return `'${c}'`;
}

/** True when `name` may appear as a dNSName SAN (RFC 5280 §4.2.1.6 syntax, see {@link dnsNameProblem}). */
export function isValidPresentedDnsName(name: string, allowWildcard: boolean): boolean {
  return dnsNameProblem(name, 'presented', allowWildcard) === undefined;
}

/** True when `name` may be the name a client asks for: ASCII (A-labels), one trailing dot allowed. */
export function isValidReferenceDnsName(name: string): boolean {
  return dnsNameProblem(name, 'reference') === undefined;
}

/**
 * Whether the presented dNSName `presented` (from a certificate) covers the reference name
 * `reference` (what the client asked for), RFC 9525 §6.3:
 * - both must be valid ({@link dnsNameProblem}); an invalid name never matches;
 * - comparison is ASCII case-insensitive (RFC 4343);
 * - a trailing dot on the reference is ignored;
 * - '*.rest' matches exactly one non-empty label followed by '.rest' — not 'rest' itself, not
 *   two labels. The label it matches may be an A-label ('xn--…'): RFC 9525 §6.3 forbids only a
 *   wildcard *inside* an A-label, which the syntax rules already refuse.
 */
export function dnsNameMatches(presented: string, reference: string): boolean {
  if (syntaxProblem(presented, 'presented', true) !== undefined) return false;
  if (syntaxProblem(reference, 'reference', false) !== undefined) return false;
  const ref = (reference.endsWith('.') ? reference.slice(0, -1) : reference).toLowerCase();
  const pre = presented.toLowerCase();
  if (pre.startsWith('*.')) {
    const dot = ref.indexOf('.');
    // dot > 0: the wildcard stands for one non-empty label (valid references have no empty label).
    // The Public Suffix List is consulted only for a wildcard that would otherwise match.
    return dot > 0 && ref.slice(dot) === pre.slice(1) && wildcardSuffixProblem(pre.slice(2)) === undefined;
  }
  return pre === ref;
}

/** Why a wildcard over `rest` ('*.rest') is refused: `rest` is a public suffix (ICANN section). */
function wildcardSuffixProblem(rest: string): string | undefined {
  if (!isPublicSuffix(rest, { privateDomains: false })) return undefined;
  return (
    `it is a wildcard over ${rest.toLowerCase()}, a public suffix under which anyone can register a domain, ` +
    'so it would stand for unrelated sites (browsers refuse it)'
  );
}

// RFC 3492 §5: the Punycode parameters for IDNA.
const PUNY_BASE = 36;
const PUNY_TMIN = 1;
const PUNY_TMAX = 26;
const PUNY_SKEW = 38;
const PUNY_DAMP = 700;
const PUNY_INITIAL_BIAS = 72;
const PUNY_INITIAL_N = 0x80;
/** RFC 3492 §6.4: decoders must detect overflow; 2^31 - 1 is its "maxint" example. */
const PUNY_MAXINT = 0x7fffffff;

/**
 * Why the A-label `label` ('xn--…') does not decode, or undefined when it does: the part after
 * 'xn--' must be valid Punycode (RFC 3492 §6.2) whose result is a Unicode scalar value sequence
 * holding at least one non-ASCII character (RFC 5890 §2.3.2.1: an A-label is the ASCII form of a
 * U-label, and a U-label is not all ASCII). The label is at most 63 characters, so this is cheap.
 */
function aLabelProblem(label: string): string | undefined {
  const input = label.slice(4);
  if (input.length === 0) return `label '${label}' is an empty A-label ('xn--' with nothing after it)`;
  const decoded = decodePunycode(input);
  if (decoded === undefined) return `label '${label}' is not a valid A-label (its Punycode does not decode)`;
  if (!decoded.some((c) => c >= 0x80)) {
    return `label '${label}' is not a valid A-label (it decodes to plain ASCII, which is never written as xn--)`;
  }
  return undefined;
}

/** RFC 3492 §6.2 decoding: the code points, or undefined on any error (bad digit, overflow). */
function decodePunycode(input: string): number[] | undefined {
  const output: number[] = [];
  const delimiter = input.lastIndexOf('-');
  for (let j = 0; j < delimiter; j++) {
    // Labels reaching here are already known to be [A-Za-z0-9_-]: all basic code points.
    output.push(input.charCodeAt(j));
  }
  let n = PUNY_INITIAL_N;
  let bias = PUNY_INITIAL_BIAS;
  let i = 0;
  let pos = delimiter > 0 ? delimiter + 1 : 0;
  while (pos < input.length) {
    const oldi = i;
    let w = 1;
    for (let k = PUNY_BASE; ; k += PUNY_BASE) {
      if (pos >= input.length) return undefined;
      const digit = punycodeDigit(input.charCodeAt(pos++));
      if (digit === undefined || digit > (PUNY_MAXINT - i) / w) return undefined;
      i += digit * w;
      const t = k <= bias ? PUNY_TMIN : k >= bias + PUNY_TMAX ? PUNY_TMAX : k - bias;
      if (digit < t) break;
      if (w > PUNY_MAXINT / (PUNY_BASE - t)) return undefined;
      w *= PUNY_BASE - t;
    }
    const length = output.length + 1;
    bias = punycodeAdapt(i - oldi, length, oldi === 0);
    n += Math.floor(i / length);
    i %= length;
    // Not a Unicode scalar value: beyond U+10FFFF or a surrogate.
    if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return undefined;
    output.splice(i, 0, n);
    i++;
  }
  return output;
}

/** RFC 3492 §5: a-z/A-Z are 0-25, 0-9 are 26-35. */
function punycodeDigit(c: number): number | undefined {
  if (c >= 0x61 && c <= 0x7a) return c - 0x61;
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 26;
  return undefined;
}

/** RFC 3492 §6.1: the bias adaptation function. */
function punycodeAdapt(delta: number, numPoints: number, firstTime: boolean): number {
  let d = firstTime ? Math.floor(delta / PUNY_DAMP) : Math.floor(delta / 2);
  d += Math.floor(d / numPoints);
  let k = 0;
  while (d > ((PUNY_BASE - PUNY_TMIN) * PUNY_TMAX) >> 1) {
    d = Math.floor(d / (PUNY_BASE - PUNY_TMIN));
    k += PUNY_BASE;
  }
  return k + Math.floor(((PUNY_BASE - PUNY_TMIN + 1) * d) / (d + PUNY_SKEW));
}
