/**
 * SSE framing and the chunk objects of OpenRouter's streamed chat completions.
 * Shapes follow OpenRouter's docs: `chat.completion.chunk` objects with `provider`,
 * `native_finish_reason`, a final usage chunk with `choices: []`, then `data: [DONE]`.
 */

/** The keep-alive comment OpenRouter sends while a model is working. */
export const PROCESSING_COMMENT = ': OPENROUTER PROCESSING\n\n';
export const DONE_EVENT = 'data: [DONE]\n\n';

export function dataEvent(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export interface ChunkContext {
  id: string;
  provider: string;
  model: string;
  created: number;
}

export interface ReasoningDetail {
  type: 'reasoning.text';
  text: string;
  format: string;
  index: number;
}

export interface Delta {
  role?: 'assistant';
  content?: string;
  reasoning?: string | null;
  reasoning_details?: ReasoningDetail[];
  annotations?: UrlCitation[];
}

export interface StreamChoice {
  index: number;
  delta: Delta;
  finish_reason: string | null;
  native_finish_reason: string | null;
  logprobs: null;
}

export interface StreamChunk {
  id: string;
  provider: string;
  model: string;
  object: 'chat.completion.chunk';
  created: number;
  choices: StreamChoice[];
  usage?: UsageBody | Omit<UsageBody, 'cost'>;
  error?: { code: string | number; message: string; metadata?: Record<string, unknown> };
}

export interface UsageBody {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost: number;
  is_byok: boolean;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  cost_details: {
    upstream_inference_cost: number | null;
    upstream_inference_prompt_cost: number;
    upstream_inference_completions_cost: number;
  };
  completion_tokens_details: { reasoning_tokens: number; image_tokens: number };
}

function chunk(ctx: ChunkContext, choices: StreamChoice[]): StreamChunk {
  return {
    id: ctx.id,
    provider: ctx.provider,
    model: ctx.model,
    object: 'chat.completion.chunk',
    created: ctx.created,
    choices,
  };
}

function choice(delta: Delta, finish: string | null = null): StreamChoice {
  return { index: 0, delta, finish_reason: finish, native_finish_reason: finish, logprobs: null };
}

export function roleChunk(ctx: ChunkContext): StreamChunk {
  return chunk(ctx, [choice({ role: 'assistant', content: '' })]);
}

export function contentChunk(ctx: ChunkContext, content: string): StreamChunk {
  return chunk(ctx, [choice({ role: 'assistant', content })]);
}

export function reasoningChunk(ctx: ChunkContext, text: string): StreamChunk {
  return chunk(ctx, [
    choice({
      role: 'assistant',
      content: '',
      reasoning: text,
      reasoning_details: [{ type: 'reasoning.text', text, format: 'unknown', index: 0 }],
    }),
  ]);
}

/**
 * OpenRouter's web search results: `url_citation` annotations on the assistant's delta, each
 * with the page's URL, title, an excerpt and the span of the answer it supports.
 */
export function annotationsChunk(ctx: ChunkContext, annotations: UrlCitation[]): StreamChunk {
  return chunk(ctx, [choice({ role: 'assistant', content: '', annotations })]);
}

export interface UrlCitation {
  type: 'url_citation';
  url_citation: {
    url: string;
    title: string;
    content: string;
    start_index: number;
    end_index: number;
  };
}

export function finishChunk(ctx: ChunkContext, finishReason: 'stop' | 'length'): StreamChunk {
  return chunk(ctx, [choice({ role: 'assistant', content: '' }, finishReason)]);
}

export function usageChunk(
  ctx: ChunkContext,
  usage: UsageBody | Omit<UsageBody, 'cost'>,
): StreamChunk {
  return { ...chunk(ctx, []), usage };
}

/** The mid-stream error event: top-level `error` plus a choice with finish_reason "error". */
export function errorChunk(ctx: ChunkContext, message: string): StreamChunk {
  return {
    ...chunk(ctx, [choice({ content: '' }, 'error')]),
    error: { code: 'server_error', message },
  };
}
