/**
 * Shaping the usage reports for the charts: a label per day of the range (days without usage
 * included, at 0), one series per model or error code.
 */
import type { DailyUsage, ErrorsUsage } from '../api/types';

export interface DaySeries {
  labels: string[];
  series: Array<{ label: string; values: Array<number | null> }>;
}

type DailyRow = DailyUsage['rows'][number];

const DAY = 86_400_000;

/** The last `days` UTC days, today included, as YYYY-MM-DD. */
export function dayRange(days: number, now: Date): { from: string; to: string } {
  const to = now.toISOString().slice(0, 10);
  const from = new Date(Date.parse(`${to}T00:00:00.000Z`) - (days - 1) * DAY);
  return { from: from.toISOString().slice(0, 10), to };
}

/** Every day from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const end = Date.parse(`${to}T00:00:00.000Z`);
  for (let t = Date.parse(`${from}T00:00:00.000Z`); t <= end && out.length < 1200; t += DAY) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

/** One series per key (the model, by default), a value per day: the sum of `value`. */
export function byDay<Row extends { day: string }>(
  rows: readonly Row[],
  from: string,
  to: string,
  value: (row: Row) => number,
  key: (row: Row) => string = (row) => (row as unknown as DailyRow).model,
): DaySeries {
  const labels = daysBetween(from, to);
  const index = new Map(labels.map((day, i) => [day, i]));
  const series = new Map<string, number[]>();
  for (const row of rows) {
    const i = index.get(row.day);
    if (i === undefined) continue;
    const k = key(row);
    let values = series.get(k);
    if (!values) series.set(k, (values = labels.map(() => 0)));
    values[i] = (values[i] ?? 0) + value(row);
  }
  return {
    labels,
    series: [...series]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([label, values]) => ({ label, values })),
  };
}

/** Errors per day, one series per error code. */
export function errorSeries(rows: ErrorsUsage['rows'], from: string, to: string): DaySeries {
  return byDay(
    rows,
    from,
    to,
    (r) => r.generations,
    (r) => r.errorCode,
  );
}

/** Totals per model over the range, costliest first. */
export function byModel(rows: readonly DailyRow[]) {
  const models = new Map<
    string,
    {
      model: string;
      generations: number;
      promptTokens: number;
      completionTokens: number;
      reasoningTokens: number;
      cachedTokens: number;
      costUsd: number;
    }
  >();
  for (const r of rows) {
    const m = models.get(r.model) ?? {
      model: r.model,
      generations: 0,
      promptTokens: 0,
      completionTokens: 0,
      reasoningTokens: 0,
      cachedTokens: 0,
      costUsd: 0,
    };
    m.generations += r.generations;
    m.promptTokens += r.promptTokens;
    m.completionTokens += r.completionTokens;
    m.reasoningTokens += r.reasoningTokens;
    m.cachedTokens += r.cachedTokens;
    m.costUsd += r.costUsd;
    models.set(r.model, m);
  }
  return [...models.values()].sort(
    (a, b) => b.costUsd - a.costUsd || a.model.localeCompare(b.model),
  );
}
