-- Temporary chats (POST /api/chat/temporary) are never stored: no conversation, no message. But
-- each of their upstream calls keeps its generations row (model, provider, tokens, cost,
-- timings, purpose 'temporary', never any text), so usage, budgets and the admin's totals stay
-- true; such a row has no message_id and no conversation_id.
-- DuckDB cannot alter a column an index depends on ("Cannot alter entry … because there are
-- entries that depend on it"), so the message index is dropped and made again around the
-- change, under a new name: DuckDB 1.5.6 crashes ("pure virtual method called") when one
-- transaction drops an index of a table stored in the file and creates one of the same name.
DROP INDEX generations_message;
ALTER TABLE generations ALTER COLUMN message_id DROP NOT NULL;
ALTER TABLE generations ALTER COLUMN conversation_id DROP NOT NULL;
CREATE INDEX generations_by_message ON generations (message_id);
