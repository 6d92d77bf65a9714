import type { Queryable } from '../db/connection.js';
import type { Source } from '../openrouter/types.js';
import { parseSources } from '../conversations/repo.js';
import type { MessageStatus } from '../conversations/schemas.js';
import { DEFAULT_TITLE } from '../conversations/schemas.js';
import { keyedRows, valuesList } from '../db/values.js';
import type { ContextRow } from '../conversations/cache.js';
import { byMessage, createAttachmentsRepo } from '../attachments/repo.js';
import type { GenerationKind, UsageSource } from '../usage/figures.js';
import { GRACE_MS, earlierDays } from '../usage/rollup/days.js';
import { markDays } from '../usage/rollup/repo.js';

/** An answer started on a turn's question: its message (status streaming) and generation rows. */
export interface NewTurnAnswer {
  id: string;
  createdAt: string;
  generationId: string;
  model: string;
}

export interface NewTurn {
  userId: string;
  conversationId: string;
  userMessage: { id: string; parentId: string | null; content: string; createdAt: string };
  /** One answer for a send; 2 to 4 for a comparison, siblings under the question. */
  answers: NewTurnAnswer[];
  /**
   * Set for a comparison: its row is written, each answer is marked with it and its generation's
   * purpose is 'compare'. Null for a send (its `purpose`, 'answer' by default).
   */
  comparisonId: string | null;
  /** The conversation's model after the turn. */
  model: string;
  /** What the call is for (generations.purpose); 'answer' when absent. */
  purpose?: GenerationKind;
  /** Set when the conversation still has its default title. */
  title: string | null;
  /** The question's attachments: pending uploads it takes, copies it gets (attachments/). */
  attachments?: {
    claims: ReadonlyArray<{ id: string; position: number }>;
    copies: ReadonlyArray<{ id: string; sourceId: string; position: number; createdAt: string }>;
  } | null;
}

export interface FinishedGeneration {
  userId: string;
  /** Null for a temporary chat's answer (temporary.ts): no message row, only the generation's. */
  messageId: string | null;
  generationId: string;
  conversationId: string | null;
  content: string;
  reasoning: string | null;
  /** Web pages the answer cites (stored as JSON); null: none. */
  sources: Source[] | null;
  status: Exclude<MessageStatus, 'streaming'>;
  error: string | null;
  errorCode: string | null;
  upstreamId: string | null;
  provider: string | null;
  /** The model that answered (from the stream); null keeps the one requested. */
  answeredModel: string | null;
  usage: {
    promptTokens: number;
    completionTokens: number;
    reasoningTokens: number;
    cachedTokens: number;
    cost: number | null;
  } | null;
  /** Where `usage` came from (usage/figures.ts); null: no figures, nothing reached the model. */
  usageSource: UsageSource | null;
  timeToFirstTokenMs: number | null;
  durationMs: number;
  finishReason: string | null;
  now: string;
}

/**
 * The generation row of a temporary chat's answer (chat/temporary.ts), written as it starts:
 * no message, no conversation, no text; its figures are filled in by finishAll.
 */
export interface NewTemporaryGeneration {
  generationId: string;
  userId: string;
  model: string;
  createdAt: string;
}

export type { ContextRow } from '../conversations/cache.js';

/** An answer started on an existing question (regenerate) or message (continue). */
export interface NewAnswer {
  userId: string;
  conversationId: string;
  /** The question answered. */
  parentId: string;
  messageId: string;
  generationId: string;
  model: string;
  createdAt: string;
}

export interface StoredMessage {
  id: string;
  role: 'system' | 'user' | 'assistant';
  content: string;
  reasoning: string | null;
  sources: Source[] | null;
  model: string | null;
  status: MessageStatus;
  /** The comparison it is an answer of (migration 012), or null. */
  comparisonId: string | null;
}

async function insertGeneration(
  db: Queryable,
  g: Pick<
    NewAnswer,
    'generationId' | 'messageId' | 'userId' | 'conversationId' | 'model' | 'createdAt'
  >,
  purpose: GenerationKind,
): Promise<void> {
  await db.run(
    `INSERT INTO generations (id, message_id, user_id, conversation_id, model, created_at, purpose)
     VALUES ($1, $2, $3, $4, $5, CAST($6 AS TIMESTAMPTZ), $7)`,
    [g.generationId, g.messageId, g.userId, g.conversationId, g.model, g.createdAt, purpose],
  );
}

/**
 * Output tokens per second while streaming, from a row's figures (`column` gives the SQL for
 * each): completion tokens over the time from the first token to the end; NULL without such
 * a time.
 */
export const TOKENS_PER_SECOND = (column: (name: string) => string) =>
  `CASE WHEN ${column('completion_tokens')} > 0 AND ${column('duration_ms')} > ${column('time_to_first_token_ms')}
        THEN ${column('completion_tokens')} * 1000.0 / (${column('duration_ms')} - ${column('time_to_first_token_ms')}) END`;

/** A finished answer's generation row as finishAll writes it, in the order of its values. */
const FINISHED_GENERATION_COLUMNS = [
  ['id', 'TEXT'],
  ['provider', 'TEXT'],
  ['upstream_id', 'TEXT'],
  ['prompt_tokens', 'INTEGER'],
  ['completion_tokens', 'INTEGER'],
  ['reasoning_tokens', 'INTEGER'],
  ['cached_tokens', 'INTEGER'],
  ['cost_usd', 'DOUBLE'],
  ['time_to_first_token_ms', 'INTEGER'],
  ['duration_ms', 'INTEGER'],
  ['finish_reason', 'TEXT'],
  ['error_code', 'TEXT'],
  ['model', 'TEXT'],
  ['usage_source', 'TEXT'],
] as const;

/** Statements over at most this many rows each (PostgreSQL allows 65,535 parameters). */
const ROWS_PER_STATEMENT = 200;

function chunks<T>(items: readonly T[], size = ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The writes below match rows by id alone. Every id they get was minted or owner-checked by
 * the chat service for the signed-in user (send() checks the conversation's owner; message and
 * generation ids are new UUIDs of that turn), and a second condition such as
 * `AND user_id = v.user_id` makes DuckDB scan the table instead of using the primary key:
 * on a 1M-message file an answer's final save took ~3 ms a statement with it, ~1.5 ms without.
 */
export function createChatRepo(db: Queryable) {
  return {
    /**
     * Every message of the conversation, in no order: the branch sent upstream and the newest
     * message are found from it in memory (branch.ts). A recursive CTE made DuckDB scan the
     * messages table once per ancestor (0.65 s per send on a 1M-message file). The owner is
     * checked in code: with `AND user_id = $2` DuckDB skips the conversation index and scans
     * (19-message conversation on that file: 5.0 → 1.0 ms).
     */
    async contextRows(userId: string, conversationId: string): Promise<ContextRow[]> {
      const rows = await db.all<ContextRow & { user_id: string }>(
        `SELECT id, user_id, parent_id, role, content, created_at, comparison_id FROM messages
         WHERE conversation_id = $1`,
        [conversationId],
      );
      // The files user messages carry (metadata): sent again with the branch they are in.
      const attached = byMessage(
        await createAttachmentsRepo(db).ofConversation(userId, conversationId),
      );
      // Without user_id: these rows are kept in the conversation cache.
      return rows
        .filter((row) => row.user_id === userId)
        .map(({ id, parent_id, role, content, created_at, comparison_id }) => {
          const row: ContextRow = { id, parent_id, role, content, created_at };
          const attachments = attached.get(id);
          if (attachments) row.attachments = attachments;
          // Only a comparison's answers carry it (most rows: no field at all).
          if (comparison_id) row.comparison_id = comparison_id;
          return row;
        });
    },

    /**
     * Each turn's question, its answer's row (status streaming) and generation row, and the
     * conversation's activity time: one statement per table for the whole batch.
     */
    async insertTurns(turns: readonly NewTurn[]): Promise<void> {
      for (const part of chunks(turns)) {
        const messages = valuesList(
          [
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
          part.flatMap((t) => [
            [
              t.userMessage.id,
              t.conversationId,
              t.userId,
              t.userMessage.parentId,
              'user',
              t.userMessage.content,
              null,
              'complete',
              t.userMessage.createdAt,
              t.userMessage.createdAt,
              null,
            ],
            ...t.answers.map((a) => [
              a.id,
              t.conversationId,
              t.userId,
              t.userMessage.id,
              'assistant',
              '',
              a.model,
              'streaming',
              a.createdAt,
              a.createdAt,
              t.comparisonId,
            ]),
          ]),
        );
        await db.run(
          `INSERT INTO messages (id, conversation_id, user_id, parent_id, role, content, model, status, created_at, updated_at, comparison_id)
           VALUES ${messages.sql}`,
          messages.params,
        );
        const generations = valuesList(
          ['TEXT', 'TEXT', 'TEXT', 'TEXT', 'TEXT', 'TIMESTAMPTZ', 'TEXT'],
          part.flatMap((t) =>
            t.answers.map((a) => [
              a.generationId,
              a.id,
              t.userId,
              t.conversationId,
              a.model,
              a.createdAt,
              t.comparisonId === null ? (t.purpose ?? 'answer') : 'compare',
            ]),
          ),
        );
        await db.run(
          `INSERT INTO generations (id, message_id, user_id, conversation_id, model, created_at, purpose)
           VALUES ${generations.sql}`,
          generations.params,
        );
        const compared = part.filter((t) => t.comparisonId !== null);
        if (compared.length > 0) {
          const comparisons = valuesList(
            ['TEXT', 'TEXT', 'TEXT', 'TEXT', 'TIMESTAMPTZ'],
            compared.map((t) => [
              t.comparisonId,
              t.userId,
              t.conversationId,
              t.userMessage.id,
              t.userMessage.createdAt,
            ]),
          );
          await db.run(
            `INSERT INTO comparisons (id, user_id, conversation_id, question_id, created_at)
             VALUES ${comparisons.sql}`,
            comparisons.params,
          );
        }
        // A provisional title replaces only the default one: a rename made meanwhile stays.
        const activity = keyedRows(
          ['TEXT', 'TIMESTAMPTZ', 'TEXT', 'TEXT'],
          // Several turns of one conversation: keyedRows keeps the last one's activity.
          part.map((t) => [
            t.conversationId,
            t.userMessage.createdAt,
            t.model,
            part.find((other) => other.conversationId === t.conversationId && other.title !== null)
              ?.title ?? null,
          ]),
          2,
        );
        const newTitle = activity.value(3, 'id');
        await db.run(
          `UPDATE conversations
           SET updated_at = ${activity.value(1, 'id')}, model = ${activity.value(2, 'id')},
               title = CASE WHEN ${newTitle} IS NOT NULL AND title = $1 THEN ${newTitle}
                            ELSE title END
           WHERE id IN (${activity.keys})`,
          [DEFAULT_TITLE, ...activity.params],
        );
        // Only turns with files: a send without attachments runs no statement more.
        const attaching = part.flatMap((t) =>
          t.attachments
            ? [{ conversationId: t.conversationId, messageId: t.userMessage.id, ...t.attachments }]
            : [],
        );
        if (attaching.length > 0) await createAttachmentsRepo(db).attach(attaching);
      }
    },

    /**
     * The generation rows of temporary answers starting (purpose 'temporary', message_id and
     * conversation_id NULL): the upstream call is on record from its start, as an answer's is.
     */
    async insertTemporaryGenerations(rows: readonly NewTemporaryGeneration[]): Promise<void> {
      for (const part of chunks(rows)) {
        const generations = valuesList(
          ['TEXT', 'TEXT', 'TEXT', 'TEXT', 'TEXT', 'TIMESTAMPTZ', 'TEXT'],
          part.map((g) => [
            g.generationId,
            null,
            g.userId,
            null,
            g.model,
            g.createdAt,
            'temporary',
          ]),
        );
        await db.run(
          `INSERT INTO generations (id, message_id, user_id, conversation_id, model, created_at, purpose)
           VALUES ${generations.sql}`,
          generations.params,
        );
      }
    },

    /** Saves partial answers; a row already finalized is never overwritten. */
    async savePartials(
      partials: ReadonlyArray<{
        id: string;
        content: string;
        reasoning: string | null;
        now: string;
      }>,
    ): Promise<void> {
      for (const part of chunks(partials)) {
        const rows = keyedRows(
          ['TEXT', 'TEXT', 'TEXT', 'TIMESTAMPTZ'],
          part.map((p) => [p.id, p.content, p.reasoning, p.now]),
        );
        // The status test sits in SET, not WHERE: a second condition can make DuckDB scan the
        // table instead of reading the rows through the primary key.
        await db.run(
          `UPDATE messages
           SET content = CASE WHEN status = 'streaming' THEN ${rows.value(1, 'id')} ELSE content END,
               reasoning = CASE WHEN status = 'streaming' THEN ${rows.value(2, 'id')} ELSE reasoning END,
               updated_at = CASE WHEN status = 'streaming' THEN ${rows.value(3, 'id')} ELSE updated_at END
           WHERE id IN (${rows.keys})`,
          rows.params,
        );
      }
    },

    /**
     * The final text, status and usage of finished answers. The conversation's activity time
     * is the turn's (when the question was sent, as the list orders it): the answer's end
     * does not touch the conversation, one statement less per batch. A temporary answer
     * (messageId null) has only its generation row: its text is written nowhere.
     */
    async finishAll(finished: readonly FinishedGeneration[]): Promise<void> {
      for (const part of chunks(finished)) {
        const answers = part.filter(
          (g): g is FinishedGeneration & { messageId: string } => g.messageId !== null,
        );
        if (answers.length > 0) {
          const messages = keyedRows(
            ['TEXT', 'TEXT', 'TEXT', 'TEXT', 'TEXT', 'TEXT', 'TIMESTAMPTZ'],
            answers.map((g) => [
              g.messageId,
              g.content,
              g.reasoning,
              g.sources === null ? null : JSON.stringify(g.sources),
              g.status,
              g.error,
              g.now,
            ]),
          );
          const v = (column: number) => messages.value(column, 'id');
          await db.run(
            `UPDATE messages
             SET content = ${v(1)}, reasoning = ${v(2)}, sources = ${v(3)},
                 status = ${v(4)}, error = ${v(5)}, updated_at = ${v(6)}
             WHERE id IN (${messages.keys})`,
            messages.params,
          );
        }
        const generations = keyedRows(
          FINISHED_GENERATION_COLUMNS.map(([, type]) => type),
          part.map((g) => [
            g.generationId,
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
            g.answeredModel,
            g.usageSource,
          ]),
        );
        const v = (name: string) =>
          generations.value(
            FINISHED_GENERATION_COLUMNS.findIndex(([column]) => column === name),
            'id',
          );
        await db.run(
          `UPDATE generations
           SET provider = ${v('provider')}, upstream_id = ${v('upstream_id')},
               prompt_tokens = ${v('prompt_tokens')}, completion_tokens = ${v('completion_tokens')},
               reasoning_tokens = ${v('reasoning_tokens')}, cached_tokens = ${v('cached_tokens')},
               cost_usd = ${v('cost_usd')}, time_to_first_token_ms = ${v('time_to_first_token_ms')},
               duration_ms = ${v('duration_ms')}, finish_reason = ${v('finish_reason')},
               error_code = ${v('error_code')}, model = COALESCE(${v('model')}, model),
               usage_source = ${v('usage_source')}, tokens_per_second = ${TOKENS_PER_SECOND(v)}
           WHERE id IN (${generations.keys})`,
          generations.params,
        );
      }
      // An answer that began before midnight (UTC) updates a row of a day the usage rollup may
      // have summed: that day is marked in this transaction. Its row was stamped when the turn
      // was sent, at most the grace before the upstream call began (usage/rollup/days.ts). No
      // statement at all for the answers of the rest of the day.
      await markDays(
        db,
        finished.flatMap((g) => {
          const end = Date.parse(g.now);
          return earlierDays(end - g.durationMs - GRACE_MS, end);
        }),
      );
    },

    /** One message of the user's conversation, for regenerate and continue; undefined otherwise. */
    async findMessage(
      userId: string,
      conversationId: string,
      messageId: string,
    ): Promise<StoredMessage | undefined> {
      // Owner and conversation checked in code: a lone primary-key filter uses the index.
      const row = await db.one<
        Omit<StoredMessage, 'sources' | 'comparisonId'> & {
          user_id: string;
          conversation_id: string;
          sources: string | null;
          comparison_id: string | null;
        }
      >(
        `SELECT id, user_id, conversation_id, role, content, reasoning, sources, model, status,
                comparison_id
         FROM messages WHERE id = $1`,
        [messageId],
      );
      if (row?.user_id !== userId || row.conversation_id !== conversationId) return undefined;
      return {
        id: row.id,
        role: row.role,
        content: row.content,
        reasoning: row.reasoning,
        sources: parseSources(row.sources),
        model: row.model,
        status: row.status,
        comparisonId: row.comparison_id,
      };
    },

    /** A new answer (status streaming) to an existing question, and its generation row. */
    async insertAnswer(answer: NewAnswer): Promise<void> {
      await db.run(
        `INSERT INTO messages (id, conversation_id, user_id, parent_id, role, content, model, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'assistant', '', $5, 'streaming', CAST($6 AS TIMESTAMPTZ), CAST($6 AS TIMESTAMPTZ))`,
        [
          answer.messageId,
          answer.conversationId,
          answer.userId,
          answer.parentId,
          answer.model,
          answer.createdAt,
        ],
      );
      await insertGeneration(db, answer, 'regenerate');
    },

    /**
     * An answer written on by a new generation (a continuation): streaming again, its text
     * kept, and the new generation's row. Its earlier generations stay: each call's cost counts.
     */
    async reopenAnswer(answer: Omit<NewAnswer, 'parentId'>): Promise<void> {
      await db.run(
        `UPDATE messages SET status = 'streaming', error = NULL, updated_at = CAST($2 AS TIMESTAMPTZ)
         WHERE id = $1`,
        [answer.messageId, answer.createdAt],
      );
      await insertGeneration(db, answer, 'continue');
    },

    /**
     * Deletes messages by id (the caller found them in the user's conversation). Their
     * generation rows stay: what was spent stays spent (budgets sum generations.cost_usd). A
     * comparison whose question goes goes too; one whose chosen answer goes has no choice left.
     */
    async deleteMessages(ids: readonly string[]): Promise<void> {
      for (const part of chunks(ids)) {
        const list = part.map((_, i) => `$${i + 1}`).join(', ');
        await db.run(`DELETE FROM messages WHERE id IN (${list})`, part);
        await db.run(`DELETE FROM comparisons WHERE question_id IN (${list})`, part);
        await db.run(
          `UPDATE comparisons SET chosen_id = NULL, chosen_at = NULL WHERE chosen_id IN (${list})`,
          part,
        );
      }
    },

    /** A comparison of the user's conversation (by its primary key; owner checked in code). */
    async findComparison(
      userId: string,
      conversationId: string,
      comparisonId: string,
    ): Promise<{ id: string; questionId: string; chosenId: string | null } | undefined> {
      const row = await db.one<{
        id: string;
        user_id: string;
        conversation_id: string;
        question_id: string;
        chosen_id: string | null;
      }>(
        `SELECT id, user_id, conversation_id, question_id, chosen_id FROM comparisons
         WHERE id = $1`,
        [comparisonId],
      );
      if (row?.user_id !== userId || row.conversation_id !== conversationId) return undefined;
      return { id: row.id, questionId: row.question_id, chosenId: row.chosen_id };
    },

    /** Records the answer chosen to continue a comparison with (the caller checked both). */
    async chooseAnswer(comparisonId: string, messageId: string, now: string): Promise<void> {
      await db.run(
        `UPDATE comparisons SET chosen_id = $2, chosen_at = CAST($3 AS TIMESTAMPTZ) WHERE id = $1`,
        [comparisonId, messageId, now],
      );
    },

    /** At start-up, answers that were streaming when the process died are marked interrupted. */
    async interruptStreaming(now: string, reason: string): Promise<number> {
      const rows = await db.all<{ id: string }>(
        `UPDATE messages SET status = 'interrupted', error = $2, updated_at = CAST($1 AS TIMESTAMPTZ)
         WHERE status = 'streaming' RETURNING id`,
        [now, reason],
      );
      return rows.length;
    },
  };
}

export type ChatRepo = ReturnType<typeof createChatRepo>;
