import { describe, expect, it } from 'vitest';
import { byDay, byModel, dayRange, daysBetween, errorSeries } from './usage';

const row = (day: string, model: string, costUsd: number, promptTokens = 1) => ({
  day,
  model,
  generations: 1,
  promptTokens,
  completionTokens: 2,
  reasoningTokens: 0,
  cachedTokens: 0,
  costUsd,
  estimatedCostUsd: 0,
});

describe('usage shaping', () => {
  it('the last n UTC days, today included', () => {
    expect(dayRange(3, new Date('2026-03-01T05:00:00Z'))).toEqual({
      from: '2026-02-27',
      to: '2026-03-01',
    });
    expect(daysBetween('2026-02-27', '2026-03-01')).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
    ]);
  });

  it('a series per model with a value for every day, empty days at 0', () => {
    const rows = [
      row('2026-01-01', 'b', 1),
      row('2026-01-03', 'a', 2),
      row('2026-01-03', 'b', 0.5),
    ];
    expect(byDay(rows, '2026-01-01', '2026-01-03', (r) => r.costUsd)).toEqual({
      labels: ['2026-01-01', '2026-01-02', '2026-01-03'],
      series: [
        { label: 'a', values: [0, 0, 2] },
        { label: 'b', values: [1, 0, 0.5] },
      ],
    });
  });

  it('errors per code, totals per model costliest first', () => {
    const errors = errorSeries(
      [
        { day: '2026-01-01', model: 'a', errorCode: 'x', generations: 2 },
        { day: '2026-01-01', model: 'b', errorCode: 'x', generations: 1 },
        { day: '2026-01-02', model: 'a', errorCode: 'y', generations: 4 },
      ],
      '2026-01-01',
      '2026-01-02',
    );
    expect(errors.series).toEqual([
      { label: 'x', values: [3, 0] },
      { label: 'y', values: [0, 4] },
    ]);
    const models = byModel([row('d', 'a', 1, 5), row('e', 'a', 2, 7), row('d', 'b', 4)]);
    expect(models.map((m) => [m.model, m.generations, m.promptTokens, m.costUsd])).toEqual([
      ['b', 1, 1, 4],
      ['a', 2, 12, 3],
    ]);
  });
});
