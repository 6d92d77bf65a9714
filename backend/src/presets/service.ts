import type { Database } from '../db/connection.js';
import { newId } from '../db/ids.js';
import { AppError } from '../errors.js';
import { systemPromptOf } from '../conversations/service.js';
import { createPresetsRepo } from './repo.js';
import {
  MAX_PRESETS,
  type CreatePresetBody,
  type Preset,
  type UpdatePresetBody,
} from './schemas.js';

/**
 * A user's presets (a model, a system prompt and parameters under a name). Names are unique
 * per user regardless of case, so the picker never shows two alike; checked with the write in
 * one transaction (all writes share the writer connection's queue, so none interleaves).
 */
export function createPresetsService(db: Database, { now = () => new Date() } = {}) {
  const repo = createPresetsRepo(db);

  return {
    list: (userId: string) => repo.list(userId),

    async create(userId: string, input: CreatePresetBody): Promise<Preset> {
      return db.transaction(async (tx) => {
        const txRepo = createPresetsRepo(tx);
        if ((await txRepo.count(userId)) >= MAX_PRESETS) throw new AppError('preset.limit');
        if ((await txRepo.idNamed(userId, input.name)) !== undefined) {
          throw new AppError('preset.name_taken');
        }
        const at = now().toISOString();
        const preset: Preset = {
          id: newId(),
          name: input.name,
          model: input.model ?? null,
          systemPrompt: systemPromptOf(input.systemPrompt),
          params: input.params ?? {},
          createdAt: at,
          updatedAt: at,
        };
        await txRepo.insert(userId, preset);
        return preset;
      });
    },

    async update(userId: string, id: string, changes: UpdatePresetBody): Promise<Preset> {
      return db.transaction(async (tx) => {
        const txRepo = createPresetsRepo(tx);
        const current = await txRepo.find(userId, id);
        if (!current) throw new AppError('preset.not_found');
        if (changes.name !== undefined) {
          const holder = await txRepo.idNamed(userId, changes.name);
          if (holder !== undefined && holder !== id) throw new AppError('preset.name_taken');
        }
        const preset: Preset = {
          ...current,
          ...(changes.name === undefined ? {} : { name: changes.name }),
          ...(changes.model === undefined ? {} : { model: changes.model }),
          ...(changes.systemPrompt === undefined
            ? {}
            : { systemPrompt: systemPromptOf(changes.systemPrompt) }),
          ...(changes.params === undefined ? {} : { params: changes.params }),
          updatedAt: now().toISOString(),
        };
        await txRepo.update(userId, preset);
        return preset;
      });
    },

    async remove(userId: string, id: string): Promise<void> {
      if (!(await repo.delete(userId, id))) throw new AppError('preset.not_found');
    },
  };
}

export type PresetsService = ReturnType<typeof createPresetsService>;
