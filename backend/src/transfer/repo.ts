import type { Queryable, SqlParam } from '../db/connection.js';
import {
  createConversationsRepo,
  paramsText,
  parseModelList,
  parseParams,
  parseRouting,
  parseSources,
  toComparisons,
} from '../conversations/repo.js';
import { valuesList } from '../db/values.js';
import type { GenerationParams, MessageStatus, ProviderRouting } from '../conversations/schemas.js';
import { createAttachmentsRepo } from '../attachments/repo.js';
import type {
  ExportAttachment,
  ExportComparison,
  ExportConversation,
  ExportGeneration,
  ExportMessage,
  ExportSource,
} from './schemas.js';

type ConversationRow = {
  id: string;
  user_id: string;
  title: string;
  model: string | null;
  fallback_models: string | null;
  provider_routing: string | null;
  system_prompt: string | null;
  params: string | null;
  created_at: string;
  updated_at: string;
};

type MessageRow = {
  id: string;
  user_id: string;
  parent_id: string | null;
  role: ExportMessage['role'];
  content: string;
  reasoning: string | null;
  sources: string | null;
  model: string | null;
  status: MessageStatus;
  error: string | null;
  created_at: string;
  updated_at: string;
};

type GenerationRow = {
  message_id: string;
  user_id: string;
  /** answer or title (migration 006); NULL read as answer. */
  purpose: string | null;
  model: string;
  provider: string | null;
  upstream_id: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  reasoning_tokens: number | null;
  cached_tokens: number | null;
  cost_usd: number | null;
  time_to_first_token_ms: number | null;
  duration_ms: number | null;
  finish_reason: string | null;
  error_code: string | null;
  created_at: string;
};

export type ConversationHead = Omit<
  ExportConversation,
  'messages' | 'providerRouting' | 'systemPrompt' | 'params' | 'comparisons'
> & {
  providerRouting: ProviderRouting | null;
  systemPrompt: string | null;
  params: GenerationParams;
};

/** A conversation to write: its messages in an order where a parent comes before its children. */
export interface NewConversation {
  id: string;
  title: string;
  model: string | null;
  fallbackModels: string[];
  providerRouting: ProviderRouting | null;
  systemPrompt: string | null;
  params: GenerationParams;
  createdAt: string;
  updatedAt: string;
  messages: Array<{
    id: string;
    parentId: string | null;
    role: ExportMessage['role'];
    content: string;
    reasoning: string | null;
    sources: ExportSource[] | null;
    model: string | null;
    status: Exclude<MessageStatus, 'streaming'>;
    error: string | null;
    createdAt: string;
    updatedAt: string;
    generation: (ExportGeneration & { id: string }) | null;
  }>;
  /** Its comparisons, by the new ids of their messages. */
  comparisons: ExportComparison[];
}

const conversationColumns =
  'id, user_id, title, model, fallback_models, provider_routing, system_prompt, params, created_at, updated_at';

function toHead(row: ConversationRow): ConversationHead {
  return {
    id: row.id,
    title: row.title,
    model: row.model,
    fallbackModels: parseModelList(row.fallback_models),
    providerRouting: parseRouting(row.provider_routing),
    systemPrompt: row.system_prompt,
    params: parseParams(row.params),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toGeneration(row: GenerationRow): ExportGeneration {
  return {
    model: row.model,
    provider: row.provider,
    upstreamId: row.upstream_id,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    reasoningTokens: row.reasoning_tokens,
    cachedTokens: row.cached_tokens,
    cost: row.cost_usd,
    timeToFirstTokenMs: row.time_to_first_token_ms,
    durationMs: row.duration_ms,
    finishReason: row.finish_reason,
    errorCode: row.error_code,
    createdAt: row.created_at,
  };
}

/** Rows per INSERT statement at most (PostgreSQL allows 65,535 parameters; 18 columns at most here). */
const MAX_ROWS = 256;

/**
 * Splits `n` rows into statements of 256 rows, then of powers of two for the rest: a batch's
 * SQL text depends on its row count, and each new text must be prepared (parsed and planned:
 * several ms for hundreds of placeholders) and takes a place in the writer connection's small
 * cache of prepared statements (db/connection.ts). With at most nine sizes, the statements are
 * prepared once per import and the chat's own are not pushed out. Measured on ~49,000 messages
 * in 500 conversations of 60 to 139 messages: 44 s this way, 78 s with one statement of any size.
 */
export function batchSizes(n: number): number[] {
  const sizes: number[] = [];
  let rest = n;
  while (rest >= MAX_ROWS) {
    sizes.push(MAX_ROWS);
    rest -= MAX_ROWS;
  }
  for (let size = MAX_ROWS / 2; size >= 1; size /= 2) {
    if (rest >= size) {
      sizes.push(size);
      rest -= size;
    }
  }
  return sizes;
}

function inBatches<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  let at = 0;
  for (const size of batchSizes(items.length)) {
    out.push(items.slice(at, at + size));
    at += size;
  }
  return out;
}

/** ORDER BY created_at, id in memory (ISO timestamps of one format sort as text). */
function oldestFirst(a: MessageRow, b: MessageRow): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Reads for export and writes for import. Every read is scoped to the user: lookups by id
 * check the row's user_id in code (DuckDB uses the primary-key or conversation index only for
 * a lone equality filter, see conversations/repo.ts). Writes insert new rows only, with ids
 * minted by the import for the signed-in user.
 */
export function createTransferRepo(db: Queryable) {
  const conversations = createConversationsRepo(db);
  return {
    async findConversation(userId: string, id: string): Promise<ConversationHead | undefined> {
      const row = await db.one<ConversationRow>(
        `SELECT ${conversationColumns} FROM conversations WHERE id = $1`,
        [id],
      );
      return row?.user_id === userId ? toHead(row) : undefined;
    },

    /**
     * One page of the user's conversations, oldest first, keyset-paged on (created_at, id):
     * an export of everything walks the pages instead of reading every row at once.
     */
    async conversationPage(
      userId: string,
      after: { createdAt: string; id: string } | null,
      limit: number,
    ): Promise<ConversationHead[]> {
      const rows = after
        ? await db.all<ConversationRow>(
            `SELECT ${conversationColumns} FROM conversations
             WHERE user_id = $1
               AND (created_at > CAST($2 AS TIMESTAMPTZ)
                    OR (created_at = CAST($2 AS TIMESTAMPTZ) AND id > $3))
             ORDER BY created_at, id LIMIT $4`,
            [userId, after.createdAt, after.id, limit],
          )
        : await db.all<ConversationRow>(
            `SELECT ${conversationColumns} FROM conversations
             WHERE user_id = $1 ORDER BY created_at, id LIMIT $2`,
            [userId, limit],
          );
      return rows.map(toHead);
    },

    /**
     * Every message of one conversation (every branch), oldest first, each with its
     * generation's figures. Read by conversation id alone, so DuckDB uses its index, and the
     * owner checked in code; generations read apart, not joined (see conversations/repo.ts).
     */
    async messages(userId: string, conversationId: string): Promise<ExportMessage[]> {
      const rows = (
        await db.all<MessageRow>(
          `SELECT id, user_id, parent_id, role, content, reasoning, sources, model, status,
                  error, created_at, updated_at
           FROM messages WHERE conversation_id = $1`,
          [conversationId],
        )
      ).filter((row) => row.user_id === userId);
      if (rows.length === 0) return [];
      const generations = await db.all<GenerationRow>(
        `SELECT message_id, user_id, model, provider, upstream_id, prompt_tokens,
                completion_tokens, reasoning_tokens, cached_tokens, cost_usd,
                time_to_first_token_ms, duration_ms, finish_reason, error_code, created_at, purpose
         FROM generations WHERE conversation_id = $1 AND user_id = $2`,
        [conversationId, userId],
      );
      // A continued answer has several generations: the latest is kept, as the chat shows it.
      generations.sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
      const byMessage = new Map<string, ExportGeneration>();
      // A title call's row (migration 006) names the answer it titled: only the answer's own goes.
      for (const g of generations) {
        if (g.purpose !== 'title') byMessage.set(g.message_id, toGeneration(g));
      }
      const attached = new Map<string, ExportAttachment[]>();
      for (const a of await createAttachmentsRepo(db).ofConversation(userId, conversationId)) {
        if (a.message_id === null) continue;
        const file: ExportAttachment = {
          name: a.name,
          mediaType: a.media_type,
          kind: a.kind,
          size: a.size_bytes,
          sha256: a.sha256,
        };
        attached.set(a.message_id, [...(attached.get(a.message_id) ?? []), file]);
      }
      rows.sort(oldestFirst);
      return rows.map((row) => ({
        id: row.id,
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
        generation: byMessage.get(row.id) ?? null,
        ...(attached.has(row.id) ? { attachments: attached.get(row.id) } : {}),
      }));
    },

    /**
     * The comparisons of one conversation (migration 012), oldest first, each with its answers
     * (the messages marked with it, oldest first). The comparisons are read first (by
     * conversation id alone, owner checked in code): most conversations have none, and then
     * nothing more is read.
     */
    async comparisons(userId: string, conversationId: string): Promise<ExportComparison[]> {
      const rows = await conversations.listComparisons(userId, conversationId);
      if (rows.length === 0) return [];
      // By conversation id alone (a second condition would make DuckDB scan), sorted here:
      // each comparison's answers are listed oldest first.
      const messages = (
        await db.all<{
          id: string;
          user_id: string;
          comparison_id: string | null;
          created_at: string;
        }>(
          `SELECT id, user_id, comparison_id, created_at FROM messages WHERE conversation_id = $1`,
          [conversationId],
        )
      )
        .filter((m) => m.user_id === userId)
        .sort((a, b) =>
          a.created_at !== b.created_at
            ? a.created_at < b.created_at
              ? -1
              : 1
            : a.id < b.id
              ? -1
              : 1,
        );
      return toComparisons(
        rows,
        messages.map((m) => ({ id: m.id, comparisonId: m.comparison_id })),
      );
    },

    /**
     * Writes one imported conversation: its row, its messages and its generations (marked
     * imported, so their cost is not this server's spend), and its comparisons (their answers
     * marked, their generations' purpose 'compare'), a few multi-row INSERTs in all.
     * Run it inside a transaction: a conversation is imported whole or not at all.
     */
    async insertConversation(userId: string, c: NewConversation): Promise<void> {
      const comparisonOf = new Map(
        c.comparisons.flatMap((comparison) =>
          comparison.answerIds.map((id) => [id, comparison.id]),
        ),
      );
      await db.run(
        `INSERT INTO conversations (id, user_id, title, model, fallback_models, provider_routing,
                                    created_at, updated_at, system_prompt, params)
         VALUES ($1, $2, $3, $4, $5, $6, CAST($7 AS TIMESTAMPTZ), CAST($8 AS TIMESTAMPTZ), $9, $10)`,
        [
          c.id,
          userId,
          c.title,
          c.model,
          JSON.stringify(c.fallbackModels),
          c.providerRouting === null ? null : JSON.stringify(c.providerRouting),
          c.createdAt,
          c.updatedAt,
          c.systemPrompt,
          paramsText(c.params),
        ],
      );
      for (const part of inBatches(c.messages)) {
        const rows = valuesList(
          [
            'TEXT',
            'TEXT',
            'TEXT',
            'TEXT',
            'TEXT',
            'TEXT',
            'TEXT',
            'TEXT',
            'TEXT',
            'TEXT',
            'TEXT',
            'TIMESTAMPTZ',
            'TIMESTAMPTZ',
            'TEXT',
          ],
          part.map((m): SqlParam[] => [
            m.id,
            c.id,
            userId,
            m.parentId,
            m.role,
            m.content,
            m.reasoning,
            m.sources === null ? null : JSON.stringify(m.sources),
            m.model,
            m.status,
            m.error,
            m.createdAt,
            m.updatedAt,
            comparisonOf.get(m.id) ?? null,
          ]),
        );
        await db.run(
          `INSERT INTO messages (id, conversation_id, user_id, parent_id, role, content, reasoning,
             sources, model, status, error, created_at, updated_at, comparison_id)
           VALUES ${rows.sql}`,
          rows.params,
        );
      }
      const generations = c.messages.flatMap((m) =>
        m.generation ? [{ messageId: m.id, ...m.generation }] : [],
      );
      for (const part of inBatches(generations)) {
        const rows = valuesList(
          [
            'TEXT',
            'TEXT',
            'TEXT',
            'TEXT',
            'TEXT',
            'TEXT',
            'TEXT',
            'INTEGER',
            'INTEGER',
            'INTEGER',
            'INTEGER',
            'DOUBLE',
            'INTEGER',
            'INTEGER',
            'TEXT',
            'TEXT',
            'TIMESTAMPTZ',
            'BOOLEAN',
            'TEXT',
          ],
          part.map((g): SqlParam[] => [
            g.id,
            g.messageId,
            userId,
            c.id,
            g.model,
            g.provider,
            g.upstreamId,
            g.promptTokens,
            g.completionTokens,
            g.reasoningTokens,
            g.cachedTokens,
            g.cost,
            g.timeToFirstTokenMs,
            g.durationMs,
            g.finishReason,
            g.errorCode,
            g.createdAt,
            true,
            comparisonOf.has(g.messageId) ? 'compare' : 'answer',
          ]),
        );
        await db.run(
          `INSERT INTO generations (id, message_id, user_id, conversation_id, model, provider,
             upstream_id, prompt_tokens, completion_tokens, reasoning_tokens, cached_tokens,
             cost_usd, time_to_first_token_ms, duration_ms, finish_reason, error_code, created_at,
             imported, purpose)
           VALUES ${rows.sql}`,
          rows.params,
        );
      }
      if (c.comparisons.length > 0) {
        const rows = valuesList(
          ['TEXT', 'TEXT', 'TEXT', 'TEXT', 'TEXT', 'TIMESTAMPTZ', 'TIMESTAMPTZ'],
          c.comparisons.map((comparison): SqlParam[] => [
            comparison.id,
            userId,
            c.id,
            comparison.questionId,
            comparison.chosenId,
            comparison.createdAt,
            comparison.chosenAt,
          ]),
        );
        await db.run(
          `INSERT INTO comparisons (id, user_id, conversation_id, question_id, chosen_id,
             created_at, chosen_at)
           VALUES ${rows.sql}`,
          rows.params,
        );
      }
    },
  };
}

export type TransferRepo = ReturnType<typeof createTransferRepo>;
