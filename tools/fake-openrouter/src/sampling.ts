/**
 * The generation parameters of a chat completion request, checked as OpenRouter's API checks
 * them (its chat completions reference): `temperature` a number in [0, 2], `top_p` in [0, 1],
 * `max_tokens` an integer of at least 1, and the unified `reasoning` object (effort one of
 * xhigh, high, medium, low, minimal, none; `max_tokens` an integer; `exclude` and `enabled`
 * booleans; https://openrouter.ai/docs/use-cases/reasoning-tokens). A bad one is a 400, as
 * upstream. The fake otherwise ignores them: the answer does not depend on them, and tests
 * read what was sent from `fake.requests`.
 */
import { errorBody, type ErrorBody } from './errors.js';

export const REASONING_EFFORTS: ReadonlySet<string> = new Set([
  'xhigh',
  'high',
  'medium',
  'low',
  'minimal',
  'none',
]);

const invalid = (message: string) => errorBody(400, `Invalid request: ${message}`);

function inRange(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}

function positiveInteger(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}

export function validateSampling(body: Record<string, unknown>): ErrorBody | null {
  const { temperature, top_p: topP, max_tokens: maxTokens, reasoning } = body;
  if (temperature !== undefined && !inRange(temperature, 0, 2)) {
    return invalid('"temperature" must be a number between 0 and 2.');
  }
  if (topP !== undefined && !inRange(topP, 0, 1)) {
    return invalid('"top_p" must be a number between 0 and 1.');
  }
  if (maxTokens !== undefined && !positiveInteger(maxTokens)) {
    return invalid('"max_tokens" must be an integer of at least 1.');
  }
  if (reasoning === undefined) return null;
  if (typeof reasoning !== 'object' || reasoning === null || Array.isArray(reasoning)) {
    return invalid('"reasoning" must be an object.');
  }
  const r = reasoning as Record<string, unknown>;
  if (
    r.effort !== undefined &&
    !(typeof r.effort === 'string' && REASONING_EFFORTS.has(r.effort))
  ) {
    return invalid(
      '"reasoning.effort" must be one of "xhigh", "high", "medium", "low", "minimal", "none".',
    );
  }
  if (r.max_tokens !== undefined && !positiveInteger(r.max_tokens)) {
    return invalid('"reasoning.max_tokens" must be an integer of at least 1.');
  }
  if (r.effort !== undefined && r.max_tokens !== undefined) {
    return invalid('"reasoning" takes "effort" or "max_tokens", not both.');
  }
  for (const flag of ['exclude', 'enabled'] as const) {
    if (r[flag] !== undefined && typeof r[flag] !== 'boolean') {
      return invalid(`"reasoning.${flag}" must be a boolean.`);
    }
  }
  return null;
}
