/**
 * Every error `certainly` throws, and the one table of verification codes.
 *
 * Error classes are generated from a table so that each has a stable `name`, a `code`, keeps
 * `cause`, and survives two copies of the package (`instanceof` checks a `Symbol.for` brand,
 * as undici does).
 */

/**
 * A JSON-safe description of a certificate, used in errors, Response.tls and reports. Declared
 * here because errors.ts imports nothing; x509/types.ts re-exports it.
 */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  commonName?: string;
  /** SANs as text: 'DNS:example.com', 'IP:10.0.0.6', 'email:…', 'URI:…'. */
  subjectAltNames: string[];
  serial: string;
  notBefore: string;
  notAfter: string;
  keyType: string;
  keyBits: number;
  signatureAlgorithm: string;
  isCA: boolean;
  fingerprintSha256: string;
  spkiSha256: string;
  aia?: string[];
}

/**
 * The verification failure codes, in one table: code, rank, one-line meaning.
 *
 * `rank` orders how specific a failure is. When the path builder tries several candidate paths,
 * it keeps the error with the highest rank (rustls-webpki does the same): "the intermediate is
 * expired" says more than "no path to a trusted root".
 */
export const VERIFY_CODES = {
  // Identity (RFC 9525)
  HOSTNAME_MISMATCH: { rank: 90, meaning: 'the certificate is not valid for the name that was asked for' },
  NO_SUBJECT_ALT_NAME: {
    rank: 91,
    meaning: 'the certificate names its host only in the Common Name, which RFC 9525 ignores',
  },
  // Chain building
  UNKNOWN_ISSUER: { rank: 10, meaning: 'no path from the certificate to a trusted root was found' },
  SELF_SIGNED: { rank: 12, meaning: 'the certificate is self-signed and not itself trusted' },
  INCOMPLETE_CHAIN: {
    rank: 11,
    meaning: 'the server did not send an intermediate certificate needed to reach a trusted root',
  },
  // Validity
  CERT_EXPIRED: { rank: 60, meaning: 'a certificate in the path has expired' },
  CERT_NOT_YET_VALID: { rank: 60, meaning: 'a certificate in the path is not valid yet' },
  // Structure and policy
  NOT_A_CA: { rank: 50, meaning: 'an issuing certificate is not allowed to act as a CA' },
  CA_USED_AS_LEAF: { rank: 50, meaning: 'a CA certificate was presented as the server certificate' },
  PATH_TOO_LONG: {
    rank: 50,
    meaning: 'the path is longer than a pathLenConstraint or the depth limit allows',
  },
  WRONG_PURPOSE: {
    rank: 55,
    meaning: 'a certificate is not allowed for this purpose (extended key usage or key usage)',
  },
  NAME_CONSTRAINTS_VIOLATED: { rank: 70, meaning: "a name in the chain is outside a CA's name constraints" },
  WEAK_ALGORITHM: { rank: 45, meaning: 'a signature uses an algorithm that is no longer accepted' },
  WEAK_KEY: { rank: 45, meaning: 'a public key is too small or of an unsupported kind' },
  BAD_SIGNATURE: { rank: 30, meaning: 'a signature in the chain does not verify' },
  BAD_ENCODING: { rank: 40, meaning: 'a certificate is malformed' },
  UNSUPPORTED_CRITICAL_EXTENSION: {
    rank: 50,
    meaning: 'a certificate carries a critical extension this verifier does not understand',
  },
  PROFILE_VIOLATION: { rank: 40, meaning: 'a certificate breaks a rule of the RFC 5280 / webpki profile' },
  CHAIN_TOO_LONG: {
    rank: 96,
    meaning: 'the server sent more certificates than certainly accepts in one chain (64)',
  },
  BUDGET_EXCEEDED: { rank: 100, meaning: 'path building gave up: the chain is too complex to search' },
  CERT_REVOKED: { rank: 80, meaning: 'a certificate in the path has been revoked' },
  REVOCATION_UNKNOWN: {
    rank: 75,
    meaning:
      "a certificate's revocation status is required or was given but could not be established (a CRL or OCSP response that cannot be used)",
  },
  MUST_STAPLE_MISSING: {
    rank: 76,
    meaning: 'the server certificate requires a stapled OCSP response (must-staple) and none usable was sent',
  },
  // Connection-level
  PIN_MISMATCH: { rank: 95, meaning: "the server's public key does not match any configured pin" },
  NO_CERTIFICATE: { rank: 5, meaning: 'the server sent no certificate' },
  HANDSHAKE_FAILED: { rank: 1, meaning: 'the TLS handshake failed before a certificate could be checked' },
} as const satisfies Record<string, { rank: number; meaning: string }>;

export type VerifyCode = keyof typeof VERIFY_CODES;

/**
 * The codes of a ConfigError about an option (client/option-table.ts), one line each. Other
 * ConfigError codes belong to the option they check (ERR_CLIENT_CERT, ERR_PROXY_OPTION, …).
 */
export const OPTION_CODES = {
  ERR_UNKNOWN_OPTION:
    'an option that is not in the table, or not taken here (a Session option on a request); the message names the nearest valid one',
  ERR_OPTION_TYPE: 'an option whose value is of the wrong kind; the message says what it takes',
  ERR_OPTIONS: 'options that are not an object, or a value out of range',
  ERR_HEADER: 'a header that cannot be sent: a bad name, CR/LF/NUL in a value, or an object for a value',
  ERR_PARAMS: 'a query parameter that cannot be sent: a nested object, or not a name/value list',
  ERR_TIMEOUT_OPTION: 'a timeout that is not a positive number of milliseconds or { connect, read, total }',
  ERR_RETRIES_OPTION: 'a retries option that is out of range or has an unknown key',
  ERR_AUTH_OPTION: 'an auth option of no known form, or credentials a header cannot carry',
  ERR_HOOKS_OPTION: 'hooks that are not { request, response } with functions',
  ERR_BASE_URL: 'a baseUrl that is not an absolute http(s) URL',
} as const;

export type OptionCode = keyof typeof OPTION_CODES;

const BRAND = Symbol.for('certainly.error');

/** Fields common to every `certainly` error. */
export interface CertainlyErrorFields {
  /** Stable, machine-readable code. */
  code?: string;
  /** The underlying error, if any. */
  cause?: unknown;
  /** What to do about it: one sentence a person can act on. */
  hint?: string;
}

/**
 * Why an attempt was not the last: one entry per retry, on `r.retries` (and on `err.retries` of
 * an error thrown after retries). Declared here because errors.ts imports nothing.
 */
export interface RetryRecord {
  /** The attempt that failed: 1 for the first sending. */
  attempt: number;
  /** Which budget it counted against. */
  kind: 'connect' | 'read' | 'status';
  /** The error's code (ERR_CONNECTION, ERR_CONNECT_TIMEOUT, …) or 'HTTP 503'. */
  reason: string;
  /** The status that was retried (kind 'status'). */
  status?: number;
  /** The URL of the attempt. */
  url: string;
  /** ms waited before the next attempt. */
  wait: number;
  /** True when the wait came from the server's Retry-After. */
  retryAfter?: boolean;
}

/** The base of every error `certainly` throws. */
export class CertainlyError extends Error {
  readonly code: string;
  // The optional fields are `declare`d: set only when there is a value, so that console.log(err)
  // shows what the error says, not a line of `undefined` for every field it could have.
  declare hint?: string;
  /** The retries made before this error was thrown (the retries option), when there were any. */
  declare retries?: readonly RetryRecord[];
  constructor(message: string, fields: CertainlyErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.code = fields.code ?? 'ERR_CERTAINLY';
    if (fields.hint !== undefined) this.hint = fields.hint;
    Object.defineProperty(this, BRAND, { value: this.constructor.name });
  }
  override get name(): string {
    return this.constructor.name;
  }
  /**
   * `JSON.stringify(err)`: the name and the message (an Error's own are not enumerable, so a JSON
   * logger lost the sentence), then the fields that are set. Not the cause, nor the stack.
   */
  toJSON(): Record<string, unknown> {
    // Own enumerable fields only: the name is a getter and the message is not enumerable.
    return { name: this.name, message: this.message, ...Object.fromEntries(Object.entries(this)) };
  }
  // `this` is the class on the right of `instanceof` (a subclass too), which is the point here
  // (biome's noThisInStatic is off for that reason).
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    // A second copy of the package: compare brands by class name, walking its prototype chain.
    const brand = (value as Record<symbol, unknown>)[BRAND];
    if (typeof brand !== 'string') return false;
    if (this.name === 'CertainlyError') return true;
    let proto = Object.getPrototypeOf(value);
    while (proto && proto !== Object.prototype) {
      if (proto.constructor?.name === this.name) return true;
      proto = Object.getPrototypeOf(proto);
    }
    return false;
  }
}

/** Fields of a certificate verification failure. */
export interface SSLErrorFields extends CertainlyErrorFields {
  code: VerifyCode;
  /** Position in the chain of the certificate that failed (0 = the server's own), if known. */
  position?: number;
  /** Summary of the certificate that failed, if known. */
  certificate?: CertificateSummary;
  /** Summaries of the chain as the server sent it (or as given to verifyChain). */
  chain?: CertificateSummary[];
  /** The name that was verified (hostname or IP). */
  expected?: string;
  /** What the certificate says instead: SANs, validity, …, depending on the code. */
  presented?: string[];
  /** The verification time used. */
  time?: Date;
  /** Errors from other candidate paths, most specific first (for diagnosis). */
  candidates?: { code: VerifyCode; message: string; position?: number }[];
  /** For PIN_MISMATCH: the pins ('sha256//…') or fingerprints that were expected; `presented` has the actual ones. */
  pins?: string[];
}

/** A certificate verification failure. `code` is one of {@link VERIFY_CODES}. */
export class SSLError extends CertainlyError {
  declare readonly code: VerifyCode;
  declare position?: number;
  declare certificate?: CertificateSummary;
  declare chain?: CertificateSummary[];
  declare expected?: string;
  declare presented?: string[];
  declare time?: Date;
  declare candidates?: { code: VerifyCode; message: string; position?: number }[];
  declare pins?: string[];
  constructor(message: string, fields: SSLErrorFields) {
    super(message, fields);
    const { code: _c, cause: _x, hint: _h, ...rest } = fields;
    Object.assign(this, rest);
  }
  /** How specific this failure is, from {@link VERIFY_CODES}. */
  get rank(): number {
    return VERIFY_CODES[this.code]?.rank ?? 0;
  }
}

/**
 * The non-verification error classes, generated from one table: name, default code, meaning.
 * Each is a plain subclass of CertainlyError with its own name and default code.
 */
function defineError(name: string, defaultCode: string) {
  const cls = class extends CertainlyError {
    constructor(message: string, fields: CertainlyErrorFields = {}) {
      super(message, { ...fields, code: fields.code ?? defaultCode });
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

/**
 * When a connection failed: `'connect'` while it was being made (DNS, TCP, a proxy or its
 * tunnel, the TLS handshake, verification), so no byte of the request was sent; `'exchange'`
 * once it had been made and handed the request (a reset or close before the response was
 * complete, on a new or a reused keep-alive connection), so the server may have received the
 * request and acted on it.
 */
export type ConnectionPhase = 'connect' | 'exchange';

/**
 * The connection could not be made or was lost (refused, reset, DNS failure, …). `phase` says
 * which: for retries a `'connect'` failure counts against `retries.connect`, an `'exchange'` one
 * against `retries.read` (client/retry.ts), as urllib3 counts a connection lost after it was
 * established as a read error.
 */
export class ConnectionError extends CertainlyError {
  readonly phase: ConnectionPhase;
  constructor(message: string, fields: CertainlyErrorFields & { phase?: ConnectionPhase } = {}) {
    const { phase, ...rest } = fields;
    super(message, { ...rest, code: rest.code ?? 'ERR_CONNECTION' });
    // Every failure made while connecting (tls/handshake.ts, tls/tunnel.ts, tls/connector.ts) is
    // 'connect'; the failures of a socket undici already holds are marked 'exchange' where they
    // are mapped (client/undici-errors.ts).
    this.phase = phase ?? 'connect';
  }
}

/**
 * The proxy could not be reached, or refused to open a tunnel (407, 403, 502, …). A
 * ConnectionError too. `status` is the proxy's HTTP status when it answered; `proxy` is the
 * proxy's URL without its password.
 */
export class ProxyError extends ConnectionError {
  declare status?: number;
  proxy: string;
  constructor(message: string, fields: CertainlyErrorFields & { proxy: string; status?: number }) {
    super(message, { ...fields, code: fields.code ?? 'ERR_PROXY' });
    this.proxy = fields.proxy;
    if (fields.status !== undefined) this.status = fields.status;
  }
}
/**
 * The server answered with something that is not valid HTTP: a response line or header the parser
 * refuses (ERR_HTTP_PARSE), headers over the size limit (ERR_HEADERS_OVERFLOW), a body shorter or
 * longer than its Content-Length (ERR_CONTENT_LENGTH_MISMATCH), an HTTP/2 protocol failure
 * (ERR_HTTP2). For retries a read failure: retried only when `retries.read` asks (client/retry.ts).
 */
export const ProtocolError = defineError('ProtocolError', 'ERR_PROTOCOL');
export type ProtocolError = InstanceType<typeof ProtocolError>;
/** The TCP connection or the TLS handshake did not finish in time. */
export const ConnectTimeout = defineError('ConnectTimeout', 'ERR_CONNECT_TIMEOUT');
export type ConnectTimeout = InstanceType<typeof ConnectTimeout>;
/** The server did not send data in time. */
export const ReadTimeout = defineError('ReadTimeout', 'ERR_READ_TIMEOUT');
export type ReadTimeout = InstanceType<typeof ReadTimeout>;
/** More redirects than `maxRedirects`. */
export const TooManyRedirects = defineError('TooManyRedirects', 'ERR_TOO_MANY_REDIRECTS');
export type TooManyRedirects = InstanceType<typeof TooManyRedirects>;
/** The URL is malformed or not http(s). */
export const InvalidURL = defineError('InvalidURL', 'ERR_INVALID_URL');
export type InvalidURL = InstanceType<typeof InvalidURL>;
/** A bad option, or a CA path that cannot be used; the message names the path and the problem. */
export const ConfigError = defineError('ConfigError', 'ERR_CONFIG');
export type ConfigError = InstanceType<typeof ConfigError>;
/**
 * The Session was closed: a request made after `close()`, or a body left unread when it was
 * closed (close() aborts those).
 */
export const SessionClosed = defineError('SessionClosed', 'ERR_SESSION_CLOSED');
export type SessionClosed = InstanceType<typeof SessionClosed>;
/**
 * The response body could not be decoded: its Content-Encoding is corrupt or truncated
 * (ERR_DECODE), or one certainly does not decode (ERR_UNSUPPORTED_ENCODING).
 */
export const DecodeError = defineError('DecodeError', 'ERR_DECODE');
export type DecodeError = InstanceType<typeof DecodeError>;
/**
 * The response body passed `maxResponseSize` (decoded bytes; ERR_RESPONSE_TOO_LARGE), or is more
 * than the reader asked for can hold: text()/json() a string (ERR_STRING_TOO_LONG, past V8's
 * 2^29 - 24 characters), bytes()/arrayBuffer() a Buffer (ERR_BUFFER_TOO_LARGE). Refused before
 * reading when the Content-Length already says so, else the transfer is aborted there.
 */
export const ResponseTooLarge = defineError('ResponseTooLarge', 'ERR_RESPONSE_TOO_LARGE');
export type ResponseTooLarge = InstanceType<typeof ResponseTooLarge>;
/** The whole exchange (connecting, redirects, retries and the body) took longer than `timeout.total`. */
export const TotalTimeout = defineError('TotalTimeout', 'ERR_TOTAL_TIMEOUT');
export type TotalTimeout = InstanceType<typeof TotalTimeout>;
/** Malformed DER, PEM or certificate structure; `code` says which layer, the message where. */
export const ParseError = defineError('ParseError', 'ERR_PARSE');
export type ParseError = InstanceType<typeof ParseError>;
/**
 * A request or response hook (the `hooks` option) threw or returned something that is not a
 * Response; `cause` is what the hook threw.
 */
export const HookError = defineError('HookError', 'ERR_HOOK');
export type HookError = InstanceType<typeof HookError>;

/**
 * The request body's own source failed while it was being sent: a stream given as `data` (or in
 * `files`, or an iterable) emitted an error, e.g. a file stream whose file does not exist. Not a
 * connection failure, and never retried; nothing or only part of the body reached the server.
 * `cause` is the stream's error.
 */
export const BodyError = defineError('BodyError', 'ERR_BODY_STREAM');
export type BodyError = InstanceType<typeof BodyError>;

/** What an HTTPError holds of the response: the client's Response, its body still unread. */
export interface HTTPErrorResponse {
  readonly status: number;
  readonly reason: string;
  readonly url: string;
  readonly headers: Headers;
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
  bytes(): Promise<Buffer>;
  dump(): Promise<void>;
}

/**
 * `raiseForStatus()` on a 4xx or 5xx response. `response` is that response, its body unread (as
 * requests' e.response, axios' e.response, got's e.response): `await err.response.json()` reads
 * the server's explanation; read or dump() it so its connection is reused. Not enumerable, so
 * logging or serialising the error does not pull the whole response in.
 */
export class HTTPError extends CertainlyError {
  readonly status: number;
  readonly url: string;
  declare readonly response?: HTTPErrorResponse;
  constructor(
    message: string,
    fields: CertainlyErrorFields & { status: number; url: string; response?: HTTPErrorResponse },
  ) {
    const { response, ...rest } = fields;
    super(message, { ...rest, code: fields.code ?? 'ERR_HTTP_STATUS' });
    this.status = fields.status;
    this.url = fields.url;
    if (response !== undefined)
      Object.defineProperty(this, 'response', { value: response, enumerable: false });
  }
}

/** The warning class emitted (once per host) for `verify: false`. */
export const INSECURE_WARNING = 'InsecureRequestWarning';

/**
 * For a timeout that fired: a note when its value looks like seconds (requests' `timeout=5`
 * written here as `timeout: 5`, which is 5 ms), else ''. Appended to the timeout errors' hints.
 */
export function secondsNote(ms: number): string {
  return ms < 100
    ? ` Timeouts here are in milliseconds: ${ms} is ${ms} ms (requests' timeout=${ms} is ${ms * 1000} here).`
    : '';
}
