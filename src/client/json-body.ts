/**
 * The `json` option as text. JSON.stringify already throws for a BigInt and a circular structure,
 * and gives nothing for a function; but it turns a Map or a Set into {}, NaN and ±Infinity (and
 * an invalid Date) into null, silently. requests raises for those (a set is a TypeError, NaN an
 * InvalidJSONError); here each is a ConfigError (ERR_OPTIONS) naming where it is in the value
 * (json.items[3].tags) and the fix. undefined, functions and symbols keep JSON.stringify's rule
 * (left out of an object, null in a list): that is JavaScript's "absent", and an object's methods.
 *
 * Cost: one walk over the value after JSON.stringify has accepted it (so a cycle has already
 * been refused), no allocation unless something is found; measured in docs/decisions.md.
 */
import { ConfigError } from '../errors.js';

/** What was found, innermost key first (the path is built only on the way out of an error). */
interface Found {
  what: 'NaN' | 'Infinity' | '-Infinity' | 'Map' | 'Set' | 'invalid Date';
  path: (string | number)[];
}

function find(v: unknown, key: string | number, fromToJSON = false): Found | undefined {
  const t = typeof v;
  if (t === 'number') {
    if (Number.isFinite(v)) return undefined;
    return { what: Number.isNaN(v) ? 'NaN' : (v as number) > 0 ? 'Infinity' : '-Infinity', path: [] };
  }
  if (t !== 'object' || v === null) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const f = find(v[i], i);
      if (f) {
        f.path.push(i);
        return f;
      }
    }
    return undefined;
  }
  // A Date's toJSON gives its ISO text, or null for an invalid one; not called for each Date
  // (toISOString is most of the cost of a Date-heavy value).
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? { what: 'invalid Date', path: [] } : undefined;
  const toJSON = fromToJSON ? undefined : (v as { toJSON?: unknown }).toJSON;
  // What JSON.stringify sends for it is what toJSON returns (whose own toJSON it does not call).
  if (typeof toJSON === 'function') return find(toJSON.call(v, String(key)), key, true);
  if (v instanceof Map) return { what: 'Map', path: [] };
  if (v instanceof Set) return { what: 'Set', path: [] };
  const keys = Object.keys(v as object);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    const item = (v as Record<string, unknown>)[k];
    // undefined, a function or a symbol is left out of an object (null in a list), as
    // JSON.stringify does: JavaScript's "absent", and an object's methods.
    const f = find(item, k);
    if (f) {
      f.path.push(k);
      return f;
    }
  }
  return undefined;
}

const OBJECT = Object.prototype;

/**
 * True when the value holds something find() reports. The shapes of ordinary JSON (arrays, plain
 * objects, primitives) are checked inline, without a call per primitive; anything else (a Date, a
 * Map, a class, a toJSON) goes to find(). Twice as fast as find() alone on records; find() then
 * names what was found, only when there is something.
 */
function suspect(v: object, key: string | number): boolean {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      // x - x is 0 for a finite number, NaN for NaN and ±Infinity.
      if (typeof x === 'object' ? x !== null && suspect(x, i) : typeof x === 'number' && x - x !== 0) {
        return true;
      }
    }
    return false;
  }
  if (Object.getPrototypeOf(v) !== OBJECT || typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    return find(v, key) !== undefined;
  }
  for (const k in v) {
    const x: unknown = (v as Record<string, unknown>)[k];
    if (typeof x === 'object' ? x !== null && suspect(x, k) : typeof x === 'number' && x - x !== 0) {
      return true;
    }
  }
  return false;
}

function pathText(path: readonly (string | number)[]): string {
  let out = 'json';
  for (let i = path.length - 1; i >= 0; i--) {
    const k = path[i] as string | number;
    out +=
      typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
  }
  return out;
}

const WHY: Record<Found['what'], { sent: string; hint: string }> = {
  NaN: { sent: 'null', hint: 'JSON numbers are finite: send null or a string, or leave the field out.' },
  Infinity: { sent: 'null', hint: 'JSON numbers are finite: send null or a string, or leave the field out.' },
  '-Infinity': {
    sent: 'null',
    hint: 'JSON numbers are finite: send null or a string, or leave the field out.',
  },
  Map: {
    sent: '{}',
    hint: 'Send it as an object, Object.fromEntries(map), or as a list of pairs, [...map].',
  },
  Set: { sent: '{}', hint: 'Send its values as a list: [...set].' },
  'invalid Date': { sent: 'null', hint: 'Check how the date was made; send null if that is what you mean.' },
};

/** The `json` option as the text of the body; ConfigError for what JSON cannot hold. */
export function jsonText(json: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(json);
  } catch (err) {
    // A BigInt, a circular structure, or a toJSON that threw.
    throw new ConfigError(`the json option cannot be serialised: ${(err as Error).message}`, {
      code: 'ERR_OPTIONS',
      cause: err,
    });
  }
  if (text === undefined) {
    throw new ConfigError('the json option is not serialisable to JSON', {
      code: 'ERR_OPTIONS',
      hint: 'json takes a value JSON can hold: an object, an array, a string, a finite number, a boolean or null.',
    });
  }
  const clean = typeof json === 'object' ? json === null || !suspect(json, '') : find(json, '') === undefined;
  const found = clean ? undefined : find(json, '');
  if (found) {
    const { sent, hint } = WHY[found.what];
    const what =
      found.what === 'NaN' || found.what.endsWith('Infinity')
        ? found.what
        : `${found.what === 'invalid Date' ? 'an' : 'a'} ${found.what}`;
    throw new ConfigError(
      `the json option cannot be serialised: ${pathText(found.path)} is ${what}, which JSON cannot hold (JSON.stringify would send ${sent})`,
      { code: 'ERR_OPTIONS', hint },
    );
  }
  return text;
}
