import type { ChatMessage, Usage } from '../openrouter/types.js';

/**
 * Where a generation row's figures (tokens, cost) came from (generations.usage_source):
 * `stream`: the stream's final usage chunk; `openrouter`: OpenRouter's GET /generation, asked
 * afterwards (usage/fill.ts) because the stream lacked them; `estimate`: neither had them yet
 * (or ever): tokens from the text's length, cost from the catalog's price of the day.
 */
export type UsageSource = 'stream' | 'openrouter' | 'estimate';

/** What an upstream call was for (generations.purpose): the usage page's "kind". */
export const GENERATION_KINDS = ['answer', 'regenerate', 'continue', 'compare', 'title'] as const;
export type GenerationKind = (typeof GENERATION_KINDS)[number];

/** A token is about four characters of English text (OpenAI's and OpenRouter's rule of thumb). */
export function estimateTokens(characters: number): number {
  return Math.ceil(characters / 4);
}

/**
 * The characters of text sent: a message's text, or the text parts of its content parts.
 * Images and files are left out (their tokens are the provider's to count): an estimate of a
 * call with attachments is low, and marked as an estimate like any other.
 */
export function promptCharacters(messages: readonly ChatMessage[]): number {
  let characters = 0;
  for (const { content } of messages) {
    if (typeof content === 'string') characters += content.length;
    else for (const part of content) if (part.type === 'text') characters += part.text.length;
  }
  return characters;
}

/**
 * The figures to save for a finished call, and their source. A usage chunk with a cost and a
 * token count is the stream's; anything less, for a call that reached the model (it has an
 * upstream id), is saved with the missing token counts estimated from the text, marked
 * `estimate`, and completed later (usage/fill.ts). A call that never reached the model has no
 * figures (null): nothing was generated or charged.
 */
export function settleUsage(input: {
  usage: Usage | null;
  upstreamId: string | null;
  promptCharacters: number;
  completionCharacters: number;
  reasoningCharacters: number;
}): { usage: Usage | null; source: UsageSource | null } {
  const { usage } = input;
  const counted = usage !== null && (usage.promptTokens > 0 || usage.completionTokens > 0);
  if (counted && usage.cost !== null) return { usage, source: 'stream' };
  if (input.upstreamId === null) return { usage, source: usage === null ? null : 'stream' };
  if (counted) return { usage, source: 'estimate' };
  return {
    usage: {
      promptTokens: estimateTokens(input.promptCharacters),
      completionTokens: estimateTokens(input.completionCharacters + input.reasoningCharacters),
      reasoningTokens: estimateTokens(input.reasoningCharacters),
      cachedTokens: 0,
      cost: usage?.cost ?? null,
    },
    source: 'estimate',
  };
}
