-- Whether a letter is part of a bulk run (issue #8), kept on the letter so that the authority's
-- API and the caseworkers' timeline can show it; its jobs already carry the lane (0009).
ALTER TABLE letters ADD COLUMN bulk INTEGER NOT NULL DEFAULT 0 CHECK (bulk IN (0, 1));
