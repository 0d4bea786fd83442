/**
 * `ca explain` and `ca pem --server` connect as `get` and `check` do: --server-name,
 * --connect-to, the proxy (flag, else HTTPS_PROXY / ALL_PROXY and NO_PROXY) and a client
 * certificate, through the one handshake. Loaded only by those two subcommands.
 */
import { proxyChooser } from '../client/proxy.js';
import type { DiagnoseOptions } from '../diagnose/index.js';
import { clientTlsOptions } from '../tls/client-cert.js';
import type { ProbeConfig } from '../tls/probe.js';
import { parseConnectTo } from '../tls/target.js';
import type { CaConnection } from './ca.js';
import { clientCertOf, proxyOptionsOf } from './client-flags.js';

/** For sentChain (diagnose/): the same options diagnose() takes. */
export function diagnoseConnection(
  c: CaConnection,
): Pick<
  DiagnoseOptions,
  'serverName' | 'connectTo' | 'family' | 'proxy' | 'proxyVerify' | 'noProxy' | 'trustEnv'
> {
  return {
    ...(c.serverName !== undefined ? { serverName: c.serverName } : {}),
    ...(c.connectTo !== undefined ? { connectTo: c.connectTo } : {}),
    ...(c.family ? { family: c.family } : {}),
    ...proxyOptionsOf(c.proxy),
  };
}

/** For probe (tls/): the proxy chosen for this URL and the client certificate, read now. */
export function probeConnection(
  url: URL,
  c: CaConnection,
): Pick<ProbeConfig, 'serverName' | 'connectTo' | 'family' | 'proxy' | 'clientCert'> {
  const route = proxyChooser({ ...proxyOptionsOf(c.proxy), env: c.env })({
    protocol: 'https:',
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port || '443',
  });
  const cert = clientCertOf(c.cert, c.env);
  return {
    ...(c.serverName !== undefined ? { serverName: c.serverName } : {}),
    ...(c.connectTo !== undefined ? { connectTo: parseConnectTo(c.connectTo) } : {}),
    ...(c.family ? { family: c.family } : {}),
    ...(route ? { proxy: route } : {}),
    ...(cert ? { clientCert: clientTlsOptions(cert) } : {}),
  };
}
