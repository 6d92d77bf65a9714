import type { Database } from '../db/connection.js';
import { createSettingsRepo } from './repo.js';

export interface WorkspaceSettings {
  /** Whether anyone may create an account (POST /api/auth/register). Off by default. */
  registrationOpen: boolean;
  /** The models users (not admins) may use: null for every model, else these ids. */
  allowedModels: string[] | null;
}

const defaults: WorkspaceSettings = { registrationOpen: false, allowedModels: null };

/**
 * Workspace settings an admin changes at run time, stored in the settings table and kept in
 * memory: this process alone writes the database, so the copy is never stale. Read on every
 * send (the model allow-list, model-access.ts), so a read costs no query once loaded.
 */
export function createSettingsService(db: Database, now: () => Date = () => new Date()) {
  const repo = createSettingsRepo(db);
  let current: Promise<WorkspaceSettings> | undefined;

  async function load(): Promise<WorkspaceSettings> {
    const stored = await repo.all();
    const read = <K extends keyof WorkspaceSettings>(key: K, column: string) => {
      const text = stored.get(column);
      if (text === undefined) return defaults[key];
      try {
        return JSON.parse(text) as WorkspaceSettings[K];
      } catch {
        return defaults[key];
      }
    };
    const allowed = read('allowedModels', 'allowed_models');
    return {
      registrationOpen: read('registrationOpen', 'registration_open') === true,
      allowedModels: Array.isArray(allowed)
        ? allowed.filter((id): id is string => typeof id === 'string')
        : null,
    };
  }

  function get(): Promise<WorkspaceSettings> {
    current ??= load().catch((error: unknown) => {
      current = undefined;
      throw error;
    });
    return current;
  }

  async function apply(changes: Partial<WorkspaceSettings>): Promise<WorkspaceSettings> {
    const next = { ...(await get()) };
    const at = now().toISOString();
    await db.transaction(async (tx) => {
      const txRepo = createSettingsRepo(tx);
      if (changes.registrationOpen !== undefined) {
        next.registrationOpen = changes.registrationOpen;
        await txRepo.put('registration_open', JSON.stringify(changes.registrationOpen), at);
      }
      if (changes.allowedModels !== undefined) {
        next.allowedModels =
          changes.allowedModels === null ? null : [...new Set(changes.allowedModels)];
        await txRepo.put('allowed_models', JSON.stringify(next.allowedModels), at);
      }
    });
    current = Promise.resolve(next);
    return next;
  }
  // Updates run one after another, each from the state the previous one left.
  let updating: Promise<unknown> = Promise.resolve();

  return {
    get,

    update(changes: Partial<WorkspaceSettings>): Promise<WorkspaceSettings> {
      const run = updating.then(() => apply(changes));
      updating = run.catch(() => undefined);
      return run;
    },
  };
}

export type SettingsService = ReturnType<typeof createSettingsService>;
