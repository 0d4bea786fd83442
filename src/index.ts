/** certainly: the public API. Everything users import comes from here. */

export {
  type AdapterOptions,
  type AgentPoolOptions,
  agent,
  type DispatcherPoolOptions,
  dispatcher,
} from './client/adapters.js';
export type { AuthFunction, AuthHeaders, AuthOption, AuthRequest } from './client/auth.js';
export { type Cookie, CookieJar, type CookieStore } from './client/cookies.js';
export type { HookRequest, HooksOption, RequestHook, ResponseHook } from './client/hooks.js';
export type {
  ClientCertOption,
  CommonOptions,
  DataOption,
  DownloadProgress,
  FileContent,
  FileSpec,
  FilesOption,
  Method,
  RequestOptions,
  SessionOptions,
  TimeoutOption,
  UploadProgress,
} from './client/index.js';
export {
  closeDefaultSession,
  del as delete,
  get,
  head,
  options,
  patch,
  post,
  put,
  Response,
  request,
  Session,
} from './client/index.js';
export type { ProxyAuth, ProxyObject, ProxyOption } from './client/proxy.js';
export type { RetryOption } from './client/retry.js';
// Diagnosis: what `certainly check` does, in code; findingFor(err) words any error as check does.
export {
  type CertificateReport,
  type CheckReport,
  type DiagnoseOptions,
  diagnose,
  FINDING_CODES,
  type Finding,
  type FindingCode,
  type FindingContext,
  findingFor,
  type Severity,
} from './diagnose/index.js';
export * from './errors.js';
// The error classes as one namespace too (`errors.SSLError`), as requests has requests.exceptions.
export * as errors from './errors.js';
export { clearAiaCache } from './tls/aia.js';
export type { TlsInfo } from './tls/handshake.js';
export type { EnvConsidered } from './trust/env.js';
// Which anchors a configuration means, and why (diagnose() takes resolveTrust(...).store).
export {
  type ResolvedTrust,
  type ResolveTrustOptions,
  resolveTrust,
  type TrustExplanation,
  type VerifyOption,
} from './trust/resolve.js';
export { type AnchorSourceInfo, type AnchorSourceKind, parseSource } from './trust/source.js';
export type { TrustStore } from './trust/store.js';
export type { AnchorSource, TrustAnchor, TrustAnchors } from './trust/types.js';
export type { AiaOption, AiaOptions } from './verify/aia.js';
export type { RevocationOption, RevocationOptions } from './verify/index.js';
// Offline verification: the connection's verifier on a chain you have.
export {
  type BudgetLimits,
  type CertificateInput,
  type VerifiedPath,
  type VerifyChainOptions,
  type VerifyChainResult,
  verifyChain,
} from './verify/index.js';
export type { Purpose } from './verify/policy.js';
export type { Certificate, CertificateSummary, KeyUsageName } from './x509/types.js';
