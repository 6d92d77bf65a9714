-- No query looks generations up by message_id: a conversation's generations are read by
-- conversation (conversations/repo.ts), a generation by its id. The index cost every insert an
-- entry and kept ~1/7 of the database's ART index memory, which DuckDB holds in RAM and which
-- grows with every answer (docs/benchmarks.md, section 4).
DROP INDEX generations_by_message;
