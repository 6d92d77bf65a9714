-- Everything a user owns carries user_id, so every query can be scoped to its user.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);

-- The token itself is never stored: token_hash is its SHA-256.
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  last_seen_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  user_agent TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  title TEXT NOT NULL,
  model TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
-- DuckDB's ART indexes serve equality lookups only; ordering uses zone maps.
CREATE INDEX conversations_user ON conversations (user_id);

-- Messages form a tree through parent_id, so edits and regenerations become branches.
CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  parent_id TEXT,
  role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
  content TEXT NOT NULL,
  reasoning TEXT,
  model TEXT,
  status TEXT NOT NULL CHECK (status IN ('streaming', 'complete', 'stopped', 'error', 'interrupted')),
  error TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id);

-- One row per upstream call.
CREATE TABLE generations (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  model TEXT NOT NULL,
  provider TEXT,
  upstream_id TEXT,
  prompt_tokens INTEGER,
  completion_tokens INTEGER,
  reasoning_tokens INTEGER,
  cached_tokens INTEGER,
  cost_usd DOUBLE,
  time_to_first_token_ms INTEGER,
  duration_ms INTEGER,
  finish_reason TEXT,
  error_code TEXT,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX generations_message ON generations (message_id);

-- The OpenRouter catalog, served from here when upstream is down.
CREATE TABLE models (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  context_length INTEGER,
  prompt_price TEXT NOT NULL,
  completion_price TEXT NOT NULL,
  input_modalities TEXT NOT NULL,
  output_modalities TEXT NOT NULL,
  supported_parameters TEXT NOT NULL,
  created BIGINT,
  fetched_at TIMESTAMPTZ NOT NULL
);
