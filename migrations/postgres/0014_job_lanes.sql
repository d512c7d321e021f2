-- Lanes for jobs (issue #8): a claim takes the due jobs of the first lane (0) before any of the
-- bulk lane (1), so a letter sent on its own is not held up behind a bulk run's backlog. A bulk
-- letter's jobs (deliveries, notices, escalations) wait in lane 1. Each lane is read in due
-- order from its own range of jobs_due; the old index on the due time alone is not needed.
ALTER TABLE jobs ADD COLUMN lane SMALLINT NOT NULL DEFAULT 0 CHECK (lane IN (0, 1));
DROP INDEX jobs_available;
CREATE INDEX jobs_due ON jobs (lane, available_at);
