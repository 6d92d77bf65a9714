-- Usage analytics (usage/): where each generation's figures came from, and its speed.
-- usage_source: 'stream' (the stream's final usage chunk), 'openrouter' (filled in afterwards
-- from OpenRouter's GET /generation), 'estimate' (neither had them: tokens from the text's
-- length, cost from the catalog price of the day); NULL: no figures (nothing reached the
-- model: an error before its first byte). Rows of earlier versions with figures came from the
-- stream. (DuckDB cannot add a column with a constraint.)
ALTER TABLE generations ADD COLUMN usage_source TEXT;
-- Output tokens per second while the answer streamed: completion tokens over the time from
-- the first token to the end; NULL when there is no such time (one chunk, no token).
ALTER TABLE generations ADD COLUMN tokens_per_second DOUBLE;
UPDATE generations SET usage_source = 'stream'
WHERE prompt_tokens IS NOT NULL OR completion_tokens IS NOT NULL OR cost_usd IS NOT NULL;
UPDATE generations
SET tokens_per_second = completion_tokens * 1000.0 / (duration_ms - time_to_first_token_ms)
WHERE completion_tokens > 0 AND duration_ms > time_to_first_token_ms;

-- Model prices over time (USD per token), from the catalog: a row per model and price, valid
-- from valid_from until valid_to (NULL: still the price). Each catalog refresh that finds a
-- price changed closes its row and opens a new one, so the list-price cost of any past day can
-- be recomputed and set against what OpenRouter charged. NULL cache_read / reasoning prices
-- mean the prompt / completion price applies.
CREATE TABLE model_prices (
  model_id TEXT NOT NULL,
  valid_from TIMESTAMPTZ NOT NULL,
  valid_to TIMESTAMPTZ,
  prompt_price DOUBLE NOT NULL,
  completion_price DOUBLE NOT NULL,
  request_price DOUBLE NOT NULL,
  cache_read_price DOUBLE,
  reasoning_price DOUBLE,
  PRIMARY KEY (model_id, valid_from)
);
-- The catalog already cached holds the prices known so far, valid from when it was fetched.
INSERT INTO model_prices (model_id, valid_from, valid_to, prompt_price, completion_price, request_price)
SELECT id, fetched_at, NULL, TRY_CAST(prompt_price AS DOUBLE), TRY_CAST(completion_price AS DOUBLE), 0
FROM models
WHERE TRY_CAST(prompt_price AS DOUBLE) IS NOT NULL AND TRY_CAST(completion_price AS DOUBLE) IS NOT NULL;
