/** The upstream (OpenRouter) client's public types. */

/**
 * A part of a message's content, in OpenRouter's wire format (snake_case): text, an image as a
 * URL or base64 data URL (https://openrouter.ai/docs/features/multimodal/images), or a file such
 * as a PDF as a data URL with its name (https://openrouter.ai/docs/features/multimodal/pdfs).
 */
export type ContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string } }
  | { type: 'file'; file: { filename: string; file_data: string } };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  /** Text, or content parts when the message carries attachments. */
  content: string | ContentPart[];
}

export interface ChatRequest {
  /** The model to try first. */
  model: string;
  /**
   * Fallback models, sent as OpenRouter's `models`: when `model` fails (down, rate-limited,
   * refused), OpenRouter tries these in order, server-side. The `meta` event names the model
   * that answered.
   */
  models?: string[];
  /** Provider routing, sent as OpenRouter's `provider` object (see provider.ts); null: default. */
  provider?: ProviderRouting | null;
  messages: ChatMessage[];
  /**
   * Generation parameters, each sent only when set (the model's default otherwise). The chat
   * sets only those the model's catalog entry supports (chat/request.ts).
   */
  params?: SamplingParams;
}

/** Sent as OpenRouter's temperature, top_p, max_tokens and reasoning.effort. */
export interface SamplingParams {
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  reasoningEffort?: 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';
}

/**
 * Which providers OpenRouter may route a request to, and in what order (its provider routing:
 * https://openrouter.ai/docs/features/provider-routing). Provider slugs as OpenRouter names
 * them (`openai`, `deepinfra`, `google-vertex`). Prices are USD per million tokens.
 */
export interface ProviderRouting {
  /** Try providers by lowest price, highest throughput or lowest latency (no load balancing). */
  sort?: 'price' | 'throughput' | 'latency';
  /** Providers to try first, in this order. */
  order?: string[];
  /** The only providers allowed. */
  only?: string[];
  /** Providers never used. */
  ignore?: string[];
  /** false: only the providers of `order` (or `only`), none else when they fail. Default true. */
  allowFallbacks?: boolean;
  /** 'deny': only providers that do not store or train on prompts. */
  dataCollection?: 'allow' | 'deny';
  /** true: only Zero Data Retention endpoints. */
  zdr?: boolean;
  /** The most to pay, USD per million prompt / completion tokens. */
  maxPrice?: { prompt?: number; completion?: number };
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  cachedTokens: number;
  /** USD (OpenRouter credits) as reported by OpenRouter; null when it sent none. */
  cost: number | null;
}

export type ChatStreamEvent =
  /**
   * On the first chunk, and again whenever the provider/model first becomes known or changes.
   * `model` is the model that answered (a fallback when the first model failed).
   */
  | { type: 'meta'; upstreamId: string; model: string; provider: string | null }
  | { type: 'delta'; content: string }
  | { type: 'reasoning'; content: string }
  | { type: 'usage'; usage: Usage }
  /** Web pages the answer cites (OpenRouter's `url_citation` annotations: web search). */
  | { type: 'sources'; sources: Source[] }
  | { type: 'finish'; finishReason: string; nativeFinishReason: string | null };

/** A cited web page: an absolute http(s) URL, and its title when the provider gave one. */
export interface Source {
  url: string;
  title: string | null;
}

export interface UpstreamModel {
  id: string;
  name: string;
  description: string;
  contextLength: number | null;
  /**
   * USD per token, as strings, exactly as OpenRouter sends them; `request` per request, the
   * cache-read and reasoning prices when the model has them of its own.
   */
  pricing: {
    prompt: string;
    completion: string;
    request?: string;
    inputCacheRead?: string;
    internalReasoning?: string;
  };
  inputModalities: string[];
  outputModalities: string[];
  supportedParameters: string[];
  created: number | null;
}

/** OpenRouter's GET /key: what it says of the key a request carries (USD amounts). */
export interface UpstreamKeyInfo {
  /** Credit limit; null when unlimited. */
  limit: number | null;
  /** Spent so far. */
  usage: number | null;
  /** What is left of the limit; null when unlimited. */
  limitRemaining: number | null;
  isFreeTier: boolean | null;
}

/**
 * OpenRouter's GET /generation?id=: what one completion counted and cost, known a moment after
 * it ended (also for a stream cancelled or cut short, which OpenRouter charges too). Token
 * counts are the model's own (`native_tokens_*`), as the stream's usage reports them.
 */
export interface UpstreamGenerationStats {
  id: string;
  model: string | null;
  providerName: string | null;
  /** USD. */
  totalCost: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  reasoningTokens: number | null;
  cachedTokens: number | null;
  /** ms until the first token, as OpenRouter measured it. */
  latencyMs: number | null;
  /** ms of generation. */
  generationTimeMs: number | null;
  finishReason: string | null;
  cancelled: boolean | null;
}

export interface OpenRouterClient {
  readonly hasKey: boolean;
  /**
   * The same client (base URL, pool, timeouts, attribution) sending `apiKey` instead of the
   * server's key: a user's own key. Its errors speak of "your key", not of OPENROUTER_API_KEY.
   */
  withKey(apiKey: string): OpenRouterClient;
  /**
   * GET /key with this client's key, once (no retries). Throws AppErrors: upstream.unauthorized
   * when the key is refused, upstream.timeout/network/unavailable/bad_response otherwise.
   */
  currentKey(options?: { signal?: AbortSignal }): Promise<UpstreamKeyInfo>;
  listModels(options?: { signal?: AbortSignal }): Promise<UpstreamModel[]>;
  /**
   * GET /generation?id= with this client's key, once: the completion's statistics, or null
   * while OpenRouter does not know it (404: not yet recorded, or not this key's). Throws
   * AppErrors (upstream.*) for anything else.
   */
  generationStats(
    upstreamId: string,
    options?: { signal?: AbortSignal },
  ): Promise<UpstreamGenerationStats | null>;
  streamChat(
    request: ChatRequest,
    options: { signal: AbortSignal; requestId?: string },
  ): AsyncGenerator<ChatStreamEvent, void, undefined>;
}
