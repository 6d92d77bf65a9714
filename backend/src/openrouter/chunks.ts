/**
 * Reads a streamed chat completion: SSE events → `chat.completion.chunk` objects → our
 * ChatStreamEvents. Every way the stream can go wrong becomes an AppError naming the cause:
 * silence past the idle timeout, a connection lost mid-answer, a chunk that is not JSON, an
 * in-band error chunk, or an end without a finish reason.
 */
import { AppError } from '../errors.js';
import { errorObjectMessage, formatDuration, redact, sentence } from './errors.js';
import { createSseParser, type SseEvent } from './sse.js';
import type { ChatStreamEvent, Usage } from './types.js';

export interface ReadChunksOptions {
  signal: AbortSignal;
  requestedModel: string;
  apiKey: string | undefined;
  /** The longest silence allowed between two reads; any bytes count, comments included. */
  idleTimeoutMs: number;
  /** Called with the AbortError to throw when the caller's signal aborted. */
  abortError(signal: AbortSignal): Error;
}

interface StreamState {
  upstreamId: string;
  model: string;
  provider: string | null;
  metaSent: boolean;
  finished: boolean;
}

const LOST = 'The connection to the model provider was lost mid-answer.';
const ENDED_EARLY =
  'The model provider closed the stream before the answer was complete (no finish reason).';

class IdleTimeout extends Error {}

/**
 * One read, or an IdleTimeout after `ms` without a byte. OpenRouter sends
 * `: OPENROUTER PROCESSING` comments while a model thinks, so a silent connection is a dead one.
 */
async function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  ms: number,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new IdleTimeout()), ms);
  });
  try {
    return await Promise.race([reader.read(), idle]);
  } finally {
    clearTimeout(timer);
  }
}

export async function* readChunks(
  body: ReadableStream<Uint8Array>,
  options: ReadChunksOptions,
): AsyncGenerator<ChatStreamEvent, void, undefined> {
  const { signal, apiKey, idleTimeoutMs } = options;
  const reader = body.getReader();
  const events: SseEvent[] = [];
  const parser = createSseParser((event) => events.push(event));
  const state: StreamState = {
    upstreamId: '',
    model: options.requestedModel,
    provider: null,
    metaSent: false,
    finished: false,
  };
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await readWithin(reader, idleTimeoutMs);
      } catch (error) {
        if (signal.aborted) throw options.abortError(signal);
        // The answer is whole: a connection that dies (or idles) before [DONE] loses nothing.
        if (state.finished) return;
        if (error instanceof IdleTimeout) {
          throw new AppError(
            'upstream.timeout',
            state.metaSent
              ? `The model stopped sending mid-answer: nothing arrived for ${formatDuration(idleTimeoutMs)}.`
              : `The model did not start answering: nothing arrived for ${formatDuration(idleTimeoutMs)}.`,
          );
        }
        throw new AppError('upstream.stream_error', LOST, { cause: error });
      }
      if (result.done) parser.end();
      else parser.push(result.value);
      for (const event of events.splice(0)) {
        if (signal.aborted) throw options.abortError(signal);
        if (event.type !== 'message') continue;
        if (event.data === '[DONE]') return;
        let chunk: unknown;
        try {
          chunk = JSON.parse(event.data);
        } catch (error) {
          throw new AppError(
            'upstream.bad_response',
            'The model provider sent a malformed chunk (invalid JSON) mid-answer.',
            { cause: error },
          );
        }
        if (!isRecord(chunk)) {
          throw new AppError(
            'upstream.bad_response',
            'The model provider sent a chunk that is not a JSON object.',
          );
        }
        yield* interpretChunk(chunk, state, apiKey);
      }
      if (result.done) break;
    }
    if (!state.finished) throw new AppError('upstream.stream_error', ENDED_EARLY);
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/** Turns one `chat.completion.chunk` into events; throws on an in-band error. */
function* interpretChunk(
  chunk: Record<string, unknown>,
  state: StreamState,
  apiKey: string | undefined,
): Generator<ChatStreamEvent, void, undefined> {
  const upstreamId = nonEmptyString(chunk.id) ?? state.upstreamId;
  const model = nonEmptyString(chunk.model) ?? state.model;
  const provider = nonEmptyString(chunk.provider) ?? state.provider;
  if (
    !state.metaSent ||
    upstreamId !== state.upstreamId ||
    model !== state.model ||
    provider !== state.provider
  ) {
    Object.assign(state, { upstreamId, model, provider, metaSent: true });
    yield { type: 'meta', upstreamId, model, provider };
  }

  const choice =
    Array.isArray(chunk.choices) && isRecord(chunk.choices[0]) ? chunk.choices[0] : null;
  if (choice) {
    const delta = isRecord(choice.delta)
      ? choice.delta
      : isRecord(choice.message)
        ? choice.message
        : {};
    const reasoning =
      nonEmptyString(delta.reasoning) ?? reasoningDetailsText(delta.reasoning_details);
    if (reasoning) yield { type: 'reasoning', content: reasoning };
    const content = nonEmptyString(delta.content);
    if (content) yield { type: 'delta', content };
  }

  const error = chunk.error ?? choice?.error;
  if (error !== undefined && error !== null) {
    const message = errorObjectMessage(error) ?? (typeof error === 'string' ? error : null);
    const code = isRecord(error) ? error.code : undefined;
    const label = typeof code === 'string' || typeof code === 'number' ? ` (${code})` : '';
    throw new AppError(
      'upstream.stream_error',
      message === null
        ? `The model provider reported an error mid-answer${label}.`
        : sentence(
            `The model provider reported an error mid-answer${label}: ${redact(message, apiKey)}`,
          ),
    );
  }
  const finishReason = nonEmptyString(choice?.finish_reason);
  if (finishReason === 'error') {
    throw new AppError(
      'upstream.stream_error',
      'The model provider ended the answer with an error (finish reason "error").',
    );
  }
  if (finishReason) {
    state.finished = true;
    yield {
      type: 'finish',
      finishReason,
      nativeFinishReason: nonEmptyString(choice?.native_finish_reason),
    };
  }
  if (isRecord(chunk.usage)) yield { type: 'usage', usage: toUsage(chunk.usage) };
}

function toUsage(usage: Record<string, unknown>): Usage {
  const promptDetails = isRecord(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  const completionDetails = isRecord(usage.completion_tokens_details)
    ? usage.completion_tokens_details
    : {};
  return {
    promptTokens: count(usage.prompt_tokens),
    completionTokens: count(usage.completion_tokens),
    reasoningTokens: count(completionDetails.reasoning_tokens),
    cachedTokens: count(promptDetails.cached_tokens),
    cost: typeof usage.cost === 'number' && Number.isFinite(usage.cost) ? usage.cost : null,
  };
}

/** Text of `reasoning_details` entries (used only when a delta has no plain `reasoning`). */
function reasoningDetailsText(details: unknown): string | null {
  if (!Array.isArray(details)) return null;
  const text = details
    .map((detail: unknown) => {
      if (!isRecord(detail)) return '';
      if (detail.type === 'reasoning.text') return nonEmptyString(detail.text) ?? '';
      if (detail.type === 'reasoning.summary') return nonEmptyString(detail.summary) ?? '';
      return '';
    })
    .join('');
  return text === '' ? null : text;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
