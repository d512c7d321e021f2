-- An update that keeps a row's roll-up group (authority, hour, unit and, for deliveries,
-- channel and purpose) now appends one delta, the difference, instead of the old row's
-- negative and the new row's positive. An escalation updates its letter and inserts a
-- delivery: three delta rows before, two now, and a fold (src/engine/report_fold.rs) has a
-- third fewer rows to move. Updates that move a row to another group still append both.
-- report_maybe_fold() is a no-op since 0009 and is no longer called here.

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
