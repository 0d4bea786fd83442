/**
 * The `family` option (curl's -4 / -6): the names this client resolves itself (the URL host or
 * connectTo's, an HTTP(S) or SOCKS5 proxy's host, a target a socks5:// proxy is sent as an
 * address) resolve to that family's addresses only, and an IP literal of the other family is
 * refused before anything is dialled. What a proxy resolves for us (a CONNECT target, socks5h)
 * is the proxy's business, as in curl.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import net from 'node:net';
import { ConnectionError } from '../errors.js';

/** 4: IPv4 only; 6: IPv6 only. */
export type IpFamily = 4 | 6;

const NAME = { 4: 'IPv4', 6: 'IPv6' } as const;
const FLAG = { 4: "family: 4, curl's -4", 6: "family: 6, curl's -6" } as const;

/**
 * Throws ConnectionError ERR_CONNECTION_FAMILY when `host` is an IP literal of the other family
 * (nothing is dialled: an IPv6 address cannot be reached over IPv4, nor the reverse).
 */
export function checkLiteralFamily(host: string, family: IpFamily | undefined, address: string): void {
  if (family === undefined) return;
  const literal = net.isIP(host);
  if (literal === 0 || literal === family) return;
  throw new ConnectionError(
    `could not connect to ${address}: it is an ${NAME[literal as IpFamily]} address, and only ${NAME[family]} was asked for (${FLAG[family]})`,
    {
      code: 'ERR_CONNECTION_FAMILY',
      hint: `Use a host name or an ${NAME[family]} address, or leave the address family unset.`,
    },
  );
}

/**
 * The ConnectionError (ERR_CONNECTION_NOTFOUND, the code of a name that does not resolve) for a
 * name with no address of `family`, saying which family was asked for and what the name has.
 */
export function noAddressError(
  host: string,
  family: IpFamily,
  address: string,
  others: string[],
  cause: unknown,
) {
  const has =
    others.length > 0
      ? `${host} has no ${NAME[family]} address (only ${others.slice(0, 4).join(', ')}${others.length > 4 ? ', …' : ''})`
      : `${host} could not be resolved to an ${NAME[family]} address (DNS)`;
  return new ConnectionError(
    `could not connect to ${address}: ${has}, and only ${NAME[family]} was asked for (${FLAG[family]})`,
    {
      code: 'ERR_CONNECTION_NOTFOUND',
      cause,
      hint:
        others.length > 0
          ? `The name resolves to ${NAME[family === 4 ? 6 : 4]} only: leave the address family unset, or ask for ${family === 4 ? 'IPv6' : 'IPv4'}.`
          : 'Check the host name; it may also have no address at all.',
    },
  );
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NODATA', 'EAI_NONAME']);

/**
 * A `lookup` for net.connect / tls.connect that resolves `family` only; a name without such an
 * address fails with the ConnectionError above (net passes a lookup's error on as it is).
 * `address` is the 'host:port' the messages name.
 */
export function familyLookup(family: IpFamily, address: string): net.LookupFunction {
  return ((hostname: string, options: LookupOptions, callback: (...a: unknown[]) => void) => {
    const all = options?.all === true;
    dnsLookup(hostname, { ...options, family, all: true }, (err, found: LookupAddress[]) => {
      if (!err && found.length > 0) {
        if (all) callback(null, found);
        else callback(null, found[0]!.address, found[0]!.family);
        return;
      }
      if (err && !NOT_FOUND.has(err.code ?? '')) {
        callback(err);
        return;
      }
      // Say what the name does have: one more lookup, on the failure path only.
      dnsLookup(hostname, { all: true }, (_e, every: LookupAddress[] | undefined) => {
        const others = (every ?? []).filter((a) => a.family !== family).map((a) => a.address);
        callback(noAddressError(hostname, family, address, others, err));
      });
    });
  }) as net.LookupFunction;
}

/** `host` resolved to its first address of `family` (an IP literal is checked, not resolved). */
export function resolveFamily(host: string, family: IpFamily, address: string): Promise<string> {
  checkLiteralFamily(host, family, address);
  if (net.isIP(host)) return Promise.resolve(host);
  const lookup = familyLookup(family, address);
  return new Promise((resolve, reject) => {
    (lookup as (h: string, o: LookupOptions, cb: (e: Error | null, a?: string) => void) => void)(
      host,
      {},
      (e, a) => (e ? reject(e) : resolve(a!)),
    );
  });
}
