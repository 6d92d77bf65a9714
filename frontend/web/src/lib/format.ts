import type { Model } from '../api/types';

function trimNumber(value: number, decimals: number): string {
  return String(Number(value.toFixed(decimals)));
}

/** USD per token (OpenRouter's string) -> "$3" / "$0.15" per million tokens. */
export function pricePerMillion(perToken: string): string {
  const n = Number(perToken);
  if (perToken.trim() === '' || !Number.isFinite(n) || n < 0) return '—';
  if (n === 0) return 'free';
  const perMillion = n * 1_000_000;
  if (perMillion < 0.01) return `$${perMillion.toPrecision(2)}`;
  return `$${trimNumber(perMillion, perMillion < 1 ? 3 : 2)}`;
}

/** "in $3 · out $15 / M tokens", or "free". */
export function modelPriceLabel(model: Model): string {
  const prompt = pricePerMillion(model.pricing.prompt);
  const completion = pricePerMillion(model.pricing.completion);
  if (prompt === 'free' && completion === 'free') return 'free';
  return `${prompt} in · ${completion} out /M`;
}

export function formatCost(cost: number | null | undefined): string | null {
  if (cost === null || cost === undefined || !Number.isFinite(cost)) return null;
  if (cost === 0) return '$0';
  if (cost < 0.0001) return '<$0.0001';
  if (cost < 1) return `$${cost.toFixed(4)}`;
  return `$${cost.toFixed(2)}`;
}

/** One formatter for all: toLocaleString makes a new one per call, slow for a long conversation. */
const TOKENS = new Intl.NumberFormat('en-US');

export function formatTokens(n: number): string {
  return TOKENS.format(n);
}

/** A conversation title from the first message: its first line, shortened. */
export function titleFrom(content: string): string {
  const line = content.trim().split('\n')[0]?.trim() ?? '';
  if (line.length <= 60) return line || 'New chat';
  return `${line.slice(0, 57).trimEnd()}…`;
}

/** A file's size for people: 68 B, 1.5 KB, 10 MB (binary units, as the limits are set). */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const [value, unit] = bytes < 1024 * 1024 ? [bytes / 1024, 'KB'] : [bytes / (1024 * 1024), 'MB'];
  return `${value < 10 ? Number(value.toFixed(1)) : Math.round(value)} ${unit}`;
}
