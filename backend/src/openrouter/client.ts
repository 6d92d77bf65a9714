/**
 * The OpenRouter client: GET /models and streamed POST /chat/completions over undici's
 * `request()` (a Node Readable body: no WHATWG streams between the socket and the SSE parser),
 * through one shared dispatcher (connection pool) passed in; see createUpstreamAgent.
 *
 * Errors are AppErrors with upstream.* codes whose message names the cause and keeps the
 * upstream's own message, except aborts: when the caller's signal aborts, the request is
 * aborted (the socket closes) and an Error named 'AbortError' is thrown. The API key never
 * appears in an error message.
 *
 * A chat request that fails before its first byte with a transient failure (408, 429, 5xx, a
 * failed connection) is retried with backoff (see retry.ts); once the answer has started it
 * never is. Two timeouts guard the wait: until the response headers (connectTimeoutMs) and
 * between two reads of the stream (idleTimeoutMs).
 */
import { Agent, request, type Dispatcher } from 'undici';

import { AppError } from '../errors.js';
import { readChunks } from './chunks.js';
import { providerBody } from './provider.js';
import { samplingBody } from './sampling.js';
import {
  errorBodyMessage,
  errorBodyStatus,
  formatDuration,
  httpFailureError,
  networkFailureError,
  redact,
  sentence,
  upstreamHttpError,
} from './errors.js';
import {
  decideRetry,
  isRetryableStatus,
  parseRetryAfter,
  waitFor,
  type RetryOptions,
} from './retry.js';
import type {
  ChatRequest,
  ChatStreamEvent,
  OpenRouterClient,
  UpstreamGenerationStats,
  UpstreamKeyInfo,
  UpstreamModel,
} from './types.js';

export interface OpenRouterClientOptions {
  /** e.g. https://openrouter.ai/api/v1 */
  baseUrl: string;
  apiKey: string | undefined;
  /** Sent as HTTP-Referer (OpenRouter app attribution). */
  appUrl?: string;
  /** Sent as X-OpenRouter-Title and X-Title (OpenRouter app attribution). */
  appTitle?: string;
  /**
   * Where requests go: the process's one upstream connection pool (createUpstreamAgent), or a
   * scripted dispatcher in tests. Default: undici's global dispatcher.
   */
  dispatcher?: Dispatcher;
  /** Time allowed until the response headers arrive (the first byte); default 60 000 ms. */
  connectTimeoutMs?: number;
  /**
   * The longest silence allowed between two reads of a streamed answer; default 120 000 ms.
   * Keep-alive comments (`: OPENROUTER PROCESSING`, sent while a model thinks) count as activity.
   */
  idleTimeoutMs?: number;
  /** Retries of a chat request that failed before its first byte; default 2 (0: none). */
  maxRetries?: number;
  /** The first backoff, doubled per retry, with jitter; default 500 ms. */
  retryBaseDelayMs?: number;
  /** The longest single backoff; default 8000 ms (a Retry-After may ask for more). */
  retryMaxDelayMs?: number;
  /**
   * The most time spent waiting between the retries of one request; default 20 000 ms. A wait
   * past it (a long Retry-After) ends the retries and the failure is reported with the wait.
   */
  retryBudgetMs?: number;
  /** A number in [0, 1) for the backoff jitter; Math.random by default (tests fix it). */
  random?: () => number;
  /**
   * Whose key this is, for the advice in error messages: the server's (OPENROUTER_API_KEY,
   * default) or a user's own (set with withKey).
   */
  keyOwner?: 'server' | 'user';
}

export const clientDefaults = {
  connectTimeoutMs: 60_000,
  idleTimeoutMs: 120_000,
  maxRetries: 2,
  retryBaseDelayMs: 500,
  retryMaxDelayMs: 8000,
  retryBudgetMs: 20_000,
} as const;

/**
 * The connection pool for every upstream request of a process: create one at start (main.ts),
 * pass it to createOpenRouterClient, close it at shutdown. Its own timeouts are off: the
 * client's (first byte, idle) govern, since undici's 300 s defaults would cut the configured
 * ones short. Redirects are not followed: one answers as an error naming its status (fetch
 * followed them, but dropped the key when one led to another origin, https:// included).
 */
export function createUpstreamAgent(): Agent {
  return new Agent({ headersTimeout: 0, bodyTimeout: 0 });
}

/** The request failed before any response: kept raw until we know whether it is retried. */
class NetworkFailure extends Error {
  constructor(readonly original: unknown) {
    super('network failure', { cause: original });
  }
}

/** Why one chat attempt failed before its first byte. */
type EarlyFailure =
  | { kind: 'http'; status: number; upstreamMessage: string | null; retryAfterMs: number | null }
  | { kind: 'network'; error: unknown };

export function createOpenRouterClient(options: OpenRouterClientOptions): OpenRouterClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const host = hostOf(baseUrl);
  const apiKey = options.apiKey?.trim() || undefined;
  const dispatcher = options.dispatcher;
  const connectTimeoutMs = options.connectTimeoutMs ?? clientDefaults.connectTimeoutMs;
  const idleTimeoutMs = options.idleTimeoutMs ?? clientDefaults.idleTimeoutMs;
  const retry: RetryOptions = {
    maxRetries: options.maxRetries ?? clientDefaults.maxRetries,
    baseDelayMs: options.retryBaseDelayMs ?? clientDefaults.retryBaseDelayMs,
    maxDelayMs: options.retryMaxDelayMs ?? clientDefaults.retryMaxDelayMs,
    budgetMs: options.retryBudgetMs ?? clientDefaults.retryBudgetMs,
    random: options.random,
  };
  const appUrl = headerValue(options.appUrl);
  const appTitle = headerValue(options.appTitle);
  const keyOwner = options.keyOwner ?? 'server';

  function headers(accept: string, requestId?: string): Record<string, string> {
    const result: Record<string, string> = { Accept: accept };
    if (apiKey) {
      // An invalid header value makes undici throw an error that may quote it: check first.
      if (!/^[\x21-\x7e]+$/.test(apiKey)) {
        throw new AppError(
          'upstream.unauthorized',
          keyOwner === 'user'
            ? 'Your OpenRouter API key has invalid characters: save it again on your Account page.'
            : 'The OpenRouter API key has invalid characters: check OPENROUTER_API_KEY on the backend.',
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
   * Starts a request tied to the caller's signal and to the first-byte timeout. The caller must
   * call `release()` when done: it also closes the connection if the body was not read to the
   * end (undici aborts a request whose body is destroyed unfinished). Throws an AbortError, the
   * timeout's AppError, or a NetworkFailure.
   */
  async function open(
    path: string,
    init: { method: string; headers: Record<string, string>; body?: string },
    signal: AbortSignal | undefined,
    timeoutMessage: string,
  ): Promise<Upstream> {
    if (signal?.aborted) throw abortError(signal);
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('first-byte timeout'));
    }, connectTimeoutMs);
    let body: Dispatcher.ResponseData['body'] | undefined;
    const release = (complete = false): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (!body || body.readableEnded || body.destroyed) return;
      // The answer is whole but its body has not ended yet (OpenRouter ends it right after
      // [DONE]): let it end, so the connection goes back to the pool (a new one costs a TLS
      // handshake), unless that takes long.
      if (complete) drainThenClose(body);
      // Closes the connection: an answer cut short (error, abort, the consumer gone).
      else body.destroy();
    };
    try {
      const response = await request(`${baseUrl}${path}`, {
        ...init,
        signal: controller.signal,
        dispatcher,
        // The timers here govern (the first byte above, the idle one in readChunks).
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      clearTimeout(timer);
      body = response.body;
      return { response, release };
    } catch (error) {
      release();
      if (signal?.aborted) throw abortError(signal);
      if (timedOut) throw new AppError('upstream.timeout', timeoutMessage, { cause: error });
      throw new NetworkFailure(error);
    }
  }

  async function readText(response: Response, signal: AbortSignal | undefined): Promise<string> {
    try {
      return await response.body.text();
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      throw new NetworkFailure(error);
    }
  }

  /** GET of a small JSON resource (`/models`, `/key`): its body's text once the status is OK. */
  async function getText(path: string, signal: AbortSignal | undefined): Promise<string> {
    try {
      const { response, release } = await open(
        path,
        { method: 'GET', headers: headers('application/json') },
        signal,
        `The model provider did not answer within ${formatDuration(connectTimeoutMs)}.`,
      );
      try {
        const text = await readText(response, signal);
        if (!isOk(response)) throw upstreamHttpError(response.statusCode, text, apiKey, keyOwner);
        return text;
      } finally {
        release();
      }
    } catch (error) {
      if (error instanceof NetworkFailure) throw networkFailureError(error.original, host, 1);
      throw error;
    }
  }

  async function listModels(listOptions: { signal?: AbortSignal } = {}): Promise<UpstreamModel[]> {
    const text = await getText('/models', listOptions.signal);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new AppError(
        'upstream.bad_response',
        'The model provider sent a model catalog that is not JSON.',
        { cause: error },
      );
    }
    if (!isRecord(body) || !Array.isArray(body.data)) {
      throw new AppError(
        'upstream.bad_response',
        'The model provider sent a model catalog without a "data" list.',
      );
    }
    return body.data.flatMap((entry: unknown) => {
      const model = toUpstreamModel(entry);
      return model ? [model] : [];
    });
  }

  /**
   * One chat request up to its first byte: the open stream, or why it failed in a way that a
   * retry might fix. Anything else (abort, timeout, an unreadable answer) is thrown.
   */
  async function attemptChat(
    init: { method: string; headers: Record<string, string>; body: string },
    signal: AbortSignal,
  ): Promise<{ upstream: Upstream } | EarlyFailure> {
    let upstream: Upstream;
    try {
      upstream = await open(
        '/chat/completions',
        init,
        signal,
        `The model did not start answering within ${formatDuration(connectTimeoutMs)}.`,
      );
    } catch (error) {
      if (error instanceof NetworkFailure) return { kind: 'network', error: error.original };
      throw error;
    }
    const { response } = upstream;
    let opened = false;
    try {
      const retryAfterMs = parseRetryAfter(responseHeader(response, 'retry-after'));
      if (!isOk(response)) {
        const message = errorBodyMessage(await readText(response, signal));
        return {
          kind: 'http',
          status: response.statusCode,
          upstreamMessage: message === null ? null : redact(message, apiKey),
          retryAfterMs,
        };
      }
      const contentType = responseHeader(response, 'content-type') ?? '';
      if (contentType.includes('application/json')) {
        // A JSON answer to a streamed request: an error object, or something we cannot use.
        const text = await readText(response, signal);
        const message = errorBodyMessage(text);
        if (message === null) {
          throw new AppError(
            'upstream.bad_response',
            'The model provider answered with JSON instead of a stream.',
          );
        }
        const status = errorBodyStatus(text);
        if (status === null) {
          throw new AppError(
            'upstream.stream_error',
            sentence(`The model provider answered with an error: ${redact(message, apiKey)}`),
          );
        }
        return { kind: 'http', status, upstreamMessage: redact(message, apiKey), retryAfterMs };
      }
      opened = true;
      return { upstream };
    } catch (error) {
      if (error instanceof NetworkFailure) return { kind: 'network', error: error.original };
      throw error;
    } finally {
      if (!opened) upstream.release();
    }
  }

  async function* streamChat(
    request: ChatRequest,
    streamOptions: { signal: AbortSignal; requestId?: string },
  ): AsyncGenerator<ChatStreamEvent, void, undefined> {
    if (!apiKey) throw new AppError('upstream.no_key');
    const { signal, requestId } = streamOptions;
    const fallbacks = (request.models ?? []).filter((m) => m !== request.model);
    const provider = providerBody(request.provider);
    const init = {
      method: 'POST',
      headers: { ...headers('text/event-stream', requestId), 'Content-Type': 'application/json' },
      body: JSON.stringify({
        model: request.model,
        // OpenRouter's model fallbacks: tried in order after `model` when it fails, server-side.
        ...(fallbacks.length > 0 ? { models: fallbacks } : {}),
        // OpenRouter's provider routing (sort, only/ignore, data policy, max price).
        ...(provider ? { provider } : {}),
        messages: request.messages.map(({ role, content }) => ({ role, content })),
        ...samplingBody(request.params),
        stream: true,
        // Deprecated upstream (usage is now always sent) but harmless; kept for older routes.
        usage: { include: true },
      }),
    };
    let waitedMs = 0;
    for (let retries = 0; ; retries++) {
      const attempt = await attemptChat(init, signal);
      if ('upstream' in attempt) {
        let complete = false;
        try {
          yield* readChunks(attempt.upstream.response.body, {
            signal,
            requestedModel: request.model,
            apiKey,
            idleTimeoutMs,
            abortError,
          });
          complete = true;
        } finally {
          attempt.upstream.release(complete);
        }
        return;
      }
      const retryable = attempt.kind === 'network' || isRetryableStatus(attempt.status);
      const retryAfterMs = attempt.kind === 'http' ? attempt.retryAfterMs : null;
      const decision = retryable
        ? decideRetry(retries, waitedMs, retryAfterMs, retry)
        : { retry: false as const };
      if (!decision.retry) {
        throw attempt.kind === 'network'
          ? networkFailureError(attempt.error, host, retries + 1)
          : httpFailureError({ ...attempt, attempts: retries + 1, keyOwner });
      }
      try {
        await waitFor(decision.delayMs, signal);
      } catch (error) {
        if (signal.aborted) throw abortError(signal);
        throw error;
      }
      waitedMs += decision.delayMs;
    }
  }

  async function generationStats(
    upstreamId: string,
    statsOptions: { signal?: AbortSignal } = {},
  ): Promise<UpstreamGenerationStats | null> {
    if (!apiKey) throw new AppError('upstream.no_key');
    const { signal } = statsOptions;
    let text: string;
    try {
      const { response, release } = await open(
        `/generation?id=${encodeURIComponent(upstreamId)}`,
        { method: 'GET', headers: headers('application/json') },
        signal,
        `The model provider did not answer within ${formatDuration(connectTimeoutMs)}.`,
      );
      try {
        text = await readText(response, signal);
        if (response.statusCode === 404) return null;
        if (!isOk(response)) throw upstreamHttpError(response.statusCode, text, apiKey, keyOwner);
      } finally {
        release();
      }
    } catch (error) {
      if (error instanceof NetworkFailure) throw networkFailureError(error.original, host, 1);
      throw error;
    }
    return toGenerationStats(text);
  }

  async function currentKey(keyOptions: { signal?: AbortSignal } = {}): Promise<UpstreamKeyInfo> {
    if (!apiKey) throw new AppError('upstream.no_key');
    return toKeyInfo(await getText('/key', keyOptions.signal));
  }

  return {
    hasKey: apiKey !== undefined,
    withKey: (key) => createOpenRouterClient({ ...options, apiKey: key, keyOwner: 'user' }),
    currentKey,
    listModels,
    generationStats,
    streamChat,
  };
}

/** The `data` of OpenRouter's GET /generation answer; upstream.bad_response when it has none. */
function toGenerationStats(text: string): UpstreamGenerationStats {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new AppError(
      'upstream.bad_response',
      "The model provider sent a generation's statistics that are not JSON.",
      { cause: error },
    );
  }
  if (!isRecord(body) || !isRecord(body.data) || typeof body.data.id !== 'string') {
    throw new AppError(
      'upstream.bad_response',
      'The model provider sent generation statistics without a "data" object.',
    );
  }
  const { data } = body;
  const num = (value: unknown): number | null =>
    typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
  const tokens = (native: unknown, normalized: unknown): number | null => {
    const n = num(native) ?? num(normalized);
    return n === null ? null : Math.round(n);
  };
  return {
    id: data.id as string,
    model: nonEmptyString(data.model),
    providerName: nonEmptyString(data.provider_name),
    totalCost: num(data.total_cost) ?? num(data.usage),
    promptTokens: tokens(data.native_tokens_prompt, data.tokens_prompt),
    completionTokens: tokens(data.native_tokens_completion, data.tokens_completion),
    reasoningTokens: tokens(data.native_tokens_reasoning, null),
    cachedTokens: tokens(data.native_tokens_cached, null),
    latencyMs: num(data.latency),
    generationTimeMs: num(data.generation_time),
    finishReason: nonEmptyString(data.finish_reason),
    cancelled: typeof data.cancelled === 'boolean' ? data.cancelled : null,
  };
}

/** The `data` of OpenRouter's GET /key answer; upstream.bad_response when it has none. */
function toKeyInfo(text: string): UpstreamKeyInfo {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new AppError(
      'upstream.bad_response',
      'The model provider sent key details that are not JSON.',
      {
        cause: error,
      },
    );
  }
  if (!isRecord(body) || !isRecord(body.data)) {
    throw new AppError(
      'upstream.bad_response',
      'The model provider sent key details without a "data" object.',
    );
  }
  const { data } = body;
  const amount = (value: unknown): number | null =>
    typeof value === 'number' && Number.isFinite(value) ? value : null;
  return {
    limit: amount(data.limit),
    usage: amount(data.usage),
    limitRemaining: amount(data.limit_remaining),
    isFreeTier: typeof data.is_free_tier === 'boolean' ? data.is_free_tier : null,
  };
}

type Response = Dispatcher.ResponseData;

interface Upstream {
  response: Response;
  /**
   * Stops the timer, detaches from the caller's signal and closes an unfinished body (at once,
   * or once read to its end when `complete`: the answer was read whole).
   */
  release(complete?: boolean): void;
}

/** How long a body that is past [DONE] may take to end before its connection is closed. */
const DRAIN_MS = 1000;

function drainThenClose(body: Response['body']): void {
  const timer = setTimeout(() => body.destroy(), DRAIN_MS).unref();
  body.on('error', () => undefined);
  body.once('close', () => clearTimeout(timer));
  body.resume();
}

function isOk(response: Response): boolean {
  return response.statusCode >= 200 && response.statusCode < 300;
}

/** A response header's value (the first, if it came more than once). */
function responseHeader(response: Response, name: string): string | null {
  const value = response.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
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
    pricing: {
      prompt: price(pricing.prompt),
      completion: price(pricing.completion),
      ...(pricing.request === undefined ? {} : { request: price(pricing.request) }),
      ...(pricing.input_cache_read === undefined
        ? {}
        : { inputCacheRead: price(pricing.input_cache_read) }),
      ...(pricing.internal_reasoning === undefined
        ? {}
        : { internalReasoning: price(pricing.internal_reasoning) }),
    },
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

function positiveInteger(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
}

function nonEmptyString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** host[:port] of the base URL, to name in network errors (never a path, never credentials). */
function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return 'unknown host';
  }
}

/** Header values must be printable ASCII: drop what undici would reject. */
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
