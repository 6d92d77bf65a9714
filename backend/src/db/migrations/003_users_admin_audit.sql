-- Users and roles: an admin may disable an account (it can no longer sign in, its sessions
-- are revoked). NULL means active. (DuckDB cannot add a column with a constraint.)
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;

-- A session's public id, shown on the account page and used to revoke it: the token hash is
-- the lookup key and stays on the server.
-- (The index comes before the UPDATE: DuckDB cannot index a table with updates pending.)
ALTER TABLE sessions ADD COLUMN id TEXT;
CREATE INDEX sessions_id ON sessions (id);
UPDATE sessions SET id = CAST(gen_random_uuid() AS TEXT) WHERE id IS NULL;

-- Workspace settings an admin changes at run time, one row per key, the value as JSON text:
-- `registration_open` (true/false), `allowed_models` (null for all, or an array of ids).
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);

-- Who did what to whom: sign-ins and their failures, sign-outs, password and role changes,
-- users created, disabled and deleted, settings changed. Never a password or a token.
-- actor_id and target_user_id are kept as text (no foreign key): a deleted user's history stays.
CREATE TABLE audit_log (
  id TEXT PRIMARY KEY,
  created_at TIMESTAMPTZ NOT NULL,
  actor_id TEXT,
  action TEXT NOT NULL,
  target_user_id TEXT,
  detail TEXT,
  ip TEXT
);
