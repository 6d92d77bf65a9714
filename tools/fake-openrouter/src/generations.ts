/**
 * OpenRouter's `GET /api/v1/generation?id=<gen-…>` ("get a generation"): what a completion
 * cost and counted, recorded by the fake for every completion it served (finished, cut by an
 * error, or cancelled by the client, which OpenRouter also charges). The shape is OpenRouter's
 * `{ data: {...} }` with its snake_case fields; the fake fills what it knows and sends null or
 * 0 for the rest (media counts, moderation latency, app id…).
 *
 * As on OpenRouter, a generation's statistics appear a moment after the stream ends: until
 * `statsdelay` ms have passed the route answers 404 `Generation not found`. It answers the key
 * that made the request only (another key gets the same 404).
 */
import type { UsageBody } from './sse.js';

export interface GenerationStats {
  id: string;
  model: string;
  provider: string;
  usage: UsageBody;
  streamed: boolean;
  cancelled: boolean;
  finishReason: string | null;
  /** ms from the request to the first token (OpenRouter's `latency`). */
  latencyMs: number;
  /** ms of generation (OpenRouter's `generation_time`). */
  generationMs: number;
  createdAt: Date;
}

interface Stored {
  stats: GenerationStats;
  apiKey: string;
  /** Date.now() from which the statistics are served. */
  availableAt: number;
}

/** Generations remembered at most; the oldest are forgotten first. */
const MAX_STORED = 10_000;

export function createGenerationStore() {
  const stored = new Map<string, Stored>();
  return {
    record(stats: GenerationStats, apiKey: string, delayMs: number): void {
      stored.set(stats.id, { stats, apiKey, availableAt: Date.now() + delayMs });
      if (stored.size > MAX_STORED) stored.delete(stored.keys().next().value!);
    },
    /** The `data` object for this key, or null when unknown (or not yet available). */
    lookup(id: string, apiKey: string): Record<string, unknown> | null {
      const entry = stored.get(id);
      if (!entry || entry.apiKey !== apiKey || Date.now() < entry.availableAt) return null;
      return generationData(entry.stats);
    },
  };
}

export type GenerationStore = ReturnType<typeof createGenerationStore>;

/** OpenRouter's generation object, as its API reference lists the fields. */
export function generationData(s: GenerationStats): Record<string, unknown> {
  const u = s.usage;
  return {
    id: s.id,
    upstream_id: `chatcmpl-fake-${s.id.slice(-12)}`,
    total_cost: u.cost,
    cache_discount: null,
    upstream_inference_cost: null,
    created_at: s.createdAt.toISOString(),
    model: s.model,
    app_id: null,
    streamed: s.streamed,
    cancelled: s.cancelled,
    provider_name: s.provider,
    latency: s.latencyMs,
    moderation_latency: null,
    generation_time: s.generationMs,
    finish_reason: s.finishReason,
    native_finish_reason: s.finishReason,
    // The fake has one tokenizer: normalized and native counts are the same.
    tokens_prompt: u.prompt_tokens,
    tokens_completion: u.completion_tokens,
    native_tokens_prompt: u.prompt_tokens,
    native_tokens_completion: u.completion_tokens,
    native_tokens_completion_images: 0,
    native_tokens_reasoning: u.completion_tokens_details.reasoning_tokens,
    native_tokens_cached: u.prompt_tokens_details.cached_tokens,
    num_media_prompt: null,
    num_input_audio_prompt: null,
    num_media_completion: 0,
    num_search_results: 0,
    origin: '',
    usage: u.cost,
    is_byok: false,
    external_user: null,
    api_type: 'completions',
    router: null,
  };
}
