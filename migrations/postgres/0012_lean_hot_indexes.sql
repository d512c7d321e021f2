-- Fewer index entries per escalation and per delivery step (performance, issue #8).
--
-- Since the report reads its sums from the hourly roll-ups (0005), the letters' report index
-- only serves the distinct-citizen count, which needs the authority, period, unit and citizen.
-- Its other columns (importance, escalation_step, evidence_at, deadline) changed on every
-- escalation and every opening, so none of those updates could be HOT: each wrote a new entry
-- into all seven of the letters' indexes. Without them, and with room left on each page
-- (fillfactor), such an update rewrites the row in its page and touches no index.
DROP INDEX letters_report;
CREATE INDEX letters_report ON letters (authority_id, created_at, unit, citizen_id);
ALTER TABLE letters SET (fillfactor = 85);

-- The deliveries' report index held the status, which every start and finish changes; the
-- report's fallback scan joins deliveries by letter, which deliveries_letter serves.
DROP INDEX deliveries_report;
ALTER TABLE deliveries SET (fillfactor = 85);

-- The event feed reads in commit order (0008, events_authority_feed); nothing reads
-- events by (authority_id, seq) on PostgreSQL any more.
DROP INDEX events_authority;
