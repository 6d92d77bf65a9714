-- Users' own OpenRouter keys ("bring your own key"), one per user, encrypted with AES-256-GCM
-- (keys/crypto.ts): the ciphertext, its 96-bit nonce and 128-bit tag as base64 TEXT, and the
-- id (a public fingerprint) of the encryption key that sealed it, so SECRET_KEY can be rotated.
-- The plaintext key is never stored; last_four is what the UI shows. The last check against
-- OpenRouter's GET /key: check_status valid, invalid or unreachable, and the USD amounts it gave.
CREATE TABLE user_api_keys (
  user_id TEXT PRIMARY KEY,
  key_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  ciphertext TEXT NOT NULL,
  auth_tag TEXT NOT NULL,
  last_four TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL,
  checked_at TIMESTAMPTZ,
  check_status TEXT CHECK (check_status IN ('valid', 'invalid', 'unreachable')),
  check_message TEXT,
  check_limit_usd DOUBLE,
  check_usage_usd DOUBLE,
  check_limit_remaining_usd DOUBLE,
  check_is_free_tier BOOLEAN
);

-- Monthly spending limits in USD, set by an admin. A row overrides the default for its user;
-- a NULL limit there means unlimited for that user. No row: the default applies.
CREATE TABLE user_budgets (
  user_id TEXT PRIMARY KEY,
  monthly_limit_usd DOUBLE CHECK (monthly_limit_usd >= 0),
  updated_at TIMESTAMPTZ NOT NULL,
  updated_by TEXT
);

-- The default monthly limit, one row (id = 1); NULL (or no row) means unlimited.
CREATE TABLE budget_defaults (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  monthly_limit_usd DOUBLE CHECK (monthly_limit_usd >= 0),
  updated_at TIMESTAMPTZ NOT NULL,
  updated_by TEXT
);
