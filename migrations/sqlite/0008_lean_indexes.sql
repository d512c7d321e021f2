-- Fewer index entries per escalation and per delivery step (performance, issue #8).
--
-- Since the report reads its sums from the hourly roll-ups (0005), the letters' report index
-- only serves the distinct-citizen count, which needs the authority, period, unit and citizen.
-- Its other columns (importance, escalation_step, evidence_at, deadline) changed on every
-- escalation and every opening, each time moving the letter's entry in that index.
DROP INDEX letters_report;
CREATE INDEX letters_report ON letters (authority_id, created_at, unit, citizen_id);

-- The deliveries' report index held the status, which every start and finish changes; the
-- report's fallback scan joins deliveries by letter, which deliveries_letter serves.
DROP INDEX deliveries_report;
