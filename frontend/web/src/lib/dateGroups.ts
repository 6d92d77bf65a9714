/**
 * The sidebar's groups: Pinned, then by the day of last activity (local time): Today,
 * Yesterday, Previous 7 days, Previous 30 days, then one group per month ("March 2025"; the
 * year is left out for this year's months).
 */
export interface DateGroup<T> {
  label: string;
  items: T[];
}

const DAY_MS = 24 * 3600 * 1000;

function startOfDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

export function groupLabel(updatedAt: string, now: Date): string {
  const at = new Date(updatedAt);
  const today = startOfDay(now);
  const day = startOfDay(at);
  if (day >= today) return 'Today';
  // Whole days between the two dates, whatever the daylight saving change between them.
  const days = Math.round((today - day) / DAY_MS);
  if (days === 1) return 'Yesterday';
  if (days <= 7) return 'Previous 7 days';
  if (days <= 30) return 'Previous 30 days';
  return at.toLocaleDateString('en-US', {
    month: 'long',
    ...(at.getFullYear() === now.getFullYear() ? {} : { year: 'numeric' }),
  });
}

/** Groups items already in list order (pinned first, then newest first), keeping that order. */
export function groupByDate<T extends { pinned: boolean; updatedAt: string }>(
  items: readonly T[],
  now: Date,
): DateGroup<T>[] {
  const groups: DateGroup<T>[] = [];
  for (const item of items) {
    const label = item.pinned ? 'Pinned' : groupLabel(item.updatedAt, now);
    const last = groups.at(-1);
    if (last?.label === label) last.items.push(item);
    else groups.push({ label, items: [item] });
  }
  return groups;
}
