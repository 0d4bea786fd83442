/**
 * IP addresses as bytes and as text: the one place where `certainly` parses and prints them.
 *
 * Printing follows RFC 5952 (canonical IPv6 text). Parsing is deliberately strict: a name that
 * is "almost" an IP address (`127.1`, `0x7f.0.0.1`, `010.0.0.1`) is not one, so that it can never
 * be matched against an iPAddress SAN by accident (the WHATWG URL parser and inet_aton accept
 * those forms; certificate matching must not).
 */

/** Octet counts of the forms an iPAddress GeneralName can take (RFC 5280 §4.2.1.6, §4.2.1.10). */
const IPV4 = 4;
const IPV6 = 16;

/**
 * Text of an address (4 or 16 bytes) or of an address-and-mask pair (8 or 32 bytes, as in name
 * constraints, RFC 5280 §4.2.1.10).
 *
 * - IPv4: dotted decimal, `10.0.0.6`.
 * - IPv6: RFC 5952 §4 canonical form (lower case, no leading zeros, the longest run of two or more
 *   zero groups as `::`, the first one on a tie); IPv4-mapped addresses as `::ffff:192.0.2.1`
 *   (RFC 5952 §5), so that a message shows plainly that it is not an IPv4 address.
 * - Address and mask: `10.0.0.0/8`, or `10.0.0.0/255.0.255.0` when the mask is not a prefix.
 *
 * Never throws: bytes of any other length print as `<invalid IP address: N bytes, hex>`, so that
 * an error message about a malformed certificate can still show what it carries.
 */
export function ipToString(bytes: Uint8Array): string {
  switch (bytes.length) {
    case IPV4:
      return ipv4ToString(bytes);
    case IPV6:
      return ipv6ToString(bytes);
    case 2 * IPV4:
    case 2 * IPV6: {
      const half = bytes.length / 2;
      const addr = bytes.subarray(0, half);
      const mask = bytes.subarray(half);
      const prefix = prefixLength(mask);
      const addrText = half === IPV4 ? ipv4ToString(addr) : ipv6ToString(addr);
      if (prefix !== undefined) return `${addrText}/${prefix}`;
      return `${addrText}/${half === IPV4 ? ipv4ToString(mask) : ipv6ToString(mask)}`;
    }
    default:
      return `<invalid IP address: ${bytes.length} bytes, ${Buffer.from(bytes).toString('hex')}>`;
  }
}

/** The number of leading one bits when `mask` is ones then zeros (a CIDR prefix), else undefined. */
export function prefixLength(mask: Uint8Array): number | undefined {
  let bits = 0;
  let i = 0;
  while (i < mask.length && mask[i] === 0xff) {
    bits += 8;
    i++;
  }
  if (i < mask.length) {
    const b = mask[i]!;
    // A partial byte must be ones then zeros: 0b11100000 and the like.
    let ones = 0;
    while (ones < 8 && b & (0x80 >> ones)) ones++;
    if (((b << ones) & 0xff) !== 0) return undefined;
    bits += ones;
    i++;
  }
  for (; i < mask.length; i++) if (mask[i] !== 0) return undefined;
  return bits;
}

function ipv4ToString(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

function ipv6ToString(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < IPV6; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);

  // RFC 5952 §5: IPv4-mapped addresses (::ffff:0:0/96) keep the dotted quad.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${ipv4ToString(b.subarray(12))}`;
  }

  // RFC 5952 §4.2: the longest run of zero groups, at least two long, first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/**
 * Bytes of an IP address written as text, or undefined when the text is not exactly one.
 *
 * - IPv4: strict dotted quad only: four decimal numbers 0–255, no leading zeros (`010.0.0.1` is
 *   ambiguous: octal to inet_aton, decimal to others), no octal, hex or short forms (`127.1`).
 *   This is the form RFC 3986 §3.2.2 (`dec-octet`) calls an IPv4 address.
 * - IPv6: RFC 4291 §2.2 text, with `::` and an embedded dotted quad in the last 32 bits, hex in
 *   either case, with or without the brackets a URL puts around it (`[::1]`).
 * - A zone id (`fe80::1%eth0`, or `%25eth0` as RFC 6874 writes it in a URL) is accepted on IPv6 and
 *   stripped: it names a local interface, not part of the address a certificate can carry (urllib3
 *   strips it too before using the host for SNI and matching). It must be non-empty and made of
 *   RFC 3986 unreserved characters.
 *
 * No surrounding whitespace is accepted.
 */
export function parseIp(text: string): Uint8Array | undefined {
  // Longest valid input: a 45-character IPv6 with dotted quad, brackets, and a zone id; the bound
  // only stops absurd inputs early (RFC 4291 §2.2 text; zone ids are interface names, short).
  if (text.length === 0 || text.length > 128) return undefined;
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) return undefined;
    text = text.slice(1, -1);
    return parseIpv6WithZone(text);
  }
  if (text.includes(':')) return parseIpv6WithZone(text);
  return parseIpv4(text);
}

/** A strict dotted quad, or undefined. */
export function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(IPV4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    // dec-octet (RFC 3986 §3.2.2): 1–3 digits, no leading zero unless it is "0" itself.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6WithZone(text: string): Uint8Array | undefined {
  const pct = text.indexOf('%');
  if (pct >= 0) {
    let zone = text.slice(pct + 1);
    // RFC 6874 §2: in a URI the '%' of the zone id is itself percent-encoded as '%25'.
    if (zone.startsWith('25') && zone.length > 2) zone = zone.slice(2);
    // RFC 6874 §2: ZoneID = 1*( unreserved / pct-encoded ); we accept unreserved only.
    if (!/^[A-Za-z0-9._~-]+$/.test(zone)) return undefined;
    text = text.slice(0, pct);
  }
  return parseIpv6(text);
}

/** RFC 4291 §2.2 text (no brackets, no zone id), or undefined. */
export function parseIpv6(text: string): Uint8Array | undefined {
  const out = new Uint8Array(IPV6);
  const halves = text.split('::');
  if (halves.length > 2) return undefined;

  const parseSide = (side: string, allowV4Tail: boolean): number[] | undefined => {
    if (side === '') return [];
    const pieces = side.split(':');
    const groups: number[] = [];
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (allowV4Tail && i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (!v4) return undefined;
        groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      // h16 = 1*4HEXDIG (RFC 4291 §2.2 / RFC 3986 §3.2.2).
      if (!/^[0-9A-Fa-f]{1,4}$/.test(piece)) return undefined;
      groups.push(Number.parseInt(piece, 16));
    }
    return groups;
  };

  let groups: number[];
  if (halves.length === 2) {
    const head = parseSide(halves[0]!, false);
    const tail = parseSide(halves[1]!, true);
    if (!head || !tail) return undefined;
    // '::' stands for at least one zero group (RFC 4291 §2.2 item 2; RFC 5952 §4.2.2 forbids
    // using it for exactly one when printing, but parsers accept it).
    if (head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseSide(halves[0]!, true);
    if (all?.length !== 8) return undefined;
    groups = all;
  }
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  return out;
}

/** True when the two addresses have the same length and the same bytes. */
export function ipEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
