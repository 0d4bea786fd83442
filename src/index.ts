/** certainly: the public API. Everything users import comes from here. */

export { type AdapterOptions, agent, dispatcher } from './client/adapters.js';
export type { AuthOption } from './client/auth.js';
export { type Cookie, CookieJar, type CookieStore } from './client/cookies.js';
export type {
  ClientCertOption,
  CommonOptions,
  Method,
  RequestOptions,
  SessionOptions,
  TimeoutOption,
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
export type { ProxyObject, ProxyOption } from './client/proxy.js';
export type { RetryOption } from './client/retry.js';
export * from './errors.js';
export type { TlsInfo } from './tls/connector.js';
export { type AiaOption, type AiaOptions, clearAiaCache } from './verify/aia.js';
export type { Certificate, CertificateSummary } from './x509/types.js';
