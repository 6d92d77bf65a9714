import type { Queryable } from '../db/connection.js';
import type { MessageStatus } from '../conversations/schemas.js';
import { DEFAULT_TITLE } from '../conversations/schemas.js';

export interface NewTurn {
  userId: string;
  conversationId: string;
  userMessage: { id: string; parentId: string | null; content: string; createdAt: string };
  assistantMessage: { id: string; createdAt: string };
  generationId: string;
  model: string;
  /** Set when the conversation still has its default title. */
  title: string | null;
}

export interface FinishedGeneration {
  messageId: string;
  generationId: string;
  conversationId: string;
  content: string;
  reasoning: string | null;
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
  timeToFirstTokenMs: number | null;
  durationMs: number;
  finishReason: string | null;
  now: string;
}

export type PathMessage = {
  id: string;
  role: 'system' | 'user' | 'assistant';
  content: string;
};

export function createChatRepo(db: Queryable) {
  return {
    async newestMessageId(userId: string, conversationId: string): Promise<string | null> {
      const row = await db.one<{ id: string }>(
        `SELECT id FROM messages WHERE conversation_id = $1 AND user_id = $2
         ORDER BY created_at DESC, id DESC LIMIT 1`,
        [conversationId, userId],
      );
      return row?.id ?? null;
    },

    async messageExists(userId: string, conversationId: string, id: string): Promise<boolean> {
      const row = await db.one(
        'SELECT id FROM messages WHERE id = $1 AND conversation_id = $2 AND user_id = $3',
        [id, conversationId, userId],
      );
      return row !== undefined;
    },

    /** The branch from the root down to `leafId`, root first: the context sent upstream. */
    async pathTo(userId: string, conversationId: string, leafId: string): Promise<PathMessage[]> {
      // One indexed read of the conversation, then the parent chain walked in memory: a
      // recursive CTE made DuckDB scan the messages table once per ancestor (0.65 s per
      // send on a 1M-message file, docs/benchmarks.md).
      const rows = await db.all<PathMessage & { parent_id: string | null }>(
        `SELECT id, parent_id, role, content FROM messages
         WHERE conversation_id = $1 AND user_id = $2`,
        [conversationId, userId],
      );
      const byId = new Map(rows.map((row) => [row.id, row]));
      const path: PathMessage[] = [];
      // The size bound also stops a (corrupt) cycle.
      for (let row = byId.get(leafId); row && path.length < rows.length;) {
        path.push({ id: row.id, role: row.role, content: row.content });
        row = row.parent_id === null ? undefined : byId.get(row.parent_id);
      }
      return path.reverse();
    },

    /** The user's message, the answer's row (status streaming) and its generation row. */
    async insertTurn(turn: NewTurn): Promise<void> {
      const { userId, conversationId, userMessage: u, assistantMessage: a } = turn;
      await db.run(
        `INSERT INTO messages (id, conversation_id, user_id, parent_id, role, content, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'user', $5, 'complete', CAST($6 AS TIMESTAMPTZ), CAST($6 AS TIMESTAMPTZ))`,
        [u.id, conversationId, userId, u.parentId, u.content, u.createdAt],
      );
      await db.run(
        `INSERT INTO messages (id, conversation_id, user_id, parent_id, role, content, model, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'assistant', '', $5, 'streaming', CAST($6 AS TIMESTAMPTZ), CAST($6 AS TIMESTAMPTZ))`,
        [a.id, conversationId, userId, u.id, turn.model, a.createdAt],
      );
      await db.run(
        `INSERT INTO generations (id, message_id, user_id, conversation_id, model, created_at)
         VALUES ($1, $2, $3, $4, $5, CAST($6 AS TIMESTAMPTZ))`,
        [turn.generationId, a.id, userId, conversationId, turn.model, a.createdAt],
      );
      await db.run(
        // The provisional title replaces only the default one: a rename made meanwhile stays.
        `UPDATE conversations
         SET updated_at = CAST($3 AS TIMESTAMPTZ), model = $4,
             title = CASE WHEN $5 IS NOT NULL AND title = $6 THEN $5 ELSE title END
         WHERE id = $1 AND user_id = $2`,
        [conversationId, userId, u.createdAt, turn.model, turn.title, DEFAULT_TITLE],
      );
    },

    /** Saves partial answers; a row already finalized is never overwritten. */
    async savePartials(
      partials: Array<{ id: string; content: string; reasoning: string | null; now: string }>,
    ) {
      for (const p of partials) {
        await db.run(
          `UPDATE messages SET content = $2, reasoning = $3, updated_at = CAST($4 AS TIMESTAMPTZ)
           WHERE id = $1 AND status = 'streaming'`,
          [p.id, p.content, p.reasoning, p.now],
        );
      }
    },

    async finish(g: FinishedGeneration): Promise<void> {
      await db.run(
        `UPDATE messages SET content = $2, reasoning = $3, status = $4, error = $5, updated_at = CAST($6 AS TIMESTAMPTZ)
         WHERE id = $1`,
        [g.messageId, g.content, g.reasoning, g.status, g.error, g.now],
      );
      await db.run(
        `UPDATE generations
         SET provider = $2, upstream_id = $3, prompt_tokens = $4, completion_tokens = $5,
             reasoning_tokens = $6, cached_tokens = $7, cost_usd = $8, time_to_first_token_ms = $9,
             duration_ms = $10, finish_reason = $11, error_code = $12,
             model = COALESCE($13, model)
         WHERE id = $1`,
        [
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
        ],
      );
      await db.run('UPDATE conversations SET updated_at = CAST($2 AS TIMESTAMPTZ) WHERE id = $1', [
        g.conversationId,
        g.now,
      ]);
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
