/**
 * DNS name syntax and matching for certificate identities (RFC 9525 §6.3, RFC 5280 §4.2.1.6).
 *
 * Pure functions over ASCII strings, with no knowledge of certificates or URLs: identity.ts turns
 * a URL host into a reference name and walks a certificate's SANs; this file says what a valid
 * name is and whether a presented dNSName covers a reference name. The rules follow
 * rustls-webpki (src/subject_name/dns_name.rs), whose tables test/verify/ runs; each place where
 * we choose differently says so.
 */

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
 * - Underscores are allowed in any label: rustls-webpki and mozilla::pkix accept them for
 *   compatibility (Mozilla bug 1136616), and real certificates carry them.
 * - A label may end with a hyphen: Go accepts it (crypto/x509 TestValidHostname,
 *   'eXample123-.com'); rustls-webpki rejects it, but no table of theirs tests it. Matching is
 *   exact, so accepting it makes no other name match.
 * - A label may not start with a hyphen (RFC 1034 §3.5; Go and rustls-webpki agree).
 * - The last label may not be all digits: such a name is an IP address written as text, and
 *   IP addresses only match iPAddress SANs (rustls-webpki; RFC 1123 §2.1 notes the ambiguity).
 * - Presented names may not end with a dot; references may end with exactly one, which is
 *   ignored (rustls-webpki: "absolute presented IDs are not supported").
 * - A wildcard is '*' as the whole left-most label of a presented name, followed by at least two
 *   labels (rustls-webpki and NSS: '*.com' and '*.' are rejected; '*.co.uk' is accepted, since
 *   telling it apart needs the Public Suffix List, which webpki does not use either).
 * - Only ASCII: dNSName is an IA5String holding A-labels (RFC 5280 §7.2); a U-label in a
 *   certificate is malformed. Reference U-labels are converted before they get here.
 */
export function dnsNameProblem(name: string, role: DnsNameRole, allowWildcard = false): string | undefined {
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
    if (label.startsWith('-')) return `label '${label}' starts with a hyphen`;
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
  if (!isValidPresentedDnsName(presented, true) || !isValidReferenceDnsName(reference)) return false;
  const ref = (reference.endsWith('.') ? reference.slice(0, -1) : reference).toLowerCase();
  const pre = presented.toLowerCase();
  if (pre.startsWith('*.')) {
    const dot = ref.indexOf('.');
    // dot > 0: the wildcard stands for one non-empty label (valid references have no empty label).
    return dot > 0 && ref.slice(dot) === pre.slice(1);
  }
  return pre === ref;
}
