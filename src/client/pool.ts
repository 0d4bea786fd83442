/**
 * Pool keys: which pooled connections a request may reuse. A key holds what verification of a
 * connection proved (trust identity and its relaxations, reference name, dial address, pins,
 * client certificate, AIA, proxy), so a connection verified one way never serves a request that
 * asked for another (requests' CVE-2024-35195). Shared by Session and the proxy keys.
 */
import { createHash } from 'node:crypto';
import { type ClientCertOption, clientTlsOptions } from '../tls/client-cert.js';
import type { ConnectorConfig } from '../tls/connector.js';
import type { IpFamily } from '../tls/family.js';
import type { TlsInfo } from '../tls/handshake.js';
import type { ConnectTarget } from '../tls/target.js';
import { identityKey } from '../tls/target.js';
import type { TrustAnchors } from '../trust/types.js';
import type { ResolvedAia } from '../verify/aia.js';
import { checkPins, type PinSet } from '../verify/pin.js';
import type { RevocationMode } from '../verify/revocation.js';
import type { Certificate } from '../x509/types.js';
import { H2_ALPN } from './http2.js';

/** What a pool key is made of (Session's per-connection settings satisfy it). */
export interface PoolKeyInput {
  trust: TrustAnchors | null;
  serverName?: string | undefined;
  connectTo?: ConnectTarget | undefined;
  connectTimeout: number;
  /** The client certificate option (hashed into the key). */
  cert?: unknown;
  pins?: unknown;
  aia?: unknown;
  /** 'off' | 'hard' (undefined: 'soft'): what revocation verification required. */
  revocation?: string | undefined;
  /** Online OCSP's settings (revocation: { online }): a connection checked that way is another pool. */
  ocspOnline?: unknown;
  /** The proxy, by its key (URL, credentials hashed, proxy trust). */
  proxy?: { key: string } | undefined;
  /** HTTP/2 offered (ALPN h2, http/1.1): its connections never serve an HTTP/1.1-only pool, nor the reverse. */
  http2?: boolean | undefined;
  /** The address family asked for (4 or 6): a connection made otherwise never serves it. */
  family?: IpFamily | undefined;
}

const verificationKeys = new WeakMap<TrustAnchors, string>();

/**
 * The part of a pool key that says how connections were verified: 'insecure', or the anchor set
 * (trust.key, the anchors alone) and where each anchor came from. Two things depend on the
 * sources: the verifier relaxes hygiene rules for anchors from user files (verify/index.ts
 * isUserFileAnchor), so a connection verified leniently against a root from 'ca.pem' must not
 * serve a request that gives the same root inline, which the strict profile refuses; and
 * `r.tls.anchor.sources` reports the sources of the trust that verified the connection, so the
 * same root from 'a/ca.pem' and from 'b/ca.pem' are two pools, or a response to a request that
 * named b would say a. Computed once per trust object (resolveTrust caches those).
 */
export function verificationKey(trust: TrustAnchors | null): string {
  if (trust === null) return 'insecure';
  let key = verificationKeys.get(trust);
  if (key === undefined) {
    const sources = createHash('sha256');
    for (const a of trust.anchors)
      sources.update(`${a.cert.fingerprintSha256}\u0000${a.sources.join('\u0000')}\n`);
    key = `${trust.key}+sources:${sources.digest('hex')}`;
    verificationKeys.set(trust, key);
  }
  return key;
}

/**
 * The pool a request may use: everything verification proves (ARCHITECTURE.md: pool keys contain
 * what verification proves, never less). Two spellings of one identity are one key
 * (tls/target.ts identityKey): 'API.example.com' and 'api.example.com' share connections.
 */
export function poolKey(s: PoolKeyInput): string {
  // The common case (trust and a timeout, nothing else) without JSON: this runs per request.
  if (
    !s.serverName &&
    !s.connectTo &&
    !s.cert &&
    !s.pins &&
    !s.aia &&
    !s.proxy &&
    !s.revocation &&
    !s.ocspOnline &&
    !s.family
  ) {
    return `${verificationKey(s.trust)}\u0000${s.connectTimeout}${s.http2 ? '\u0000h2' : ''}`;
  }
  const certKey = s.cert
    ? createHash('sha256').update(JSON.stringify(s.cert, bufferReplacer)).digest('base64')
    : '';
  return JSON.stringify([
    verificationKey(s.trust),
    identityKey(s.serverName, s.connectTo),
    s.connectTimeout,
    certKey,
    s.pins ?? null,
    s.aia ?? null,
    s.revocation ?? null,
    s.ocspOnline ?? null,
    s.proxy?.key ?? null,
    s.http2 === true,
    s.family ?? null,
  ]);
}

function bufferReplacer(_k: string, v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return v;
}

// ---------------------------------------------------------------------------------------------
// The connector configuration, as Session pools and the adapters both build it

/** What a pool's connections are made with, read and checked already (but the client certificate). */
export interface ConnectionOptions {
  /** The anchors, or null for verify: false. */
  trust: TrustAnchors | null;
  connectTimeout: number;
  serverName?: string;
  connectTo?: ConnectTarget;
  cert?: ClientCertOption;
  /** Checked after verification: one set for every server, or chosen by the name verified. */
  pins?: PinSet | ((verifiedName: string) => PinSet | undefined);
  /** AIA fetching for missing intermediates; only with trust. */
  aia?: ResolvedAia;
  /** 'off' | 'soft' | 'hard', checked already; undefined: 'soft'. */
  revocation?: RevocationMode;
  /** Online OCSP (revocation: { online }), checked already; only with trust. */
  ocspOnline?: ResolvedAia;
  onConnection?: ConnectorConfig['onConnection'];
  proxyFor?: ConnectorConfig['proxyFor'];
  /** Offer HTTP/2 (ALPN h2, http/1.1); the pool must then be built with client/http2.ts. */
  http2?: boolean;
  /** Resolve and dial this address family only (curl's -4 / -6). */
  family?: IpFamily;
}

/** The connector configuration for these options; the client certificate is read and checked here (ConfigError). */
export function connectorConfig(o: ConnectionOptions): ConnectorConfig {
  const { pins, aia } = o;
  return {
    trust: o.trust,
    connectTimeout: o.connectTimeout,
    ...(o.serverName !== undefined ? { serverName: o.serverName } : {}),
    ...(o.connectTo ? { connectTo: o.connectTo } : {}),
    ...(o.family ? { family: o.family } : {}),
    ...(o.cert !== undefined ? { tlsOptions: clientTlsOptions(o.cert) } : {}),
    ...(pins
      ? {
          afterVerify: (chain: Certificate[], info: TlsInfo) => {
            const set = typeof pins === 'function' ? pins(info.verifiedName) : pins;
            if (set) checkPins(set, chain, info);
          },
        }
      : {}),
    ...(aia && o.trust ? { aia } : {}),
    ...(o.onConnection ? { onConnection: o.onConnection } : {}),
    ...(o.proxyFor ? { proxyFor: o.proxyFor } : {}),
    ...(o.revocation ? { revocation: o.revocation } : {}),
    ...(o.http2 ? { alpn: [...H2_ALPN] } : {}),
    ...(o.ocspOnline && o.trust ? { ocspOnline: o.ocspOnline } : {}),
  };
}
