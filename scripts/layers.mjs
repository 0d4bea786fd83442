#!/usr/bin/env node
// The layer check: every import in src/ goes down the layer order, and no module imports itself
// back through a circle. Fails (exit 1) and prints each offending edge.
//
//   der <- x509 <- trust <- verify <- tls <- client <- diagnose <- cli
//
// A module may import from its own layer or from any layer to its left. `errors.ts` is imported
// by all and imports nothing. `index.ts` (the main entry) and `testing/` (`certainly/testing`)
// are entries: nothing in src/ imports them, except the `certainly demo` command (cli/), which
// uses the test-PKI factory from testing/. Type-only imports count: a type import going up is
// still a dependency going up.
//
// Usage: node scripts/layers.mjs [--root DIR]   (DIR defaults to ./src)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ORDER = ['der', 'x509', 'trust', 'verify', 'tls', 'client', 'diagnose', 'cli'];

/**
 * Known violations, each with its owner, that the check tolerates for now. This list must shrink
 * to empty: remove a line when its edge is gone (a listed edge that no longer exists fails too,
 * so the list cannot go stale). Format: 'from -> to' (paths relative to src/).
 */
export const ALLOWED = [];

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Removes comments and the contents of template literals' text so specifiers in prose don't count. */
function stripComments(source) {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

const SPECIFIER = [
  // import x from '…'; import type { x } from '…'; export { x } from '…'; export * from '…'
  /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g,
  // import '…' (side effect)
  /\bimport\s*['"]([^'"]+)['"]/g,
  // import('…') (dynamic), also in types: typeof import('…')
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

/** The relative specifiers a TypeScript source imports or re-exports. */
export function specifiers(source) {
  const text = stripComments(source);
  const found = new Set();
  for (const re of SPECIFIER) for (const m of text.matchAll(re)) found.add(m[1]);
  return [...found].filter((s) => s.startsWith('.'));
}

/** Where a module sits: a layer index, 'errors', 'index', 'testing', or 'other' (a file we don't know). */
export function layerOf(rel) {
  const parts = rel.split('/');
  if (parts.length === 1) {
    if (rel === 'errors.ts') return 'errors';
    if (rel === 'index.ts') return 'index';
    return 'other';
  }
  if (parts[0] === 'testing') return 'testing';
  const i = ORDER.indexOf(parts[0]);
  return i === -1 ? 'other' : i;
}

/** Why the edge from → to breaks the layer rules, or undefined when it is allowed. */
function ruleBroken(from, to) {
  const a = layerOf(from);
  const b = layerOf(to);
  if (a === 'other') return `src/${from} is in no layer (add its folder to the order in scripts/layers.mjs)`;
  if (a === 'errors') return 'errors.ts imports nothing';
  if (b === 'index') return 'index.ts is the main entry; nothing in src/ imports it';
  if (b === 'testing') {
    if (a === 'testing' || (typeof a === 'number' && ORDER[a] === 'cli')) return undefined;
    return 'testing/ is the certainly/testing entry; only cli/ (the demo) and testing/ import it';
  }
  if (b === 'errors' || a === 'index' || a === 'testing') return undefined;
  if (b === 'other') return `src/${to} is in no layer`;
  if (b > a) return `${ORDER[a]} is below ${ORDER[b]}: imports go down der <- x509 <- … <- cli, never up`;
  return undefined;
}

/** The module graph of a source tree: file (relative to root, '/'-separated) → imported files. */
export function graph(root) {
  const edges = new Map();
  for (const file of walk(root)) {
    const rel = relative(root, file).split(sep).join('/');
    const targets = [];
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      const abs = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      const to = relative(root, abs).split(sep).join('/');
      if (to.startsWith('..')) continue; // outside the tree (e.g. package.json)
      targets.push(to);
    }
    edges.set(rel, targets);
  }
  return edges;
}

/** Every circle in the graph, each as the list of files around it (each circle reported once). */
export function circles(edges) {
  const found = [];
  const seen = new Set();
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  let counter = 0;
  // Tarjan's strongly connected components: every component of more than one file (or a file
  // that imports itself) is a circle.
  const strong = (v) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!edges.has(w)) continue;
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v) && !seen.has(v)) strong(v);
  return found;
}

/** The edges of one circle that lie on it (from → to, both in the circle). */
function edgesIn(component, edges) {
  const members = new Set(component);
  const out = [];
  for (const from of component)
    for (const to of edges.get(from) ?? []) if (members.has(to)) out.push(`${from} -> ${to}`);
  return out;
}

/** All problems in a tree: { upward: [{edge, why}], circles: [[edge…]], stale: [edge] }. */
export function check(root, allowed = ALLOWED) {
  const edges = graph(root);
  const allow = new Set(allowed);
  const used = new Set();
  const upward = [];
  for (const [from, targets] of [...edges].sort(([a], [b]) => a.localeCompare(b))) {
    for (const to of targets) {
      const why = ruleBroken(from, to);
      if (why === undefined) continue;
      const edge = `${from} -> ${to}`;
      if (allow.has(edge)) {
        used.add(edge);
        continue;
      }
      upward.push({ edge, why });
    }
  }
  const loops = [];
  for (const component of circles(edges)) {
    const inCircle = edgesIn(component, edges);
    if (inCircle.some((e) => allow.has(e))) {
      for (const e of inCircle) if (allow.has(e)) used.add(e);
      // A circle is tolerated only while one of its edges is listed: that edge is the one to cut.
      continue;
    }
    loops.push(inCircle);
  }
  const stale = allowed.filter((e) => !used.has(e));
  return { upward, circles: loops, stale };
}

function main() {
  const args = process.argv.slice(2);
  const at = args.indexOf('--root');
  const root = resolve(at === -1 ? 'src' : args[at + 1]);
  const allowed = args.includes('--no-allow-list') ? [] : ALLOWED;
  const { upward, circles: loops, stale } = check(root, allowed);
  for (const { edge, why } of upward) console.log(`upward import: ${edge}  (${why})`);
  for (const loop of loops) console.log(`import circle:\n  ${loop.join('\n  ')}`);
  for (const edge of stale)
    console.log(`allow-list entry no longer needed: ${edge} (remove it from scripts/layers.mjs)`);
  const files = graph(root).size;
  if (upward.length + loops.length + stale.length > 0) {
    console.log(
      `layer check failed in ${relative(process.cwd(), root) || '.'}: ${upward.length} upward import(s), ${loops.length} circle(s), ${stale.length} stale allow-list entr(y/ies)`,
    );
    process.exit(1);
  }
  const tolerated = allowed.length ? ` (${allowed.length} known violation(s) on the allow-list)` : '';
  console.log(`layer check passed: ${files} modules, imports go down ${ORDER.join(' <- ')}${tolerated}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
