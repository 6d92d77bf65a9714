import type { Queryable, SqlParam } from '../db/connection.js';
import type { Source } from '../openrouter/types.js';
import type { UsageSource } from '../usage/figures.js';
import { markConversation } from '../usage/rollup/repo.js';
import type {
  Comparison,
  Conversation,
  Generation,
  GenerationParams,
  Message,
  MessageStatus,
  ProviderRouting,
} from './schemas.js';

type ConversationRow = {
  id: string;
  title: string;
  model: string | null;
  fallback_models: string | null;
  pinned: boolean | null;
  archived: boolean | null;
  folder_id: string | null;
  provider_routing: string | null;
  system_prompt: string | null;
  params: string | null;
  created_at: string;
  updated_at: string;
};

const conversationColumns =
  'id, title, model, fallback_models, provider_routing, pinned, archived, folder_id, system_prompt, params, created_at, updated_at';

/** Where a page of the list starts: after this row, in (pinned, updated_at, id) order. */
export interface ListPosition {
  pinned: boolean;
  updatedAt: string;
  id: string;
}

function toConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    title: row.title,
    model: row.model,
    fallbackModels: parseModelList(row.fallback_models),
    providerRouting: parseRouting(row.provider_routing),
    // Columns added by migration 006: NULL reads as false.
    pinned: row.pinned === true,
    archived: row.archived === true,
    folderId: row.folder_id,
    titlePending: false,
    // Columns added by migration 010: NULL reads as no system prompt, no overrides.
    systemPrompt: row.system_prompt,
    params: parseParams(row.params),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The fallback_models column: a JSON array of model ids (TEXT, portable); NULL reads as []. */
export function parseModelList(text: string | null): string[] {
  if (text === null || text === '') return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((m): m is string => typeof m === 'string') : [];
  } catch {
    return [];
  }
}

/** The provider_routing column: a JSON object written from a validated body; NULL is none. */
export function parseRouting(text: string | null): ProviderRouting | null {
  if (text === null || text === '') return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as ProviderRouting)
      : null;
  } catch {
    return null;
  }
}

/**
 * A params column (conversations, presets): a JSON object written from a validated body;
 * NULL or anything else reads as no overrides. Only the known keys of the right type are kept.
 */
export function parseParams(text: string | null): GenerationParams {
  if (text === null || text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const { temperature, topP, maxTokens, reasoningEffort } = value as Record<string, unknown>;
  return {
    ...(typeof temperature === 'number' ? { temperature } : {}),
    ...(typeof topP === 'number' ? { topP } : {}),
    ...(typeof maxTokens === 'number' ? { maxTokens } : {}),
    ...(typeof reasoningEffort === 'string'
      ? { reasoningEffort: reasoningEffort as GenerationParams['reasoningEffort'] }
      : {}),
  };
}

/** What the params column holds: the object as JSON, NULL when nothing is set. */
export function paramsText(params: GenerationParams): string | null {
  return Object.keys(params).length === 0 ? null : JSON.stringify(params);
}

function routingText(routing: ProviderRouting | null): string | null {
  return routing === null ? null : JSON.stringify(routing);
}

/** The messages.sources column (a JSON array of { url, title }); anything else reads as null. */
export function parseSources(text: string | null): Source[] | null {
  if (text === null || text === '') return null;
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value)) return null;
    const sources = value.filter(
      (s): s is Source =>
        typeof s === 'object' &&
        s !== null &&
        typeof (s as Source).url === 'string' &&
        (typeof (s as Source).title === 'string' || (s as Source).title === null),
    );
    return sources.length > 0 ? sources.map(({ url, title }) => ({ url, title })) : null;
  } catch {
    return null;
  }
}

type MessageRow = {
  id: string;
  parent_id: string | null;
  role: Message['role'];
  content: string;
  reasoning: string | null;
  sources: string | null;
  model: string | null;
  status: MessageStatus;
  error: string | null;
  created_at: string;
  updated_at: string;
  /** Migration 012: the comparison an answer belongs to; NULL for every other message. */
  comparison_id: string | null;
};

type GenerationRow = {
  message_id: string;
  purpose: string | null;
  id: string;
  model: string;
  provider: string | null;
  upstream_id: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  reasoning_tokens: number | null;
  cost_usd: number | null;
  time_to_first_token_ms: number | null;
  duration_ms: number | null;
  finish_reason: string | null;
  created_at: string;
};

function toGeneration(row: GenerationRow): Generation {
  return {
    id: row.id,
    model: row.model,
    provider: row.provider,
    upstreamId: row.upstream_id,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    reasoningTokens: row.reasoning_tokens,
    cost: row.cost_usd,
    timeToFirstTokenMs: row.time_to_first_token_ms,
    durationMs: row.duration_ms,
    finishReason: row.finish_reason,
  };
}

/** ORDER BY created_at, id: the timestamps are ISO strings of one format, so they sort as text. */
function oldestFirst(a: MessageRow, b: MessageRow): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function toMessage(
  row: MessageRow,
  conversationId: string,
  generation: Generation | undefined,
): Message {
  return {
    id: row.id,
    conversationId,
    parentId: row.parent_id,
    role: row.role,
    content: row.content,
    reasoning: row.reasoning,
    sources: parseSources(row.sources),
    model: row.model,
    status: row.status,
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    generation: generation ?? null,
    attachments: [],
    comparisonId: row.comparison_id,
  };
}

/** A comparisons row (migration 012). */
export type ComparisonRow = {
  id: string;
  user_id: string;
  question_id: string;
  chosen_id: string | null;
  created_at: string;
  chosen_at: string | null;
};

/**
 * The comparisons of a conversation as the API shows them, each with its answers (the
 * messages marked with it, oldest first). One whose question is gone is left out; a chosen
 * answer that is gone reads as no choice.
 */
export function toComparisons(
  rows: readonly ComparisonRow[],
  messages: ReadonlyArray<Pick<Message, 'id' | 'comparisonId'>>,
): Comparison[] {
  const ids = new Set(messages.map((m) => m.id));
  return rows
    .filter((row) => ids.has(row.question_id))
    .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0))
    .map((row) => {
      const answerIds = messages.filter((m) => m.comparisonId === row.id).map((m) => m.id);
      const chosen = row.chosen_id !== null && answerIds.includes(row.chosen_id);
      return {
        id: row.id,
        questionId: row.question_id,
        answerIds,
        chosenId: chosen ? row.chosen_id : null,
        chosenAt: chosen ? row.chosen_at : null,
        createdAt: row.created_at,
      };
    });
}

/**
 * Every statement here is scoped to the user: it filters on user_id, or (a lookup by primary
 * key) checks the row's user_id before returning it. A conversation is only found by its owner.
 */
export interface ConversationChanges {
  title?: string;
  model?: string | null;
  fallbackModels?: string[];
  pinned?: boolean;
  archived?: boolean;
  folderId?: string | null;
  providerRouting?: ProviderRouting | null;
  systemPrompt?: string | null;
  params?: GenerationParams;
}

export function createConversationsRepo(db: Queryable) {
  return {
    async insert(userId: string, c: Conversation): Promise<void> {
      await db.run(
        `INSERT INTO conversations (id, user_id, title, model, fallback_models, pinned, archived,
                                    folder_id, provider_routing, created_at, updated_at,
                                    system_prompt, params)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CAST($10 AS TIMESTAMPTZ), CAST($11 AS TIMESTAMPTZ),
                 $12, $13)`,
        [
          c.id,
          userId,
          c.title,
          c.model,
          JSON.stringify(c.fallbackModels),
          c.pinned,
          c.archived,
          c.folderId,
          routingText(c.providerRouting),
          c.createdAt,
          c.updatedAt,
          c.systemPrompt,
          paramsText(c.params),
        ],
      );
    },

    async find(userId: string, id: string): Promise<Conversation | undefined> {
      // Owner checked in code: DuckDB uses the primary-key index only for a single filter, and
      // `AND user_id = $2` made it scan the table (2.0 → 0.7 ms on 50,000 conversations).
      const row = await db.one<ConversationRow & { user_id: string }>(
        `SELECT user_id, ${conversationColumns} FROM conversations WHERE id = $1`,
        [id],
      );
      return row?.user_id === userId ? toConversation(row) : undefined;
    },

    /**
     * Pinned first, then newest activity first: keyset pagination on (pinned, updated_at, id),
     * stable under inserts, never an OFFSET. `archived` picks the main list (false) or the
     * archived ones (true); `folderId` narrows to one folder.
     */
    async list(
      userId: string,
      limit: number,
      filter: { archived: boolean; folderId: string | null },
      after: ListPosition | null,
    ): Promise<Conversation[]> {
      const params: SqlParam[] = [userId, filter.archived];
      let where = 'user_id = $1 AND archived = $2';
      if (filter.folderId !== null) {
        params.push(filter.folderId);
        where += ` AND folder_id = $${params.length}`;
      }
      if (after) {
        params.push(after.pinned, after.updatedAt, after.id);
        const [p, u, i] = [params.length - 2, params.length - 1, params.length];
        where += ` AND (pinned < $${p} OR (pinned = $${p}
                    AND (updated_at < CAST($${u} AS TIMESTAMPTZ)
                         OR (updated_at = CAST($${u} AS TIMESTAMPTZ) AND id < $${i}))))`;
      }
      params.push(limit);
      const rows = await db.all<ConversationRow>(
        `SELECT ${conversationColumns} FROM conversations
         WHERE ${where}
         ORDER BY pinned DESC, updated_at DESC, id DESC LIMIT $${params.length}`,
        params,
      );
      return rows.map(toConversation);
    },

    /**
     * A title, model, fallback, provider routing, system prompt or parameter change counts as
     * activity (updated_at moves); pinning, archiving and filing in a folder do not, so the
     * conversation keeps its place in time.
     */
    async update(
      userId: string,
      id: string,
      changes: ConversationChanges,
      now: string,
    ): Promise<Conversation | undefined> {
      const activity =
        changes.title !== undefined ||
        changes.model !== undefined ||
        changes.fallbackModels !== undefined ||
        changes.providerRouting !== undefined ||
        changes.systemPrompt !== undefined ||
        changes.params !== undefined;
      const row = await db.one<ConversationRow>(
        `UPDATE conversations
         SET title = CASE WHEN $3 THEN $4 ELSE title END,
             model = CASE WHEN $5 THEN $6 ELSE model END,
             fallback_models = CASE WHEN $7 THEN $8 ELSE fallback_models END,
             pinned = CASE WHEN $10 THEN $11 ELSE pinned END,
             archived = CASE WHEN $12 THEN $13 ELSE archived END,
             folder_id = CASE WHEN $14 THEN $15 ELSE folder_id END,
             provider_routing = CASE WHEN $17 THEN $18 ELSE provider_routing END,
             system_prompt = CASE WHEN $19 THEN $20 ELSE system_prompt END,
             params = CASE WHEN $21 THEN $22 ELSE params END,
             updated_at = CASE WHEN $16 THEN CAST($9 AS TIMESTAMPTZ) ELSE updated_at END
         WHERE id = $1 AND user_id = $2
         RETURNING ${conversationColumns}`,
        [
          id,
          userId,
          changes.title !== undefined,
          changes.title ?? null,
          changes.model !== undefined,
          changes.model ?? null,
          changes.fallbackModels !== undefined,
          JSON.stringify(changes.fallbackModels ?? []),
          now,
          changes.pinned !== undefined,
          changes.pinned ?? false,
          changes.archived !== undefined,
          changes.archived ?? false,
          changes.folderId !== undefined,
          changes.folderId ?? null,
          activity,
          changes.providerRouting !== undefined,
          routingText(changes.providerRouting ?? null),
          changes.systemPrompt !== undefined,
          changes.systemPrompt ?? null,
          changes.params !== undefined,
          paramsText(changes.params ?? {}),
        ],
      );
      return row && toConversation(row);
    },

    /**
     * The title of a conversation by id alone, undefined when it is gone: for the title call,
     * whose conversation id the send owner-checked (by id alone: see `find`).
     */
    async titleOf(id: string): Promise<string | undefined> {
      const row = await db.one<{ title: string }>('SELECT title FROM conversations WHERE id = $1', [
        id,
      ]);
      return row?.title;
    },

    /** Sets a generated title. Not activity: updated_at stays. */
    async setTitle(id: string, title: string): Promise<void> {
      await db.run('UPDATE conversations SET title = $2 WHERE id = $1', [id, title]);
    },

    /** Takes every conversation of the user out of the folder (the folder is being deleted). */
    async clearFolder(userId: string, folderId: string): Promise<void> {
      await db.run(
        'UPDATE conversations SET folder_id = NULL WHERE user_id = $1 AND folder_id = $2',
        [userId, folderId],
      );
    },

    /** Deletes the conversation with its messages and generations; false when not the user's. */
    async delete(userId: string, id: string): Promise<boolean> {
      const owned = await db.one('SELECT id FROM conversations WHERE id = $1 AND user_id = $2', [
        id,
        userId,
      ]);
      if (!owned) return false;
      // Its days leave the usage rollup until summed again (the caller's transaction).
      await markConversation(db, userId, id);
      await db.run('DELETE FROM generations WHERE conversation_id = $1 AND user_id = $2', [
        id,
        userId,
      ]);
      await db.run('DELETE FROM messages WHERE conversation_id = $1 AND user_id = $2', [
        id,
        userId,
      ]);
      await db.run('DELETE FROM comparisons WHERE conversation_id = $1 AND user_id = $2', [
        id,
        userId,
      ]);
      await db.run('DELETE FROM conversations WHERE id = $1 AND user_id = $2', [id, userId]);
      return true;
    },

    /**
     * All messages of one conversation, oldest first, each with its generation's figures.
     *
     * Shaped by what a 500-message conversation costs in a 1M-message file (docs/benchmarks.md):
     * - Generations are read by conversation and user, not joined on message_id alone, which
     *   made DuckDB scan and hash the whole generations table on every call.
     * - They are read apart from the messages rather than joined to them, so the rows of user
     *   messages do not carry eleven NULL generation columns through the conversion to JS.
     *   Messages are read first: an answer's message and generation rows are inserted in one
     *   transaction, so every message read here has its generation row by the second read.
     * - The rows are put in order here, not by ORDER BY: DuckDB's sort copies every row whole,
     *   content included (about a sixth of the messages query at 500 messages). created_at is
     *   written with millisecond precision, as its ISO string reads, so the order is the same.
     */
    async listMessages(userId: string, conversationId: string): Promise<Message[]> {
      const rows = await db.all<MessageRow>(
        `SELECT id, parent_id, role, content, reasoning, sources, model, status, error, created_at,
                updated_at, comparison_id
         FROM messages
         WHERE conversation_id = $1 AND user_id = $2`,
        [conversationId, userId],
      );
      if (rows.length === 0) return [];
      const generations = await db.all<GenerationRow>(
        `SELECT message_id, id, model, provider, upstream_id, prompt_tokens, completion_tokens,
                reasoning_tokens, cost_usd, time_to_first_token_ms, duration_ms, finish_reason,
                purpose, created_at
         FROM generations
         WHERE conversation_id = $1 AND user_id = $2`,
        [conversationId, userId],
      );
      // A title call's row names the answer it titled; only the answer's own rows are shown.
      // A continued answer has several: the message shows its latest (whose finish reason says
      // whether it can be continued again). Generations of deleted messages are kept for the
      // usage they record and simply match no message here.
      const byMessage = new Map<string, GenerationRow>();
      for (const g of generations) {
        if (g.purpose === 'title') continue;
        const seen = byMessage.get(g.message_id);
        if (!seen || g.created_at > seen.created_at) byMessage.set(g.message_id, g);
      }
      rows.sort(oldestFirst);
      return rows.map((row) => {
        const generation = byMessage.get(row.id);
        return toMessage(row, conversationId, generation && toGeneration(generation));
      });
    },

    /**
     * The comparison rows of one conversation (migration 012), in no order. Read by conversation
     * id alone, so DuckDB uses its index; the owner is checked in code.
     */
    async listComparisons(userId: string, conversationId: string): Promise<ComparisonRow[]> {
      const rows = await db.all<ComparisonRow>(
        `SELECT id, user_id, question_id, chosen_id, created_at, chosen_at FROM comparisons
         WHERE conversation_id = $1`,
        [conversationId],
      );
      return rows.filter((row) => row.user_id === userId);
    },
  };
}

export type ConversationsRepo = ReturnType<typeof createConversationsRepo>;

/** The upstream call that named a conversation (generations row, purpose 'title'). */
export interface TitleGeneration {
  id: string;
  userId: string;
  conversationId: string;
  /** The answer whose conversation was named. */
  messageId: string;
  model: string;
  provider: string | null;
  upstreamId: string | null;
  usage: {
    promptTokens: number;
    completionTokens: number;
    reasoningTokens: number;
    cachedTokens: number;
    cost: number | null;
  } | null;
  usageSource: UsageSource | null;
  timeToFirstTokenMs: number | null;
  durationMs: number;
  finishReason: string | null;
  errorCode: string | null;
  createdAt: string;
}

/** The title call's row: its cost counts against the user's budget like an answer's. */
export async function insertTitleGeneration(db: Queryable, g: TitleGeneration): Promise<void> {
  await db.run(
    `INSERT INTO generations (id, message_id, user_id, conversation_id, model, provider,
       upstream_id, prompt_tokens, completion_tokens, reasoning_tokens, cached_tokens, cost_usd,
       time_to_first_token_ms, duration_ms, finish_reason, error_code, created_at, purpose,
       usage_source, tokens_per_second)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
       CAST($17 AS TIMESTAMPTZ), 'title', $18,
       CASE WHEN CAST($9 AS INTEGER) > 0 AND CAST($14 AS INTEGER) > CAST($13 AS INTEGER)
            THEN CAST($9 AS INTEGER) * 1000.0 / (CAST($14 AS INTEGER) - CAST($13 AS INTEGER)) END)`,
    [
      g.id,
      g.messageId,
      g.userId,
      g.conversationId,
      g.model,
      g.provider,
      g.upstreamId,
      g.usage?.promptTokens ?? null,
      g.usage?.completionTokens ?? null,
      g.usage?.reasoningTokens ?? null,
      g.usage?.cachedTokens ?? null,
      g.usage?.cost ?? null,
      g.timeToFirstTokenMs,
      g.durationMs,
      g.finishReason,
      g.errorCode,
      g.createdAt,
      g.usageSource,
    ],
  );
}
