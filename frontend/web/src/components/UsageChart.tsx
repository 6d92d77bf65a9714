import { useEffect, useRef } from 'react';
import uPlot, { type AlignedData, type Options } from 'uplot';
import 'uplot/dist/uPlot.min.css';

/**
 * One usage chart, drawn by uPlot (a small canvas charting library, loaded with this chunk
 * only when the usage page shows a chart). The x axis is a list of labels (days, or models);
 * each series has a value per label. `stacked` bars pile the series up (each bar drawn from 0
 * to its running total, the tallest first, so each series shows as its own band).
 */
export interface ChartSeries {
  label: string;
  values: Array<number | null>;
}

export interface UsageChartProps {
  labels: string[];
  series: ChartSeries[];
  kind: 'bars' | 'lines';
  stacked?: boolean;
  /** How a y value reads: on the axis and in the legend. */
  format: (value: number) => string;
  height?: number;
  /** The chart's accessible name. */
  title: string;
  /** What the x labels are, for the legend ("Day", "Model"). */
  xLabel: string;
}

const PALETTE = [
  '#10a37f',
  '#3b82f6',
  '#f59e0b',
  '#ef4444',
  '#8b5cf6',
  '#ec4899',
  '#14b8a6',
  '#64748b',
  '#84cc16',
  '#f97316',
];

export function colorOf(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

export default function UsageChart({
  labels,
  series,
  kind,
  stacked = false,
  format,
  height = 220,
  title,
  xLabel,
}: UsageChartProps) {
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const x = labels.map((_, i) => i);
    // Stacked: each series holds its running total; drawn from the last (tallest) down.
    const totals = stacked ? runningTotals(series) : series.map((s) => s.values);
    const bars = uPlot.paths.bars?.({ size: [0.7, 48], align: 0 });
    // Bars are drawn tallest first, so each shorter one stays in view in front of it: the
    // stacked running totals, and percentiles (p99 behind p90 behind p50).
    const order = series.map((_, i) => i);
    if (kind === 'bars') order.reverse();
    const days = labels.every((l) => /^\d{4}-\d{2}-\d{2}$/.test(l));
    const options: Options = {
      width: Math.max(200, element.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: false, range: [-0.5, Math.max(0.5, labels.length - 0.5)] },
        // Amounts start at 0, so bars are read by their height.
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        {
          // Whole steps only, far enough apart for a label each.
          incrs: [1, 2, 3, 5, 7, 10, 14, 21, 30, 60, 90, 180, 365],
          space: days ? 48 : 80,
          values: (_u, ticks) =>
            ticks.map((t) => {
              const label = Number.isInteger(t) ? (labels[t] ?? '') : '';
              return days ? label.slice(5) : label;
            }),
          stroke: 'currentColor',
          grid: { show: false },
        },
        {
          values: (_u, ticks) => ticks.map((t) => format(t)),
          stroke: 'currentColor',
          size: 70,
        },
      ],
      series: [
        { label: xLabel, value: (_u, v) => (v === null ? '' : (labels[v] ?? '')) },
        ...order.map((i) => ({
          label: series[i]!.label,
          stroke: colorOf(i),
          fill: kind === 'bars' ? colorOf(i) : undefined,
          width: kind === 'bars' ? 0 : 2,
          paths: kind === 'bars' ? bars : undefined,
          points: { show: kind === 'lines' && labels.length < 40 },
          // The legend shows the series' own value, not its running total.
          value: (_u: uPlot, _v: number | null, _s: number, idx: number | null) => {
            const own = idx === null ? null : (series[i]!.values[idx] ?? null);
            return own === null ? '–' : format(own);
          },
        })),
      ],
    };
    const data = [x, ...order.map((i) => totals[i]!)] as AlignedData;
    const chart = new uPlot(options, data, element);
    const resize = new ResizeObserver(() => {
      chart.setSize({ width: Math.max(200, element.clientWidth), height });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [labels, series, kind, stacked, format, height, xLabel]);

  return <div className="usage-chart" ref={host} role="img" aria-label={title} />;
}

/** Each series' running total over the ones before it (nulls count as 0). */
function runningTotals(series: ChartSeries[]): Array<Array<number | null>> {
  const sums: number[] = [];
  return series.map((s) =>
    s.values.map((v, i) => {
      sums[i] = (sums[i] ?? 0) + (v ?? 0);
      return sums[i];
    }),
  );
}
