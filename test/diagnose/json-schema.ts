/**
 * A validator for the subset of JSON Schema (draft 2020-12) that schema/check-report.schema.json
 * uses: type, properties, required, additionalProperties, items, enum, const, minimum, maximum,
 * pattern, and local $ref into $defs. Any other keyword is an error, so the schema cannot use a
 * keyword this validator would silently ignore. (No dependency: ~100 lines do the subset, and an
 * unknown-keyword check is stricter than what a general validator offers by default.)
 */

type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', '$defs']);
const KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'minimum',
  'maximum',
  'pattern',
  '$ref',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

function resolveRef(root: Schema, ref: string): Schema {
  const m = /^#\/\$defs\/([A-Za-z0-9_-]+)$/.exec(ref);
  const defs = root.$defs as Record<string, Schema> | undefined;
  const target = m ? defs?.[m[1]!] : undefined;
  if (!target) throw new Error(`schema: unsupported or dangling $ref '${ref}'`);
  return target;
}

/** Validates `value` against `schema`; returns the errors, each with its JSON path ([] = valid). */
export function validate(schema: Schema, value: unknown): string[] {
  const errors: string[] = [];
  check(schema, schema, value, '$', errors);
  return errors;
}

function check(root: Schema, schema: Schema, v: unknown, path: string, errors: string[]): void {
  for (const k of Object.keys(schema)) {
    if (!KEYWORDS.has(k) && !ANNOTATIONS.has(k))
      throw new Error(`schema at ${path}: unsupported keyword '${k}'`);
  }
  if (typeof schema.$ref === 'string') {
    check(root, resolveRef(root, schema.$ref), v, path, errors);
    return;
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => typeMatches(v, t))) {
      errors.push(`${path}: expected ${types.join(' or ')}, found ${typeOf(v)}`);
      return;
    }
  }
  if ('const' in schema && JSON.stringify(v) !== JSON.stringify(schema.const)) {
    errors.push(`${path}: expected ${JSON.stringify(schema.const)}, found ${JSON.stringify(v)}`);
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
    errors.push(`${path}: ${JSON.stringify(v)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if (typeof v === 'number') {
    if (typeof schema.minimum === 'number' && v < schema.minimum)
      errors.push(`${path}: ${v} < ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && v > schema.maximum)
      errors.push(`${path}: ${v} > ${schema.maximum}`);
  }
  if (
    typeof v === 'string' &&
    typeof schema.pattern === 'string' &&
    !new RegExp(schema.pattern, 'u').test(v)
  ) {
    errors.push(`${path}: '${v}' does not match /${schema.pattern}/`);
  }
  if (Array.isArray(v) && schema.items !== undefined) {
    for (const [i, item] of v.entries()) check(root, schema.items as Schema, item, `${path}[${i}]`, errors);
  }
  if (typeOf(v) === 'object') {
    const obj = v as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const r of (schema.required ?? []) as string[]) {
      if (!(r in obj)) errors.push(`${path}: missing required property '${r}'`);
    }
    for (const [k, val] of Object.entries(obj)) {
      const p = props[k];
      if (p) check(root, p, val, `${path}.${k}`, errors);
      else if (schema.additionalProperties === false) errors.push(`${path}: unexpected property '${k}'`);
      else if (typeof schema.additionalProperties === 'object')
        check(root, schema.additionalProperties as Schema, val, `${path}.${k}`, errors);
    }
  }
}
