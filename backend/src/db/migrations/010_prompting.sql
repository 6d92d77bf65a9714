-- Prompting: a conversation's system prompt (sent first, as a system message) and its
-- generation parameters (temperature, topP, maxTokens, reasoningEffort), a JSON object as
-- TEXT so the column means the same on PostgreSQL; NULL reads as none set. (DuckDB cannot add
-- a column with a constraint.)
ALTER TABLE conversations ADD COLUMN system_prompt TEXT;
ALTER TABLE conversations ADD COLUMN params TEXT;

-- A user's presets: a model, a system prompt and parameters saved under a name, to start a
-- conversation with. Names are unique per user (regardless of case), checked by the service.
CREATE TABLE presets (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  model TEXT,
  system_prompt TEXT,
  params TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX presets_user ON presets (user_id);
