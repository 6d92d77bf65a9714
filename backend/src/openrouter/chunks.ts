/**
 * Reads a streamed chat completion: SSE events → `chat.completion.chunk` objects → our
 * ChatStreamEvents. Every way the stream can go wrong becomes an AppError naming the cause:
 * silence past the idle timeout, a connection lost mid-answer, a chunk that is not JSON, an
 * in-band error chunk, or an end without a finish reason.
 */
import type { Readable } from 'node:stream';

import { AppError } from '../errors.js';
import { errorObjectMessage, formatDuration, redact, sentence } from './errors.js';
import { createSseParser, type SseEvent } from './sse.js';
import type { ChatStreamEvent, Source, Usage } from './types.js';

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
 * Reads the body to [DONE] (or its end). Returns normally only at [DONE] or a clean end after a
 * finish reason; the caller closes the body (and so the connection) if it is not at its end.
 *
 * The idle timer runs while a read waits, never while the consumer handles what was read: one
 * timer per stream, re-armed (`refresh()`) before each wait, which destroys the body when it
 * fires during one. OpenRouter sends `: OPENROUTER PROCESSING` comments while a model thinks,
 * so a silent connection is a dead one.
 */
export async function* readChunks(
  body: Readable,
  options: ReadChunksOptions,
): AsyncGenerator<ChatStreamEvent, void, undefined> {
  const { signal, apiKey, idleTimeoutMs } = options;
  const events: SseEvent[] = [];
  const parser = createSseParser((event) => events.push(event));
  const out: ChatStreamEvent[] = [];
  const state: StreamState = {
    upstreamId: '',
    model: options.requestedModel,
    provider: null,
    metaSent: false,
    finished: false,
  };
  let waiting = false;
  const idle = setTimeout(() => {
    if (waiting) body.destroy(new IdleTimeout());
  }, idleTimeoutMs);
  const reader: AsyncIterator<Buffer> = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      let result: IteratorResult<Buffer>;
      waiting = true;
      idle.refresh();
      try {
        result = await reader.next();
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
      } finally {
        waiting = false;
      }
      if (result.done) parser.end();
      else parser.push(result.value);
      // The parser only adds to `events` inside push()/end(), so the list is stable here.
      for (let i = 0; i < events.length; i++) {
        const event = events[i]!;
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
        const failure = interpretChunk(chunk, state, apiKey, out);
        for (let k = 0; k < out.length; k++) yield out[k]!;
        out.length = 0;
        if (failure) throw failure;
      }
      events.length = 0;
      if (result.done) break;
    }
    if (!state.finished) throw new AppError('upstream.stream_error', ENDED_EARLY);
  } finally {
    clearTimeout(idle);
  }
}

/**
 * Turns one `chat.completion.chunk` into events, appended to `out` (a plain function, not a
 * generator: it runs per chunk). Returns the error to throw once those events are delivered
 * when the chunk carries an in-band error, else null.
 */
function interpretChunk(
  chunk: Record<string, unknown>,
  state: StreamState,
  apiKey: string | undefined,
  out: ChatStreamEvent[],
): AppError | null {
  const upstreamId = nonEmptyString(chunk.id) ?? state.upstreamId;
  const model = nonEmptyString(chunk.model) ?? state.model;
  const provider = nonEmptyString(chunk.provider) ?? state.provider;
  if (
    !state.metaSent ||
    upstreamId !== state.upstreamId ||
    model !== state.model ||
    provider !== state.provider
  ) {
    state.upstreamId = upstreamId;
    state.model = model;
    state.provider = provider;
    state.metaSent = true;
    out.push({ type: 'meta', upstreamId, model, provider });
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
    if (reasoning) out.push({ type: 'reasoning', content: reasoning });
    const content = nonEmptyString(delta.content);
    if (content) out.push({ type: 'delta', content });
    const sources = urlCitations(delta.annotations);
    if (sources.length > 0) out.push({ type: 'sources', sources });
  }

  const error = chunk.error ?? choice?.error;
  if (error !== undefined && error !== null) {
    const message = errorObjectMessage(error) ?? (typeof error === 'string' ? error : null);
    const code = isRecord(error) ? error.code : undefined;
    const label = typeof code === 'string' || typeof code === 'number' ? ` (${code})` : '';
    return new AppError(
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
    return new AppError(
      'upstream.stream_error',
      'The model provider ended the answer with an error (finish reason "error").',
    );
  }
  if (finishReason) {
    state.finished = true;
    out.push({
      type: 'finish',
      finishReason,
      nativeFinishReason: nonEmptyString(choice?.native_finish_reason),
    });
  }
  if (isRecord(chunk.usage)) out.push({ type: 'usage', usage: toUsage(chunk.usage) });
  return null;
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

/**
 * The web pages of `url_citation` annotations (OpenRouter's web search results). Model output
 * is untrusted: only absolute http(s) URLs are kept (never javascript:, data: …), as the URL
 * parser normalizes them, and lengths are bounded.
 */
export function urlCitations(annotations: unknown): Source[] {
  if (!Array.isArray(annotations)) return [];
  const sources: Source[] = [];
  for (const annotation of annotations) {
    if (!isRecord(annotation) || annotation.type !== 'url_citation') continue;
    const citation = isRecord(annotation.url_citation) ? annotation.url_citation : annotation;
    const url = httpUrl(citation.url);
    if (url === null) continue;
    const title = nonEmptyString(citation.title)?.trim().slice(0, 300) || null;
    sources.push({ url, title });
  }
  return sources;
}

/** An absolute http(s) URL as the URL parser normalizes it, at most 2,048 characters; else null. */
export function httpUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 2048) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
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
