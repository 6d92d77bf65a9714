/** USD as people read it: $12.50; amounts below a cent keep two significant digits ($0.0042). */
export function usd(amount: number): string {
  if (amount !== 0 && Math.abs(amount) < 0.01) return `$${amount.toPrecision(2)}`;
  return `$${amount.toFixed(2)}`;
}

/**
 * A limit typed by an admin: "" is no limit (null), otherwise a non-negative number of
 * dollars ("12", "12.5", "$12.50"); undefined when it is neither.
 */
export function parseLimit(text: string): number | null | undefined {
  const trimmed = text.trim().replace(/^\$/, '');
  if (trimmed === '') return null;
  if (!/^\d+(\.\d+)?$/.test(trimmed)) return undefined;
  return Number(trimmed);
}
