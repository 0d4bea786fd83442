/**
 * Hooks (requests' hooks, got's hooks, axios' interceptors) and the Session's base URL.
 *
 * - `hooks.request`: functions called once per request, before anything is sent (and before the
 *   `auth` option is applied, so a logging hook never sees credentials), with the request as
 *   `{ method, url, headers }`; they change it in place (method, url, headers).
 * - `hooks.response`: functions called once, on the final response (after redirects and a Digest
 *   challenge); each may return a Response that replaces it.
 * - The Session's hooks run first, then the request's (got's order; requests lets a request's
 *   hooks replace the Session's, which silently drops a logging hook).
 * - A hook that throws fails the request with HookError (ERR_HOOK), the hook's error as `cause`.
 */
import { ConfigError, HookError, InvalidURL } from '../errors.js';
import { Response } from './response.js';

/** The request as a request hook sees and changes it. Header names are lower-case. */
export interface HookRequest {
  method: string;
  /** A URL object; a hook may change it in place or assign a new URL (or string). */
  url: URL | string;
  headers: Record<string, string | string[]>;
}

export type RequestHook = (request: HookRequest) => unknown;
export type ResponseHook = (response: Response) => Response | undefined | Promise<Response | undefined>;

/** `hooks`: a function or a list of them for each event. */
export interface HooksOption {
  request?: RequestHook | readonly RequestHook[];
  response?: ResponseHook | readonly ResponseHook[];
}

export interface Hooks {
  request: RequestHook[];
  response: ResponseHook[];
}

function hooksError(message: string): ConfigError {
  return new ConfigError(message, {
    code: 'ERR_HOOKS_OPTION',
    hint: 'Use hooks: { request: [fn], response: [fn] } (a function or a list of functions each).',
  });
}

function listOf<T>(value: unknown, what: string): T[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const fn of list) {
    if (typeof fn !== 'function')
      throw hooksError(`${what} must be a function or a list of functions, not ${typeof fn}`);
  }
  return list as T[];
}

/** Checks a hooks option; ConfigError when malformed. */
export function checkHooks(option: unknown, where: string): Hooks {
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw hooksError(`${where}hooks must be an object { request, response }`);
  }
  for (const k of Object.keys(option)) {
    if (k !== 'request' && k !== 'response') {
      throw hooksError(`${where}hooks has no '${k}'; it takes request and response`);
    }
  }
  const o = option as HooksOption;
  return {
    request: listOf<RequestHook>(o.request, `${where}hooks.request`),
    response: listOf<ResponseHook>(o.response, `${where}hooks.response`),
  };
}

/** The Session's hooks, then the request's; undefined when there are none. */
export function hooksFor(
  session: HooksOption | undefined,
  request: HooksOption | undefined,
): Hooks | undefined {
  if (session === undefined && request === undefined) return undefined;
  const a = session === undefined ? undefined : checkHooks(session, '');
  const b = request === undefined || request === session ? undefined : checkHooks(request, '');
  const out: Hooks = {
    request: [...(a?.request ?? []), ...(b?.request ?? [])],
    response: [...(a?.response ?? []), ...(b?.response ?? [])],
  };
  return out.request.length || out.response.length ? out : undefined;
}

function hookFailed(kind: string, index: number, count: number, cause: unknown): HookError {
  const what = cause instanceof Error ? cause.message : String(cause);
  return new HookError(`the ${kind} hook ${index + 1} of ${count} threw: ${what}`, {
    cause,
    hint: 'The error is in the hook; err.cause is what it threw.',
  });
}

/**
 * Runs the request hooks in order on `request`; HookError when one throws, or returns something
 * other than nothing or the request itself: a hook changes `request` in place, and an object it
 * returns (axios' interceptors return a new config) would otherwise be dropped without a word.
 */
export async function runRequestHooks(hooks: readonly RequestHook[], request: HookRequest): Promise<void> {
  for (const [i, hook] of hooks.entries()) {
    let out: unknown;
    try {
      out = await hook(request);
    } catch (err) {
      throw hookFailed('request', i, hooks.length, err);
    }
    if (out !== undefined && out !== request) {
      throw new HookError(
        `the request hook ${i + 1} of ${hooks.length} returned ${out === null ? 'null' : typeof out}, which would be ignored`,
        {
          hint: 'A request hook changes the request it is given in place (req.url, req.headers, req.method) and returns nothing (or that same request); unlike an axios interceptor, a new object it returns is not used.',
        },
      );
    }
  }
}

/** A request hook moved the request to another origin while credentials for the first were attached. */
export function hookMovedCredentials(from: string, to: string, carried: readonly string[]): HookError {
  return new HookError(
    `a request hook moved the request from ${from} to ${to}, and it carries credentials given for ${from} (${carried.join(', ')}); they are not sent to another origin`,
    {
      hint: `Make the request to ${to} itself (then its credentials are for it), or set them in the hook (req.headers.authorization) if ${to} is meant to have them.`,
    },
  );
}

/**
 * Runs the response hooks in order, each on the response the last one left; HookError when one
 * throws or returns something that is not a Response (the response's body is then dropped).
 */
export async function runResponseHooks(
  hooks: readonly ResponseHook[],
  response: Response,
): Promise<Response> {
  let current = response;
  for (const [i, hook] of hooks.entries()) {
    let out: unknown;
    try {
      out = await hook(current);
    } catch (err) {
      drop(current);
      throw hookFailed('response', i, hooks.length, err);
    }
    if (out === undefined) continue;
    if (!(out instanceof Response)) {
      drop(current);
      throw new HookError(
        `the response hook ${i + 1} of ${hooks.length} returned ${out === null ? 'null' : typeof out}, not a Response`,
        { hint: 'Return nothing to keep the response, or a Response to replace it.' },
      );
    }
    current = out;
  }
  return current;
}

function drop(response: Response): void {
  try {
    response.rawStream().destroy();
  } catch {
    // already read or taken by the hook
  }
}

/** Checks the Session's baseUrl: an absolute http(s) URL. ConfigError otherwise. */
export function checkBaseUrl(value: unknown): URL {
  let url: URL | undefined;
  try {
    url = new URL(value instanceof URL ? value.href : (value as string));
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '') {
    throw new ConfigError(
      `baseUrl must be an absolute http(s) URL, not '${String(value).replace(/\/\/[^/?#]*@/, '//…@')}'`,
      {
        code: 'ERR_BASE_URL',
        hint: "Use baseUrl: 'https://api.example.com/v1/' (end it with '/' so relative paths go under it).",
      },
    );
  }
  return url;
}

/**
 * A request URL against the base URL, by the WHATWG URL rules (never by string concatenation):
 * 'users' under 'https://h/api/' is 'https://h/api/users', under 'https://h/api' it is
 * 'https://h/users'; '/users' is 'https://h/users'; an absolute URL is itself.
 */
export function joinBaseUrl(base: URL, input: string | URL): string | URL {
  if (input instanceof URL) return input;
  try {
    return new URL(input, base);
  } catch (err) {
    throw new InvalidURL(`'${input}' cannot be joined to the base URL ${base.href}`, { cause: err });
  }
}
