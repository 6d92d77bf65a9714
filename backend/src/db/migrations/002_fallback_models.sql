-- Fallback models of a conversation, tried in order when its model fails (OpenRouter's
-- `models`): a JSON array of model ids, as TEXT so the column means the same on PostgreSQL.
-- DuckDB cannot add a column with a NOT NULL constraint; the code reads NULL as [].
ALTER TABLE conversations ADD COLUMN fallback_models TEXT DEFAULT '[]';
