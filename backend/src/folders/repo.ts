import type { Queryable } from '../db/connection.js';
import type { Folder } from './schemas.js';

type FolderRow = { id: string; name: string; created_at: string; updated_at: string };

function toFolder(row: FolderRow): Folder {
  return { id: row.id, name: row.name, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** Every statement is scoped to the user: it filters on user_id or checks it before answering. */
export function createFoldersRepo(db: Queryable) {
  return {
    async list(userId: string): Promise<Folder[]> {
      const rows = await db.all<FolderRow>(
        `SELECT id, name, created_at, updated_at FROM folders
         WHERE user_id = $1 ORDER BY name, created_at, id`,
        [userId],
      );
      return rows.map(toFolder);
    },

    async count(userId: string): Promise<number> {
      const row = await db.one<{ n: number | bigint }>(
        'SELECT count(*) AS n FROM folders WHERE user_id = $1',
        [userId],
      );
      return Number(row?.n ?? 0);
    },

    async find(userId: string, id: string): Promise<Folder | undefined> {
      // By id alone (the primary key), the owner checked here (see conversations/repo.ts).
      const row = await db.one<FolderRow & { user_id: string }>(
        'SELECT id, user_id, name, created_at, updated_at FROM folders WHERE id = $1',
        [id],
      );
      return row?.user_id === userId ? toFolder(row) : undefined;
    },

    async insert(userId: string, folder: Folder): Promise<void> {
      await db.run(
        `INSERT INTO folders (id, user_id, name, created_at, updated_at)
         VALUES ($1, $2, $3, CAST($4 AS TIMESTAMPTZ), CAST($5 AS TIMESTAMPTZ))`,
        [folder.id, userId, folder.name, folder.createdAt, folder.updatedAt],
      );
    },

    async rename(
      userId: string,
      id: string,
      name: string,
      now: string,
    ): Promise<Folder | undefined> {
      const row = await db.one<FolderRow>(
        `UPDATE folders SET name = $3, updated_at = CAST($4 AS TIMESTAMPTZ)
         WHERE id = $1 AND user_id = $2
         RETURNING id, name, created_at, updated_at`,
        [id, userId, name, now],
      );
      return row && toFolder(row);
    },

    async delete(userId: string, id: string): Promise<boolean> {
      const rows = await db.all<{ id: string }>(
        'DELETE FROM folders WHERE id = $1 AND user_id = $2 RETURNING id',
        [id, userId],
      );
      return rows.length > 0;
    },
  };
}
