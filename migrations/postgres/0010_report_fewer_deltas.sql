-- Fewer roll-up deltas (0005) for the same totals:
--
-- * Rows inserted by one statement (a commit group's letters, an escalation group's
--   deliveries, callback tasks) append one delta per group of the roll-up (authority, hour,
--   unit, and channel and purpose for deliveries), summed by a statement-level trigger over
--   the inserted rows, instead of one delta per row from a row-level trigger. A group of 128
--   letters from one authority in one hour appends one delta, not 128.
-- * An update that keeps a row's group appends one delta, the difference, instead of the old
--   row's negative and the new row's positive. Updates that move a row to another group, and
--   deletes, still append both (row by row, as before).
--
-- The fold (src/engine/report_fold.rs) has that many fewer rows to move. report_maybe_fold()
-- is a no-op since 0009 and is no longer called here.

CREATE OR REPLACE FUNCTION report_letters_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.authority_id = NEW.authority_id
        AND OLD.created_at / 3600000 = NEW.created_at / 3600000
        AND COALESCE(OLD.unit, '') = COALESCE(NEW.unit, '') THEN
        INSERT INTO report_letter_deltas VALUES (NEW.authority_id, NEW.created_at / 3600000, COALESCE(NEW.unit, ''), 0,
            (CASE WHEN NEW.importance = 'important' THEN 1 ELSE 0 END)
                - (CASE WHEN OLD.importance = 'important' THEN 1 ELSE 0 END),
            (CASE WHEN NEW.escalation_step > 0 THEN 1 ELSE 0 END) - (CASE WHEN OLD.escalation_step > 0 THEN 1 ELSE 0 END),
            NEW.escalation_step - OLD.escalation_step,
            (CASE WHEN NEW.evidence_at IS NOT NULL THEN 1 ELSE 0 END)
                - (CASE WHEN OLD.evidence_at IS NOT NULL THEN 1 ELSE 0 END));
        RETURN NULL;
    END IF;
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
    RETURN NULL;
END
$$;

-- Evidence or a new deadline in the same group changes only what the deliveries count as
-- opened in time.
CREATE OR REPLACE FUNCTION report_letters_channels() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.authority_id = NEW.authority_id AND OLD.created_at / 3600000 = NEW.created_at / 3600000
        AND COALESCE(OLD.unit, '') = COALESCE(NEW.unit, '') THEN
        INSERT INTO report_channel_deltas
        SELECT NEW.authority_id, NEW.created_at / 3600000, COALESCE(NEW.unit, ''), d.channel, d.purpose, 0, 0,
               COUNT(*) * (report_opened_in_time(NEW.evidence_at, NEW.deadline)
                   - report_opened_in_time(OLD.evidence_at, OLD.deadline))
        FROM deliveries d WHERE d.letter_id = NEW.id GROUP BY d.channel, d.purpose;
        RETURN NULL;
    END IF;
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
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION report_deliveries_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.letter_id = NEW.letter_id AND OLD.channel = NEW.channel
        AND OLD.purpose = NEW.purpose THEN
        INSERT INTO report_channel_deltas
        SELECT l.authority_id, l.created_at / 3600000, COALESCE(l.unit, ''), NEW.channel, NEW.purpose, 0,
               (CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END) - (CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END),
               0
        FROM letters l WHERE l.id = NEW.letter_id;
        RETURN NULL;
    END IF;
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
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION report_callbacks_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.authority_id = NEW.authority_id AND OLD.letter_id = NEW.letter_id
        AND OLD.created_at / 3600000 = NEW.created_at / 3600000 THEN
        INSERT INTO report_callback_deltas
        SELECT NEW.authority_id, NEW.created_at / 3600000, COALESCE(l.unit, ''), 0,
               (CASE WHEN NEW.status = 'done' THEN 1 ELSE 0 END) - (CASE WHEN OLD.status = 'done' THEN 1 ELSE 0 END),
               (CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END) - (CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END),
               (CASE WHEN NEW.status = 'open' THEN 1 ELSE 0 END) - (CASE WHEN OLD.status = 'open' THEN 1 ELSE 0 END),
               (NEW.no_answers + CASE WHEN NEW.last_outcome IN ('reached', 'wrong_number') THEN 1 ELSE 0 END)
                   - (OLD.no_answers + CASE WHEN OLD.last_outcome IN ('reached', 'wrong_number') THEN 1 ELSE 0 END),
               NEW.minutes_spent - OLD.minutes_spent
        FROM letters l WHERE l.id = NEW.letter_id;
        RETURN NULL;
    END IF;
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
    RETURN NULL;
END
$$;

-- Inserts, summed per statement --------------------------------------------------------------

CREATE FUNCTION report_letters_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_letter_deltas
    SELECT authority_id, created_at / 3600000, COALESCE(unit, ''), COUNT(*),
           SUM(CASE WHEN importance = 'important' THEN 1 ELSE 0 END),
           SUM(CASE WHEN escalation_step > 0 THEN 1 ELSE 0 END),
           SUM(escalation_step),
           SUM(CASE WHEN evidence_at IS NOT NULL THEN 1 ELSE 0 END)
    FROM inserted GROUP BY 1, 2, 3;
    RETURN NULL;
END
$$;

DROP TRIGGER report_letters_insert ON letters;
CREATE TRIGGER report_letters_insert AFTER INSERT ON letters REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION report_letters_inserted();

CREATE FUNCTION report_deliveries_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_channel_deltas
    SELECT l.authority_id, l.created_at / 3600000, COALESCE(l.unit, ''), n.channel, n.purpose, COUNT(*),
           SUM(CASE WHEN n.status = 'failed' THEN 1 ELSE 0 END),
           SUM(report_opened_in_time(l.evidence_at, l.deadline))
    FROM inserted n JOIN letters l ON l.id = n.letter_id GROUP BY 1, 2, 3, 4, 5;
    RETURN NULL;
END
$$;

DROP TRIGGER report_deliveries_insert ON deliveries;
CREATE TRIGGER report_deliveries_insert AFTER INSERT ON deliveries REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION report_deliveries_inserted();

CREATE FUNCTION report_callbacks_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_callback_deltas
    SELECT n.authority_id, n.created_at / 3600000, COALESCE(l.unit, ''), COUNT(*),
           SUM(CASE WHEN n.status = 'done' THEN 1 ELSE 0 END),
           SUM(CASE WHEN n.status = 'failed' THEN 1 ELSE 0 END),
           SUM(CASE WHEN n.status = 'open' THEN 1 ELSE 0 END),
           SUM(n.no_answers + CASE WHEN n.last_outcome IN ('reached', 'wrong_number') THEN 1 ELSE 0 END),
           SUM(n.minutes_spent)
    FROM inserted n JOIN letters l ON l.id = n.letter_id GROUP BY 1, 2, 3;
    RETURN NULL;
END
$$;

DROP TRIGGER report_callbacks_insert ON callback_tasks;
CREATE TRIGGER report_callbacks_insert AFTER INSERT ON callback_tasks REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION report_callbacks_inserted();
