/**
 * Writes a generated block into README.md between `<!-- NAME:start -->` and `<!-- NAME:end -->`,
 * for the benchmark and comparison scripts that keep their figures there (bench:startup,
 * bench:memory, bench:cli-download, bench:check-fleet, system-store). Without the markers it
 * writes nothing and says so on stderr.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `who` prefixes the one line reporting what happened ('bench:memory'). */
export function writeReadmeBlock(name: string, block: string, who: string): void {
  const readme = fileURLToPath(new URL('../../README.md', import.meta.url)); // from build/scripts/
  const text = readFileSync(readme, 'utf8');
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) {
    process.stderr.write(`${who}: README.md has no ${name} markers; nothing written\n`);
    return;
  }
  writeFileSync(readme, `${text.slice(0, a + start.length)}\n${block}\n${text.slice(b)}`);
  process.stdout.write(`${who}: README.md updated\n`);
}
