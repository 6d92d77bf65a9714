import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/connection.js';
import type { OpenRouterClient } from '../openrouter/types.js';
import type { WorkspaceSettings } from '../settings/service.js';
import { createModelsRepo } from './repo.js';
import type { ModelCatalog } from './schemas.js';

/** How long a catalog request waits for upstream before serving the cached copy. */
const REFRESH_TIMEOUT_MS = 10_000;

/**
 * The catalog lives in DuckDB: served from there, refreshed from upstream once it is
 * older than the TTL, and still served (marked stale) when upstream is down.
 */
export function createModelsService(deps: {
  db: Database;
  openrouter: OpenRouterClient;
  ttlSeconds: number;
  log: FastifyBaseLogger;
  /** The admin's model allow-list: users (not admins) see only the allowed models. */
  settings?: { get(): Promise<WorkspaceSettings> };
}) {
  const repo = createModelsRepo(deps.db);
  let refreshing: Promise<void> | null = null;

  async function refresh(): Promise<void> {
    const models = await deps.openrouter.listModels({
      signal: AbortSignal.timeout(REFRESH_TIMEOUT_MS),
    });
    const fetchedAt = new Date().toISOString();
    await deps.db.transaction((tx) => createModelsRepo(tx).replaceAll(models, fetchedAt));
  }

  async function fullCatalog(): Promise<ModelCatalog> {
    const cached = await repo.list();
    const age = cached.fetchedAt === null ? Infinity : Date.now() - Date.parse(cached.fetchedAt);
    if (age <= deps.ttlSeconds * 1000) return { ...cached, stale: false };
    // Concurrent requests share one upstream call.
    refreshing ??= refresh().finally(() => {
      refreshing = null;
    });
    try {
      await refreshing;
    } catch (error) {
      if (cached.models.length === 0) throw error;
      deps.log.warn({ err: error }, 'model catalog refresh failed; serving the cached copy');
      return { ...cached, stale: true };
    }
    return { ...(await repo.list()), stale: false };
  }

  return {
    /** The catalog as `role` may use it: admins see every model, users the allowed ones. */
    async catalog(role: 'admin' | 'user' = 'admin'): Promise<ModelCatalog> {
      const catalog = await fullCatalog();
      const allowed =
        role === 'admin' ? null : ((await deps.settings?.get())?.allowedModels ?? null);
      if (allowed === null) return catalog;
      const ids = new Set(allowed);
      return { ...catalog, models: catalog.models.filter((model) => ids.has(model.id)) };
    },
  };
}

export type ModelsService = ReturnType<typeof createModelsService>;
