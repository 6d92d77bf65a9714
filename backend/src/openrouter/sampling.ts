import type { SamplingParams } from './types.js';

/**
 * A request's generation parameters in OpenRouter's names (its chat completions reference):
 * `temperature`, `top_p`, `max_tokens`, and the effort as `reasoning: { effort }` (OpenRouter's
 * unified reasoning object, https://openrouter.ai/docs/use-cases/reasoning-tokens). Nothing for
 * what is unset, so the model's defaults apply.
 */
export function samplingBody(params: SamplingParams | undefined): Record<string, unknown> {
  if (!params) return {};
  const body: Record<string, unknown> = {};
  if (params.temperature !== undefined) body.temperature = params.temperature;
  if (params.topP !== undefined) body.top_p = params.topP;
  if (params.maxTokens !== undefined) body.max_tokens = params.maxTokens;
  if (params.reasoningEffort !== undefined) body.reasoning = { effort: params.reasoningEffort };
  return body;
}
