/**
 * The OpenRouter client: GET /models and streamed POST /chat/completions over the global fetch.
 *
 * Errors are AppErrors with upstream.* codes (the upstream's own message kept), except aborts:
 * when the caller's signal aborts, the request is aborted (the socket closes) and an Error named
 * 'AbortError' is thrown. The API key never appears in an error message.
 */
import { AppError } from '../errors.js';
import {
  errorBodyMessage,
  errorObjectMessage,
  redact,
  upstreamErrorCode,
  upstreamHttpError,
} from './errors.js';
import { createSseParser, type SseEvent } from './sse.js';
import type {
  ChatRequest,
  ChatStreamEvent,
  OpenRouterClient,
  UpstreamModel,
  Usage,
} from './types.js';

export interface OpenRouterClientOptions {
  /** e.g. https://openrouter.ai/api/v1 */
  baseUrl: string;
  apiKey: string | undefined;
  /** Sent as HTTP-Referer (OpenRouter app attribution). */
  appUrl?: string;
  /** Sent as X-OpenRouter-Title and X-Title (OpenRouter app attribution). */
  appTitle?: string;
  fetch?: typeof fetch;
  /** Time allowed until the response headers arrive; default 60 000 ms. */
  connectTimeoutMs?: number;
}

const INCOMPLETE = 'The stream ended before the answer was complete.';

export function createOpenRouterClient(options: OpenRouterClientOptions): OpenRouterClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const apiKey = options.apiKey?.trim() || undefined;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const connectTimeoutMs = options.connectTimeoutMs ?? 60_000;
  const appUrl = headerValue(options.appUrl);
  const appTitle = headerValue(options.appTitle);

  function headers(accept: string, requestId?: string): Record<string, string> {
    const result: Record<string, string> = { Accept: accept };
    if (apiKey) {
      // An invalid header value makes fetch throw an error that quotes the value: check first.
      if (!/^[\x21-\x7e]+$/.test(apiKey)) {
        throw new AppError(
          'upstream.unauthorized',
          'The OpenRouter API key has invalid characters.',
        );
      }
      result.Authorization = `Bearer ${apiKey}`;
    }
    if (appUrl) result['HTTP-Referer'] = appUrl;
    if (appTitle) {
      result['X-OpenRouter-Title'] = appTitle;
      result['X-Title'] = appTitle;
    }
    const id = headerValue(requestId);
    if (id) result['X-Request-Id'] = id;
    return result;
  }

  /**
   * Starts a request tied to the caller's signal and to the connect timeout. The caller must
   * call `release()` when done: it also closes the connection if the body was not read to the end.
   */
  async function open(
    path: string,
    init: { method: string; headers: Record<string, string>; body?: string },
    signal: AbortSignal | undefined,
  ): Promise<Upstream> {
    if (signal?.aborted) throw abortError(signal);
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('connect timeout'));
    }, connectTimeoutMs);
    const release = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // Closes the connection if the body was not read to the end; a no-op otherwise.
      controller.abort();
    };
    try {
      const response = await fetchImpl(`${baseUrl}${path}`, { ...init, signal: controller.signal });
      clearTimeout(timer);
      return { response, release };
    } catch (error) {
      release();
      if (signal?.aborted) throw abortError(signal);
      if (timedOut) {
        throw new AppError(
          'upstream.timeout',
          `OpenRouter did not answer within ${formatDuration(connectTimeoutMs)}.`,
          { cause: error },
        );
      }
      throw new AppError('upstream.network', undefined, { cause: error });
    }
  }

  async function readText(response: Response, signal: AbortSignal | undefined): Promise<string> {
    try {
      return await response.text();
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      throw new AppError('upstream.network', undefined, { cause: error });
    }
  }

  async function listModels(listOptions: { signal?: AbortSignal } = {}): Promise<UpstreamModel[]> {
    const { signal } = listOptions;
    const { response, release } = await open(
      '/models',
      { method: 'GET', headers: headers('application/json') },
      signal,
    );
    try {
      const text = await readText(response, signal);
      if (!response.ok) throw upstreamHttpError(response.status, text, apiKey);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (error) {
        throw new AppError('upstream.bad_response', undefined, { cause: error });
      }
      if (!isRecord(body) || !Array.isArray(body.data)) throw new AppError('upstream.bad_response');
      return body.data.flatMap((entry: unknown) => {
        const model = toUpstreamModel(entry);
        return model ? [model] : [];
      });
    } finally {
      release();
    }
  }

  async function* streamChat(
    request: ChatRequest,
    streamOptions: { signal: AbortSignal; requestId?: string },
  ): AsyncGenerator<ChatStreamEvent, void, undefined> {
    if (!apiKey) throw new AppError('upstream.no_key');
    const { signal, requestId } = streamOptions;
    const { response, release } = await open(
      '/chat/completions',
      {
        method: 'POST',
        headers: { ...headers('text/event-stream', requestId), 'Content-Type': 'application/json' },
        body: JSON.stringify({
          model: request.model,
          messages: request.messages.map(({ role, content }) => ({ role, content })),
          stream: true,
          // Deprecated upstream (usage is now always sent) but harmless; kept for older routes.
          usage: { include: true },
        }),
      },
      signal,
    );
    try {
      if (!response.ok) {
        throw upstreamHttpError(response.status, await readText(response, signal), apiKey);
      }
      const contentType = response.headers.get('content-type') ?? '';
      if (contentType.includes('application/json')) {
        // A JSON answer to a streamed request: an error object, or something we cannot use.
        const text = await readText(response, signal);
        const message = errorBodyMessage(text);
        if (message === null) throw new AppError('upstream.bad_response');
        const code = errorCodeOf(text);
        throw new AppError(
          code === null ? 'upstream.stream_error' : upstreamErrorCode(code),
          redact(message, apiKey),
          code === null ? undefined : { upstreamStatus: code },
        );
      }
      if (!response.body) throw new AppError('upstream.bad_response');
      yield* readChunks(response.body, signal, request.model, apiKey);
    } finally {
      release();
    }
  }

  return { hasKey: apiKey !== undefined, listModels, streamChat };
}

interface Upstream {
  response: Response;
  /** Stops the timer, detaches from the caller's signal and closes an unfinished body. */
  release(): void;
}

interface StreamState {
  upstreamId: string;
  model: string;
  provider: string | null;
  metaSent: boolean;
  finished: boolean;
}

async function* readChunks(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
  requestedModel: string,
  apiKey: string | undefined,
): AsyncGenerator<ChatStreamEvent, void, undefined> {
  const reader = body.getReader();
  const events: SseEvent[] = [];
  const parser = createSseParser((event) => events.push(event));
  const state: StreamState = {
    upstreamId: '',
    model: requestedModel,
    provider: null,
    metaSent: false,
    finished: false,
  };
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        if (signal.aborted) throw abortError(signal);
        if (state.finished) return;
        throw new AppError('upstream.stream_error', INCOMPLETE, { cause: error });
      }
      if (result.done) parser.end();
      else parser.push(result.value);
      for (const event of events.splice(0)) {
        if (signal.aborted) throw abortError(signal);
        if (event.type !== 'message') continue;
        if (event.data === '[DONE]') return;
        let chunk: unknown;
        try {
          chunk = JSON.parse(event.data);
        } catch (error) {
          throw new AppError('upstream.bad_response', undefined, { cause: error });
        }
        if (!isRecord(chunk)) throw new AppError('upstream.bad_response');
        yield* interpretChunk(chunk, state, apiKey);
      }
      if (result.done) break;
    }
    if (!state.finished) throw new AppError('upstream.stream_error', INCOMPLETE);
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
    throw new AppError(
      'upstream.stream_error',
      message === null ? undefined : redact(message, apiKey),
    );
  }
  const finishReason = nonEmptyString(choice?.finish_reason);
  if (finishReason === 'error') throw new AppError('upstream.stream_error');
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

function toUpstreamModel(entry: unknown): UpstreamModel | null {
  if (!isRecord(entry)) return null;
  const id = nonEmptyString(entry.id);
  if (!id) return null;
  const architecture = isRecord(entry.architecture) ? entry.architecture : {};
  const pricing = isRecord(entry.pricing) ? entry.pricing : {};
  const topProvider = isRecord(entry.top_provider) ? entry.top_provider : {};
  const [modalityIn, modalityOut] = (nonEmptyString(architecture.modality) ?? '').split('->');
  return {
    id,
    name: nonEmptyString(entry.name) ?? id,
    description: typeof entry.description === 'string' ? entry.description : '',
    contextLength:
      positiveInteger(entry.context_length) ?? positiveInteger(topProvider.context_length),
    pricing: { prompt: price(pricing.prompt), completion: price(pricing.completion) },
    inputModalities: strings(architecture.input_modalities) ?? modalities(modalityIn),
    outputModalities: strings(architecture.output_modalities) ?? modalities(modalityOut),
    supportedParameters: strings(entry.supported_parameters) ?? [],
    created:
      typeof entry.created === 'number' && Number.isFinite(entry.created) ? entry.created : null,
  };
}

/** "text+image" → ["text", "image"]; text-only when unknown. */
function modalities(part: string | undefined): string[] {
  const list = (part ?? '').split('+').filter((m) => m.trim() !== '');
  return list.length > 0 ? list.map((m) => m.trim()) : ['text'];
}

function price(value: unknown): string {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return '0';
}

function strings(value: unknown): string[] | null {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : null;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

function positiveInteger(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A numeric HTTP-like `error.code` (>= 400) of a JSON body `{ "error": { … } }`, or null. */
function errorCodeOf(text: string): number | null {
  try {
    const body: unknown = JSON.parse(text);
    const code = isRecord(body) && isRecord(body.error) ? body.error.code : null;
    return typeof code === 'number' && Number.isInteger(code) && code >= 400 && code < 600
      ? code
      : null;
  } catch {
    return null;
  }
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

/** Header values must be byte strings: drop what fetch would reject. */
function headerValue(value: string | undefined): string | undefined {
  const clean = value?.replace(/[^\x20-\x7e]/g, '').trim();
  return clean ? clean : undefined;
}

/** The caller's abort reason when it is an AbortError, else an Error named 'AbortError'. */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const error = new Error('The operation was aborted.', { cause: reason });
  error.name = 'AbortError';
  return error;
}
