/**
 * The README's chart: hand-written SVG (no dependency), horizontal bars per client for each
 * throughput scenario, values as printed in the table. `certainly` is drawn in the accent colour.
 */

export interface ChartGroup {
  title: string;
  unit: string;
  rows: { label: string; value: number }[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderChart(groups: readonly ChartGroup[], caption: string): string {
  const width = 760;
  const labelW = 130;
  const valueW = 90;
  const barMax = width - labelW - valueW - 30;
  const rowH = 20;
  const groupGap = 34;
  let y = 34;
  const parts: string[] = [];
  for (const g of groups) {
    const max = Math.max(1, ...g.rows.map((r) => r.value));
    parts.push(`<text x="10" y="${y}" class="t">${esc(g.title)}</text>`);
    y += 10;
    for (const r of g.rows) {
      const w = Math.max(1, Math.round((r.value / max) * barMax));
      const accent = r.label === 'certainly';
      parts.push(
        `<text x="${labelW}" y="${y + 14}" class="l" text-anchor="end">${esc(r.label)}</text>`,
        `<rect x="${labelW + 8}" y="${y + 3}" width="${w}" height="${rowH - 6}" rx="2" class="${accent ? 'a' : 'b'}"/>`,
        `<text x="${labelW + 14 + w}" y="${y + 14}" class="v">${Math.round(r.value).toLocaleString('en-US')} ${esc(g.unit)}</text>`,
      );
      y += rowH;
    }
    y += groupGap;
  }
  const height = y - groupGap + 28;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(caption)}">`,
    '<style>',
    '.t{font:600 14px sans-serif;fill:#222}.l{font:12px sans-serif;fill:#333}.v{font:11px sans-serif;fill:#555}',
    '.a{fill:#1f6feb}.b{fill:#9aa4b2}.c{font:11px sans-serif;fill:#777}',
    '</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...parts,
    `<text x="10" y="${height - 10}" class="c">${esc(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
