import { round } from './stats';

/** One target from the benchmark issue, checked against a figure of this run. */
export interface TargetCheck {
  readonly id: string;
  readonly description: string;
  /** The measured value, in `unit`. */
  readonly value: number;
  readonly unit: string;
  /** Pass when value <= limit (`max`) or value >= limit (`min`). */
  readonly limit: number;
  readonly kind: 'max' | 'min';
  readonly pass: boolean;
}

export function check(
  id: string,
  description: string,
  value: number,
  unit: string,
  kind: 'max' | 'min',
  limit: number,
): TargetCheck {
  const pass = Number.isFinite(value) && (kind === 'max' ? value <= limit : value >= limit);
  return { id, description, value, unit, limit, kind, pass };
}

/** One row of the printed table. */
export interface Row {
  readonly figure: string;
  readonly subject: string;
  readonly measured: string;
  readonly target?: string;
  /** PASS, MISS, or empty for figures without a target. */
  readonly result?: string;
}

export function targetRow(
  figure: string,
  subject: string,
  measured: string,
  t: TargetCheck | undefined,
): Row {
  if (!t) return { figure, subject, measured };
  const sign = t.kind === 'max' ? '≤' : '≥';
  return {
    figure,
    subject,
    measured,
    target: `${t.description} ${sign} ${t.limit}${t.unit}`,
    result: t.pass ? 'PASS' : 'MISS',
  };
}

/** A markdown table (pipes aligned), so the same text reads in a terminal and in docs/performance.md. */
export function renderTable(rows: readonly Row[]): string {
  const header: Row = {
    figure: 'Fig',
    subject: 'Case',
    measured: 'Measured',
    target: 'Target',
    result: 'Check',
  };
  const cells = [header, ...rows].map((r) => [
    r.figure,
    r.subject,
    r.measured,
    r.target ?? '',
    r.result ?? '',
  ]);
  const widths = cells[0].map((_, col) => Math.max(...cells.map((c) => [...c[col]].length)));
  const line = (c: string[]) =>
    `| ${c.map((v, col) => v + ' '.repeat(widths[col] - [...v].length)).join(' | ')} |`;
  const rule = `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`;
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join('\n');
}

/** Formats a number for the table: n/a for NaN. */
export function fmt(value: number, digits = 2): string {
  return Number.isFinite(value) ? String(round(value, digits)) : 'n/a';
}
