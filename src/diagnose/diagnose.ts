/**
 * diagnose(): one attempt at an endpoint, everything gathered, turned into findings.
 *
 * 1. Connect (connect.ts): DNS, TCP, TLS, timed; the chain exactly as sent; OpenSSL's verdict.
 * 2. Verify with the library's verifier (verifyServer), the same anchors, the same name.
 * 3. If the chain is incomplete and AIA is on, fetch the missing intermediate (verify/aia.ts) and
 *    verify again: that is what a browser concludes, and tells "missing intermediate" from
 *    "unknown root".
 * 4. Explain: the error's finding (finding.ts), refined by what only diagnosis can know (is the
 *    root in the OS store, or in Node's bundled list, when the trust used here has neither?), the
 *    identity result, every other hard problem of the certificates on the path (the verifier stops
 *    at the first), and the warnings of a chain that works: expiring soon, out of order, extra
 *    certificates, too many names, a root only this machine trusts.
 */

import { type ProxyOption, proxyChooser } from '../client/proxy.js';
import { ConfigError, InvalidURL, SSLError, type VerifyCode } from '../errors.js';
import { completeChain } from '../tls/aia.js';
import { type ClientCertOption, clientTlsOptions } from '../tls/client-cert.js';
import { fetchOcsp } from '../tls/ocsp-fetch.js';
import { type ConnectTarget, formatAddress, parseConnectTo, resolveTarget } from '../tls/target.js';
import { bundledNodeVersion, loadBundled } from '../trust/bundled.js';
import { classifyAnchor, describeAnchor } from '../trust/classify.js';
import type { TrustExplanation, VerifyOption } from '../trust/resolve.js';
import { TrustStore } from '../trust/store.js';
import { loadSystem } from '../trust/system/index.js';
import type { TrustAnchor, TrustAnchors } from '../trust/types.js';
import { type AiaOptions, aiaCanHelp, privateAddressKind } from '../verify/aia.js';
import { defaultVerifier } from '../verify/crypto.js';
import { type ReferenceName, verifyIdentity } from '../verify/identity.js';
import {
  isUserFileAnchor,
  type OnlineOcsp,
  type RevocationOptions,
  resolveRevocation,
  selfSignedHint,
  type VerifiedPath,
  verifyServer,
} from '../verify/index.js';
import { checkCertificate, type PolicyContext, type Role } from '../verify/policy.js';
import type { RevocationMode } from '../verify/revocation.js';
import type { Certificate } from '../x509/types.js';
import { FINDING_CODES, type FindingCode, UNREACHABLE_CODES } from './codes.js';
import { connectForDiagnosis, type Wire } from './connect.js';
import { type Finding, findingFor, SEVERITY_ORDER } from './finding.js';
import { type CertificateReport, type CheckReport, REPORT_SCHEMA } from './report.js';

/** Default of --warn-days: 14, as issue 5 specifies (two weeks leaves time to renew by hand). */
export const DEFAULT_WARN_DAYS = 14;
/** Default connect limit (TCP + TLS), as the connector's (undici's default connect timeout). */
export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;
/**
 * More SANs than this draw a warning: Let's Encrypt issues at most 100 names per certificate
 * (its documented rate limits), a practical ceiling for public certificates; every name is sent
 * in every handshake.
 */
export const MANY_NAMES_THRESHOLD = 100;

const DAY_MS = 86_400_000;

export interface DiagnoseOptions {
  /** The anchors to verify against (resolveTrust(...).store). */
  trust: TrustAnchors;
  /** How the anchors were chosen (resolveTrust(...).explanation), to word trust fixes exactly. */
  trustExplanation?: TrustExplanation;
  /** The name to verify (and send as SNI) instead of the target's host. */
  serverName?: string;
  /** Where to connect instead of the target's host ('host:port' or a ConnectTarget). */
  connectTo?: string | ConnectTarget;
  /**
   * Resolve names to this address family only (curl's -4 / -6, the request option): a dual-stack
   * server's IPv4 and IPv6 endpoints can present different certificates. 0 or unset: either.
   */
  family?: 0 | 4 | 6;
  /** Warn when a certificate on the path expires within this many days; default 14. */
  warnDays?: number;
  /**
   * Fetch a missing intermediate from the leaf's AIA caIssuers URL. Off by default in the library
   * (the CLI turns it on). `allowPrivate` defaults to whether the address dialled is itself
   * private or loopback: a server on the local network may point to its local CA; a public one
   * may not make this process reach into the local network.
   */
  aia?: boolean | AiaOptions;
  /** Verification time; default now. */
  time?: Date;
  /** TCP + TLS handshake limit, ms; default 10 000. */
  timeout?: number;
  /** Read the Linux-layout OS store under this directory when comparing stores (tests, containers). */
  systemRoot?: string;
  /**
   * The stores a failed chain is compared with, to tell "your root is in the OS store (or in
   * Node's bundled list), just not in the trust used here"; default Node's bundled roots and the
   * OS store (under `systemRoot`). Tests give their own.
   */
  compareWith?: { bundled?: TrustAnchors; system?: TrustAnchors };
  /** ALPN protocols to offer; default ['http/1.1']. */
  alpn?: string[];
  /**
   * 'soft' (default: a stapled OCSP response is asked for and checked), 'hard' or 'off'
   * (verify/revocation.ts); or { mode, online } to ask the OCSP responder when nothing is stapled
   * (`allowPrivate` defaults, as for aia, to whether the address dialled is itself private).
   */
  revocation?: RevocationMode | RevocationOptions;
  /**
   * A proxy to connect through, as for requests: 'http://…', 'https://…', 'socks5://…',
   * 'socks5h://…' or { url, auth, headers, verify }; false for none. The target is still what is
   * verified, through the tunnel.
   */
  proxy?: ProxyOption | false | null;
  /** Trust for an https:// proxy's own certificate. */
  proxyVerify?: VerifyOption;
  /** Hosts that go direct (replaces NO_PROXY). */
  noProxy?: string | readonly string[];
  /**
   * Read HTTPS_PROXY / ALL_PROXY and NO_PROXY from the environment when `proxy` is unset, as
   * `get` does. Default false here: the library's diagnose() depends on no environment unless
   * asked (the CLI asks).
   */
  trustEnv?: boolean;
  /** A client certificate to present when the server asks (mutual TLS), as the request option. */
  cert?: ClientCertOption;
}

/** The family option checked: 4, 6, or 0 / unset for either (ConfigError otherwise). */
function familyOption(family: unknown): 4 | 6 | undefined {
  if (family === undefined || family === 0) return undefined;
  if (family === 4 || family === 6) return family;
  throw new ConfigError(`family must be 4, 6 or 0 (either), not ${String(family)}`, { code: 'ERR_OPTIONS' });
}

/** A target: 'https://host[:port]/…', 'host', 'host:port' or '[v6]:port'. */
export function parseTarget(target: string): { host: string; port: number; url: string } {
  const text = target.trim();
  if (text.includes('://')) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new InvalidURL(`'${target}' is not a valid URL`, { code: 'ERR_INVALID_URL' });
    }
    if (url.protocol !== 'https:') {
      throw new InvalidURL(
        `'${target}' is not an https URL: certainly check looks at TLS certificates (use https://${url.host}${url.pathname})`,
        { code: 'ERR_INVALID_URL' },
      );
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port) || 443;
    return { host, port, url: `https://${url.host}/` };
  }
  let parsed: ConnectTarget;
  try {
    parsed = parseConnectTo(text);
  } catch (err) {
    throw new InvalidURL(`'${target}' is not a target: give a URL (https://host/), a host, or host:port`, {
      code: 'ERR_INVALID_URL',
      cause: err,
    });
  }
  const port = parsed.port ?? 443;
  const hostPart = parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host;
  return { host: parsed.host, port, url: `https://${hostPart}${port === 443 ? '' : `:${port}`}/` };
}

/**
 * Where one diagnosis connects: the target parsed, the reference identity and what is dialled
 * (serverName, connectTo), and the proxy the same rules as a request choose (env only with
 * trustEnv). Shared by diagnose() and sentChain().
 */
function connectionPlan(
  target: string,
  options: Pick<
    DiagnoseOptions,
    'serverName' | 'connectTo' | 'proxy' | 'proxyVerify' | 'noProxy' | 'trustEnv'
  >,
) {
  const { host, port, url } = parseTarget(target);
  const connectTo =
    options.connectTo === undefined
      ? undefined
      : typeof options.connectTo === 'string'
        ? parseConnectTo(options.connectTo)
        : options.connectTo;
  const tlsTarget = resolveTarget(host, port, {
    ...(options.serverName !== undefined ? { serverName: options.serverName } : {}),
    ...(connectTo ? { connectTo } : {}),
  });
  const proxy = proxyChooser({
    ...(options.proxy === undefined ? {} : { proxy: options.proxy }),
    ...(options.proxyVerify === undefined ? {} : { proxyVerify: options.proxyVerify }),
    ...(options.noProxy === undefined ? {} : { noProxy: options.noProxy }),
    trustEnv: options.trustEnv ?? false,
  })({ protocol: 'https:', hostname: host, port: String(port) });
  return { host, port, url, connectTo, tlsTarget, proxy };
}

/**
 * The certificates a server sends, exactly as sent (or as node:tls exposes them), not verified:
 * one handshake, nothing written after it. For saving a self-signed certificate to trust it.
 */
export async function sentChain(
  target: string,
  options: Pick<
    DiagnoseOptions,
    'serverName' | 'connectTo' | 'timeout' | 'proxy' | 'proxyVerify' | 'noProxy' | 'trustEnv' | 'family'
  > = {},
): Promise<{ chain: Certificate[]; error?: Error }> {
  const { tlsTarget, proxy } = connectionPlan(target, options);
  const family = familyOption(options.family);
  const wire = await connectForDiagnosis({
    target: tlsTarget,
    ...(proxy ? { proxy } : {}),
    ...(family ? { family } : {}),
    trust: null,
    timeout: options.timeout ?? DEFAULT_CHECK_TIMEOUT_MS,
  });
  return { chain: wire.sent ?? wire.nodeChain ?? [], ...(wire.error ? { error: wire.error } : {}) };
}

function round(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.round(ms * 10) / 10;
}

function keyText(c: Certificate): string {
  const k = c.publicKey;
  switch (k.type) {
    case 'rsa':
      return `RSA ${k.bits}`;
    case 'rsa-pss':
      return `RSA-PSS ${k.bits}`;
    case 'ec':
      return `EC ${k.curve ?? `${k.bits}`}`;
    case 'ed25519':
      return 'Ed25519';
    case 'ed448':
      return 'Ed448';
    case 'dsa':
      return `DSA ${k.bits}`;
    default:
      return 'unknown';
  }
}

/**
 * Whole days until notAfter, rounded down (89.6 days is "89 days left"; -0.2 is "expired 1 day
 * ago"): the one rule every line of a report uses, so no two lines disagree.
 */
export function daysLeft(c: Certificate, time: Date): number {
  return Math.floor((c.notAfter.getTime() - time.getTime()) / DAY_MS);
}

function certReport(
  c: Certificate,
  origin: CertificateReport['origin'],
  time: Date,
  position?: number,
): CertificateReport {
  return {
    ...c.summary(),
    ...(position !== undefined ? { position } : {}),
    origin,
    daysLeft: daysLeft(c, time),
    selfIssued: c.selfIssued,
    key: keyText(c),
    pin: `sha256//${c.spkiSha256}`,
  };
}

/** Is this a name a public CA could certify (not an IP, not a local or internal name)? */
function looksPublic(name: ReferenceName): boolean {
  if (name.kind !== 'dns') return false;
  const v = name.value.toLowerCase();
  if (!v.includes('.')) return false;
  // RFC 6761/6762/8375 special-use names and common internal suffixes.
  return !/\.(localhost|local|internal|intranet|lan|home|corp|test|example|invalid|home\.arpa)$/.test(v);
}

// ---------------------------------------------------------------------------------------------
// Stores to compare with (for "in the OS store but not in the trust used here", and the reverse)

let bundledStore: TrustStore | undefined;
const systemStores = new Map<string, TrustStore>();

function bundledTrust(): TrustStore {
  bundledStore ??= new TrustStore([loadBundled()]);
  return bundledStore;
}

function systemTrust(root: string | undefined): TrustStore {
  const key = root ?? '';
  let s = systemStores.get(key);
  if (!s) {
    s = new TrustStore(loadSystem(root === undefined ? {} : { root }).sources);
    systemStores.set(key, s);
  }
  return s;
}

/** The anchor of `store` that is `top` or issued it (signature checked), if any. */
function anchorFor(store: TrustAnchors, top: Certificate): TrustAnchor | undefined {
  return store.find(top) ?? store.issuersOf(top).find((a) => defaultVerifier.verifySignedBy(top, a.cert));
}

/**
 * The chain walked from the leaf through the certificates available (sent and fetched), each
 * step to a certificate whose subject is the issuer's name and whose key verifies the signature.
 */
function walk(pool: readonly Certificate[]): Certificate[] {
  const leaf = pool[0];
  if (!leaf) return [];
  const out = [leaf];
  for (let cur = leaf; !cur.selfIssued && out.length <= pool.length; ) {
    const next = pool.find(
      (c) => !out.includes(c) && c.subject.key === cur.issuer.key && defaultVerifier.verifySignedBy(cur, c),
    );
    if (!next) break;
    out.push(next);
    cur = next;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

interface Context {
  opts: DiagnoseOptions;
  ref: ReferenceName;
  time: Date;
  now: Date;
  findings: Finding[];
  add(f: Finding): void;
  has(code: FindingCode, position?: number): boolean;
}

/** Diagnoses one endpoint. Throws InvalidURL or ConfigError for unusable input only. */
export async function diagnose(target: string, options: DiagnoseOptions): Promise<CheckReport> {
  // The same target, proxy choice and client certificate as a request (ConfigError for bad values).
  const { host, port, url, connectTo, tlsTarget, proxy } = connectionPlan(target, options);
  const ref = tlsTarget.name;
  const clientCert = options.cert === undefined ? undefined : clientTlsOptions(options.cert);
  const warnDays = options.warnDays ?? DEFAULT_WARN_DAYS;
  if (!Number.isFinite(warnDays) || warnDays < 0)
    throw new ConfigError(`warnDays must be a number of days (0 or more), not ${warnDays}`, {
      code: 'ERR_OPTIONS',
    });
  const now = new Date();
  const time = options.time ?? now;
  const { mode: revocation, online: onlineOption } = resolveRevocation(options.revocation);
  const findings: Finding[] = [];
  const ctx: Context = {
    opts: options,
    ref,
    time,
    now,
    findings,
    add: (f) => findings.push(f),
    has: (code, position) =>
      findings.some(
        (f) =>
          (f.code === code || f.verifyCode === code) && (position === undefined || f.position === position),
      ),
  };

  const family = familyOption(options.family);
  const wire = await connectForDiagnosis({
    target: tlsTarget,
    ...(proxy ? { proxy } : {}),
    ...(family ? { family } : {}),
    ...(clientCert ? { clientCert } : {}),
    trust: options.trust,
    timeout: options.timeout ?? DEFAULT_CHECK_TIMEOUT_MS,
    ...(options.alpn ? { alpn: options.alpn } : {}),
    requestOCSP: revocation !== 'off',
    clientVerdict: true,
    // The client certificate leaves only once the chain passes, as a request's (tls/gate.ts).
    // Online OCSP and AIA are not waited for here: a chain that needs them keeps the
    // certificate back, and the second connection shows why.
    ...(options.trust !== null
      ? {
          beforeClientFlight: async (early) => {
            verifyServer({
              chain: early.chain,
              name: ref,
              trust: options.trust,
              time,
              revocation,
              ...(early.staple !== undefined ? { staple: early.staple } : {}),
            });
          },
        }
      : {}),
  });

  const report: CheckReport = {
    schema: REPORT_SCHEMA,
    target,
    url,
    name: ref.kind === 'dns' ? ref.value : ref.text,
    checkedAt: now.toISOString(),
    verificationTime: time.toISOString(),
    status: 'ok',
    exitCode: 0,
    dns: wire.dns ? { ...wire.dns, ms: round(wire.dns.ms) ?? 0 } : null,
    connection: null,
    chain: [],
    chainSource: 'none',
    path: null,
    anchor: null,
    verification: { ok: false },
    identity: null,
    openssl: wire.openssl ?? null,
    aia: null,
    revocation: null,
    findings,
  };
  if (wire.address !== undefined) {
    report.connection = {
      address: wire.address,
      tcpMs: round(wire.tcpMs),
      tlsMs: round(wire.tlsMs),
      sni: wire.sni,
      protocol: wire.protocol ?? null,
      cipher: wire.cipher ?? null,
      alpn: wire.alpn ?? null,
    };
  }

  clientAuthFindings(ctx, wire);
  if (wire.error || !wire.nodeChain) {
    const err = wire.error ?? new Error('the connection ended before the handshake');
    ctx.add(findingFor(err, { name: report.name }));
    if (err instanceof SSLError) report.verification = { ok: false, code: err.code, message: err.message };
    return finish(report);
  }

  const chain = wire.sent ?? wire.nodeChain;
  if (wire.sent && wire.sentPositions) sentPositions.set(chain, wire.sentPositions);
  report.chainSource = wire.sent ? 'wire' : 'node';
  report.chain = chain.map((c, i) => certReport(c, 'sent', time, wire.sentPositions?.[i] ?? i));
  if (!wire.sent) {
    ctx.add({
      severity: 'info',
      code: 'CHAIN_NOT_READ',
      message:
        'the handshake could not be read, so the chain shown is the one node:tls exposes (in the order received), up to any certificate that cannot be parsed',
      fix: 'Nothing to do for the connection; to see the chain as sent, run openssl s_client -showcerts.',
    });
  }
  for (const u of wire.unparsed ?? []) {
    ctx.add({
      severity: 'error',
      code: 'BAD_ENCODING',
      message: `certificate #${u.position} of the chain as sent cannot be parsed: ${u.message}`,
      fix: 'The server sends a corrupted certificate: its operator should replace it with the file from the CA.',
      position: u.position,
      verifyCode: 'BAD_ENCODING',
    });
  }
  if (chain.length === 0) {
    // A leaf that cannot be parsed is reported above (BAD_ENCODING); otherwise nothing was sent.
    if (!wire.unparsed?.some((u) => u.position === 0)) {
      ctx.add(
        findingFor(
          new SSLError(`the server at ${wire.address} sent no certificate`, {
            code: 'NO_CERTIFICATE',
            hint: 'The server is misconfigured: it must present a certificate.',
          }),
        ),
      );
    }
    return finish(report);
  }

  // Online OCSP (revocation: { online }): with no staple, the responder's answer for the leaf,
  // fetched once the issuer is known (a path built under 'soft'), as the connector does.
  let online: OnlineOcsp | undefined;
  // 2. The library's verdict, on the chain as sent.
  const verify = (
    certs: readonly Certificate[],
    mode: RevocationMode = revocation,
  ): { verified?: VerifiedPath; error?: SSLError } => {
    try {
      return {
        verified: verifyServer({
          chain: certs,
          name: ref,
          trust: options.trust,
          time,
          revocation: mode,
          ...(wire.staple !== undefined ? { staple: wire.staple } : {}),
          ...(online ? { online } : {}),
        }),
      };
    } catch (err) {
      if (err instanceof SSLError) return { error: err };
      throw err;
    }
  };
  if (onlineOption && revocation !== 'off' && !wire.staple) {
    const soft = verify(chain, 'soft').verified;
    const leafStatus = soft?.revocation.certificates[0]?.status;
    if (soft && !soft.revocation.mustStaple && leafStatus === 'unchecked') {
      const allowPrivate =
        typeof options.revocation === 'object' &&
        typeof options.revocation.online === 'object' &&
        options.revocation.online.allowPrivate !== undefined
          ? onlineOption.allowPrivate
          : privateAddressKind(wire.address?.replace(/^\[?([^\]]*?)\]?:\d+$/, '$1') ?? '') !== undefined;
      online = await fetchOcsp(
        soft.path[0]!,
        soft.path[1] ?? soft.anchor.cert,
        { ...onlineOption, allowPrivate },
        proxy ?? null,
      );
    }
  }
  const first = verify(chain);
  let outcome = first;
  report.verification = first.error
    ? {
        ok: false,
        code: first.error.code,
        message: first.error.message,
        ...(first.error.hint ? { hint: first.error.hint } : {}),
        ...(first.error.candidates ? { candidates: first.error.candidates } : {}),
      }
    : { ok: true, ...(first.verified!.notes.length > 0 ? { notes: first.verified!.notes } : {}) };

  // Identity, on its own (verifyServer reports it only after a path is found).
  const leaf = chain[0]!;
  let identityError: SSLError | undefined;
  try {
    verifyIdentity(leaf, ref);
    report.identity = { name: report.name, matched: true };
  } catch (err) {
    if (!(err instanceof SSLError)) throw err;
    identityError = err;
    report.identity = { name: report.name, matched: false, code: err.code, message: err.message };
  }

  // 3. AIA, when the chain does not reach an anchor.
  let fetched: Certificate[] = [];
  if (first.error && options.aia && aiaCanHelp(first.error)) {
    const aiaOpts: AiaOptions = typeof options.aia === 'object' ? { ...options.aia } : {};
    if (aiaOpts.allowPrivate === undefined) {
      const ip = wire.address?.replace(/^\[?([^\]]*?)\]?:\d+$/, '$1') ?? '';
      aiaOpts.allowPrivate = privateAddressKind(ip) !== undefined;
    }
    const completion = await completeChain(chain, options.trust, { ...aiaOpts, proxy });
    fetched = completion.certs;
    if (completion.fetches.length > 0)
      report.aia = {
        fetches: completion.fetches.map((f) => ({
          url: f.url,
          for: f.for,
          ok: f.ok,
          ms: round(f.ms) ?? 0,
          ...(f.bytes !== undefined ? { bytes: f.bytes } : {}),
          ...(f.error ? { error: f.error } : {}),
          ...(f.issuer ? { issuer: certReport(f.issuer, 'aia', time) } : {}),
        })),
        completed: null,
      };
    for (const f of completion.fetches) {
      if (f.ok) continue;
      ctx.add({
        severity: 'info',
        code: 'AIA_FETCH_FAILED',
        message: `fetching ${f.url} (the issuer of "${f.for}") failed: ${f.error ?? 'no certificate'}`,
        fix: 'Without that certificate the chain cannot be completed here; the server should send it.',
      });
    }
    if (fetched.length > 0) {
      const second = verify([...chain, ...fetched]);
      if (report.aia)
        report.aia.completed = second.error
          ? { ok: false, code: second.error.code, message: second.error.message }
          : { ok: true };
      missingIntermediate(ctx, fetched, completion.fetches, second.verified, first.error.code);
      outcome = second;
    }
  }

  // 4. Findings.
  if (outcome.error) {
    const err = outcome.error;
    // The command that saves the certificate, for this server (the library's hint has no address).
    if (err.code === 'SELF_SIGNED' && err.position === 0)
      err.hint = selfSignedHint(
        formatAddress(host, port),
        `${options.serverName !== undefined ? ` --server-name ${ref.kind === 'dns' ? ref.value : ref.text}` : ''}${connectTo ? ` --connect-to ${tlsTarget.address}` : ''}`,
      );
    // The identity failure is reported on its own below, whichever came first.
    if (err.code !== 'HOSTNAME_MISMATCH' || !identityError) {
      const refined = trustStoreFinding(ctx, err, [...chain, ...fetched]);
      ctx.add(refined ?? findingFor(err, { name: report.name }));
    }
  }
  // A CN-only certificate fails the profile and the identity check with the same code: say it once.
  if (
    identityError &&
    !(
      outcome.error &&
      outcome.error.code === identityError.code &&
      identityError.code !== 'HOSTNAME_MISMATCH'
    )
  )
    ctx.add(findingFor(identityError, { name: report.name }));

  const verified = outcome.verified;
  const onPath: Certificate[] = verified ? verified.path : walk([...chain, ...fetched]);
  if (verified) {
    report.path = [
      ...verified.path.map((c) => pathEntry(c, chain, fetched, time)),
      ...(verified.path.some((c) => c.fingerprintSha256 === verified.anchor.cert.fingerprintSha256)
        ? []
        : [certReport(verified.anchor.cert, 'trust-store', time, positionIn(chain, verified.anchor.cert))]),
    ];
    report.anchor = {
      subject: verified.anchor.cert.subject.text,
      sources: [...verified.anchor.sources],
      class: classifyAnchor(verified.anchor),
      description: describeAnchor(verified.anchor),
    };
    report.revocation = JSON.parse(JSON.stringify(verified.revocation)) as CheckReport['revocation'];
    anchorFindings(ctx, verified);
  } else {
    otherProblems(ctx, onPath, chain);
  }

  // The whole path with its anchor, once each (a trusted self-signed leaf is path and anchor).
  const withAnchor = verified
    ? verified.path.some((c) => c.fingerprintSha256 === verified.anchor.cert.fingerprintSha256)
      ? verified.path
      : [...verified.path, verified.anchor.cert]
    : onPath;
  expiringSoon(ctx, withAnchor, chain, warnDays);
  chainShape(ctx, chain, withAnchor);
  leafShape(ctx, leaf);
  opensslVerdict(ctx, wire, first, identityError);
  return finish(report);
}

/** Positions in the chain as sent, for chains that skip a certificate that could not be parsed. */
const sentPositions = new WeakMap<readonly Certificate[], readonly number[]>();

/** The position in the chain as sent of `c` (its first occurrence), if it was sent. */
function positionIn(chain: readonly Certificate[], c: Certificate): number | undefined {
  const i = chain.findIndex((x) => x.fingerprintSha256 === c.fingerprintSha256);
  return i < 0 ? undefined : (sentPositions.get(chain)?.[i] ?? i);
}

function pathEntry(
  c: Certificate,
  chain: readonly Certificate[],
  fetched: readonly Certificate[],
  time: Date,
): CertificateReport {
  const pos = positionIn(chain, c);
  if (pos !== undefined) return certReport(c, 'sent', time, pos);
  return certReport(c, fetched.includes(c) ? 'aia' : 'trust-store', time);
}

const CLIENT_CERT_NEEDED_FIX =
  'The server requires a client certificate: pass cert: { cert, key } (or { pfx }).';

/** What the server did about a client certificate (wire.clientAuth), and one kept back. */
function clientAuthFindings(ctx: Context, wire: Wire): void {
  const where = wire.address ?? 'the server';
  if (wire.clientCertKeptBack) {
    const e = wire.clientCertKeptBack;
    ctx.add({
      severity: 'info',
      code: 'CLIENT_CERT_KEPT_BACK',
      message:
        `the client certificate was not sent: the server's chain failed verification` +
        `${e instanceof SSLError ? ` (${e.code})` : ''} before the certificate would have left, so whether the ` +
        'server accepts it was not checked; what is reported comes from a second connection that offered no certificate',
      fix: "A client certificate is only sent to a server that passes verification: fix the server's chain (the other findings) and check again.",
    });
  }
  const auth = wire.clientAuth;
  if (!auth?.requested) return;
  const waited = `${auth.waitedMs ?? 0} ms`;
  if (auth.verdict === 'refused') {
    const said = auth.error?.message;
    ctx.add({
      severity: 'error',
      code: auth.offered ? 'CLIENT_CERT_REFUSED' : 'CLIENT_CERT_REQUIRED',
      message: said
        ? said.includes('client certificate')
          ? said
          : `${said}; it had asked for a client certificate${auth.offered ? '' : ' and none was given'}`
        : `after the TLS handshake, the server at ${where} closed the connection (within ${waited}, nothing having been sent): ${
            auth.offered
              ? 'it refuses the client certificate given'
              : 'it asked for a client certificate and none was given'
          }`,
      // Without a certificate the fix is known (the server asked for one); with one, the
      // alert's own hint is the most precise there is.
      fix: auth.offered
        ? ((auth.error as { hint?: string } | undefined)?.hint ??
          'The server refused the client certificate without saying why: check that it is the one the server expects, issued by a CA it trusts, within its validity, and allowed for client authentication (extended key usage clientAuth).')
        : CLIENT_CERT_NEEDED_FIX,
    });
    return;
  }
  const atHttp =
    'a server that checks it at the HTTP level (nginx does) answers the first request instead, with 400 or 403';
  const message =
    auth.verdict === 'accepted'
      ? auth.offered
        ? 'the server asked for a client certificate and completed the handshake with the one given'
        : `the server asked for a client certificate and completed the handshake without one: it is optional there, or ${atHttp}`
      : auth.offered
        ? `the server asked for a client certificate and did not refuse the one given within ${waited} of the handshake; ${atHttp}`
        : `the server asked for a client certificate and did not refuse the connection without one within ${waited} of the handshake: it is optional there, or ${atHttp}`;
  ctx.add({
    severity: 'info',
    code: 'CLIENT_CERT_REQUESTED',
    message,
    fix: auth.offered
      ? 'Nothing to do for the connection.'
      : 'If requests are refused, pass cert: { cert, key } (or { pfx }).',
  });
}

/** Orders findings, sets status and exit code. */
function finish(report: CheckReport): CheckReport {
  report.findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  const unreachable = report.findings.some((f) => UNREACHABLE_CODES.has(f.code));
  const error = report.findings.some((f) => f.severity === 'error');
  const warning = report.findings.some((f) => f.severity === 'warning');
  report.status = unreachable ? 'unreachable' : error ? 'error' : warning ? 'warning' : 'ok';
  report.exitCode = unreachable ? 2 : error ? 1 : 0;
  return report;
}

function describe(c: Certificate): string {
  return `"${c.subject.text || '(empty subject)'}"`;
}

/** The server forgot an intermediate that AIA found. */
function missingIntermediate(
  ctx: Context,
  fetched: readonly Certificate[],
  fetches: { url: string; for: string; issuer?: Certificate }[],
  verified: VerifiedPath | undefined,
  verifyCode: VerifyCode,
): void {
  const names = fetched.map(describe).join(' and ');
  const used = fetches.filter((f) => f.issuer && fetched.includes(f.issuer));
  const urls = used.map((f) => f.url);
  const of = used.map((f) => `"${f.for}"`).join(' and ');
  const outcome = verified
    ? `with it the chain verifies to ${describe(verified.anchor.cert)}`
    : 'the chain still does not verify with it (see the next finding)';
  ctx.add({
    severity: 'error',
    code: 'MISSING_INTERMEDIATE',
    message:
      `the server does not send the intermediate certificate ${names}; certainly fetched it from ` +
      `${urls.join(' and ')} (the AIA caIssuers URL in ${of}), and ${outcome}. ` +
      'Browsers fetch it themselves, which is why the site works there; curl, Python, Node, Go and Java do not.',
    fix:
      `Configure the server to send its certificate followed by ${names} ` +
      `(SHA-256 ${fetched.map((c) => c.fingerprintSha256).join(', ')}; download: ${urls.join(', ')}), ` +
      "e.g. append it to nginx's ssl_certificate file or use Apache's full-chain file.",
    position: 0,
    verifyCode,
  });
}

/**
 * UNKNOWN_ISSUER / INCOMPLETE_CHAIN / SELF_SIGNED where the root is in the OS store or in Node's
 * bundled list but not in the trust used here: say so, and how to include it.
 */
function trustStoreFinding(ctx: Context, err: SSLError, pool: readonly Certificate[]): Finding | undefined {
  if (!['UNKNOWN_ISSUER', 'INCOMPLETE_CHAIN', 'SELF_SIGNED'].includes(err.code)) return undefined;
  const top = walk(pool).at(-1);
  if (!top) return undefined;
  if (anchorFor(ctx.opts.trust, top)) return undefined; // trusted: the failure is something else
  const base = findingFor(err, { name: ctx.ref.kind === 'dns' ? ctx.ref.value : ctx.ref.text });
  const e = ctx.opts.trustExplanation;
  const env = e?.envConsidered.find((v) => v.used && v.name !== 'NODE_EXTRA_CA_CERTS');
  const inUse = e ? `the trust used here: ${e.detail}` : 'the trust used here';

  const pub = anchorFor(ctx.opts.compareWith?.bundled ?? bundledTrust(), top);
  if (pub) {
    return {
      ...base,
      code: 'PUBLIC_ROOT_NOT_TRUSTED',
      message:
        `${err.message}; yet the chain ends at ${describe(pub.cert)}, a public root in Mozilla's list ` +
        `(bundled with Node ${bundledNodeVersion()}), which ${inUse} does not include`,
      fix: env
        ? `${env.name}=${env.value ?? ''} replaces the default roots with a bundle that lacks this public root: unset it, or give your own CA with NODE_EXTRA_CA_CERTS, which adds to the defaults instead of replacing them.`
        : "Add your CA to the defaults instead of replacing them: verify: { ca: 'your-ca.pem', bundled: true, system: true } (on the command line: leave out --ca and --no-bundled).",
    };
  }
  const sys = anchorFor(ctx.opts.compareWith?.system ?? systemTrust(ctx.opts.systemRoot), top);
  if (sys) {
    const file = sys.sources.find((s) => s.startsWith('system:'))?.slice('system:'.length);
    const proxy = looksPublic(ctx.ref)
      ? ` For a public name like ${ctx.ref.kind === 'dns' ? ctx.ref.value : ''}, a root only this machine trusts usually means a TLS-inspecting proxy (corporate network, antivirus) re-signs the traffic.`
      : '';
    return {
      ...base,
      code: 'SYSTEM_ROOT_NOT_TRUSTED',
      message:
        `${err.message}; yet the chain ends at ${describe(sys.cert)}, which this machine's operating system ` +
        `trusts (${sys.sources.join(', ')}) but Mozilla's list does not, and which ${inUse} does not include.${proxy}`,
      fix:
        (env
          ? `${env.name}=${env.value ?? ''} replaces the default roots (which include the OS store) with a bundle that lacks this root: unset it, or `
          : 'If you trust this root, ') +
        `include the OS store (verify: { system: true }, part of the defaults) or this root alone${file ? ` (verify: '${file}')` : ''}.`,
    };
  }
  return undefined;
}

/** Facts about the anchor of a verified path: a private CA, a root only the OS trusts, relaxed rules. */
function anchorFindings(ctx: Context, verified: VerifiedPath): void {
  const anchor = verified.anchor;
  const cls = classifyAnchor(anchor);
  const name = ctx.ref.kind === 'dns' ? ctx.ref.value : ctx.ref.text;
  if (cls === 'system-only') {
    const isPublic = looksPublic(ctx.ref);
    ctx.add({
      severity: isPublic ? 'warning' : 'info',
      code: 'LIKELY_INTERCEPTION',
      message:
        `the chain for ${name} ends at ${describe(anchor.cert)}, a root this machine's operating system trusts ` +
        `(${anchor.sources.join(', ')}) that is not in Mozilla's list` +
        (isPublic
          ? `: for a public name like ${name} that usually means a TLS-inspecting proxy (corporate network, antivirus) re-signs the traffic`
          : ': expected for an internal server with a corporate CA'),
      fix:
        `If ${describe(anchor.cert)} is your organisation's root, this is expected; clients that do not read the OS store ` +
        "(Node's own https, Python requests with certifi) need it given explicitly (NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE). " +
        'If it is not, someone is intercepting this connection: do not send secrets over it.',
    });
  } else if (cls === 'user' && isUserFileAnchor(anchor)) {
    ctx.add({
      severity: 'info',
      code: 'PRIVATE_CA',
      message: `the chain ends at ${describe(anchor.cert)}, a CA you configured (${anchor.sources.join(', ')})`,
      fix: 'Nothing to do; clients without this CA file will not trust the server.',
    });
  }
  // revocation 'soft': a status that could not be established is a warning (under 'hard' it failed).
  for (const c of verified.revocation.certificates) {
    if (c.status !== 'unknown') continue;
    ctx.add({
      severity: 'warning',
      code: 'REVOCATION_UNKNOWN',
      verifyCode: 'REVOCATION_UNKNOWN',
      message: `the revocation status of ${c.depth === 0 ? 'the server certificate' : `certificate ${c.depth} of the path`} is unknown: ${(c.reasons ?? []).join('; ')}`,
      fix: 'The server should staple a current OCSP response from its CA (nginx: ssl_stapling on); with --revocation hard this endpoint fails.',
      ...(c.depth === 0 ? { position: 0 } : {}),
    });
  }
  for (const note of verified.notes) {
    if (!note.startsWith('relaxed')) continue;
    ctx.add({
      severity: 'info',
      code: 'RELAXED_RULE',
      message: note,
      fix: 'Accepted because the root is a private CA from a file; a public CA could not issue this certificate, and stricter clients may refuse it.',
    });
  }
}

const LINT_FIX: Partial<Record<FindingCode, (c: Certificate, role: Role, days: number) => string>> = {
  CERT_EXPIRED: (c, role, days) =>
    role === 'leaf'
      ? `Renew the server certificate: it expired ${-days} day(s) ago (${c.notAfter.toISOString()}); if that date looks wrong, check this machine's clock.`
      : `Install the CA's current intermediate in place of ${describe(c)}, which expired ${c.notAfter.toISOString()}.`,
  CERT_NOT_YET_VALID: (c) =>
    `Check this machine's clock (the certificate starts ${c.notBefore.toISOString()}); otherwise the certificate was issued for a later date and the server must use a current one.`,
  WEAK_KEY: (c) =>
    `Reissue ${describe(c)} with an RSA key of 2048 to 8192 bits (public exponent 65537) or a P-256/P-384 EC key (it has ${keyText(c)}).`,
  WEAK_ALGORITHM: (c) =>
    `Reissue ${describe(c)} with a SHA-256 (or stronger) signature (it is signed with ${c.signatureAlgorithm.name}).`,
  WRONG_PURPOSE: (c) =>
    `Reissue ${describe(c)} for TLS servers: its extended key usage must include serverAuth (it has ${(c.extKeyUsage?.oids ?? []).join(', ')}).`,
  CA_USED_AS_LEAF: () => 'Present an end-entity certificate for the server name, not a CA certificate.',
  NO_SUBJECT_ALT_NAME: () =>
    'Reissue the certificate with the host names in its subjectAltName extension; RFC 9525 clients ignore the Common Name.',
};

/**
 * The hard problems of every certificate on the (failed) path, besides the one reported: the
 * verifier stops at the first, and a person fixing a chain wants the whole list.
 */
function otherProblems(ctx: Context, onPath: readonly Certificate[], chain: readonly Certificate[]): void {
  const policy: PolicyContext = {
    purpose: 'serverAuth',
    requiredEku: [],
    requiredKeyUsage: [],
    time: ctx.time,
  };
  onPath.forEach((cert, i) => {
    const role: Role =
      i === 0 ? 'leaf' : cert.selfIssued && i === onPath.length - 1 ? 'anchor' : 'intermediate';
    const position = positionIn(chain, cert);
    for (const p of checkCertificate(cert, role, policy)) {
      if (p.hygiene || ctx.has(p.code, position)) continue;
      // A self-signed certificate's cA TRUE is not a second problem: trusting it is the fix.
      // Nor for one the user trusts from a file, which the verifier accepts as its own anchor.
      if (p.code === 'CA_USED_AS_LEAF' && i === 0 && cert.selfIssued) {
        const own = ctx.opts.trust.find(cert);
        if (ctx.has('SELF_SIGNED') || (own && isUserFileAnchor(own))) continue;
      }
      const days = daysLeft(cert, ctx.time);
      ctx.add({
        severity: 'error',
        code: p.code,
        message: `${role === 'leaf' ? 'server certificate' : role === 'anchor' ? 'root certificate' : 'intermediate certificate'} ${describe(cert)}${position === undefined ? '' : ` (#${position} in the chain)`}: ${p.message} (${p.rule})`,
        fix:
          LINT_FIX[p.code]?.(cert, role, days) ??
          `${FINDING_CODES[p.code].meaning.charAt(0).toUpperCase()}${FINDING_CODES[p.code].meaning.slice(1)}: ${describe(cert)} must be reissued.`,
        ...(position !== undefined ? { position } : {}),
        verifyCode: p.code,
      });
    }
  });
}

/** Certificates on the path that expire within warnDays. */
function expiringSoon(
  ctx: Context,
  onPath: readonly Certificate[],
  chain: readonly Certificate[],
  warnDays: number,
): void {
  const t = ctx.time.getTime();
  onPath.forEach((cert, i) => {
    const left = cert.notAfter.getTime() - t;
    if (left < 0 || left > warnDays * DAY_MS) return;
    const days = daysLeft(cert, ctx.time);
    const position = positionIn(chain, cert);
    const what = i === 0 ? 'the server certificate' : cert.selfIssued ? 'the root' : 'the intermediate';
    const when = left < DAY_MS ? 'within a day' : `in ${days} day${days === 1 ? '' : 's'}`;
    ctx.add({
      severity: 'warning',
      code: 'CERT_EXPIRING_SOON',
      message: `${what} ${describe(cert)} expires ${when}, at ${cert.notAfter.toISOString()} (warning at ${warnDays} days)`,
      fix:
        i === 0
          ? `Renew the server certificate before ${cert.notAfter.toISOString().slice(0, 10)} and reload the server; check that automatic renewal (certbot, cert-manager, …) runs.`
          : `Get the CA's current ${cert.selfIssued ? 'root' : 'intermediate'} before ${cert.notAfter.toISOString().slice(0, 10)}${cert.selfIssued ? ' into the trust store' : ' and send it instead'}.`,
      ...(position !== undefined ? { position } : {}),
    });
  });
}

/** Order, extras and the root, from the chain as sent and the path through it. */
function chainShape(ctx: Context, chain: readonly Certificate[], onPath: readonly Certificate[]): void {
  const used = new Set(onPath.map((c) => c.fingerprintSha256));
  // Positions of the path's certificates in the chain as sent, in path order (first occurrence).
  // Extra certificates in between are reported as extras, not as disorder.
  const positions = onPath.map((c) => positionIn(chain, c)).filter((p): p is number => p !== undefined);
  const inOrder = positions.every((p, i) => i === 0 || p > positions[i - 1]!);
  if (!inOrder) {
    const sent = chain.map((c, i) => `#${sentPositions.get(chain)?.[i] ?? i} ${describe(c)}`).join(', ');
    const want = onPath
      .filter((c) => positionIn(chain, c) !== undefined)
      .map(describe)
      .join(', then ');
    ctx.add({
      severity: 'warning',
      code: 'CHAIN_ORDER',
      message:
        `the server sends its chain out of order (${sent}); TLS 1.2 requires each certificate to certify the one before it ` +
        '(RFC 5246 §7.4.2), TLS 1.3 only recommends it (RFC 8446 §4.4.2), and some clients give up on such chains',
      fix: `Send the certificates in this order: ${want} (the server's certificate file, top to bottom).`,
    });
  }
  const seen = new Set<string>();
  const extras: string[] = [];
  chain.forEach((c, i) => {
    const at = sentPositions.get(chain)?.[i] ?? i;
    const dup = seen.has(c.fingerprintSha256);
    seen.add(c.fingerprintSha256);
    if (dup) extras.push(`#${at} ${describe(c)} (sent twice)`);
    else if (!used.has(c.fingerprintSha256)) extras.push(`#${at} ${describe(c)}`);
  });
  if (extras.length > 0) {
    ctx.add({
      severity: 'warning',
      code: 'CHAIN_EXTRA_CERTS',
      message: `the server sends certificate${extras.length === 1 ? '' : 's'} that ${extras.length === 1 ? 'is' : 'are'} not part of its chain: ${extras.join(', ')}`,
      fix: "Remove them from the server's certificate file: they cost bytes in every handshake, and an expired or wrong one confuses some clients.",
    });
  }
  const top = onPath.at(-1);
  const topPos = top ? positionIn(chain, top) : undefined;
  if (top?.selfIssued && topPos !== undefined && topPos > 0) {
    ctx.add({
      severity: 'info',
      code: 'CHAIN_INCLUDES_ROOT',
      message: `the server sends the root ${describe(top)} too (#${topPos}); clients must already have it to trust it`,
      fix: "Optional: leave the root out of the server's certificate file (RFC 8446 §4.4.2 allows omitting it) to save bytes.",
      position: topPos,
    });
  }
}

/** The server certificate's own shape: many names, an empty subject. */
function leafShape(ctx: Context, leaf: Certificate): void {
  const names = leaf.subjectAltName?.names.length ?? 0;
  if (names > MANY_NAMES_THRESHOLD) {
    ctx.add({
      severity: 'warning',
      code: 'MANY_NAMES',
      message: `the server certificate lists ${names} names (its DER is ${leaf.der.length} bytes), sent in every handshake; public CAs issue at most ${MANY_NAMES_THRESHOLD}`,
      fix: 'Split the names over several certificates that the server picks by SNI, or use a wildcard name for a family of hosts.',
      position: 0,
    });
  }
  if (leaf.subject.rdns.length === 0 && !ctx.has('EMPTY_SUBJECT', 0)) {
    const critical = leaf.subjectAltName?.critical === true;
    ctx.add({
      severity: 'warning',
      code: 'EMPTY_SUBJECT',
      message:
        'the server certificate has an empty subject: its names are only in the subjectAltName extension, ' +
        `which RFC 5280 §4.2.1.6 then requires to be critical (it is ${critical ? '' : 'not '}critical); ` +
        'tools and logs that show the subject show nothing',
      fix: critical
        ? 'Nothing breaks for RFC 9525 clients; for readable logs, reissue with a subject (e.g. CN set to the first host name).'
        : 'Reissue with a subject (e.g. CN set to the first host name), or mark subjectAltName critical: public roots reject this certificate.',
      position: 0,
    });
  }
}

/** OpenSSL's verdict on the path (it does not check the name) against ours. */
function opensslVerdict(
  ctx: Context,
  wire: Wire,
  first: { verified?: VerifiedPath; error?: SSLError },
  identityError: SSLError | undefined,
): void {
  const o = wire.openssl;
  if (!o) return;
  // Ours, without the name: identity errors do not count (OpenSSL was not asked to check it).
  const pathOk =
    first.verified !== undefined ||
    (first.error?.code === 'HOSTNAME_MISMATCH' && identityError !== undefined);
  if (o.authorized === pathOk) return;
  ctx.add({
    severity: 'info',
    code: 'OPENSSL_DISAGREES',
    message: o.authorized
      ? `OpenSSL accepts the chain against the same anchors, certainly does not (${first.error?.code}): certainly applies the CA/Browser Forum profile and RFC 5280 more strictly`
      : `OpenSSL refuses the chain against the same anchors (${o.error ?? 'no reason given'}), certainly accepts it`,
    fix: o.authorized
      ? 'Fix what the findings above say; clients built on OpenSSL alone (curl, Python) may accept this chain today.'
      : 'Clients built on OpenSSL alone (curl, Python) may refuse this server; the findings above say what certainly saw.',
  });
}
