-- A user's favourite models (starred in the picker, listed first), one row per star.
CREATE TABLE user_model_favorites (
  user_id TEXT NOT NULL,
  model_id TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (user_id, model_id)
);

-- A user's default model: the model of their new conversations. No row: none chosen.
CREATE TABLE user_model_defaults (
  user_id TEXT PRIMARY KEY,
  model_id TEXT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);

-- Provider routing of a conversation, sent to OpenRouter as the request's `provider` object:
-- a JSON object as TEXT (sort, order, only, ignore, allowFallbacks, dataCollection, zdr,
-- maxPrice), NULL for OpenRouter's default routing. (DuckDB cannot add a constrained column.)
ALTER TABLE conversations ADD COLUMN provider_routing TEXT;
