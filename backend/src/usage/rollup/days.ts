/**
 * Days of the usage rollup: UTC days numbered from 1970-01-01 (`epoch_ms(created_at) //
 * 86400000` in SQL), and when one may be summed for good.
 */
export const DAY_MS = 86_400_000;

/**
 * A day is closed (summed into the rollup) only once this long has passed since its end, and
 * a write to a row of an earlier day than the writer's own marks that day dirty. Between the
 * two, a write decided before midnight but run after it (its transaction waited in the
 * writer's queue, or a turn was stamped before it was inserted) still lands before its day is
 * summed, provided it waited less than this: queue waits are milliseconds to seconds.
 */
export const GRACE_MS = 10 * 60_000;

/** The day an instant (ms since the epoch) falls on. */
export function dayNumber(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** The day of an ISO instant, or of a Date. */
export function dayOf(at: string | Date): number {
  return dayNumber(typeof at === 'string' ? Date.parse(at) : at.getTime());
}

/**
 * The days of rows that may have been created at `earliestMs` or later, written at `nowMs`,
 * that come before the writer's day: those a write must mark dirty (usually none).
 */
export function earlierDays(earliestMs: number, nowMs: number): number[] {
  const days: number[] = [];
  for (let d = dayNumber(earliestMs); d < dayNumber(nowMs); d++) days.push(d);
  return days;
}
