-- Files attached to user messages: images, PDFs and text files. Their bytes are stored on disk
-- under the data folder (attachments/<user_id>/<id>, attachments/store.ts); this row is the
-- metadata. A file is written before its row is committed and removed only after its row's
-- deletion is committed, so no row points to a missing file; a file left without a row (a crash
-- in between) is swept at the next start. conversation_id and message_id are NULL while the
-- upload waits for the message that will carry it (pending); position is its place among the
-- message's attachments, in the order the send named them.
CREATE TABLE attachments (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  conversation_id TEXT,
  message_id TEXT,
  position INTEGER,
  name TEXT NOT NULL,
  media_type TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('image', 'pdf', 'text')),
  size_bytes BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachments_user ON attachments (user_id);
CREATE INDEX attachments_conversation ON attachments (conversation_id);
