import type { Queryable } from '../db/connection.js';

export type MessageHitRow = {
  id: string;
  conversation_id: string;
  role: 'system' | 'user' | 'assistant';
  content: string;
  created_at: string;
};

export type TitleRow = {
  id: string;
  title: string;
  archived: boolean | null;
  updated_at: string;
};

/**
 * `text` as an ILIKE pattern matching it anywhere, and the ESCAPE clause it needs: only a text
 * with its own % _ or \ gets one (they are then taken literally), so the usual search keeps the
 * exact query shape measured in docs/benchmarks.md.
 */
export function containsPattern(text: string): { pattern: string; escape: string } {
  if (!/[\\%_]/.test(text)) return { pattern: `%${text}%`, escape: '' };
  return { pattern: `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, escape: ` ESCAPE '\\'` };
}

/** Every statement filters on user_id: only the user's own conversations are searched. */
export function createSearchRepo(db: Queryable) {
  return {
    /**
     * The user's newest messages containing the text. The shape measured on 1M messages in
     * docs/benchmarks.md (bench/src/db.ts SEARCH_SQL: 80 ms p50 for a rare word).
     */
    messages(userId: string, text: string, limit: number): Promise<MessageHitRow[]> {
      const { pattern, escape } = containsPattern(text);
      return db.all<MessageHitRow>(
        `SELECT id, conversation_id, role, content, created_at FROM messages
         WHERE user_id = $1 AND content ILIKE $2${escape}
         ORDER BY created_at DESC LIMIT $3`,
        [userId, pattern, limit],
      );
    },

    titles(userId: string, text: string, limit: number): Promise<TitleRow[]> {
      const { pattern, escape } = containsPattern(text);
      return db.all<TitleRow>(
        `SELECT id, title, archived, updated_at FROM conversations
         WHERE user_id = $1 AND title ILIKE $2${escape}
         ORDER BY updated_at DESC, id DESC LIMIT $3`,
        [userId, pattern, limit],
      );
    },

    /** Titles of the given conversations of the user. */
    async conversations(userId: string, ids: string[]): Promise<TitleRow[]> {
      if (ids.length === 0) return [];
      const list = ids.map((_, i) => `$${i + 2}`).join(', ');
      return db.all<TitleRow>(
        `SELECT id, title, archived, updated_at FROM conversations
         WHERE user_id = $1 AND id IN (${list})`,
        [userId, ...ids],
      );
    },
  };
}
