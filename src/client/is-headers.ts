/** One test for a WHATWG Headers object, shared by request headers (options.ts) and proxy headers (proxy.ts). */

/**
 * A Headers object (Node's global one or undici's): by its WebIDL class string, because reading
 * the global `Headers` loads Node's own bundled copy of undici, tens of milliseconds at start-up.
 */
export function isHeaders(value: unknown): value is Headers {
  return Object.prototype.toString.call(value) === '[object Headers]';
}
