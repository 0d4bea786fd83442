/** "Did you mean": the edit distance the option checks use (option-table.ts, retry.ts). */

/** Optimal string alignment distance (Levenshtein plus adjacent swaps): short names only. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row[j] = j;
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row[j] = d;
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/** The name in `names` nearest to `name`, when it is at most 2 edits away (1 for short names). */
export function nearest(name: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = name.length <= 3 ? 2 : 3;
  for (const c of names) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}
