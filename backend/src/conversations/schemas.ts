import { Type, type Static } from 'typebox';
import { Attachment } from '../attachments/schemas.js';
import type { ProviderRouting as UpstreamProviderRouting } from '../openrouter/types.js';

/** The title of a conversation until its first message names it. */
export const DEFAULT_TITLE = 'New chat';

const Timestamp = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const ModelId = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\s]+$' });

/** Tried in order when the conversation's model fails before answering (OpenRouter's `models`). */
export const FallbackModels = Type.Array(ModelId, {
  maxItems: 3,
  uniqueItems: true,
  description:
    'Up to 3 model ids tried in order, by OpenRouter, when the model fails before answering (down, rate-limited, refused). The answer records the model that wrote it.',
});

/** A provider slug as OpenRouter names them: `openai`, `google-vertex`, `deepinfra/fp8`. */
const ProviderSlug = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]*$',
});
const providerList = (description: string) =>
  Type.Array(ProviderSlug, { maxItems: 20, uniqueItems: true, description });
const pricePerMillion = (description: string) =>
  Type.Number({ minimum: 0, maximum: 100_000, description });

/**
 * Which providers OpenRouter may route this conversation's requests to: sent upstream as the
 * request's `provider` object (snake_case there). Null: OpenRouter's default routing.
 */
export const ProviderRouting = Type.Object(
  {
    sort: Type.Optional(
      Type.Union([Type.Literal('price'), Type.Literal('throughput'), Type.Literal('latency')], {
        description:
          'Try providers by lowest price, highest throughput or lowest latency (OpenRouter then does not load-balance)',
      }),
    ),
    order: Type.Optional(providerList('Provider slugs to try first, in order')),
    only: Type.Optional(providerList('The only provider slugs allowed')),
    ignore: Type.Optional(providerList('Provider slugs never used')),
    allowFallbacks: Type.Optional(
      Type.Boolean({
        description: 'false: no provider outside `order` when those fail (OpenRouter default true)',
      }),
    ),
    dataCollection: Type.Optional(
      Type.Union([Type.Literal('allow'), Type.Literal('deny')], {
        description: "'deny': only providers that do not store or train on prompts",
      }),
    ),
    zdr: Type.Optional(Type.Boolean({ description: 'true: only Zero Data Retention endpoints' })),
    maxPrice: Type.Optional(
      Type.Object(
        {
          prompt: Type.Optional(pricePerMillion('USD per million input tokens')),
          completion: Type.Optional(pricePerMillion('USD per million output tokens')),
        },
        { additionalProperties: false, minProperties: 1 },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ProviderRouting = Static<typeof ProviderRouting>;
// The API's shape is the upstream client's: a change to one that the other lacks fails here.
const routingMatchesUpstream: UpstreamProviderRouting = {} as ProviderRouting;
void routingMatchesUpstream;

/**
 * OpenRouter's reasoning effort (its `reasoning.effort`): how much a reasoning model thinks
 * before answering; `none` turns reasoning off. The values OpenRouter documents
 * (https://openrouter.ai/docs/use-cases/reasoning-tokens).
 */
export const ReasoningEffort = Type.Union(
  [
    Type.Literal('none'),
    Type.Literal('minimal'),
    Type.Literal('low'),
    Type.Literal('medium'),
    Type.Literal('high'),
    Type.Literal('xhigh'),
  ],
  { description: "OpenRouter's reasoning.effort: none, minimal, low, medium, high or xhigh" },
);
export type ReasoningEffort = Static<typeof ReasoningEffort>;

/** The most tokens an answer may be limited to: beyond every model's context length. */
export const MAX_TOKENS_LIMIT = 1_000_000;

/**
 * Generation parameters a conversation (or a preset) overrides; one left out keeps the
 * model's default. Sent upstream only to a model whose catalog entry lists it
 * (`supported_parameters`: temperature, top_p, max_tokens, reasoning).
 */
export const GenerationParams = Type.Object(
  {
    temperature: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 2,
        description: 'Sampling temperature, 0 to 2 (OpenRouter `temperature`)',
      }),
    ),
    topP: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description: 'Nucleus sampling, 0 to 1 (OpenRouter `top_p`)',
      }),
    ),
    maxTokens: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_TOKENS_LIMIT,
        description: 'The most tokens an answer may have (OpenRouter `max_tokens`)',
      }),
    ),
    reasoningEffort: Type.Optional(ReasoningEffort),
  },
  { additionalProperties: false },
);
export type GenerationParams = Static<typeof GenerationParams>;

/** The longest system prompt kept (characters). */
export const MAX_SYSTEM_PROMPT = 100_000;

/** Sent first, as a system message; null (or empty) sends none. */
export const SystemPrompt = Type.String({
  maxLength: MAX_SYSTEM_PROMPT,
  description:
    'Sent first, as a system message, with every request of the conversation; empty or null: none',
});

export const Conversation = Type.Object({
  id: Type.String(),
  title: Type.String(),
  model: Nullable(Type.String()),
  fallbackModels: FallbackModels,
  pinned: Type.Boolean({ description: "Listed first, in the sidebar's Pinned group." }),
  archived: Type.Boolean({
    description: 'Hidden from the main list; listed with `archived=true`.',
  }),
  folderId: Nullable(Type.String({ description: 'The folder it is in (at most one).' })),
  titlePending: Type.Boolean({
    description:
      'True while the title model (TITLE_MODEL) is naming the conversation after its first answer: read it again shortly for the new title.',
  }),
  providerRouting: Nullable(ProviderRouting),
  systemPrompt: Nullable(SystemPrompt),
  params: GenerationParams,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Conversation = Static<typeof Conversation>;

export const MessageStatus = Type.Union([
  Type.Literal('streaming'),
  Type.Literal('complete'),
  Type.Literal('stopped'),
  Type.Literal('error'),
  Type.Literal('interrupted'),
]);
export type MessageStatus = Static<typeof MessageStatus>;

export const Generation = Type.Object({
  id: Type.String(),
  model: Type.String(),
  provider: Nullable(Type.String()),
  upstreamId: Nullable(Type.String()),
  promptTokens: Nullable(Type.Integer()),
  completionTokens: Nullable(Type.Integer()),
  reasoningTokens: Nullable(Type.Integer()),
  cost: Nullable(Type.Number({ description: 'USD, as reported by OpenRouter' })),
  timeToFirstTokenMs: Nullable(Type.Integer()),
  durationMs: Nullable(Type.Integer()),
  finishReason: Nullable(Type.String()),
});
export type Generation = Static<typeof Generation>;

export const Source = Type.Object({
  url: Type.String({ description: 'An absolute http(s) URL' }),
  title: Nullable(Type.String()),
});

export const Message = Type.Object({
  id: Type.String(),
  conversationId: Type.String(),
  parentId: Nullable(Type.String()),
  role: Type.Union([Type.Literal('system'), Type.Literal('user'), Type.Literal('assistant')]),
  content: Type.String(),
  reasoning: Nullable(Type.String()),
  sources: Nullable(
    Type.Array(Source, {
      description:
        'Web pages the answer cites (url_citation annotations, e.g. from web search); null: none',
    }),
  ),
  model: Nullable(Type.String()),
  status: MessageStatus,
  error: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  generation: Nullable(Generation),
  attachments: Type.Array(Attachment, {
    description:
      "The files a user message carries (metadata only: GET /api/attachments/{id} serves each one's bytes)",
  }),
  comparisonId: Nullable(
    Type.String({
      description:
        "The comparison this answer is one of (POST /api/conversations/{id}/compare); null for every other message. See the conversation's `comparisons`.",
    }),
  ),
});
export type Message = Static<typeof Message>;

/** One question sent to 2 to 4 models at once: its answers are siblings under it. */
export const Comparison = Type.Object({
  id: Type.String(),
  questionId: Type.String({ description: 'The user message the models answered' }),
  answerIds: Type.Array(Type.String(), {
    description: "Its answers, oldest first (the order of the request's models)",
  }),
  chosenId: Nullable(
    Type.String({
      description: 'The answer chosen to continue with (one of answerIds); null until one is',
    }),
  ),
  chosenAt: Nullable(Timestamp),
  createdAt: Timestamp,
});
export type Comparison = Static<typeof Comparison>;

const Title = Type.String({ minLength: 1, maxLength: 200 });

export const CreateConversationBody = Type.Object(
  {
    title: Type.Optional(Title),
    model: Type.Optional(ModelId),
    fallbackModels: Type.Optional(FallbackModels),
    providerRouting: Type.Optional(Nullable(ProviderRouting)),
    systemPrompt: Type.Optional(Nullable(SystemPrompt)),
    params: Type.Optional(GenerationParams),
  },
  { additionalProperties: false },
);

export const UpdateConversationBody = Type.Object(
  {
    title: Type.Optional(Title),
    model: Type.Optional(Nullable(ModelId)),
    fallbackModels: Type.Optional(FallbackModels),
    pinned: Type.Optional(Type.Boolean()),
    archived: Type.Optional(Type.Boolean()),
    folderId: Type.Optional(
      Nullable(
        Type.String({ format: 'uuid', description: 'A folder of yours; null: out of its folder.' }),
      ),
    ),
    providerRouting: Type.Optional(Nullable(ProviderRouting)),
    systemPrompt: Type.Optional(Nullable(SystemPrompt)),
    // Replaces every override at once: {} goes back to the model's defaults.
    params: Type.Optional(GenerationParams),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const ListConversationsQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 30 }),
    cursor: Type.Optional(Type.String({ maxLength: 400 })),
    archived: Type.Boolean({
      default: false,
      description: 'false: the main list (archived ones left out); true: the archived ones only.',
    }),
    folderId: Type.Optional(
      Type.String({ format: 'uuid', description: 'Only the conversations of this folder.' }),
    ),
  },
  { additionalProperties: false },
);

export const ConversationPage = Type.Object({
  conversations: Type.Array(Conversation),
  nextCursor: Nullable(Type.String()),
});

export const ConversationWithMessages = Type.Object({
  conversation: Conversation,
  messages: Type.Array(Message),
  comparisons: Type.Array(Comparison, {
    description: 'Its comparisons (questions sent to several models at once), oldest first',
  }),
});

export { ModelId, Nullable };
