import type { Queryable } from '../db/connection.js';
import type { UpstreamModel } from '../openrouter/types.js';
import type { Model } from './schemas.js';

type ModelRow = {
  id: string;
  name: string;
  description: string;
  context_length: number | null;
  prompt_price: string;
  completion_price: string;
  input_modalities: string;
  output_modalities: string;
  supported_parameters: string;
  fetched_at: string;
};

export function createModelsRepo(db: Queryable) {
  return {
    async list(): Promise<{ models: Model[]; fetchedAt: string | null }> {
      const rows = await db.all<ModelRow>(
        `SELECT id, name, description, context_length, prompt_price, completion_price,
                input_modalities, output_modalities, supported_parameters, fetched_at
         FROM models ORDER BY name, id`,
      );
      const fetchedAt = rows.reduce<string | null>(
        (oldest, r) => (oldest === null || r.fetched_at < oldest ? r.fetched_at : oldest),
        null,
      );
      return {
        fetchedAt,
        models: rows.map((r) => ({
          id: r.id,
          name: r.name,
          description: r.description,
          contextLength: r.context_length,
          pricing: { prompt: r.prompt_price, completion: r.completion_price },
          inputModalities: JSON.parse(r.input_modalities) as string[],
          outputModalities: JSON.parse(r.output_modalities) as string[],
          supportedParameters: JSON.parse(r.supported_parameters) as string[],
        })),
      };
    },

    /** Each model's supported_parameters: what the chat may send it. */
    async supportedParameters(): Promise<Array<{ id: string; supportedParameters: string[] }>> {
      const rows = await db.all<{ id: string; supported_parameters: string }>(
        'SELECT id, supported_parameters FROM models',
      );
      return rows.map((r) => ({
        id: r.id,
        supportedParameters: JSON.parse(r.supported_parameters) as string[],
      }));
    },

    /**
     * Keeps the price history (model_prices) in step with a fresh catalog (call inside the
     * refresh's transaction): a model whose price changed, or that left the catalog, has its
     * current row closed at `fetchedAt`; a new or changed price opens a row from then on.
     */
    async recordPrices(models: UpstreamModel[], fetchedAt: string): Promise<void> {
      const current = await db.all<PriceRow>(
        `SELECT model_id, prompt_price, completion_price, request_price, cache_read_price,
                reasoning_price
         FROM model_prices WHERE valid_to IS NULL`,
      );
      const open = new Map(current.map((row) => [row.model_id, row]));
      const seen = new Set<string>();
      for (const model of models) {
        const price = priceRowOf(model);
        if (price === null || seen.has(model.id)) continue;
        seen.add(model.id);
        const before = open.get(model.id);
        if (before && samePrice(before, price)) continue;
        if (before) await closePrice(db, model.id, fetchedAt);
        await db.run(
          `INSERT INTO model_prices (model_id, valid_from, valid_to, prompt_price, completion_price,
                                     request_price, cache_read_price, reasoning_price)
           VALUES ($1, CAST($2 AS TIMESTAMPTZ), NULL, $3, $4, $5, $6, $7)`,
          [
            model.id,
            fetchedAt,
            price.prompt_price,
            price.completion_price,
            price.request_price,
            price.cache_read_price,
            price.reasoning_price,
          ],
        );
      }
      for (const modelId of open.keys()) {
        if (!seen.has(modelId)) await closePrice(db, modelId, fetchedAt);
      }
    },

    /** Replaces the whole catalog (call inside a transaction). */
    async replaceAll(models: UpstreamModel[], fetchedAt: string): Promise<void> {
      await db.run('DELETE FROM models');
      for (const m of models) {
        await db.run(
          `INSERT INTO models (id, name, description, context_length, prompt_price, completion_price,
                               input_modalities, output_modalities, supported_parameters, created, fetched_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CAST($11 AS TIMESTAMPTZ))`,
          [
            m.id,
            m.name,
            m.description,
            m.contextLength,
            m.pricing.prompt,
            m.pricing.completion,
            JSON.stringify(m.inputModalities),
            JSON.stringify(m.outputModalities),
            JSON.stringify(m.supportedParameters),
            m.created,
            fetchedAt,
          ],
        );
      }
    },
  };
}

type PriceRow = {
  model_id: string;
  prompt_price: number;
  completion_price: number;
  request_price: number;
  cache_read_price: number | null;
  reasoning_price: number | null;
};

/** A catalog entry's prices as numbers (USD per token); null when they are not numbers. */
function priceRowOf(model: UpstreamModel): PriceRow | null {
  const number = (text: string | undefined): number | null => {
    if (text === undefined) return null;
    const value = Number(text);
    return Number.isFinite(value) && value >= 0 ? value : null;
  };
  const prompt = number(model.pricing.prompt);
  const completion = number(model.pricing.completion);
  if (prompt === null || completion === null) return null;
  return {
    model_id: model.id,
    prompt_price: prompt,
    completion_price: completion,
    request_price: number(model.pricing.request) ?? 0,
    cache_read_price: number(model.pricing.inputCacheRead),
    // OpenRouter sends "0" for models without a reasoning price of their own.
    reasoning_price: number(model.pricing.internalReasoning) || null,
  };
}

function samePrice(a: PriceRow, b: PriceRow): boolean {
  return (
    a.prompt_price === b.prompt_price &&
    a.completion_price === b.completion_price &&
    a.request_price === b.request_price &&
    a.cache_read_price === b.cache_read_price &&
    a.reasoning_price === b.reasoning_price
  );
}

async function closePrice(db: Queryable, modelId: string, at: string): Promise<void> {
  await db.run(
    `UPDATE model_prices SET valid_to = CAST($2 AS TIMESTAMPTZ)
     WHERE model_id = $1 AND valid_to IS NULL`,
    [modelId, at],
  );
}

/**
 * A user's favourite models and default model. Every statement filters on the user's id: one
 * user's stars and default are never read or changed by another.
 */
export function createModelPreferencesRepo(db: Queryable) {
  return {
    /** Favourites, oldest star first. */
    async favorites(userId: string): Promise<string[]> {
      const rows = await db.all<{ model_id: string; created_at: string }>(
        'SELECT model_id, created_at FROM user_model_favorites WHERE user_id = $1',
        [userId],
      );
      rows.sort((a, b) =>
        a.created_at === b.created_at
          ? a.model_id.localeCompare(b.model_id)
          : a.created_at < b.created_at
            ? -1
            : 1,
      );
      return rows.map((r) => r.model_id);
    },

    async addFavorite(userId: string, modelId: string, now: string): Promise<void> {
      await db.run(
        `INSERT INTO user_model_favorites (user_id, model_id, created_at)
         VALUES ($1, $2, CAST($3 AS TIMESTAMPTZ))
         ON CONFLICT (user_id, model_id) DO NOTHING`,
        [userId, modelId, now],
      );
    },

    async removeFavorite(userId: string, modelId: string): Promise<void> {
      await db.run('DELETE FROM user_model_favorites WHERE user_id = $1 AND model_id = $2', [
        userId,
        modelId,
      ]);
    },

    async defaultModel(userId: string): Promise<string | null> {
      const row = await db.one<{ model_id: string }>(
        'SELECT model_id FROM user_model_defaults WHERE user_id = $1',
        [userId],
      );
      return row?.model_id ?? null;
    },

    async setDefaultModel(userId: string, modelId: string | null, now: string): Promise<void> {
      if (modelId === null) {
        await db.run('DELETE FROM user_model_defaults WHERE user_id = $1', [userId]);
        return;
      }
      await db.run(
        `INSERT INTO user_model_defaults (user_id, model_id, updated_at)
         VALUES ($1, $2, CAST($3 AS TIMESTAMPTZ))
         ON CONFLICT (user_id) DO UPDATE SET model_id = excluded.model_id,
           updated_at = excluded.updated_at`,
        [userId, modelId, now],
      );
    },
  };
}
