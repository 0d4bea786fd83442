/**
 * Name constraints (RFC 5280 §4.2.1.10, §6.1.3 (b)–(c)): whether the names a certificate carries
 * lie inside the subtrees a CA above it permits, and outside those it excludes.
 *
 * Name forms and what we do with each:
 * - dNSName: a constraint is a domain; it covers itself and every name below it
 *   ('example.com' covers 'example.com' and 'a.b.example.com', not 'badexample.com'). The empty
 *   constraint covers every name. A leading dot ('.example.com') covers the names below only:
 *   RFC 5280 §4.2.1.10 gives that form to URIs and mailboxes, not to dNSName, and x509-limbo
 *   (rfc5280::nc::invalid-dnsname-leading-period) and pyca refuse it, but OpenSSL documents it
 *   ("permitted;DNS:.example.com"), private CAs are built from that documentation, and
 *   rustls-webpki, Go and OpenSSL accept it with this meaning — refusing it would make those CAs
 *   unusable, not safer. A wildcard or a trailing dot in a constraint is malformed.
 *   A wildcard SAN '*.X' stands for every name one label below X (RFC 9525 §6.3): it is permitted
 *   only when all of those names are, and excluded when any of them is (CVE-2025-61727; the
 *   rustls-webpki tables WILDCARD_CONSTRAINT_CONTAINMENT and WILDCARD_EXCLUDED_INTERSECTION).
 * - iPAddress: address and mask (8 or 16+16 octets); the mask must be a prefix (RFC 4632 CIDR;
 *   rustls-webpki rejects other masks). IPv4 constraints never match IPv6 names and back.
 * - rfc822Name: 'user@host' is one mailbox, 'host' every mailbox at that host, '.domain' every
 *   mailbox at a host below it (RFC 5280 §4.2.1.10). Characters are literal ('*' is no wildcard);
 *   the local part compares exactly, the host case-insensitively. A mailbox with more than one
 *   '@' is malformed. When a certificate has no subjectAltName, rfc822Name constraints apply to
 *   emailAddress attributes of its subject (RFC 5280 §4.2.1.10).
 * - uniformResourceIdentifier: constraints name a host ('host.example.com' exactly) or a domain
 *   ('.example.com', hosts below it) (RFC 5280 §4.2.1.10); a URI without a host, or whose host is
 *   an IP address, cannot be shown to satisfy one and fails.
 * - directoryName: the subject, and every directoryName SAN, must start with the constraint's RDNs
 *   (RFC 5280 §4.2.1.10 "subtree"), compared as RFC 5280 §7.1 asks (case-insensitive, white space
 *   folded; values that are not strings by their DER); the empty Name covers all. An empty
 *   subject is not checked.
 * - otherName, x400Address, ediPartyName, registeredID: we cannot evaluate these. A certificate
 *   whose names include such a form, under a CA constraining that form, is rejected — RFC 5280
 *   §4.2.1.10: "the application MUST either process the constraint or reject the certificate";
 *   rustls-webpki does the same whatever the criticality (CA/B BR allow non-critical constraints).
 * - The subject's commonName is not checked: `certainly` never matches a host name against it
 *   (RFC 9525), so it cannot let a name escape a constraint (rustls-webpki ignores it too).
 *
 * Every (name, constraint) pair compared spends one unit of the budget (Go and rustls-webpki
 * count the same way); a certificate whose names could need more than 2^20 comparisons against
 * one CA's constraints is refused before any (OpenSSL's NAME_CHECK_MAX), see
 * {@link MAX_COMPARISONS_PER_CHECK}.
 */
import { ipToString } from '../../x509/ip.js';
import { attributeComparisonKey } from '../../x509/name.js';
import type { GeneralName, GeneralSubtree, Name, NameConstraints } from '../../x509/types.js';
import type { Budget } from './budget.js';

/** What went wrong, for the error message: the name (as text) and why it is refused. */
export interface NameConstraintViolation {
  /** 'DNS:foo.example.com', 'IP:10.0.0.1', 'email:a@b', 'URI:…', 'DirName:CN=…', 'otherName'. */
  name: string;
  /** The end of a sentence: 'is not in any permitted subtree (DNS:example.com)'. */
  reason: string;
  /** True when the constraint itself, not the name, is at fault. */
  malformedConstraint?: boolean;
}

type Compiled<T> = { permitted: T[]; excluded: T[] };

interface DnsConstraint {
  /** Lower case, no leading or trailing dot; '' covers every name. */
  domain: string;
  /** '.example.com': only names strictly below the domain. */
  below: boolean;
  text: string;
}
interface IpConstraint {
  addr: Uint8Array;
  mask: Uint8Array;
  text: string;
}
interface EmailConstraint {
  kind: 'mailbox' | 'host' | 'domain';
  local?: string;
  /** Lower case; for 'domain' without the leading dot. */
  host: string;
  text: string;
}
interface UriConstraint {
  kind: 'host' | 'domain';
  host: string;
  text: string;
}
interface DirConstraint {
  rdns: string[][];
  text: string;
}

/** A NameConstraints extension, checked for form and prepared for matching. */
export interface CompiledNameConstraints {
  dns: Compiled<DnsConstraint>;
  ip: Compiled<IpConstraint>;
  email: Compiled<EmailConstraint>;
  uri: Compiled<UriConstraint>;
  dir: Compiled<DirConstraint>;
  /** GeneralName tags (context numbers 0, 3, 5, 8) that are constrained but that we cannot evaluate. */
  unsupported: Set<number>;
  /** Set when a constraint is malformed: the CA carrying it must not be used. */
  problem?: string;
}

// ---------------------------------------------------------------------------------------------
// Syntax helpers

/** LDH labels, plus '_' which real certificates carry (Mozilla bug 1136616; rustls-webpki). */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_-])?$/;
/** RFC 1035 §2.3.4: 253 characters of text. */
const MAX_DNS_LENGTH = 253;

function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_DNS_LENGTH) return false;
  for (const label of name.split('.')) if (!LABEL.test(label)) return false;
  return true;
}

/** A presented dNSName, lower-cased: { base } for 'a.b', { base, wildcard } for '*.a.b'. */
function parsePresentedDns(value: string): { base: string; wildcard: boolean } | undefined {
  const v = value.toLowerCase();
  if (v.startsWith('*.')) {
    const base = v.slice(2);
    return isDnsName(base) ? { base, wildcard: true } : undefined;
  }
  return isDnsName(v) ? { base: v, wildcard: false } : undefined;
}

/** `name` equals `domain` or lies below it ('' is above everything). */
function inSubtree(name: string, domain: string): boolean {
  if (domain === '') return true;
  return (
    name === domain ||
    (name.length > domain.length && name.endsWith(domain) && name[name.length - domain.length - 1] === '.')
  );
}

/** The parent of a name ('a.b.c' -> 'b.c'), or undefined for a single label. */
function parentOf(name: string): string | undefined {
  const i = name.indexOf('.');
  return i < 0 ? undefined : name.slice(i + 1);
}

function isPrefixMask(mask: Uint8Array): boolean {
  let zeros = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const one = (byte >> bit) & 1;
      if (zeros && one) return false;
      if (!one) zeros = true;
    }
  }
  return true;
}

/** RFC 5321 §4.1.2 Local-part, loosely: printable ASCII without '@', space or control characters. */
const LOCAL_PART = /^[\x21-\x3f\x41-\x7e]+$/;

/** 'local@host' with exactly one '@', or undefined when malformed. */
function parseMailbox(value: string): { local: string; host: string } | undefined {
  const at = value.indexOf('@');
  if (at <= 0 || at !== value.lastIndexOf('@')) return undefined;
  const local = value.slice(0, at);
  const host = value.slice(at + 1).toLowerCase();
  if (!LOCAL_PART.test(local) || !isDnsName(host)) return undefined;
  return { local, host };
}

/** The host of an absolute URI (RFC 3986 §3.2.2), lower case; undefined when there is none. */
function uriHost(uri: string): { host: string; isIp: boolean } | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(uri);
  if (!m) return undefined;
  let authority = m[1]!;
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  if (authority.startsWith('[')) return { host: authority, isIp: true };
  const host = authority.replace(/:\d*$/, '').toLowerCase();
  if (host === '') return undefined;
  if (/^[0-9.]+$/.test(host)) return { host, isIp: true };
  return isDnsName(host) ? { host, isIp: false } : undefined;
}

/**
 * Each RDN as the sorted comparison keys of its attributes: RFC 5280 §7.1 for string values, the
 * DER for other values (the Name key's rules, x509/name.ts).
 */
function rdnKeys(name: Name): string[][] {
  return name.rdns.map((rdn) => rdn.map(attributeComparisonKey).sort());
}

function sameRdn(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `name` lies in the subtree rooted at `base`: its first RDNs are base's RDNs. */
function dirInSubtree(name: string[][], base: string[][]): boolean {
  if (base.length > name.length) return false;
  for (let i = 0; i < base.length; i++) if (!sameRdn(name[i]!, base[i]!)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Compiling constraints

const TAG_NUMBER_NAMES: Record<number, string> = {
  0: 'otherName',
  3: 'x400Address',
  5: 'ediPartyName',
  8: 'registeredID',
};

const compiledCache = new WeakMap<NameConstraints, CompiledNameConstraints>();

/** Checks and prepares a NameConstraints extension; the result is cached per extension object. */
export function compileNameConstraints(nc: NameConstraints): CompiledNameConstraints {
  const hit = compiledCache.get(nc);
  if (hit) return hit;
  const out: CompiledNameConstraints = {
    dns: { permitted: [], excluded: [] },
    ip: { permitted: [], excluded: [] },
    email: { permitted: [], excluded: [] },
    uri: { permitted: [], excluded: [] },
    dir: { permitted: [], excluded: [] },
    unsupported: new Set(),
  };
  const add = (list: GeneralSubtree[] | undefined, side: 'permitted' | 'excluded'): void => {
    for (const subtree of list ?? []) {
      if (out.problem) return;
      // RFC 5280 §4.2.1.10: "the minimum MUST be zero, and maximum MUST be absent".
      if (subtree.minimum !== 0 || subtree.maximum !== undefined) {
        out.problem = 'a name constraint uses minimum or maximum, which RFC 5280 §4.2.1.10 forbids';
        return;
      }
      const problem = compileOne(subtree.base, side, out);
      if (problem) out.problem = problem;
    }
  };
  add(nc.permitted, 'permitted');
  add(nc.excluded, 'excluded');
  compiledCache.set(nc, out);
  return out;
}

function compileOne(
  base: GeneralName,
  side: 'permitted' | 'excluded',
  out: CompiledNameConstraints,
): string | undefined {
  switch (base.type) {
    case 'dns': {
      const v = base.value.toLowerCase();
      const below = v.startsWith('.');
      const domain = below ? v.slice(1) : v;
      if ((below || domain !== '') && !isDnsName(domain)) {
        return `the dNSName constraint '${base.value}' is malformed (a domain name is expected, without a wildcard or a trailing dot)`;
      }
      out.dns[side].push({ domain, below, text: `DNS:${base.value}` });
      return undefined;
    }
    case 'ip': {
      const half = base.bytes.length / 2;
      const addr = base.bytes.subarray(0, half);
      const mask = base.bytes.subarray(half);
      if ((half !== 4 && half !== 16) || !isPrefixMask(mask)) {
        return `the iPAddress constraint ${Buffer.from(base.bytes).toString('hex')} is not an address with a CIDR prefix mask`;
      }
      out.ip[side].push({ addr, mask, text: `IP:${ipToString(base.bytes)}` });
      return undefined;
    }
    case 'email': {
      const v = base.value;
      const text = `email:${v}`;
      if (v === '') {
        // The empty domain covers every mailbox (as the empty dNSName covers every name; Go agrees).
        out.email[side].push({ kind: 'domain', host: '', text });
      } else if (v.includes('@')) {
        const mb = parseMailbox(v);
        if (!mb) return `the rfc822Name constraint '${v}' is not a valid mailbox`;
        out.email[side].push({ kind: 'mailbox', local: mb.local, host: mb.host, text });
      } else if (v.startsWith('.')) {
        const host = v.slice(1).toLowerCase();
        if (!isDnsName(host)) return `the rfc822Name constraint '${v}' is not a valid domain`;
        out.email[side].push({ kind: 'domain', host, text });
      } else {
        const host = v.toLowerCase();
        if (!isDnsName(host)) return `the rfc822Name constraint '${v}' is not a valid host`;
        out.email[side].push({ kind: 'host', host, text });
      }
      return undefined;
    }
    case 'uri': {
      const v = base.value;
      const domain = v.startsWith('.') || v === ''; // '' covers every host, as for dNSName
      const host = (v.startsWith('.') ? v.slice(1) : v).toLowerCase();
      if (v !== '' && !isDnsName(host)) return `the URI constraint '${v}' is not a host or domain name`;
      out.uri[side].push({ kind: domain ? 'domain' : 'host', host, text: `URI:${v}` });
      return undefined;
    }
    case 'dirName':
      out.dir[side].push({ rdns: rdnKeys(base.name), text: `DirName:${base.name.text}` });
      return undefined;
    case 'registeredID':
      out.unsupported.add(8);
      return undefined;
    case 'other':
      out.unsupported.add(base.tag & 0x1f);
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Matching

/** The names of one certificate that constraints apply to. */
export interface ConstrainedNames {
  /** The subject, or undefined when it is empty (an empty subject is not checked). */
  subject?: Name;
  /** subjectAltName entries (empty when there is no extension). */
  sans: readonly GeneralName[];
  /** True when the certificate has a subjectAltName extension (decides the emailAddress rule). */
  hasSan: boolean;
}

const EMAIL_ADDRESS = '1.2.840.113549.1.9.1';

function check<T>(
  list: Compiled<T>,
  name: string,
  permits: (c: T) => boolean,
  excludes: (c: T) => boolean,
  text: (c: T) => string,
  budget: Budget | undefined,
): NameConstraintViolation | undefined {
  // Comparisons are counted here and spent once per list (a call per comparison was a tenth of
  // the time of the DoS cases); the overshoot is at most one list, which checkNameConstraints
  // has already bounded.
  let compared = 0;
  if (list.permitted.length > 0) {
    let ok = false;
    for (const c of list.permitted) {
      compared++;
      if (permits(c)) {
        ok = true;
        break;
      }
    }
    budget?.spend('nameConstraintComparisons', compared);
    compared = 0;
    if (!ok) {
      const shown = list.permitted.slice(0, 3).map(text).join(', ');
      const more = list.permitted.length > 3 ? `, … ${list.permitted.length - 3} more` : '';
      return { name, reason: `is not in any permitted subtree (${shown}${more})` };
    }
  }
  let violation: NameConstraintViolation | undefined;
  for (const c of list.excluded) {
    compared++;
    if (excludes(c)) {
      violation = { name, reason: `is in the excluded subtree ${text(c)}` };
      break;
    }
  }
  budget?.spend('nameConstraintComparisons', compared);
  return violation;
}

function checkDns(
  cc: CompiledNameConstraints,
  value: string,
  budget?: Budget,
): NameConstraintViolation | undefined {
  const list = cc.dns;
  if (list.permitted.length === 0 && list.excluded.length === 0) return undefined;
  const name = `DNS:${value}`;
  const p = parsePresentedDns(value);
  if (!p)
    return { name, reason: 'is not a valid DNS name, so it cannot be shown to satisfy the name constraints' };
  const { base, wildcard } = p;
  const covers = (c: DnsConstraint): boolean => {
    if (wildcard) {
      // Every expansion l.X is inside when X is D or below it (l.X is then strictly below D).
      return inSubtree(base, c.domain);
    }
    return c.below ? base !== c.domain && inSubtree(base, c.domain) : inSubtree(base, c.domain);
  };
  // A wildcard '*.X' also meets the subtree of a D one label below X (D is one of its expansions),
  // unless the constraint covers only names strictly below D.
  const meets = (c: DnsConstraint): boolean =>
    covers(c) || (wildcard && !c.below && c.domain !== '' && parentOf(c.domain) === base);
  return check(list, name, covers, meets, (c) => c.text, budget);
}

function checkIp(
  cc: CompiledNameConstraints,
  bytes: Uint8Array,
  budget?: Budget,
): NameConstraintViolation | undefined {
  const list = cc.ip;
  if (list.permitted.length === 0 && list.excluded.length === 0) return undefined;
  const name = `IP:${ipToString(bytes)}`;
  if (bytes.length !== 4 && bytes.length !== 16) {
    return {
      name,
      reason: 'is not a valid IP address, so it cannot be shown to satisfy the name constraints',
    };
  }
  const within = (c: IpConstraint, b: Uint8Array = bytes): boolean => {
    if (c.addr.length !== b.length) return false;
    for (let i = 0; i < b.length; i++) if ((b[i]! & c.mask[i]!) !== (c.addr[i]! & c.mask[i]!)) return false;
    return true;
  };
  const v = check(list, name, within, within, (c) => c.text, budget);
  if (v) return v;
  // An IPv4-mapped IPv6 SAN (::ffff:a.b.c.d) reaches the IPv4 address a client dials for
  // https://[::ffff:a.b.c.d]/: a CA excluded from an IPv4 range must not escape the exclusion
  // this way. Fail closed: test the embedded address against the IPv4 exclusions too (rustls-
  // webpki and Go compare by length only; this is stricter on purpose, found in review).
  const v4 = mappedIpv4(bytes);
  if (v4) {
    for (const c of list.excluded) {
      budget?.spend('nameConstraintComparisons');
      if (within(c, v4))
        return {
          name,
          reason: `embeds the IPv4 address ${ipToString(v4)}, in the excluded subtree ${c.text}`,
        };
    }
  }
  return undefined;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2), if it is one. */
function mappedIpv4(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length !== 16) return undefined;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return undefined;
  if (bytes[10] !== 0xff || bytes[11] !== 0xff) return undefined;
  return bytes.subarray(12);
}

function checkEmail(
  cc: CompiledNameConstraints,
  value: string,
  budget?: Budget,
): NameConstraintViolation | undefined {
  const list = cc.email;
  if (list.permitted.length === 0 && list.excluded.length === 0) return undefined;
  const name = `email:${value}`;
  const mb = parseMailbox(value);
  if (!mb)
    return { name, reason: 'is not a valid mailbox, so it cannot be shown to satisfy the name constraints' };
  const within = (c: EmailConstraint): boolean => {
    switch (c.kind) {
      case 'mailbox':
        return c.local === mb.local && c.host === mb.host;
      case 'host':
        return c.host === mb.host;
      case 'domain':
        return c.host === '' || (mb.host !== c.host && inSubtree(mb.host, c.host));
    }
  };
  return check(list, name, within, within, (c) => c.text, budget);
}

function checkUri(
  cc: CompiledNameConstraints,
  value: string,
  budget?: Budget,
): NameConstraintViolation | undefined {
  const list = cc.uri;
  if (list.permitted.length === 0 && list.excluded.length === 0) return undefined;
  const name = `URI:${value}`;
  const h = uriHost(value);
  if (!h || h.isIp) {
    return { name, reason: 'has no host name that the URI name constraints could be checked against' };
  }
  const within = (c: UriConstraint): boolean =>
    c.kind === 'host' ? h.host === c.host : c.host === '' || (h.host !== c.host && inSubtree(h.host, c.host));
  return check(list, name, within, within, (c) => c.text, budget);
}

function checkDir(
  cc: CompiledNameConstraints,
  dn: Name,
  budget?: Budget,
): NameConstraintViolation | undefined {
  const list = cc.dir;
  if (list.permitted.length === 0 && list.excluded.length === 0) return undefined;
  const keys = rdnKeys(dn);
  const within = (c: DirConstraint): boolean => dirInSubtree(keys, c.rdns);
  return check(list, `DirName:${dn.text}`, within, within, (c) => c.text, budget);
}

/**
 * Checks the names of one certificate against one CA's constraints; returns the first violation,
 * or undefined when every name is acceptable. Throws BUDGET_EXCEEDED from `budget`.
 */
export function checkNameConstraints(
  cc: CompiledNameConstraints,
  names: ConstrainedNames,
  budget?: Budget,
): NameConstraintViolation | undefined {
  if (cc.problem) return { name: 'the name constraints', reason: cc.problem, malformedConstraint: true };
  const worst = worstCaseComparisons(cc, names);
  if (worst > MAX_COMPARISONS_PER_CHECK) {
    // Refused before comparing anything: a certificate that could cost this much is a DoS
    // (x509-limbo pathological::nc-dos-*), and counting it down one comparison at a time took
    // hundreds of milliseconds.
    budget?.exceed(
      'nameConstraintComparisons',
      `checking a certificate's names against the name constraints of a CA above it would need up to ${worst} comparisons, more than ${MAX_COMPARISONS_PER_CHECK}`,
    );
    if (!budget) {
      return {
        name: 'the certificate',
        reason: `has too many names for the name constraints (${worst} comparisons)`,
      };
    }
  }
  if (names.subject) {
    const v = checkDir(cc, names.subject, budget);
    if (v) return v;
    if (!names.hasSan) {
      for (const rdn of names.subject.rdns) {
        for (const a of rdn) {
          if (a.oid !== EMAIL_ADDRESS) continue;
          const e = checkEmail(cc, a.value, budget);
          if (e) return e;
        }
      }
    }
  }
  for (const gn of names.sans) {
    let v: NameConstraintViolation | undefined;
    switch (gn.type) {
      case 'dns':
        v = checkDns(cc, gn.value, budget);
        break;
      case 'ip':
        v = checkIp(cc, gn.bytes, budget);
        break;
      case 'email':
        v = checkEmail(cc, gn.value, budget);
        break;
      case 'uri':
        v = checkUri(cc, gn.value, budget);
        break;
      case 'dirName':
        v = checkDir(cc, gn.name, budget);
        break;
      case 'registeredID':
      case 'other': {
        const n = gn.type === 'registeredID' ? 8 : gn.tag & 0x1f;
        if (cc.unsupported.has(n)) {
          budget?.spend('nameConstraintComparisons');
          const form = TAG_NUMBER_NAMES[n] ?? `[${n}]`;
          v = {
            name: form,
            reason: `is constrained by the issuing CA, and ${form} constraints cannot be evaluated (RFC 5280 §4.2.1.10 then requires rejection)`,
          };
        }
        break;
      }
    }
    if (v) return v;
  }
  return undefined;
}

/**
 * The most comparisons one certificate's check against one CA may need, above which it is refused
 * without comparing: OpenSSL's bound (crypto/x509/v3_ncons.c, NAME_CHECK_MAX = 2^20, applied to
 * (subject entries + SANs) × (permitted + excluded subtrees)). Ours counts only the pairs that
 * would be compared (a DNS SAN against dNSName constraints, …), so it refuses no more than
 * OpenSSL does. The running budget (250,000, Go's) still applies to the comparisons made.
 */
export const MAX_COMPARISONS_PER_CHECK = 1 << 20;

/** An upper bound of the comparisons {@link checkNameConstraints} makes for these names. */
function worstCaseComparisons(cc: CompiledNameConstraints, names: ConstrainedNames): number {
  const size = (list: Compiled<unknown>): number => list.permitted.length + list.excluded.length;
  let n = 0;
  if (names.subject) {
    n += size(cc.dir);
    if (!names.hasSan) {
      for (const rdn of names.subject.rdns)
        for (const a of rdn) if (a.oid === EMAIL_ADDRESS) n += size(cc.email);
    }
  }
  for (const gn of names.sans) {
    switch (gn.type) {
      case 'dns':
        n += size(cc.dns);
        break;
      case 'ip':
        n += size(cc.ip) + cc.ip.excluded.length; // an IPv4-mapped address meets the exclusions twice
        break;
      case 'email':
        n += size(cc.email);
        break;
      case 'uri':
        n += size(cc.uri);
        break;
      case 'dirName':
        n += size(cc.dir);
        break;
      default:
        n += 1;
    }
  }
  return n;
}

/** For tests and messages: exported helpers of the matching rules. */
export const internals = {
  inSubtree,
  parsePresentedDns,
  isPrefixMask,
  parseMailbox,
  uriHost,
  dirInSubtree,
  rdnKeys,
};
