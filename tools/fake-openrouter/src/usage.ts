import type { FakeModelPricing } from './models.js';
import type { UsageBody } from './sse.js';

export interface UsageInput {
  /** Total characters of every message's text content. */
  inputChars: number;
  contentTokens: number;
  reasoningTokens: number;
  cachedTokens: number;
  pricing: FakeModelPricing;
}

function price(value: string | undefined): number {
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

/** Rounds away float noise (0.1 + 0.2) the way a currency amount would be reported. */
function money(value: number): number {
  return Number(value.toPrecision(12));
}

/**
 * Usage as OpenRouter reports it: prompt_tokens = ceil(chars / 4), completion_tokens = content
 * chunks + reasoning chunks (reasoning counts as completion, as with real reasoning models), cost
 * from the model's pricing (cached prompt tokens at the cache-read price when there is one).
 */
export function computeUsage(input: UsageInput): UsageBody {
  const promptTokens = Math.max(1, Math.ceil(input.inputChars / 4));
  const cached = Math.min(input.cachedTokens, promptTokens);
  const completionTokens = input.contentTokens + input.reasoningTokens;
  const promptPrice = price(input.pricing.prompt);
  const cacheReadPrice =
    input.pricing.input_cache_read === undefined
      ? promptPrice
      : price(input.pricing.input_cache_read);
  const promptCost = money((promptTokens - cached) * promptPrice + cached * cacheReadPrice);
  const completionCost = money(
    input.contentTokens * price(input.pricing.completion) +
      input.reasoningTokens *
        (price(input.pricing.internal_reasoning) || price(input.pricing.completion)),
  );
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    cost: money(promptCost + completionCost + price(input.pricing.request)),
    is_byok: false,
    prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
    cost_details: {
      upstream_inference_cost: null,
      upstream_inference_prompt_cost: promptCost,
      upstream_inference_completions_cost: completionCost,
    },
    completion_tokens_details: { reasoning_tokens: input.reasoningTokens, image_tokens: 0 },
  };
}
