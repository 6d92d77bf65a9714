-- Compare: one question sent to 2 to 4 models at once. Its answers are ordinary siblings in the
-- message tree (children of the question, each with its generation row, purpose 'compare'),
-- marked with the comparison they belong to so it can be shown side by side again; a later
-- regenerate of the question adds a sibling outside it (comparison_id NULL).
-- (DuckDB cannot add a column with a constraint.)
ALTER TABLE messages ADD COLUMN comparison_id TEXT;

-- One row per comparison: the question it answers and the answer chosen to continue with
-- (NULL until one is chosen, or when the chosen one was deleted).
CREATE TABLE comparisons (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  question_id TEXT NOT NULL,
  chosen_id TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  chosen_at TIMESTAMPTZ
);
CREATE INDEX comparisons_conversation ON comparisons (conversation_id);
