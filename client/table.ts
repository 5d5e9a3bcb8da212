// kubectl-style tables: upper-case headers, columns padded by three spaces.
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = columnWidths(headers, rows);
  return [formatLine(headers, widths), ...rows.map((r) => formatLine(r, widths))].join('\n');
}

export function columnWidths(headers: string[], rows: string[][]): number[] {
  return headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
}

/** One line of a table; `get -w` keeps the first listing's widths for the lines that follow. */
export function formatLine(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3))).join('').trimEnd();
}

/** kubectl's AGE column: 45s, 12m, 3h, 2d. */
export function age(since: Date | undefined, now = new Date()): string {
  if (!since) return '<unknown>';
  const s = Math.max(0, Math.floor((now.getTime() - since.getTime()) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}
