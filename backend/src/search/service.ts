import type { Database } from '../db/connection.js';
import { createSearchRepo } from './repo.js';
import type { SearchHit } from './schemas.js';
import { snippet } from './snippet.js';

const TITLE_HITS = 20;
const MESSAGE_HITS = 50;

/** Search across the titles and message text of one user's conversations. */
export function createSearchService(db: Database) {
  const repo = createSearchRepo(db);

  return {
    async search(userId: string, query: string): Promise<{ results: SearchHit[] }> {
      const [titles, messages] = await Promise.all([
        repo.titles(userId, query, TITLE_HITS),
        repo.messages(userId, query, MESSAGE_HITS),
      ]);
      const known = new Map(titles.map((t) => [t.id, t]));
      const missing = [...new Set(messages.map((m) => m.conversation_id))].filter(
        (id) => !known.has(id),
      );
      for (const row of await repo.conversations(userId, missing)) known.set(row.id, row);

      const results: SearchHit[] = titles.map((t) => ({
        conversationId: t.id,
        conversationTitle: t.title,
        archived: t.archived === true,
        messageId: null,
        role: null,
        createdAt: t.updated_at,
        snippet: snippet(t.title, query),
      }));
      for (const m of messages) {
        const conversation = known.get(m.conversation_id);
        // A message whose conversation is gone (deleted between the two reads) is left out.
        if (!conversation) continue;
        results.push({
          conversationId: m.conversation_id,
          conversationTitle: conversation.title,
          archived: conversation.archived === true,
          messageId: m.id,
          role: m.role,
          createdAt: m.created_at,
          snippet: snippet(m.content, query),
        });
      }
      return { results };
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;
