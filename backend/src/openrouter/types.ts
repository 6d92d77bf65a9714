/** The upstream (OpenRouter) client's public types. */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
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
  /** On the first chunk, and again whenever the provider/model first becomes known or changes. */
  | { type: 'meta'; upstreamId: string; model: string; provider: string | null }
  | { type: 'delta'; content: string }
  | { type: 'reasoning'; content: string }
  | { type: 'usage'; usage: Usage }
  | { type: 'finish'; finishReason: string; nativeFinishReason: string | null };

export interface UpstreamModel {
  id: string;
  name: string;
  description: string;
  contextLength: number | null;
  /** USD per token, as strings, exactly as OpenRouter sends them. */
  pricing: { prompt: string; completion: string };
  inputModalities: string[];
  outputModalities: string[];
  supportedParameters: string[];
  created: number | null;
}

export interface OpenRouterClient {
  readonly hasKey: boolean;
  listModels(options?: { signal?: AbortSignal }): Promise<UpstreamModel[]>;
  streamChat(
    request: ChatRequest,
    options: { signal: AbortSignal; requestId?: string },
  ): AsyncGenerator<ChatStreamEvent, void, undefined>;
}
