import type { Database } from '../db/connection.js';
import { newId } from '../db/ids.js';
import { AppError } from '../errors.js';
import type { ConversationCache } from '../conversations/cache.js';
import { createConversationsRepo } from '../conversations/repo.js';
import { createFoldersRepo } from './repo.js';
import { MAX_FOLDERS, type Folder } from './schemas.js';

/**
 * A user's folders: a conversation is in at most one (conversations.folder_id). `cache` (the
 * conversations in use, cache.ts) is told when deleting a folder changes conversations.
 */
export function createFoldersService(
  db: Database,
  {
    now = () => new Date(),
    cache,
  }: { now?: () => Date; cache?: Pick<ConversationCache, 'forgetUser'> } = {},
) {
  const repo = createFoldersRepo(db);

  return {
    list: (userId: string) => repo.list(userId),

    async create(userId: string, name: string): Promise<Folder> {
      return db.transaction(async (tx) => {
        const txRepo = createFoldersRepo(tx);
        if ((await txRepo.count(userId)) >= MAX_FOLDERS) throw new AppError('folder.limit');
        const at = now().toISOString();
        const folder: Folder = { id: newId(), name, createdAt: at, updatedAt: at };
        await txRepo.insert(userId, folder);
        return folder;
      });
    },

    async rename(userId: string, id: string, name: string): Promise<Folder> {
      const folder = await repo.rename(userId, id, name, now().toISOString());
      if (!folder) throw new AppError('folder.not_found');
      return folder;
    },

    /** Deletes the folder; its conversations stay, out of any folder. */
    async remove(userId: string, id: string): Promise<void> {
      const deleted = await db.transaction(async (tx) => {
        if (!(await createFoldersRepo(tx).delete(userId, id))) return false;
        await createConversationsRepo(tx).clearFolder(userId, id);
        return true;
      });
      if (!deleted) throw new AppError('folder.not_found');
      // Its conversations, whichever are kept in memory, are read again.
      cache?.forgetUser(userId);
    },
  };
}

export type FoldersService = ReturnType<typeof createFoldersService>;
