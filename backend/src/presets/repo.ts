import type { Queryable } from '../db/connection.js';
import { parseParams, paramsText } from '../conversations/repo.js';
import type { Preset } from './schemas.js';

type PresetRow = {
  id: string;
  name: string;
  model: string | null;
  system_prompt: string | null;
  params: string | null;
  created_at: string;
  updated_at: string;
};

const columns = 'id, name, model, system_prompt, params, created_at, updated_at';

function toPreset(row: PresetRow): Preset {
  return {
    id: row.id,
    name: row.name,
    model: row.model,
    systemPrompt: row.system_prompt,
    params: parseParams(row.params),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Every statement is scoped to the user: it filters on user_id or checks it before answering. */
export function createPresetsRepo(db: Queryable) {
  return {
    async list(userId: string): Promise<Preset[]> {
      const rows = await db.all<PresetRow>(
        `SELECT ${columns} FROM presets WHERE user_id = $1
         ORDER BY lower(name), created_at, id`,
        [userId],
      );
      return rows.map(toPreset);
    },

    async count(userId: string): Promise<number> {
      const row = await db.one<{ n: number | bigint }>(
        'SELECT count(*) AS n FROM presets WHERE user_id = $1',
        [userId],
      );
      return Number(row?.n ?? 0);
    },

    async find(userId: string, id: string): Promise<Preset | undefined> {
      // By id alone (the primary key), the owner checked here (see conversations/repo.ts).
      const row = await db.one<PresetRow & { user_id: string }>(
        `SELECT user_id, ${columns} FROM presets WHERE id = $1`,
        [id],
      );
      return row?.user_id === userId ? toPreset(row) : undefined;
    },

    /** The id of the user's preset with this name regardless of case, if any. */
    async idNamed(userId: string, name: string): Promise<string | undefined> {
      const row = await db.one<{ id: string }>(
        'SELECT id FROM presets WHERE user_id = $1 AND lower(name) = lower($2)',
        [userId, name],
      );
      return row?.id;
    },

    async insert(userId: string, p: Preset): Promise<void> {
      await db.run(
        `INSERT INTO presets (id, user_id, name, model, system_prompt, params, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, CAST($7 AS TIMESTAMPTZ), CAST($8 AS TIMESTAMPTZ))`,
        [
          p.id,
          userId,
          p.name,
          p.model,
          p.systemPrompt,
          paramsText(p.params) ?? '{}',
          p.createdAt,
          p.updatedAt,
        ],
      );
    },

    /** Writes the whole preset (read, changed and checked by the service in one transaction). */
    async update(userId: string, p: Preset): Promise<void> {
      await db.run(
        `UPDATE presets
         SET name = $3, model = $4, system_prompt = $5, params = $6,
             updated_at = CAST($7 AS TIMESTAMPTZ)
         WHERE id = $1 AND user_id = $2`,
        [p.id, userId, p.name, p.model, p.systemPrompt, paramsText(p.params) ?? '{}', p.updatedAt],
      );
    },

    async delete(userId: string, id: string): Promise<boolean> {
      const rows = await db.all<{ id: string }>(
        'DELETE FROM presets WHERE id = $1 AND user_id = $2 RETURNING id',
        [id, userId],
      );
      return rows.length > 0;
    },
  };
}
