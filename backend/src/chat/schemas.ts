import { Type, type Static } from 'typebox';
import { AttachmentIds } from '../attachments/schemas.js';
import {
  Comparison,
  Conversation,
  FallbackModels,
  GenerationParams,
  ModelId,
  ProviderRouting,
  SystemPrompt,
} from '../conversations/schemas.js';

export const SendMessageBody = Type.Object(
  {
    content: Type.String({
      maxLength: 200_000,
      description: 'The question; may be empty only when the message carries attachments',
    }),
    attachmentIds: Type.Optional(AttachmentIds),
    model: Type.Optional(ModelId),
    parentId: Type.Optional(
      Type.Union([Type.String({ format: 'uuid' }), Type.Null()], {
        description:
          "The message this one answers: the end of the branch it continues, or the parent of a message being edited (null: a new first message). Absent: the newest message (past a comparison whose answer was chosen: the newest of that answer's branch).",
      }),
    ),
  },
  { additionalProperties: false },
);

export const MessageParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  messageId: Type.String({ format: 'uuid' }),
});

export const RegenerateBody = Type.Object(
  { model: Type.Optional(ModelId) },
  { additionalProperties: false },
);

export const DeletedMessages = Type.Object({
  deleted: Type.Array(Type.String(), {
    description: 'The ids of the messages deleted: the message and every reply below it.',
  }),
});

export const AnswerStreamDescription = `A text/event-stream of the new answer (regenerate) or of
the answer's continuation (continue): \`assistant_message\` (\`{ messageId, generationId, model }\`),
then \`delta\`, \`reasoning\`, \`usage\`, and \`done\` or \`error\` as for POST
/api/conversations/{id}/messages (no \`user_message\`). A continuation's \`delta\` events carry the
new text only, to append to the answer's saved text.`;

/** The most messages one temporary chat request carries (and its body at most 2 MiB, the app's limit). */
export const MAX_TEMPORARY_MESSAGES = 200;

export const TemporaryChatBody = Type.Object(
  {
    model: ModelId,
    messages: Type.Array(
      Type.Object(
        {
          role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]),
          // Empty: an answer that failed before writing anything (left out upstream).
          content: Type.String({ maxLength: 200_000 }),
        },
        { additionalProperties: false },
      ),
      {
        minItems: 1,
        maxItems: MAX_TEMPORARY_MESSAGES,
        description:
          'The whole chat so far, oldest first, held by the client (nothing of it is stored): the last one is the question to answer.',
      },
    ),
    fallbackModels: Type.Optional(FallbackModels),
    providerRouting: Type.Optional(Type.Union([ProviderRouting, Type.Null()])),
    // As a conversation's: the prompt first, the overrides the model supports (chat/request.ts).
    systemPrompt: Type.Optional(Type.Union([SystemPrompt, Type.Null()])),
    params: Type.Optional(GenerationParams),
  },
  { additionalProperties: false },
);
export type TemporaryChatBody = Static<typeof TemporaryChatBody>;

export const TemporaryStreamDescription = `A text/event-stream, as for POST /api/conversations/{id}/messages but without \`user_message\` (nothing is saved):
- \`assistant_message\`: \`{ messageId, generationId, model }\`; \`messageId\` names the answer in this stream only (no message is stored); \`generationId\` is what POST /api/generations/{id}/stop takes
- \`delta\`, \`reasoning\`, \`sources\`, \`usage\`, then \`done\` or \`error\`, as for a conversation's answer

Nothing of the chat is stored or logged: only the answer's generation row (model, provider, tokens, cost, timings; purpose \`temporary\`), so it counts in usage and budgets. Closing the stream stops the answer (no reattach: GET /api/generations/{id}/stream answers 404).`;

export const StreamDescription = `A text/event-stream, opened as soon as the answer runs (its first tokens do not wait for the question's commit). Events, each \`data\` one JSON object:
- \`assistant_message\`: \`{ messageId, generationId, model }\` (first)
- \`user_message\`: the saved user message (a Message): the acknowledgement that the question is committed; it may follow the first \`delta\` events and always comes before \`done\` or \`error\`. A stream that ends with \`error\` and no \`user_message\` kept nothing (the commit failed)
- \`delta\`: \`{ content }\`, text to append to the answer
- \`reasoning\`: \`{ content }\`, reasoning text to append
- \`usage\`: \`{ promptTokens, completionTokens, reasoningTokens, cost }\`
- \`sources\`: \`{ sources: [{ url, title }] }\`, every web page cited so far (replaces the list)
- \`done\`: \`{ messageId, finishReason, status, model, provider, timeToFirstTokenMs, durationMs }\`, status \`complete\` or \`stopped\`; \`model\` answered (a fallback when the first failed), served by \`provider\` (null when upstream named none); the times (whole ms, \`timeToFirstTokenMs\` null when no token came) are those saved with the generation
- \`error\`: \`{ code, message }\`; the partial answer is kept with status \`error\``;

export const ReattachDescription = `A text/event-stream of a running answer, from its start:
- \`assistant_message\`: \`{ messageId, generationId, model }\`
- then what was written so far: one \`reasoning\` and one \`delta\` with the whole text (none
  while it is empty), the \`sources\` and the last \`usage\`, if any
- then the live \`delta\`, \`reasoning\`, \`sources\`, \`usage\` events, and \`done\` or \`error\`, as for
  POST /api/conversations/{id}/messages

Concatenating the \`delta\` events of this stream gives the saved final text exactly.
An answer no longer running (ended, or from before a restart) answers 404
\`generation.not_found\`: load the conversation for its saved message instead.`;

export const StopResponse = Type.Object({ stopped: Type.Boolean() });

export const CompareBody = Type.Object(
  {
    content: Type.String({
      maxLength: 200_000,
      description: 'The question; may be empty only when the message carries attachments',
    }),
    attachmentIds: Type.Optional(AttachmentIds),
    models: Type.Array(ModelId, {
      maxItems: 16,
      description:
        'The models to answer, 2 to 4 distinct ids of the model catalog, in the order their answers are shown (fewer or more: 400 compare.model_count; one twice: 400 compare.duplicate_model; one not in the catalog: 400 model.unknown).',
    }),
    parentId: Type.Optional(
      Type.Union([Type.String({ format: 'uuid' }), Type.Null()], {
        description:
          'The message the question follows, as for POST /api/conversations/{id}/messages (null: a new first message). Absent: where the conversation continues (the newest message; past a comparison with a chosen answer, the newest of its branch).',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ComparisonParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  comparisonId: Type.String({ format: 'uuid' }),
});

export const ChooseAnswerBody = Type.Object(
  {
    messageId: Type.String({
      format: 'uuid',
      description: "One of the comparison's answers (answerIds)",
    }),
  },
  { additionalProperties: false },
);

export const ChooseAnswerResponse = Type.Object({
  comparison: Comparison,
  conversation: Conversation,
});

export const StopComparisonResponse = Type.Object({
  stopped: Type.Integer({ description: 'How many of its answers were still being written' }),
});

export const CompareStreamDescription = `A text/event-stream of every answer of the comparison, interleaved as they are written. Events, each \`data\` one JSON object:
- \`user_message\`: the saved question (a Message)
- \`comparison\`: \`{ id, questionId, answers: [{ messageId, generationId, model }] }\`, the answers in the order of the request's models
- \`assistant_message\`: \`{ messageId, generationId, model }\`, once per answer
- then \`delta\`, \`reasoning\`, \`usage\`, \`sources\`, and \`done\` or \`error\`, as for POST /api/conversations/{id}/messages, each with the \`messageId\` of the answer it belongs to. Each answer ends with its own \`done\` or \`error\`: one failing leaves the others running.

The stream ends once every answer has ended. Each answer is a generation of its own: GET /api/generations/{id}/stream reattaches to one (after a lost connection or a reload), POST /api/generations/{id}/stop stops one, and POST /api/conversations/{id}/comparisons/{comparisonId}/stop stops them all.`;
