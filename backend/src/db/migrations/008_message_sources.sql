-- The web pages an answer cites (OpenRouter's url_citation annotations, e.g. from web search):
-- a JSON array of { "url", "title" } (TEXT, portable); NULL when there are none.
ALTER TABLE messages ADD COLUMN sources TEXT;
