/**
 * The requests-style module functions. They share one default Session, so connections are
 * pooled across calls (its idle sockets do not keep the process alive: undici unrefs them).
 */
import type { RequestOptions } from './options.js';
import type { Response } from './response.js';
import { type Method, Session } from './session.js';

let shared: Session | undefined;
function defaultSession(): Session {
  // No shared cookie jar: like requests.get(), each call keeps cookies only across its own
  // redirects, so a cookie from one call never reaches another.
  shared ??= new Session({ cookies: false });
  return shared;
}

export function request(method: Method, url: string | URL, options?: RequestOptions): Promise<Response> {
  return defaultSession().request(method, url, options);
}
export const get = (url: string | URL, options?: RequestOptions) => request('GET', url, options);
export const post = (url: string | URL, options?: RequestOptions) => request('POST', url, options);
export const put = (url: string | URL, options?: RequestOptions) => request('PUT', url, options);
export const patch = (url: string | URL, options?: RequestOptions) => request('PATCH', url, options);
export const head = (url: string | URL, options?: RequestOptions) => request('HEAD', url, options);
export const options = (url: string | URL, opts?: RequestOptions) => request('OPTIONS', url, opts);
/** `delete` is a reserved word in JavaScript; exported as `delete` from the package index. */
export const del = (url: string | URL, opts?: RequestOptions) => request('DELETE', url, opts);

/** Closes the shared pools of the module functions (tests, graceful shutdown). */
export async function closeDefaultSession(): Promise<void> {
  const s = shared;
  shared = undefined;
  await s?.close();
}

export type { DataOption, FileContent, FileSpec, FilesOption } from './body.js';
export type { DownloadProgress } from './decode.js';
export type {
  ClientCertOption,
  CommonOptions,
  RequestOptions,
  SessionOptions,
  TimeoutOption,
  UploadProgress,
} from './options.js';
export { Response } from './response.js';
export { type Method, Session } from './session.js';
