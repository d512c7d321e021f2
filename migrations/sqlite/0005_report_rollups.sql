-- The inclusion report's roll-ups (issue #6): per authority, hour and unit, what the report
-- would otherwise count letter by letter. Kept by triggers in the writer's own transaction,
-- so every writer (the API, the engine, a bulk import in plain SQL) keeps them right.
--
-- `hour` is created_at / 3,600,000: a period between two local midnights of a time zone with
-- whole-hour offsets is an exact sum of hours. `unit` is '' for letters without one. The
-- expressions below are those of the report's scan (src/store/staff_pages.rs), which stays
-- as the oracle the tests compare against. Foreign keys are on, so a delivery or a callback
-- task never exists without its letter.
--
-- Distinct citizens do not add up over hours: the report counts them on `letters`, and the
-- exempt ones through report_exempt_citizens (this authority's exempt citizens: a few
-- thousand probes instead of a join per letter).

CREATE TABLE report_letter_hours (
    authority_id      BLOB NOT NULL,
    hour              INTEGER NOT NULL,
    unit              TEXT NOT NULL,
    letters           INTEGER NOT NULL,
    important         INTEGER NOT NULL,
    escalated_letters INTEGER NOT NULL,
    escalations       INTEGER NOT NULL,
    with_evidence     INTEGER NOT NULL,
    PRIMARY KEY (authority_id, hour, unit)
) WITHOUT ROWID;

-- Deliveries by the hour and unit of their letter; opened_in_time: the letter's evidence came
-- before the end of its deadline day.
CREATE TABLE report_channel_hours (
    authority_id   BLOB NOT NULL,
    hour           INTEGER NOT NULL,
    unit           TEXT NOT NULL,
    channel        TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    deliveries     INTEGER NOT NULL,
    failed         INTEGER NOT NULL,
    opened_in_time INTEGER NOT NULL,
    PRIMARY KEY (authority_id, hour, unit, channel, purpose)
) WITHOUT ROWID;

-- Callback tasks by the task's authority and hour, and their letter's unit.
CREATE TABLE report_callback_hours (
    authority_id BLOB NOT NULL,
    hour         INTEGER NOT NULL,
    unit         TEXT NOT NULL,
    tasks        INTEGER NOT NULL,
    reached      INTEGER NOT NULL,
    failed       INTEGER NOT NULL,
    open         INTEGER NOT NULL,
    calls        INTEGER NOT NULL,
    minutes      INTEGER NOT NULL,
    PRIMARY KEY (authority_id, hour, unit)
) WITHOUT ROWID;

-- Exempt citizens with at least one letter from the authority.
CREATE TABLE report_exempt_citizens (
    authority_id BLOB NOT NULL,
    citizen_id   BLOB NOT NULL,
    PRIMARY KEY (authority_id, citizen_id)
) WITHOUT ROWID;
CREATE INDEX report_exempt_citizens_citizen ON report_exempt_citizens (citizen_id);

-- PostgreSQL reads the same names through views that add pending deltas; here they are the
-- tables themselves (one writer: no hot-row contention to avoid).
CREATE VIEW report_letters_by_hour AS SELECT * FROM report_letter_hours;
CREATE VIEW report_channels_by_hour AS SELECT * FROM report_channel_hours;
CREATE VIEW report_callbacks_by_hour AS SELECT * FROM report_callback_hours;

-- Letters ----------------------------------------------------------------------------------

CREATE TRIGGER report_letters_insert AFTER INSERT ON letters
BEGIN
    INSERT INTO report_letter_hours (authority_id, hour, unit, letters, important, escalated_letters, escalations, with_evidence)
    SELECT NEW.authority_id, NEW.created_at / 3600000, COALESCE(NEW.unit, ''), 1,
           CASE WHEN NEW.importance = 'important' THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalation_step > 0 THEN 1 ELSE 0 END,
           NEW.escalation_step,
           CASE WHEN NEW.evidence_at IS NOT NULL THEN 1 ELSE 0 END
    WHERE true
    ON CONFLICT (authority_id, hour, unit) DO UPDATE SET
        letters = letters + excluded.letters, important = important + excluded.important,
        escalated_letters = escalated_letters + excluded.escalated_letters,
        escalations = escalations + excluded.escalations, with_evidence = with_evidence + excluded.with_evidence;
    INSERT OR IGNORE INTO report_exempt_citizens (authority_id, citizen_id)
    SELECT NEW.authority_id, c.id FROM citizens c WHERE c.id = NEW.citizen_id AND c.exempt_from_digital_post;
END;

CREATE TRIGGER report_letters_update AFTER UPDATE OF authority_id, created_at, contact, importance, escalation_step, evidence_at ON letters
WHEN OLD.authority_id IS NOT NEW.authority_id OR OLD.created_at / 3600000 IS NOT NEW.created_at / 3600000
    OR OLD.unit IS NOT NEW.unit OR OLD.importance IS NOT NEW.importance
    OR OLD.escalation_step IS NOT NEW.escalation_step OR (OLD.evidence_at IS NULL) IS NOT (NEW.evidence_at IS NULL)
BEGIN
    INSERT INTO report_letter_hours (authority_id, hour, unit, letters, important, escalated_letters, escalations, with_evidence)
    SELECT OLD.authority_id, OLD.created_at / 3600000, COALESCE(OLD.unit, ''), -1,
           -CASE WHEN OLD.importance = 'important' THEN 1 ELSE 0 END,
           -CASE WHEN OLD.escalation_step > 0 THEN 1 ELSE 0 END,
           -OLD.escalation_step,
           -CASE WHEN OLD.evidence_at IS NOT NULL THEN 1 ELSE 0 END
    WHERE true
    ON CONFLICT (authority_id, hour, unit) DO UPDATE SET
        letters = letters + excluded.letters, important = important + excluded.important,
        escalated_letters = escalated_letters + excluded.escalated_letters,
        escalations = escalations + excluded.escalations, with_evidence = with_evidence + excluded.with_evidence;
    INSERT INTO report_letter_hours (authority_id, hour, unit, letters, important, escalated_letters, escalations, with_evidence)
    SELECT NEW.authority_id, NEW.created_at / 3600000, COALESCE(NEW.unit, ''), 1,
           CASE WHEN NEW.importance = 'important' THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalation_step > 0 THEN 1 ELSE 0 END,
           NEW.escalation_step,
           CASE WHEN NEW.evidence_at IS NOT NULL THEN 1 ELSE 0 END
    WHERE true
    ON CONFLICT (authority_id, hour, unit) DO UPDATE SET
        letters = letters + excluded.letters, important = important + excluded.important,
        escalated_letters = escalated_letters + excluded.escalated_letters,
        escalations = escalations + excluded.escalations, with_evidence = with_evidence + excluded.with_evidence;
END;

-- Evidence, a new deadline or a moved letter changes what its deliveries count.
CREATE TRIGGER report_letters_update_channels AFTER UPDATE OF authority_id, created_at, contact, evidence_at, deadline ON letters
WHEN OLD.authority_id IS NOT NEW.authority_id OR OLD.created_at / 3600000 IS NOT NEW.created_at / 3600000
    OR OLD.unit IS NOT NEW.unit
    OR (CASE WHEN OLD.evidence_at IS NOT NULL AND (OLD.deadline IS NULL OR OLD.evidence_at <
            (CAST(strftime('%s', OLD.deadline) AS INTEGER) + 86400) * 1000) THEN 1 ELSE 0 END)
       IS NOT (CASE WHEN NEW.evidence_at IS NOT NULL AND (NEW.deadline IS NULL OR NEW.evidence_at <
            (CAST(strftime('%s', NEW.deadline) AS INTEGER) + 86400) * 1000) THEN 1 ELSE 0 END)
BEGIN
    INSERT INTO report_channel_hours (authority_id, hour, unit, channel, purpose, deliveries, failed, opened_in_time)
    SELECT OLD.authority_id, OLD.created_at / 3600000, COALESCE(OLD.unit, ''), d.channel, d.purpose, -COUNT(*),
           -SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END),
           -COUNT(*) * (CASE WHEN OLD.evidence_at IS NOT NULL AND (OLD.deadline IS NULL OR OLD.evidence_at <
                (CAST(strftime('%s', OLD.deadline) AS INTEGER) + 86400) * 1000) THEN 1 ELSE 0 END)
    FROM deliveries d WHERE d.letter_id = OLD.id GROUP BY d.channel, d.purpose
    ON CONFLICT (authority_id, hour, unit, channel, purpose) DO UPDATE SET
        deliveries = deliveries + excluded.deliveries, failed = failed + excluded.failed,
        opened_in_time = opened_in_time + excluded.opened_in_time;
    INSERT INTO report_channel_hours (authority_id, hour, unit, channel, purpose, deliveries, failed, opened_in_time)
    SELECT NEW.authority_id, NEW.created_at / 3600000, COALESCE(NEW.unit, ''), d.channel, d.purpose, COUNT(*),
           SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END),
           COUNT(*) * (CASE WHEN NEW.evidence_at IS NOT NULL AND (NEW.deadline IS NULL OR NEW.evidence_at <
                (CAST(strftime('%s', NEW.deadline) AS INTEGER) + 86400) * 1000) THEN 1 ELSE 0 END)
    FROM deliveries d WHERE d.letter_id = NEW.id GROUP BY d.channel, d.purpose
    ON CONFLICT (authority_id, hour, unit, channel, purpose) DO UPDATE SET
        deliveries = deliveries + excluded.deliveries, failed = failed + excluded.failed,
        opened_in_time = opened_in_time + excluded.opened_in_time;
END;

-- A callback task counts under its letter's unit.
CREATE TRIGGER report_letters_update_callbacks AFTER UPDATE OF contact ON letters
WHEN OLD.unit IS NOT NEW.unit
BEGIN
    INSERT INTO report_callback_hours (authority_id, hour, unit, tasks, reached, failed, open, calls, minutes)
    SELECT t.authority_id, t.created_at / 3600000, COALESCE(OLD.unit, ''), -COUNT(*),
           -SUM(CASE WHEN t.status = 'done' THEN 1 ELSE 0 END),
           -SUM(CASE WHEN t.status = 'failed' THEN 1 ELSE 0 END),
           -SUM(CASE WHEN t.status = 'open' THEN 1 ELSE 0 END),
           -SUM(t.no_answers + CASE WHEN t.last_outcome IN ('reached', 'wrong_number') THEN 1 ELSE 0 END),
           -SUM(t.minutes_spent)
    FROM callback_tasks t WHERE t.letter_id = OLD.id GROUP BY t.authority_id, t.created_at / 3600000
    ON CONFLICT (authority_id, hour, unit) DO UPDATE SET
        tasks = tasks + excluded.tasks, reached = reached + excluded.reached, failed = failed + excluded.failed,
        open = open + excluded.open, calls = calls + excluded.calls, minutes = minutes + excluded.minutes;
    INSERT INTO report_callback_hours (authority_id, hour, unit, tasks, reached, failed, open, calls, minutes)
    SELECT t.authority_id, t.created_at / 3600000, COALESCE(NEW.unit, ''), COUNT(*),
           SUM(CASE WHEN t.status = 'done' THEN 1 ELSE 0 END),
           SUM(CASE WHEN t.status = 'failed' THEN 1 ELSE 0 END),
           SUM(CASE WHEN t.status = 'open' THEN 1 ELSE 0 END),
           SUM(t.no_answers + CASE WHEN t.last_outcome IN ('reached', 'wrong_number') THEN 1 ELSE 0 END),
           SUM(t.minutes_spent)
    FROM callback_tasks t WHERE t.letter_id = NEW.id GROUP BY t.authority_id, t.created_at / 3600000
    ON CONFLICT (authority_id, hour, unit) DO UPDATE SET
        tasks = tasks + excluded.tasks, reached = reached + excluded.reached, failed = failed + excluded.failed,
        open = open + excluded.open, calls = calls + excluded.calls, minutes = minutes + excluded.minutes;
END;

-- A letter moved to another citizen or authority: the exempt list must still cover it.
CREATE TRIGGER report_letters_update_citizen AFTER UPDATE OF authority_id, citizen_id ON letters
BEGIN
    INSERT OR IGNORE INTO report_exempt_citizens (authority_id, citizen_id)
    SELECT NEW.authority_id, c.id FROM citizens c WHERE c.id = NEW.citizen_id AND c.exempt_from_digital_post;
END;

CREATE TRIGGER report_letters_delete AFTER DELETE ON letters
BEGIN
    INSERT INTO report_letter_hours (authority_id, hour, unit, letters, important, escalated_letters, escalations, with_evidence)
    SELECT OLD.authority_id, OLD.created_at / 3600000, COALESCE(OLD.unit, ''), -1,
           -CASE WHEN OLD.importance = 'important' THEN 1 ELSE 0 END,
           -CASE WHEN OLD.escalation_step > 0 THEN 1 ELSE 0 END,
           -OLD.escalation_step,
           -CASE WHEN OLD.evidence_at IS NOT NULL THEN 1 ELSE 0 END
    WHERE true
    ON CONFLICT (authority_id, hour, unit) DO UPDATE SET
        letters = letters + excluded.letters, important = important + excluded.important,
        escalated_letters = escalated_letters + excluded.escalated_letters,
        escalations = escalations + excluded.escalations, with_evidence = with_evidence + excluded.with_evidence;
END;

-- Deliveries -------------------------------------------------------------------------------

CREATE TRIGGER report_deliveries_insert AFTER INSERT ON deliveries
BEGIN
    INSERT INTO report_channel_hours (authority_id, hour, unit, channel, purpose, deliveries, failed, opened_in_time)
    SELECT l.authority_id, l.created_at / 3600000, COALESCE(l.unit, ''), NEW.channel, NEW.purpose, 1,
           CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
           CASE WHEN l.evidence_at IS NOT NULL AND (l.deadline IS NULL OR l.evidence_at <
                (CAST(strftime('%s', l.deadline) AS INTEGER) + 86400) * 1000) THEN 1 ELSE 0 END
    FROM letters l WHERE l.id = NEW.letter_id
    ON CONFLICT (authority_id, hour, unit, channel, purpose) DO UPDATE SET
        deliveries = deliveries + excluded.deliveries, failed = failed + excluded.failed,
        opened_in_time = opened_in_time + excluded.opened_in_time;
END;

-- Most status changes (queued, sending, sent, delivered) change nothing here.
CREATE TRIGGER report_deliveries_update AFTER UPDATE OF letter_id, channel, purpose, status ON deliveries
WHEN OLD.letter_id IS NOT NEW.letter_id OR OLD.channel IS NOT NEW.channel OR OLD.purpose IS NOT NEW.purpose
    OR (CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END) IS NOT (CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END)
BEGIN
    INSERT INTO report_channel_hours (authority_id, hour, unit, channel, purpose, deliveries, failed, opened_in_time)
    SELECT l.authority_id, l.created_at / 3600000, COALESCE(l.unit, ''), OLD.channel, OLD.purpose, -1,
           -CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END,
           -CASE WHEN l.evidence_at IS NOT NULL AND (l.deadline IS NULL OR l.evidence_at <
                (CAST(strftime('%s', l.deadline) AS INTEGER) + 86400) * 1000) THEN 1 ELSE 0 END
    FROM letters l WHERE l.id = OLD.letter_id
    ON CONFLICT (authority_id, hour, unit, channel, purpose) DO UPDATE SET
        deliveries = deliveries + excluded.deliveries, failed = failed + excluded.failed,
        opened_in_time = opened_in_time + excluded.opened_in_time;
    INSERT INTO report_channel_hours (authority_id, hour, unit, channel, purpose, deliveries, failed, opened_in_time)
    SELECT l.authority_id, l.created_at / 3600000, COALESCE(l.unit, ''), NEW.channel, NEW.purpose, 1,
           CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
           CASE WHEN l.evidence_at IS NOT NULL AND (l.deadline IS NULL OR l.evidence_at <
                (CAST(strftime('%s', l.deadline) AS INTEGER) + 86400) * 1000) THEN 1 ELSE 0 END
    FROM letters l WHERE l.id = NEW.letter_id
    ON CONFLICT (authority_id, hour, unit, channel, purpose) DO UPDATE SET
        deliveries = deliveries + excluded.deliveries, failed = failed + excluded.failed,
        opened_in_time = opened_in_time + excluded.opened_in_time;
END;

CREATE TRIGGER report_deliveries_delete AFTER DELETE ON deliveries
BEGIN
    INSERT INTO report_channel_hours (authority_id, hour, unit, channel, purpose, deliveries, failed, opened_in_time)
    SELECT l.authority_id, l.created_at / 3600000, COALESCE(l.unit, ''), OLD.channel, OLD.purpose, -1,
           -CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END,
           -CASE WHEN l.evidence_at IS NOT NULL AND (l.deadline IS NULL OR l.evidence_at <
                (CAST(strftime('%s', l.deadline) AS INTEGER) + 86400) * 1000) THEN 1 ELSE 0 END
    FROM letters l WHERE l.id = OLD.letter_id
    ON CONFLICT (authority_id, hour, unit, channel, purpose) DO UPDATE SET
        deliveries = deliveries + excluded.deliveries, failed = failed + excluded.failed,
        opened_in_time = opened_in_time + excluded.opened_in_time;
END;

-- Callback tasks ---------------------------------------------------------------------------

CREATE TRIGGER report_callbacks_insert AFTER INSERT ON callback_tasks
BEGIN
    INSERT INTO report_callback_hours (authority_id, hour, unit, tasks, reached, failed, open, calls, minutes)
    SELECT NEW.authority_id, NEW.created_at / 3600000, COALESCE(l.unit, ''), 1,
           CASE WHEN NEW.status = 'done' THEN 1 ELSE 0 END,
           CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
           CASE WHEN NEW.status = 'open' THEN 1 ELSE 0 END,
           NEW.no_answers + CASE WHEN NEW.last_outcome IN ('reached', 'wrong_number') THEN 1 ELSE 0 END,
           NEW.minutes_spent
    FROM letters l WHERE l.id = NEW.letter_id
    ON CONFLICT (authority_id, hour, unit) DO UPDATE SET
        tasks = tasks + excluded.tasks, reached = reached + excluded.reached, failed = failed + excluded.failed,
        open = open + excluded.open, calls = calls + excluded.calls, minutes = minutes + excluded.minutes;
END;

-- Claims and new due times change nothing here.
CREATE TRIGGER report_callbacks_update
AFTER UPDATE OF authority_id, letter_id, created_at, status, no_answers, minutes_spent, last_outcome ON callback_tasks
WHEN OLD.authority_id IS NOT NEW.authority_id OR OLD.letter_id IS NOT NEW.letter_id
    OR OLD.created_at / 3600000 IS NOT NEW.created_at / 3600000 OR OLD.status IS NOT NEW.status
    OR OLD.no_answers IS NOT NEW.no_answers OR OLD.minutes_spent IS NOT NEW.minutes_spent
    OR OLD.last_outcome IS NOT NEW.last_outcome
BEGIN
    INSERT INTO report_callback_hours (authority_id, hour, unit, tasks, reached, failed, open, calls, minutes)
    SELECT OLD.authority_id, OLD.created_at / 3600000, COALESCE(l.unit, ''), -1,
           -CASE WHEN OLD.status = 'done' THEN 1 ELSE 0 END,
           -CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END,
           -CASE WHEN OLD.status = 'open' THEN 1 ELSE 0 END,
           -(OLD.no_answers + CASE WHEN OLD.last_outcome IN ('reached', 'wrong_number') THEN 1 ELSE 0 END),
           -OLD.minutes_spent
    FROM letters l WHERE l.id = OLD.letter_id
    ON CONFLICT (authority_id, hour, unit) DO UPDATE SET
        tasks = tasks + excluded.tasks, reached = reached + excluded.reached, failed = failed + excluded.failed,
        open = open + excluded.open, calls = calls + excluded.calls, minutes = minutes + excluded.minutes;
    INSERT INTO report_callback_hours (authority_id, hour, unit, tasks, reached, failed, open, calls, minutes)
    SELECT NEW.authority_id, NEW.created_at / 3600000, COALESCE(l.unit, ''), 1,
           CASE WHEN NEW.status = 'done' THEN 1 ELSE 0 END,
           CASE WHEN NEW.status = 'failed' THEN 1 ELSE 0 END,
           CASE WHEN NEW.status = 'open' THEN 1 ELSE 0 END,
           NEW.no_answers + CASE WHEN NEW.last_outcome IN ('reached', 'wrong_number') THEN 1 ELSE 0 END,
           NEW.minutes_spent
    FROM letters l WHERE l.id = NEW.letter_id
    ON CONFLICT (authority_id, hour, unit) DO UPDATE SET
        tasks = tasks + excluded.tasks, reached = reached + excluded.reached, failed = failed + excluded.failed,
        open = open + excluded.open, calls = calls + excluded.calls, minutes = minutes + excluded.minutes;
END;

CREATE TRIGGER report_callbacks_delete AFTER DELETE ON callback_tasks
BEGIN
    INSERT INTO report_callback_hours (authority_id, hour, unit, tasks, reached, failed, open, calls, minutes)
    SELECT OLD.authority_id, OLD.created_at / 3600000, COALESCE(l.unit, ''), -1,
           -CASE WHEN OLD.status = 'done' THEN 1 ELSE 0 END,
           -CASE WHEN OLD.status = 'failed' THEN 1 ELSE 0 END,
           -CASE WHEN OLD.status = 'open' THEN 1 ELSE 0 END,
           -(OLD.no_answers + CASE WHEN OLD.last_outcome IN ('reached', 'wrong_number') THEN 1 ELSE 0 END),
           -OLD.minutes_spent
    FROM letters l WHERE l.id = OLD.letter_id
    ON CONFLICT (authority_id, hour, unit) DO UPDATE SET
        tasks = tasks + excluded.tasks, reached = reached + excluded.reached, failed = failed + excluded.failed,
        open = open + excluded.open, calls = calls + excluded.calls, minutes = minutes + excluded.minutes;
END;

-- Citizens ---------------------------------------------------------------------------------

CREATE TRIGGER report_citizens_exempt AFTER UPDATE OF exempt_from_digital_post ON citizens
WHEN NEW.exempt_from_digital_post AND NOT OLD.exempt_from_digital_post
BEGIN
    INSERT OR IGNORE INTO report_exempt_citizens (authority_id, citizen_id)
    SELECT DISTINCT l.authority_id, l.citizen_id FROM letters l WHERE l.citizen_id = NEW.id;
END;

CREATE TRIGGER report_citizens_not_exempt AFTER UPDATE OF exempt_from_digital_post ON citizens
WHEN OLD.exempt_from_digital_post AND NOT NEW.exempt_from_digital_post
BEGIN
    DELETE FROM report_exempt_citizens WHERE citizen_id = NEW.id;
END;

-- Backfill (the triggers above exist already, and this migration is the only writer now) ---

INSERT INTO report_letter_hours (authority_id, hour, unit, letters, important, escalated_letters, escalations, with_evidence)
SELECT l.authority_id, l.created_at / 3600000, COALESCE(l.unit, ''), COUNT(*),
       SUM(CASE WHEN l.importance = 'important' THEN 1 ELSE 0 END),
       SUM(CASE WHEN l.escalation_step > 0 THEN 1 ELSE 0 END),
       SUM(l.escalation_step),
       SUM(CASE WHEN l.evidence_at IS NOT NULL THEN 1 ELSE 0 END)
FROM letters l GROUP BY l.authority_id, l.created_at / 3600000, COALESCE(l.unit, '');

INSERT INTO report_channel_hours (authority_id, hour, unit, channel, purpose, deliveries, failed, opened_in_time)
SELECT l.authority_id, l.created_at / 3600000, COALESCE(l.unit, ''), d.channel, d.purpose, COUNT(*),
       SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN l.evidence_at IS NOT NULL AND (l.deadline IS NULL OR l.evidence_at <
           (CAST(strftime('%s', l.deadline) AS INTEGER) + 86400) * 1000) THEN 1 ELSE 0 END)
FROM letters l JOIN deliveries d ON d.letter_id = l.id
GROUP BY l.authority_id, l.created_at / 3600000, COALESCE(l.unit, ''), d.channel, d.purpose;

INSERT INTO report_callback_hours (authority_id, hour, unit, tasks, reached, failed, open, calls, minutes)
SELECT t.authority_id, t.created_at / 3600000, COALESCE(l.unit, ''), COUNT(*),
       SUM(CASE WHEN t.status = 'done' THEN 1 ELSE 0 END),
       SUM(CASE WHEN t.status = 'failed' THEN 1 ELSE 0 END),
       SUM(CASE WHEN t.status = 'open' THEN 1 ELSE 0 END),
       SUM(t.no_answers + CASE WHEN t.last_outcome IN ('reached', 'wrong_number') THEN 1 ELSE 0 END),
       SUM(t.minutes_spent)
FROM callback_tasks t JOIN letters l ON l.id = t.letter_id
GROUP BY t.authority_id, t.created_at / 3600000, COALESCE(l.unit, '');

INSERT OR IGNORE INTO report_exempt_citizens (authority_id, citizen_id)
SELECT DISTINCT l.authority_id, l.citizen_id FROM letters l JOIN citizens c ON c.id = l.citizen_id
WHERE c.exempt_from_digital_post;
