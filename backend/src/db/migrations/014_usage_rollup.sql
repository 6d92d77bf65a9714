-- The usage reports' rollup (usage/rollup/): the generations of each CLOSED UTC day summed
-- once, so that a report over a year reads a few thousand sums instead of millions of rows.
-- A report adds up the rollup's rows of the closed days of its range and the raw rows of the
-- others (today, yesterday within the grace after midnight, and any day marked dirty below):
-- the same sums, whichever way a day is answered. Days are `epoch_ms(created_at) // 86400000`
-- (days since 1970-01-01, UTC), as in usage/repo.ts. Imported generations are never in it.

-- Days before closed_before are in the rollup (but those in usage_dirty_days). 0: none yet,
-- the first refresh builds it.
CREATE TABLE usage_rollup_state (
  id INTEGER PRIMARY KEY,
  closed_before BIGINT NOT NULL
);
INSERT INTO usage_rollup_state (id, closed_before) VALUES (1, 0);

-- Closed days whose generations changed after they were summed (a background fill of figures,
-- a conversation or a user deleted, an answer that streamed across midnight): written in the
-- same transaction as the change, answered from the raw rows until the next refresh sums the
-- day again. Duplicates are harmless (no key: a marker is a plain insert).
CREATE TABLE usage_dirty_days (
  day BIGINT NOT NULL
);

-- Per day, user, model, kind, error code and where the figures came from ('recorded': the
-- stream or OpenRouter; 'estimate'; 'none': nothing reached the model): counts and sums.
CREATE TABLE usage_daily (
  day BIGINT NOT NULL,
  user_id TEXT NOT NULL,
  model TEXT NOT NULL,
  kind TEXT NOT NULL,
  error_code TEXT,
  source TEXT NOT NULL,
  generations BIGINT NOT NULL,
  prompt_tokens BIGINT NOT NULL,
  completion_tokens BIGINT NOT NULL,
  reasoning_tokens BIGINT NOT NULL,
  cached_tokens BIGINT NOT NULL,
  cost_usd DOUBLE NOT NULL
);

-- The same without the user: the whole server's reports (an admin's view).
CREATE TABLE usage_daily_server (
  day BIGINT NOT NULL,
  model TEXT NOT NULL,
  kind TEXT NOT NULL,
  error_code TEXT,
  source TEXT NOT NULL,
  generations BIGINT NOT NULL,
  prompt_tokens BIGINT NOT NULL,
  completion_tokens BIGINT NOT NULL,
  reasoning_tokens BIGINT NOT NULL,
  cached_tokens BIGINT NOT NULL,
  cost_usd DOUBLE NOT NULL
);

-- The whole server's latency per day, model and provider as log-scale histograms (metric
-- 'ttft': time to first token in ms; 'tps': tokens per second): percentiles cannot be summed,
-- histograms can (usage/repo.ts, LATENCY_BUCKET, on the error bound).
CREATE TABLE usage_latency_daily (
  day BIGINT NOT NULL,
  model TEXT NOT NULL,
  provider TEXT NOT NULL,
  metric TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  generations BIGINT NOT NULL
);

-- Per day, user and conversation: the costliest conversations. Conversations are numbered
-- here (grouping by a number instead of a UUID text: 15 vs 50 ms over 1.5M rows).
CREATE SEQUENCE usage_conversation_number;
CREATE TABLE usage_conversation_keys (
  conversation_id TEXT PRIMARY KEY,
  conversation_key BIGINT NOT NULL
);
CREATE TABLE usage_conversation_daily (
  day BIGINT NOT NULL,
  user_id TEXT NOT NULL,
  conversation_key BIGINT NOT NULL,
  generations BIGINT NOT NULL,
  tokens BIGINT NOT NULL,
  cost_usd DOUBLE NOT NULL
);
