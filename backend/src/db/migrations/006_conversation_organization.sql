-- Organizing conversations: pinned ones first, archived ones out of the main list, and folders
-- (a conversation in at most one folder of its user's). DuckDB fills the existing rows with the
-- default; it cannot add a column with a NOT NULL constraint, so the code also reads NULL as false.
ALTER TABLE conversations ADD COLUMN pinned BOOLEAN DEFAULT FALSE;
ALTER TABLE conversations ADD COLUMN archived BOOLEAN DEFAULT FALSE;
ALTER TABLE conversations ADD COLUMN folder_id TEXT;

-- A user's folders. Deleting one moves its conversations out of it (folder_id NULL); deleting
-- the user deletes their folders.
CREATE TABLE folders (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX folders_user ON folders (user_id);

-- What an upstream call was for: 'answer' (a message's answer) or 'title' (naming the
-- conversation after its first answer; message_id is then that answer's id). Both count
-- against the user's budget; only answers are shown with their message.
ALTER TABLE generations ADD COLUMN purpose TEXT DEFAULT 'answer';
