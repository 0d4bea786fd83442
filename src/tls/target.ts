/**
 * The reference identity of one connection, parsed once at the edge (urllib3's rule: normalise
 * the host once, before SNI, the pool key and verification use it). A Target says what is
 * verified (serverName ?? URL host, as an RFC 9525 reference identifier), what SNI is sent
 * (none for IP literals, RFC 6066 §3), what is dialled (connectTo ?? URL host) and how errors
 * name the address. The pool key, the handshake, the verifier, diagnosis and every error read it;
 * nothing above this module parses a host again.
 *
 * Hosts: IPv6 brackets and zone ids are removed, case and a trailing dot do not matter for the
 * name verified, IDNs are compared (and sent as SNI) in their A-label form.
 */
import net from 'node:net';
import { ConfigError } from '../errors.js';
import { parseReferenceName, type ReferenceName } from '../verify/identity.js';

/** Where to dial instead of the URL host (curl's --connect-to): a host and, optionally, a port. */
export interface ConnectTarget {
  host: string;
  port?: number;
}

/** One connection's identity, read by SNI, the verifier, the pool key, diagnosis and errors. */
export interface Target {
  /** The URL host: no brackets, as the URL parser gave it (lower case, A-labels). */
  host: string;
  /** The URL port. */
  port: number;
  /** What is verified: serverName ?? the URL host. */
  name: ReferenceName;
  /** `name` as text: a DNS name (lower case, A-labels, no trailing dot) or an IP in canonical form. */
  verifiedName: string;
  /** The SNI sent, or null (IP literals get none; RFC 6066 §3). */
  sni: string | null;
  /** What TCP (or the proxy) is asked to reach: connectTo ?? the URL host, no brackets or zone. */
  dialHost: string;
  dialPort: number;
  /** dialHost:dialPort as messages print it ('[::1]:443'). */
  address: string;
}

export interface TargetOptions {
  /** The name to verify (and send as SNI) instead of the URL host. */
  serverName?: string;
  /** Where to dial instead of the URL host. */
  connectTo?: ConnectTarget;
}

/** 'host:port', with IPv6 addresses in brackets. */
export function formatAddress(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** '[::1]' → '::1'; anything else unchanged. */
export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** A host as it is dialled and keyed: no brackets, no IPv6 zone id, lower case. */
function dialForm(host: string): string {
  const h = stripBrackets(host);
  return (net.isIPv6(h.replace(/%.*$/, '')) ? h.replace(/%.*$/, '') : h).toLowerCase();
}

/**
 * The Target for a URL host and port with these options. Throws InvalidURL (ERR_INVALID_HOST)
 * for a host or serverName that cannot be a reference identity.
 */
export function resolveTarget(host: string, port: number, opts: TargetOptions = {}): Target {
  const urlHost = stripBrackets(host);
  const name = parseReferenceName(opts.serverName ?? urlHost);
  const verifiedName = name.kind === 'dns' ? name.value : name.text;
  const dialHost = opts.connectTo ? dialForm(opts.connectTo.host) : dialForm(urlHost);
  const dialPort = opts.connectTo?.port ?? port;
  return {
    host: urlHost,
    port,
    name,
    verifiedName,
    sni: name.kind === 'dns' ? name.value : null,
    dialHost,
    dialPort,
    address: formatAddress(dialHost, dialPort),
  };
}

/**
 * The normalised `serverName` and `connectTo` of a pool key: two spellings of one identity
 * ('API.example.com' and 'api.example.com.', '[::1]:8443' and '::1' with port 8443) are one key,
 * so they share connections; what verification proves is the same for both.
 */
export function identityKey(serverName: string | undefined, connectTo: ConnectTarget | undefined): string {
  let key = '';
  if (serverName !== undefined) {
    const name = parseReferenceName(serverName);
    key = name.kind === 'dns' ? name.value : name.text;
  }
  if (connectTo) key += `@${formatAddress(dialForm(connectTo.host), connectTo.port ?? 0)}`;
  return key;
}

/** Parses 'host', 'host:port', '[v6]:port' into a ConnectTarget; ConfigError otherwise. */
export function parseConnectTo(value: string): ConnectTarget {
  const bad = (why: string) =>
    new ConfigError(`connectTo '${value}' is not valid: ${why}. Use 'host:port', e.g. '10.0.0.6:8443'.`, {
      code: 'ERR_CONNECT_TO',
    });
  if (typeof value !== 'string' || value.trim() === '') throw bad('it is empty');
  let host: string;
  let portText: string | undefined;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) throw bad('a bracketed IPv6 address has no closing ]');
    host = value.slice(1, end);
    const rest = value.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw bad('expected :port after ]');
      portText = rest.slice(1);
    }
    if (net.isIPv6(host) === false) throw bad(`${host} is not an IPv6 address`);
  } else {
    const colons = value.split(':').length - 1;
    if (colons > 1) {
      if (!net.isIPv6(value)) throw bad('an IPv6 address must be in brackets when a port follows');
      host = value;
    } else if (colons === 1) {
      [host, portText] = value.split(':') as [string, string];
    } else {
      host = value;
    }
  }
  if (host === '') throw bad('the host is empty');
  if (!/^[A-Za-z0-9.\-_:%]+$/.test(host)) throw bad(`'${host}' is not a host name or IP address`);
  if (portText === undefined || portText === '') return { host };
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw bad(`'${portText}' is not a port (1-65535)`);
  return { host, port };
}
