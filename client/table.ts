// kubectl-style tables: upper-case headers, columns padded by three spaces.
import type { Condition } from '../api/meta.js';

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

// describe's building blocks: `Key:   value` lines, indented blocks, a conditions table.
export const fields = (pairs: [string, string | undefined][]) => {
  const w = Math.max(...pairs.map(([k]) => k.length)) + 2;
  return pairs.filter(([, v]) => v !== undefined).map(([k, v]) => `${`${k}:`.padEnd(w)}${v}`);
};
export const indent = (text: string) => text.split('\n').map((l) => `  ${l}`);

export function conditionsTable(conditions: Condition[]): string[] {
  if (!conditions.length) return ['Conditions:   <none>'];
  return ['Conditions:', ...indent(renderTable(['TYPE', 'STATUS', 'REASON', 'MESSAGE', 'LAST TRANSITION'], conditions.map((c) => [c.type, c.status, c.reason, c.message, c.lastTransitionTime])))];
}
