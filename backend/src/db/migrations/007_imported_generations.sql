-- Generations brought in by an import (transfer/): their figures (tokens, cost, provider,
-- timings) are kept for the record, but the money was spent elsewhere or earlier, so they never
-- count towards the importing user's monthly spend. NULL (every row written by a send) means
-- the call ran on this server. (DuckDB cannot add a column with a constraint.)
ALTER TABLE generations ADD COLUMN imported BOOLEAN DEFAULT false;
