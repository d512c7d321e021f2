-- The inclusion report's roll-ups (issue #6): per authority, hour and unit, what the report
-- would otherwise count letter by letter. Kept by triggers in the writer's own transaction,
-- so every writer (the API, the engine, a bulk import in plain SQL) keeps them right.
--
-- `hour` is created_at / 3,600,000: a period between two local midnights of a time zone with
-- whole-hour offsets is an exact sum of hours. `unit` is '' for letters without one. The
-- expressions below are those of the report's scan (src/store/staff_pages.rs), which stays
-- as the oracle the tests compare against. Foreign keys guarantee that a delivery or a
-- callback task never exists without its letter.
--
-- Unlike SQLite (one writer), many transactions write here at once. Adding into one row per
-- hour and unit would make every letter of that unit wait for the previous one's commit (a
-- row lock held to the end of the transaction) and could deadlock transactions that touch
-- two such rows in opposite orders. So the triggers only append signed deltas to
-- report_*_deltas (no row is shared, nothing waits), and report_fold_deltas() moves them into
-- the report_*_hours tables now and then, under an advisory lock that it only tries (so no
-- writer ever waits for it). The report reads both through the report_*_by_hour views.
-- The deltas are a queue (inserted, soon deleted), read in `seq` order like the jobs table.
--
-- Distinct citizens do not add up over hours: the report counts them on `letters`, and the
-- exempt ones through report_exempt_citizens (this authority's exempt citizens: a few
-- thousand probes instead of a join per letter).

CREATE TABLE report_letter_hours (
    authority_id      UUID NOT NULL,
    hour              BIGINT NOT NULL,
    unit              TEXT NOT NULL,
    letters           BIGINT NOT NULL,
    important         BIGINT NOT NULL,
    escalated_letters BIGINT NOT NULL,
    escalations       BIGINT NOT NULL,
    with_evidence     BIGINT NOT NULL,
    PRIMARY KEY (authority_id, hour, unit)
);
CREATE TABLE report_letter_deltas (LIKE report_letter_hours, seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
CREATE INDEX report_letter_deltas_hour ON report_letter_deltas (authority_id, hour);

-- Deliveries by the hour and unit of their letter; opened_in_time: the letter's evidence came
-- before the end of its deadline day.
CREATE TABLE report_channel_hours (
    authority_id   UUID NOT NULL,
    hour           BIGINT NOT NULL,
    unit           TEXT NOT NULL,
    channel        TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    deliveries     BIGINT NOT NULL,
    failed         BIGINT NOT NULL,
    opened_in_time BIGINT NOT NULL,
    PRIMARY KEY (authority_id, hour, unit, channel, purpose)
);
CREATE TABLE report_channel_deltas (LIKE report_channel_hours, seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
CREATE INDEX report_channel_deltas_hour ON report_channel_deltas (authority_id, hour);

-- Callback tasks by the task's authority and hour, and their letter's unit.
CREATE TABLE report_callback_hours (
    authority_id UUID NOT NULL,
    hour         BIGINT NOT NULL,
    unit         TEXT NOT NULL,
    tasks        BIGINT NOT NULL,
    reached      BIGINT NOT NULL,
    failed       BIGINT NOT NULL,
    open         BIGINT NOT NULL,
    calls        BIGINT NOT NULL,
    minutes      BIGINT NOT NULL,
    PRIMARY KEY (authority_id, hour, unit)
);
CREATE TABLE report_callback_deltas (LIKE report_callback_hours, seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
CREATE INDEX report_callback_deltas_hour ON report_callback_deltas (authority_id, hour);

-- Exempt citizens with at least one letter from the authority.
CREATE TABLE report_exempt_citizens (
    authority_id UUID NOT NULL,
    citizen_id   UUID NOT NULL,
    PRIMARY KEY (authority_id, citizen_id)
);
CREATE INDEX report_exempt_citizens_citizen ON report_exempt_citizens (citizen_id);

CREATE VIEW report_letters_by_hour AS
    SELECT * FROM report_letter_hours
    UNION ALL SELECT authority_id, hour, unit, letters, important, escalated_letters, escalations, with_evidence
    FROM report_letter_deltas;
CREATE VIEW report_channels_by_hour AS
    SELECT * FROM report_channel_hours
    UNION ALL SELECT authority_id, hour, unit, channel, purpose, deliveries, failed, opened_in_time
    FROM report_channel_deltas;
CREATE VIEW report_callbacks_by_hour AS
    SELECT * FROM report_callback_hours
    UNION ALL SELECT authority_id, hour, unit, tasks, reached, failed, open, calls, minutes
    FROM report_callback_deltas;

-- 1 when the letter's evidence came before the end of its deadline day (the scan's test).
CREATE FUNCTION report_opened_in_time(BIGINT, TEXT) RETURNS BIGINT LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN $1 IS NOT NULL AND ($2 IS NULL
        OR $1 < (EXTRACT(EPOCH FROM CAST($2 AS date)) + 86400) * 1000) THEN 1 ELSE 0 END
$$;

-- Move the oldest deltas (a bounded batch) into the hour tables. Skipped when another
-- transaction is folding (it holds the lock to its commit); outside READ COMMITTED, where an
-- old snapshot could try to delete deltas another fold has already moved; and when this
-- transaction has folded once already: a bulk write would otherwise walk its own deleted
-- deltas again and again.
CREATE FUNCTION report_fold_deltas() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed'
        OR current_setting('budbringer.report_folded', true) = 'yes'
        OR NOT pg_try_advisory_xact_lock(hashtext('budbringer report roll-ups'), 0) THEN
        RETURN;
    END IF;
    PERFORM set_config('budbringer.report_folded', 'yes', true);
    WITH moved AS (
        DELETE FROM report_letter_deltas
        WHERE seq IN (SELECT seq FROM report_letter_deltas ORDER BY seq LIMIT 10000) RETURNING *)
    INSERT INTO report_letter_hours AS r
    SELECT authority_id, hour, unit, SUM(letters), SUM(important), SUM(escalated_letters), SUM(escalations),
           SUM(with_evidence)
    FROM moved GROUP BY authority_id, hour, unit ORDER BY authority_id, hour, unit
    ON CONFLICT (authority_id, hour, unit) DO UPDATE SET
        letters = r.letters + EXCLUDED.letters, important = r.important + EXCLUDED.important,
        escalated_letters = r.escalated_letters + EXCLUDED.escalated_letters,
        escalations = r.escalations + EXCLUDED.escalations, with_evidence = r.with_evidence + EXCLUDED.with_evidence;
    WITH moved AS (
        DELETE FROM report_channel_deltas
        WHERE seq IN (SELECT seq FROM report_channel_deltas ORDER BY seq LIMIT 10000) RETURNING *)
    INSERT INTO report_channel_hours AS r
    SELECT authority_id, hour, unit, channel, purpose, SUM(deliveries), SUM(failed), SUM(opened_in_time)
    FROM moved GROUP BY authority_id, hour, unit, channel, purpose ORDER BY authority_id, hour, unit, channel, purpose
    ON CONFLICT (authority_id, hour, unit, channel, purpose) DO UPDATE SET
        deliveries = r.deliveries + EXCLUDED.deliveries, failed = r.failed + EXCLUDED.failed,
        opened_in_time = r.opened_in_time + EXCLUDED.opened_in_time;
    WITH moved AS (
        DELETE FROM report_callback_deltas
        WHERE seq IN (SELECT seq FROM report_callback_deltas ORDER BY seq LIMIT 10000) RETURNING *)
    INSERT INTO report_callback_hours AS r
    SELECT authority_id, hour, unit, SUM(tasks), SUM(reached), SUM(failed), SUM(open), SUM(calls), SUM(minutes)
    FROM moved GROUP BY authority_id, hour, unit ORDER BY authority_id, hour, unit
    ON CONFLICT (authority_id, hour, unit) DO UPDATE SET
        tasks = r.tasks + EXCLUDED.tasks, reached = r.reached + EXCLUDED.reached, failed = r.failed + EXCLUDED.failed,
        open = r.open + EXCLUDED.open, calls = r.calls + EXCLUDED.calls, minutes = r.minutes + EXCLUDED.minutes;
END
$$;

-- About one write in a hundred folds: the deltas stay a few hundred rows.
CREATE FUNCTION report_maybe_fold() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF random() < 0.01 THEN
        PERFORM report_fold_deltas();
    END IF;
END
$$;

-- Letters ----------------------------------------------------------------------------------

CREATE FUNCTION report_letters_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO report_letter_deltas VALUES (OLD.authority_id, OLD.created_at / 3600000, COALESCE(OLD.unit, ''), -1,
            -(CASE WHEN OLD.importance = 'important' THEN 1 ELSE 0 END),
            -(CASE WHEN OLD.escalation_step > 0 THEN 1 ELSE 0 END),
            -OLD.escalation_step,
            -(CASE WHEN OLD.evidence_at IS NOT NULL THEN 1 ELSE 0 END));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO report_letter_deltas VALUES (NEW.authority_id, NEW.created_at / 3600000, COALESCE(NEW.unit, ''), 1,
            CASE WHEN NEW.importance = 'important' THEN 1 ELSE 0 END,
            CASE WHEN NEW.escalation_step > 0 THEN 1 ELSE 0 END,
            NEW.escalation_step,
            CASE WHEN NEW.evidence_at IS NOT NULL THEN 1 ELSE 0 END);
    END IF;
    PERFORM report_maybe_fold();
    RETURN NULL;
END
$$;

CREATE TRIGGER report_letters_insert AFTER INSERT ON letters
    FOR EACH ROW EXECUTE FUNCTION report_letters_totals();
CREATE TRIGGER report_letters_update
    AFTER UPDATE OF authority_id, created_at, contact, importance, escalation_step, evidence_at ON letters
    FOR EACH ROW WHEN (OLD.authority_id IS DISTINCT FROM NEW.authority_id
        OR OLD.created_at / 3600000 IS DISTINCT FROM NEW.created_at / 3600000
        OR OLD.unit IS DISTINCT FROM NEW.unit OR OLD.importance IS DISTINCT FROM NEW.importance
        OR OLD.escalation_step IS DISTINCT FROM NEW.escalation_step
        OR (OLD.evidence_at IS NULL) IS DISTINCT FROM (NEW.evidence_at IS NULL))
    EXECUTE FUNCTION report_letters_totals();
CREATE TRIGGER report_letters_delete AFTER DELETE ON letters
    FOR EACH ROW EXECUTE FUNCTION report_letters_totals();

-- Evidence, a new deadline or a moved letter changes what its deliveries count.
CREATE FUNCTION report_letters_channels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_channel_deltas
    SELECT OLD.authority_id, OLD.created_at / 3600000, COALESCE(OLD.unit, ''), d.channel, d.purpose, -COUNT(*),
           -SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END),
           -COUNT(*) * report_opened_in_time(OLD.evidence_at, OLD.deadline)
    FROM deliveries d WHERE d.letter_id = OLD.id GROUP BY d.channel, d.purpose;
    INSERT INTO report_channel_deltas
    SELECT NEW.authority_id, NEW.created_at / 3600000, COALESCE(NEW.unit, ''), d.channel, d.purpose, COUNT(*),
           SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END),
           COUNT(*) * report_opened_in_time(NEW.evidence_at, NEW.deadline)
    FROM deliveries d WHERE d.letter_id = NEW.id GROUP BY d.channel, d.purpose;
    PERFORM report_maybe_fold();
    RETURN NULL;
END
$$;

CREATE TRIGGER report_letters_update_channels
    AFTER UPDATE OF authority_id, created_at, contact, evidence_at, deadline ON letters
    FOR EACH ROW WHEN (OLD.authority_id IS DISTINCT FROM NEW.authority_id
        OR OLD.created_at / 3600000 IS DISTINCT FROM NEW.created_at / 3600000
        OR OLD.unit IS DISTINCT FROM NEW.unit
        OR report_opened_in_time(OLD.evidence_at, OLD.deadline)
            IS DISTINCT FROM report_opened_in_time(NEW.evidence_at, NEW.deadline))
    EXECUTE FUNCTION report_letters_channels();

-- A callback task counts under its letter's unit.
CREATE FUNCTION report_letters_callbacks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_callback_deltas
    SELECT t.authority_id, t.created_at / 3600000, COALESCE(OLD.unit, ''), -COUNT(*),
           -SUM(CASE WHEN t.status = 'done' THEN 1 ELSE 0 END),
           -SUM(CASE WHEN t.status = 'failed' THEN 1 ELSE 0 END),
           -SUM(CASE WHEN t.status = 'open' THEN 1 ELSE 0 END),
           -SUM(t.no_answers + CASE WHEN t.last_outcome IN ('reached', 'wrong_number') THEN 1 ELSE 0 END),
           -SUM(t.minutes_spent)
    FROM callback_tasks t WHERE t.letter_id = OLD.id GROUP BY t.authority_id, t.created_at / 3600000;
    INSERT INTO report_callback_deltas
    SELECT t.authority_id, t.created_at / 3600000, COALESCE(NEW.unit, ''), COUNT(*),
           SUM(CASE WHEN t.status = 'done' THEN 1 ELSE 0 END),
           SUM(CASE WHEN t.status = 'failed' THEN 1 ELSE 0 END),
           SUM(CASE WHEN t.status = 'open' THEN 1 ELSE 0 END),
           SUM(t.no_answers + CASE WHEN t.last_outcome IN ('reached', 'wrong_number') THEN 1 ELSE 0 END),
           SUM(t.minutes_spent)
    FROM callback_tasks t WHERE t.letter_id = NEW.id GROUP BY t.authority_id, t.created_at / 3600000;
    PERFORM report_maybe_fold();
    RETURN NULL;
END
$$;

CREATE TRIGGER report_letters_update_callbacks AFTER UPDATE OF contact ON letters
    FOR EACH ROW WHEN (OLD.unit IS DISTINCT FROM NEW.unit)
    EXECUTE FUNCTION report_letters_callbacks();

-- A new letter to an exempt citizen (or one moved to another citizen or authority). Rows are
-- per citizen, so concurrent writers rarely meet; the NOT EXISTS skips the common case.
CREATE FUNCTION report_letters_exempt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_exempt_citizens (authority_id, citizen_id)
    SELECT NEW.authority_id, c.id FROM citizens c WHERE c.id = NEW.citizen_id AND c.exempt_from_digital_post
        AND NOT EXISTS (SELECT 1 FROM report_exempt_citizens e
                        WHERE e.authority_id = NEW.authority_id AND e.citizen_id = NEW.citizen_id)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER report_letters_exempt AFTER INSERT OR UPDATE OF authority_id, citizen_id ON letters
    FOR EACH ROW EXECUTE FUNCTION report_letters_exempt();

-- Deliveries -------------------------------------------------------------------------------

CREATE FUNCTION report_deliveries_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO report_channel_deltas
        SELECT l.authority_id, l.created_at / 3600000, COALESCE(l.unit, ''), OLD.channel, OLD.purpose, -1,
               -(CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END),
               -report_opened_in_time(l.evidence_at, l.deadline)
        FROM letters l WHERE l.id = OLD.letter_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO report_channel_deltas
        SELECT l.authority_id, l.created_at / 3600000, COALESCE(l.unit, ''), NEW.channel, NEW.purpose, 1,
               CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
               report_opened_in_time(l.evidence_at, l.deadline)
        FROM letters l WHERE l.id = NEW.letter_id;
    END IF;
    PERFORM report_maybe_fold();
    RETURN NULL;
END
$$;

CREATE TRIGGER report_deliveries_insert AFTER INSERT ON deliveries
    FOR EACH ROW EXECUTE FUNCTION report_deliveries_changed();
-- Most status changes (queued, sending, sent, delivered) change nothing here.
CREATE TRIGGER report_deliveries_update AFTER UPDATE OF letter_id, channel, purpose, status ON deliveries
    FOR EACH ROW WHEN (OLD.letter_id IS DISTINCT FROM NEW.letter_id OR OLD.channel IS DISTINCT FROM NEW.channel
        OR OLD.purpose IS DISTINCT FROM NEW.purpose
        OR (OLD.status = 'failed') IS DISTINCT FROM (NEW.status = 'failed'))
    EXECUTE FUNCTION report_deliveries_changed();
CREATE TRIGGER report_deliveries_delete AFTER DELETE ON deliveries
    FOR EACH ROW EXECUTE FUNCTION report_deliveries_changed();

-- Callback tasks ---------------------------------------------------------------------------

CREATE FUNCTION report_callbacks_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO report_callback_deltas
        SELECT OLD.authority_id, OLD.created_at / 3600000, COALESCE(l.unit, ''), -1,
               -(CASE WHEN OLD.status = 'done' THEN 1 ELSE 0 END),
               -(CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END),
               -(CASE WHEN OLD.status = 'open' THEN 1 ELSE 0 END),
               -(OLD.no_answers + CASE WHEN OLD.last_outcome IN ('reached', 'wrong_number') THEN 1 ELSE 0 END),
               -OLD.minutes_spent
        FROM letters l WHERE l.id = OLD.letter_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO report_callback_deltas
        SELECT NEW.authority_id, NEW.created_at / 3600000, COALESCE(l.unit, ''), 1,
               CASE WHEN NEW.status = 'done' THEN 1 ELSE 0 END,
               CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
               CASE WHEN NEW.status = 'open' THEN 1 ELSE 0 END,
               NEW.no_answers + CASE WHEN NEW.last_outcome IN ('reached', 'wrong_number') THEN 1 ELSE 0 END,
               NEW.minutes_spent
        FROM letters l WHERE l.id = NEW.letter_id;
    END IF;
    PERFORM report_maybe_fold();
    RETURN NULL;
END
$$;

CREATE TRIGGER report_callbacks_insert AFTER INSERT ON callback_tasks
    FOR EACH ROW EXECUTE FUNCTION report_callbacks_changed();
-- Claims and new due times change nothing here.
CREATE TRIGGER report_callbacks_update
    AFTER UPDATE OF authority_id, letter_id, created_at, status, no_answers, minutes_spent, last_outcome ON callback_tasks
    FOR EACH ROW WHEN (OLD.authority_id IS DISTINCT FROM NEW.authority_id
        OR OLD.letter_id IS DISTINCT FROM NEW.letter_id
        OR OLD.created_at / 3600000 IS DISTINCT FROM NEW.created_at / 3600000
        OR OLD.status IS DISTINCT FROM NEW.status OR OLD.no_answers IS DISTINCT FROM NEW.no_answers
        OR OLD.minutes_spent IS DISTINCT FROM NEW.minutes_spent OR OLD.last_outcome IS DISTINCT FROM NEW.last_outcome)
    EXECUTE FUNCTION report_callbacks_changed();
CREATE TRIGGER report_callbacks_delete AFTER DELETE ON callback_tasks
    FOR EACH ROW EXECUTE FUNCTION report_callbacks_changed();

-- Citizens ---------------------------------------------------------------------------------

CREATE FUNCTION report_citizens_exempt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.exempt_from_digital_post THEN
        INSERT INTO report_exempt_citizens (authority_id, citizen_id)
        SELECT DISTINCT l.authority_id, l.citizen_id FROM letters l WHERE l.citizen_id = NEW.id
        ON CONFLICT DO NOTHING;
    ELSE
        DELETE FROM report_exempt_citizens WHERE citizen_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER report_citizens_exempt AFTER UPDATE OF exempt_from_digital_post ON citizens
    FOR EACH ROW WHEN (OLD.exempt_from_digital_post IS DISTINCT FROM NEW.exempt_from_digital_post)
    EXECUTE FUNCTION report_citizens_exempt();

-- Backfill. The triggers above were created first: their locks keep other writers out until
-- this migration commits, so nothing is counted twice or missed.

INSERT INTO report_letter_hours
SELECT l.authority_id, l.created_at / 3600000, COALESCE(l.unit, ''), COUNT(*),
       SUM(CASE WHEN l.importance = 'important' THEN 1 ELSE 0 END),
       SUM(CASE WHEN l.escalation_step > 0 THEN 1 ELSE 0 END),
       SUM(l.escalation_step),
       SUM(CASE WHEN l.evidence_at IS NOT NULL THEN 1 ELSE 0 END)
FROM letters l GROUP BY 1, 2, 3;

INSERT INTO report_channel_hours
SELECT l.authority_id, l.created_at / 3600000, COALESCE(l.unit, ''), d.channel, d.purpose, COUNT(*),
       SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END),
       SUM(report_opened_in_time(l.evidence_at, l.deadline))
FROM letters l JOIN deliveries d ON d.letter_id = l.id
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO report_callback_hours
SELECT t.authority_id, t.created_at / 3600000, COALESCE(l.unit, ''), COUNT(*),
       SUM(CASE WHEN t.status = 'done' THEN 1 ELSE 0 END),
       SUM(CASE WHEN t.status = 'failed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN t.status = 'open' THEN 1 ELSE 0 END),
       SUM(t.no_answers + CASE WHEN t.last_outcome IN ('reached', 'wrong_number') THEN 1 ELSE 0 END),
       SUM(t.minutes_spent)
FROM callback_tasks t JOIN letters l ON l.id = t.letter_id
GROUP BY 1, 2, 3;

INSERT INTO report_exempt_citizens
SELECT DISTINCT l.authority_id, l.citizen_id FROM letters l JOIN citizens c ON c.id = l.citizen_id
WHERE c.exempt_from_digital_post;
