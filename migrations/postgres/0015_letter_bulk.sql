-- Whether a letter is part of a bulk run (issue #8), kept on the letter so that the authority's
-- API and the caseworkers' timeline can show it; its jobs already carry the lane (0014). A
-- constant default: no table rewrite.
ALTER TABLE letters ADD COLUMN bulk BOOLEAN NOT NULL DEFAULT false;
