import type { Model } from '../api/types';

/** What the model picker filters the catalog by; null or false: no limit. */
export interface ModelFilters {
  /** Words that must all appear in the name or id (any case). */
  query: string;
  freeOnly: boolean;
  /** Input modalities the model must take. */
  image: boolean;
  file: boolean;
  /** Supported parameters the model must have. */
  tools: boolean;
  reasoning: boolean;
  /** Tokens. */
  minContext: number | null;
  /** USD per million input / output tokens. */
  maxPromptPrice: number | null;
  maxCompletionPrice: number | null;
}

export const NO_FILTERS: ModelFilters = {
  query: '',
  freeOnly: false,
  image: false,
  file: false,
  tools: false,
  reasoning: false,
  minContext: null,
  maxPromptPrice: null,
  maxCompletionPrice: null,
};

/** USD per million tokens of OpenRouter's per-token price string; null when unreadable. */
export function perMillion(perToken: string): number | null {
  const n = Number(perToken);
  return perToken.trim() === '' || !Number.isFinite(n) || n < 0 ? null : n * 1_000_000;
}

export function isFree(model: Model): boolean {
  return perMillion(model.pricing.prompt) === 0 && perMillion(model.pricing.completion) === 0;
}

/** Within a price limit; a price that cannot be read fails any limit. */
function within(perToken: string, max: number | null): boolean {
  if (max === null) return true;
  const price = perMillion(perToken);
  // A hair of slack: 0.15 per million is 1.5e-7 per token, which floats make 0.15000000000000002.
  return price !== null && price <= max + 1e-9;
}

export function matchesFilters(model: Model, filters: ModelFilters): boolean {
  const words = filters.query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length > 0) {
    const haystack = `${model.name} ${model.id}`.toLowerCase();
    if (!words.every((w) => haystack.includes(w))) return false;
  }
  if (filters.freeOnly && !isFree(model)) return false;
  if (filters.image && !model.inputModalities.includes('image')) return false;
  if (filters.file && !model.inputModalities.includes('file')) return false;
  if (filters.tools && !model.supportedParameters.includes('tools')) return false;
  if (filters.reasoning && !model.supportedParameters.includes('reasoning')) return false;
  if (filters.minContext !== null && (model.contextLength ?? 0) < filters.minContext) return false;
  return (
    within(model.pricing.prompt, filters.maxPromptPrice) &&
    within(model.pricing.completion, filters.maxCompletionPrice)
  );
}

/** The models that pass the filters, favourites first; each group keeps the catalog's order. */
export function pickerList(
  models: Model[],
  filters: ModelFilters,
  favorites: readonly string[],
): Model[] {
  const starred = new Set(favorites);
  const passing = models.filter((m) => matchesFilters(m, filters));
  return [
    ...passing.filter((m) => starred.has(m.id)),
    ...passing.filter((m) => !starred.has(m.id)),
  ];
}

/** How many filters other than the search words are on. */
export function activeFilterCount(filters: ModelFilters): number {
  return [
    filters.freeOnly,
    filters.image,
    filters.file,
    filters.tools,
    filters.reasoning,
    filters.minContext !== null,
    filters.maxPromptPrice !== null,
    filters.maxCompletionPrice !== null,
  ].filter(Boolean).length;
}

/** "128K", "1M" tokens of context; "—" when unknown. */
export function contextLabel(tokens: number | null): string {
  if (tokens === null || tokens <= 0) return '—';
  if (tokens >= 1_000_000) return `${Number((tokens / 1_000_000).toFixed(1))}M`;
  if (tokens >= 1000) return `${Math.round(tokens / 1000)}K`;
  return String(tokens);
}
