import { AppError } from '../errors.js';
import type { Database } from '../db/connection.js';
import { ConversationCache } from './cache.js';
import { createConversationsRepo } from './repo.js';
import { DEFAULT_TITLE, type Conversation, type Message } from './schemas.js';

/**
 * `cache` is the chat's view of the conversations in use (cache.ts): every change made here
 * is told to it once committed.
 */
export function createConversationsService(
  db: Database,
  now: () => Date = () => new Date(),
  cache: ConversationCache = new ConversationCache(),
) {
  const repo = createConversationsRepo(db);

  async function get(userId: string, id: string): Promise<Conversation> {
    const conversation = await repo.find(userId, id);
    if (!conversation) throw new AppError('conversation.not_found');
    return conversation;
  }

  return {
    get,

    async create(
      userId: string,
      input: { title?: string; model?: string; fallbackModels?: string[] },
    ): Promise<Conversation> {
      const at = now().toISOString();
      const conversation: Conversation = {
        id: crypto.randomUUID(),
        title: input.title ?? DEFAULT_TITLE,
        model: input.model ?? null,
        fallbackModels: input.fallbackModels ?? [],
        createdAt: at,
        updatedAt: at,
      };
      await repo.insert(userId, conversation);
      cache.created(userId, conversation);
      return conversation;
    },

    async list(userId: string, limit: number, cursor: string | undefined) {
      const after = cursor === undefined ? null : decodeCursor(cursor);
      // One row more than asked tells whether another page exists.
      const rows = await repo.list(userId, limit + 1, after);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        conversations: page,
        nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
      };
    },

    async getWithMessages(
      userId: string,
      id: string,
    ): Promise<{ conversation: Conversation; messages: Message[] }> {
      const conversation = await get(userId, id);
      return { conversation, messages: await repo.listMessages(userId, id) };
    },

    async update(
      userId: string,
      id: string,
      changes: { title?: string; model?: string | null; fallbackModels?: string[] },
    ): Promise<Conversation> {
      const updated = await repo.update(userId, id, changes, now().toISOString());
      cache.forget(id);
      if (!updated) throw new AppError('conversation.not_found');
      return updated;
    },

    async remove(userId: string, id: string): Promise<void> {
      const deleted = await db.transaction((tx) => createConversationsRepo(tx).delete(userId, id));
      cache.forget(id);
      if (!deleted) throw new AppError('conversation.not_found');
    },
  };
}

export type ConversationsService = ReturnType<typeof createConversationsService>;

function encodeCursor(c: Conversation): string {
  return Buffer.from(JSON.stringify([c.updatedAt, c.id])).toString('base64url');
}

function decodeCursor(cursor: string): { updatedAt: string; id: string } {
  try {
    const [updatedAt, id] = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    ) as unknown[];
    if (
      typeof updatedAt === 'string' &&
      typeof id === 'string' &&
      !Number.isNaN(Date.parse(updatedAt))
    ) {
      return { updatedAt, id };
    }
  } catch {
    // Falls through to the typed error below.
  }
  throw new AppError(
    'request.invalid',
    'The cursor is not valid: use nextCursor from the previous page.',
  );
}
