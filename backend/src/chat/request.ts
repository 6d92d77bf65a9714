import type { Conversation, GenerationParams } from '../conversations/schemas.js';
import type { ChatMessage, ChatRequest, SamplingParams } from '../openrouter/types.js';

/**
 * What the model catalog says a model takes (its `supported_parameters`), or null when it does
 * not say: a model it does not list, or lists without any (an OpenAI-compatible server's
 * catalog has no such field).
 */
export type SupportedParameters = (model: string) => Promise<ReadonlySet<string> | null>;

/** Each override and the name OpenRouter's catalog lists it under in `supported_parameters`. */
const CATALOG_NAMES: Record<keyof GenerationParams, string> = {
  temperature: 'temperature',
  topP: 'top_p',
  maxTokens: 'max_tokens',
  reasoningEffort: 'reasoning',
};

/**
 * The overrides a model takes: those its catalog entry lists. A model whose entry says nothing
 * (`supported` null) gets them all: nothing says it does not take them.
 */
export function paramsFor(
  params: GenerationParams,
  supported: ReadonlySet<string> | null,
): SamplingParams {
  const sent: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const name = CATALOG_NAMES[key as keyof GenerationParams];
    if (supported === null || supported.has(name)) sent[key] = value;
  }
  return sent as SamplingParams;
}

/** Whether the conversation overrides any parameter (only then is the catalog asked). */
export function hasParams(conversation: Pick<Conversation, 'params'>): boolean {
  return Object.values(conversation.params).some((value) => value !== undefined);
}

/**
 * The upstream request of an answer in `conversation`, with `model`, given the branch it
 * answers (root first): the conversation's system prompt first, as a system message (none when
 * it is blank), then the branch without its empty messages (failed answers); its fallback
 * models and provider routing; and the overrides the model supports. Every path that asks for
 * an answer builds its request here, so they all send the same prompt and parameters.
 */
export function chatRequest(input: {
  conversation: Pick<
    Conversation,
    'systemPrompt' | 'params' | 'fallbackModels' | 'providerRouting'
  >;
  model: string;
  /** The conversation's fallback models, as far as they take the branch's attachments. */
  fallbackModels?: readonly string[];
  branch: ReadonlyArray<Pick<ChatMessage, 'role' | 'content'>>;
  supported: ReadonlySet<string> | null;
}): ChatRequest {
  const { conversation, model, branch, supported } = input;
  const system = conversation.systemPrompt;
  const messages: ChatMessage[] = [
    ...(system !== null && system.trim() !== ''
      ? [{ role: 'system' as const, content: system }]
      : []),
    ...branch.filter((m) => m.content !== '').map(({ role, content }) => ({ role, content })),
  ];
  const params = paramsFor(conversation.params, supported);
  return {
    model,
    models: [...(input.fallbackModels ?? conversation.fallbackModels)],
    provider: conversation.providerRouting,
    messages,
    ...(Object.keys(params).length > 0 ? { params } : {}),
  };
}
