/** Calendar months in UTC: budgets reset at 00:00 UTC on the first of each month. */
export interface Month {
  /** e.g. "2026-12" */
  key: string;
  /** ISO 8601: the first instant of the month. */
  start: string;
  /** ISO 8601: the first instant of the next month (exclusive end). */
  end: string;
}

export function monthOf(at: Date): Month {
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  const start = new Date(Date.UTC(year, month, 1));
  const end = new Date(Date.UTC(year, month + 1, 1));
  return {
    key: start.toISOString().slice(0, 7),
    start: start.toISOString(),
    end: end.toISOString(),
  };
}
