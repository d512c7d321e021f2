-- Inserted letters and deliveries add to the roll-ups (0005) once per
-- statement, summed per roll-up group, instead of once per row (performance, issue #8).
--
-- A commit group's letters are one statement since the thirteenth round of
-- docs/performance.md (src/store/postgres.rs, INSERT_LETTERS), and an escalation group's
-- deliveries are a statement per chunk (src/store/common.rs). A row-level trigger ran a PL/pgSQL
-- function and an INSERT per row: for a group of 20 letters, 60 of them (the letters' totals,
-- the exempt-citizen check, the deliveries' channels). Summed over the statement's inserted
-- rows (a transition table), the same group runs three, each appending one delta per roll-up
-- group. The eighth round tried this when a group's inserts were several statements per
-- table, and then it cost more than it saved; it no longer is.
--
-- Each inserted row finds its letter or citizen by key (a correlated subquery, and OFFSET 0 so
-- that the planner keeps it one): a PL/pgSQL function keeps its plans for the connection's
-- life, and a join planned while the tables were small stays a hash join over a sequential
-- scan of the whole table after they have grown.
--
-- Updates and deletes keep their row-level triggers: they touch one or a few rows each; so do
-- callback tasks, which are inserted one at a time.

CREATE FUNCTION report_letters_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_letter_deltas
    SELECT authority_id, created_at / 3600000, COALESCE(unit, ''), COUNT(*),
           SUM(CASE WHEN importance = 'important' THEN 1 ELSE 0 END),
           SUM(CASE WHEN escalation_step > 0 THEN 1 ELSE 0 END),
           SUM(escalation_step),
           SUM(CASE WHEN evidence_at IS NOT NULL THEN 1 ELSE 0 END)
    FROM inserted GROUP BY 1, 2, 3;
    -- Letters to citizens who are exempt from Digital Post (report_letters_exempt, 0005).
    INSERT INTO report_exempt_citizens (authority_id, citizen_id)
    SELECT DISTINCT n.authority_id, n.citizen_id FROM inserted n
    WHERE (SELECT c.exempt_from_digital_post FROM citizens c WHERE c.id = n.citizen_id)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

DROP TRIGGER report_letters_insert ON letters;
CREATE TRIGGER report_letters_insert AFTER INSERT ON letters REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION report_letters_inserted();

DROP TRIGGER report_letters_exempt ON letters;
CREATE TRIGGER report_letters_exempt AFTER UPDATE OF authority_id, citizen_id ON letters
    FOR EACH ROW EXECUTE FUNCTION report_letters_exempt();

CREATE FUNCTION report_deliveries_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_channel_deltas
    SELECT l.authority_id, l.created_at / 3600000, COALESCE(l.unit, ''), n.channel, n.purpose, COUNT(*),
           SUM(CASE WHEN n.status = 'failed' THEN 1 ELSE 0 END),
           SUM(report_opened_in_time(l.evidence_at, l.deadline))
    FROM inserted n, LATERAL (SELECT authority_id, created_at, unit, evidence_at, deadline
                              FROM letters WHERE id = n.letter_id OFFSET 0) l
    GROUP BY 1, 2, 3, 4, 5;
    RETURN NULL;
END
$$;

DROP TRIGGER report_deliveries_insert ON deliveries;
CREATE TRIGGER report_deliveries_insert AFTER INSERT ON deliveries REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION report_deliveries_inserted();
