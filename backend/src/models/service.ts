import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/connection.js';
import type { OpenRouterClient } from '../openrouter/types.js';
import type { WorkspaceSettings } from '../settings/service.js';
import { AppError } from '../errors.js';
import { createModelPreferencesRepo, createModelsRepo } from './repo.js';
import type { ModelCatalog, ModelPreferences } from './schemas.js';

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
  /**
   * Each model's supported parameters, in memory: a send asks on its hot path, which reads
   * nothing from the database. Read from the stored catalog once, replaced by each refresh.
   */
  let supported: Promise<Map<string, ReadonlySet<string>>> | null = null;
  const indexOf = (models: Array<{ id: string; supportedParameters: string[] }>) =>
    new Map(models.map((m) => [m.id, new Set(m.supportedParameters) as ReadonlySet<string>]));

  async function refresh(): Promise<void> {
    const models = await deps.openrouter.listModels({
      signal: AbortSignal.timeout(REFRESH_TIMEOUT_MS),
    });
    const fetchedAt = new Date().toISOString();
    await deps.db.transaction(async (tx) => {
      const repo = createModelsRepo(tx);
      await repo.replaceAll(models, fetchedAt);
      await repo.recordPrices(models, fetchedAt);
    });
    supported = Promise.resolve(indexOf(models));
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
    /**
     * The parameters the catalog lists for a model (`supported_parameters`), or null when it
     * lists none or does not know the model: then nothing says what it takes.
     */
    async supportedParameters(modelId: string): Promise<ReadonlySet<string> | null> {
      supported ??= repo.supportedParameters().then(indexOf, (error: unknown) => {
        supported = null;
        throw error;
      });
      const parameters = (await supported).get(modelId);
      return parameters === undefined || parameters.size === 0 ? null : parameters;
    },

    /**
     * The catalog's entry of each of `ids` that it lists, with its input price in USD per token
     * (0 when the catalog gives none it can read, as a local server's does); ids it does not
     * list are left out. From the catalog as served (refreshed once older than the TTL).
     */
    async inputPrices(ids: readonly string[]): Promise<Map<string, { promptUsdPerToken: number }>> {
      const wanted = new Set(ids);
      const { models } = await fullCatalog();
      const found = new Map<string, { promptUsdPerToken: number }>();
      for (const model of models) {
        if (!wanted.has(model.id)) continue;
        const price = Number(model.pricing.prompt);
        found.set(model.id, { promptUsdPerToken: Number.isFinite(price) && price > 0 ? price : 0 });
      }
      return found;
    },

    /** The catalog as `role` may use it: admins see every model, users the allowed ones. */
    async catalog(role: 'admin' | 'user' = 'admin'): Promise<ModelCatalog> {
      const catalog = await fullCatalog();
      const allowed =
        role === 'admin' ? null : ((await deps.settings?.get())?.allowedModels ?? null);
      if (allowed === null) return catalog;
      const ids = new Set(allowed);
      return { ...catalog, models: catalog.models.filter((model) => ids.has(model.id)) };
    },

    /**
     * A model's input modalities ("text", "image", "file") from the catalog; null when the
     * catalog does not list it or cannot be had (upstream down and nothing cached).
     */
    async inputModalities(modelId: string): Promise<string[] | null> {
      try {
        const catalog = await fullCatalog();
        return catalog.models.find((model) => model.id === modelId)?.inputModalities ?? null;
      } catch {
        return null;
      }
    },
  };
}

export type ModelsService = ReturnType<typeof createModelsService>;

/** How many models one user may star: the picker lists them first, so a handful is the use. */
export const MAX_FAVORITES = 100;

/**
 * Each user's favourite models and default model. The default must be a model the user may use
 * (the admin's allow-list); a favourite is only a mark, checked for nothing but its count.
 */
export function createModelPreferencesService(deps: {
  db: Database;
  modelAccess?: { assertAllowed(userId: string, models: string[]): Promise<void> };
  now?: () => Date;
}) {
  const repo = createModelPreferencesRepo(deps.db);
  const now = deps.now ?? (() => new Date());

  async function get(userId: string): Promise<ModelPreferences> {
    const [favorites, defaultModel] = await Promise.all([
      repo.favorites(userId),
      repo.defaultModel(userId),
    ]);
    return { favorites, defaultModel };
  }

  return {
    get,

    defaultModel: (userId: string) => repo.defaultModel(userId),

    async setFavorite(userId: string, modelId: string, favorite: boolean) {
      if (!favorite) {
        await repo.removeFavorite(userId, modelId);
        return get(userId);
      }
      await deps.db.transaction(async (tx) => {
        const txRepo = createModelPreferencesRepo(tx);
        const current = await txRepo.favorites(userId);
        if (current.includes(modelId)) return;
        if (current.length >= MAX_FAVORITES) {
          throw new AppError(
            'request.invalid',
            `At most ${MAX_FAVORITES} models can be favourites: remove a star first.`,
          );
        }
        await txRepo.addFavorite(userId, modelId, now().toISOString());
      });
      return get(userId);
    },

    async setDefault(userId: string, modelId: string | null) {
      if (modelId !== null) await deps.modelAccess?.assertAllowed(userId, [modelId]);
      await repo.setDefaultModel(userId, modelId, now().toISOString());
      return get(userId);
    },
  };
}

export type ModelPreferencesService = ReturnType<typeof createModelPreferencesService>;
