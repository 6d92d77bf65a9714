import { Type, type Static } from 'typebox';
import {
  FallbackModels,
  GenerationParams,
  MessageStatus,
  Nullable,
  ProviderRouting,
  SystemPrompt,
} from '../conversations/schemas.js';
import { AttachmentKind } from '../attachments/schemas.js';

/** The `format` and `version` of this app's export files; import refuses other versions. */
export const ARCHIVE_FORMAT = 'ai-workspace-export';
export const ARCHIVE_VERSION = 1;

const Timestamp = Type.String({ format: 'date-time' });
const Role = Type.Union([Type.Literal('system'), Type.Literal('user'), Type.Literal('assistant')]);
const Count = Nullable(Type.Integer({ minimum: 0 }));

/** One upstream call's figures, as the answer's row in `generations` holds them. */
export const ExportGeneration = Type.Object({
  model: Type.String({ description: 'The model that answered (or was asked, if it failed)' }),
  provider: Nullable(Type.String()),
  upstreamId: Nullable(Type.String()),
  promptTokens: Count,
  completionTokens: Count,
  reasoningTokens: Count,
  cachedTokens: Count,
  cost: Nullable(Type.Number({ minimum: 0, description: 'USD, as reported by OpenRouter' })),
  timeToFirstTokenMs: Count,
  durationMs: Count,
  finishReason: Nullable(Type.String()),
  errorCode: Nullable(Type.String()),
  createdAt: Timestamp,
});
export type ExportGeneration = Static<typeof ExportGeneration>;

/** Sources kept per answer, as the chat keeps them (chat/generation.ts). */
export const MAX_SOURCES = 50;

/** A web page an answer cites; on import, a URL other than http(s) is left out. */
export const ExportSource = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 2048, description: 'An absolute http(s) URL' }),
  title: Nullable(Type.String({ maxLength: 300 })),
});
export type ExportSource = Static<typeof ExportSource>;
/** A file a message carried: its metadata only (an archive holds no file contents). */
export const ExportAttachment = Type.Object({
  name: Type.String(),
  mediaType: Type.String(),
  kind: AttachmentKind,
  size: Type.Integer({ minimum: 0, description: 'Bytes' }),
  sha256: Type.String({ description: "The file's SHA-256, hex: tells it apart from others" }),
});
export type ExportAttachment = Static<typeof ExportAttachment>;

export const ExportMessage = Type.Object({
  id: Type.String({ minLength: 1 }),
  parentId: Nullable(Type.String({ minLength: 1 })),
  role: Role,
  content: Type.String(),
  reasoning: Nullable(Type.String()),
  sources: Type.Optional(
    Nullable(
      Type.Array(ExportSource, {
        maxItems: MAX_SOURCES,
        description:
          'Web pages the answer cites (url_citation annotations); null: none. Always written; absent in files from before it was (read as null)',
      }),
    ),
  ),
  model: Nullable(Type.String()),
  status: MessageStatus,
  error: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  generation: Nullable(ExportGeneration),
  attachments: Type.Optional(
    Type.Array(ExportAttachment, {
      description:
        'The files the message carried (images, PDFs, text files): metadata only, the archive holds no file contents, so an import leaves them out. Absent: none.',
    }),
  ),
});
export type ExportMessage = Static<typeof ExportMessage>;

/** Answers of one comparison at most, as the chat makes them. */
export const MAX_COMPARED = 4;

/** One question sent to several models at once: which answers it had and which was chosen. */
export const ExportComparison = Type.Object({
  id: Type.String({ minLength: 1 }),
  questionId: Type.String({ minLength: 1, description: 'A user message of this conversation' }),
  answerIds: Type.Array(Type.String({ minLength: 1 }), {
    maxItems: MAX_COMPARED,
    uniqueItems: true,
    description: 'Its answers (assistant messages whose parent is the question), oldest first',
  }),
  chosenId: Nullable(
    Type.String({ minLength: 1, description: 'The answer chosen to continue with; null: none' }),
  ),
  createdAt: Timestamp,
  chosenAt: Nullable(Timestamp),
});
export type ExportComparison = Static<typeof ExportComparison>;

export const ExportConversation = Type.Object({
  id: Type.String({ minLength: 1 }),
  title: Type.String(),
  model: Nullable(Type.String()),
  fallbackModels: FallbackModels,
  providerRouting: Type.Optional(
    Type.Union([ProviderRouting, Type.Null()], {
      description:
        "The conversation's provider routing (as in the conversations API); null: OpenRouter's default. Always written; absent in files from before it was (read as null)",
    }),
  ),
  // Written by every export since migration 010; an archive from before has neither.
  systemPrompt: Type.Optional(Nullable(SystemPrompt)),
  params: Type.Optional(GenerationParams),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  messages: Type.Array(ExportMessage, {
    description: 'Every message of the tree, every branch, oldest first; parentId links them',
  }),
  comparisons: Type.Optional(
    Type.Array(ExportComparison, {
      description:
        'Its comparisons (a question sent to several models at once), oldest first. Always written; absent in files from before it was (read as none)',
    }),
  ),
});
export type ExportConversation = Static<typeof ExportConversation>;

/** The export file: one conversation, or all of a user's. Import reads the same shape back. */
export const ExportArchive = Type.Object({
  format: Type.Literal(ARCHIVE_FORMAT),
  version: Type.Literal(ARCHIVE_VERSION),
  exportedAt: Timestamp,
  conversations: Type.Array(ExportConversation),
});
export type ExportArchive = Static<typeof ExportArchive>;

/**
 * The import body: the export file itself, as JSON. Its shape is checked by the importer
 * (which names what is wrong), not here: this app's archive or one ChatGPT / Open WebUI
 * conversation is an object; ChatGPT's conversations.json and Open WebUI's export are arrays.
 */
export const ImportBody = Type.Union(
  [
    Type.Object({}, { additionalProperties: true }),
    Type.Array(Type.Object({}, { additionalProperties: true })),
  ],
  {
    description:
      "An export file: this app's archive (ai-workspace-export), ChatGPT's conversations.json, or Open WebUI's chat export",
  },
);

export const ImportFormat = Type.Union([
  Type.Literal('ai-workspace'),
  Type.Literal('chatgpt'),
  Type.Literal('open-webui'),
]);
export type ImportFormat = Static<typeof ImportFormat>;

export const ImportResult = Type.Object({
  format: ImportFormat,
  importedConversations: Type.Integer(),
  importedMessages: Type.Integer(),
  conversations: Type.Array(
    Type.Object({ id: Type.String(), title: Type.String(), messages: Type.Integer() }),
  ),
  skipped: Type.Array(
    Type.Object({
      what: Type.String({
        description: 'e.g. "system message", "tool call", "image or file", "empty message"',
      }),
      count: Type.Integer(),
    }),
    { description: 'What the importer left out, and how often' },
  ),
});
export type ImportResult = Static<typeof ImportResult>;

export const ConversationIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
