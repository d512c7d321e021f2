-- The fold (0005) picked its batch with `seq IN (SELECT seq … ORDER BY seq LIMIT 10000)`,
-- which PostgreSQL ran as a hash semi-join over a sequential scan of the whole delta table:
-- every fold read every pending delta. After a bulk load (300,000 letters leave 300,000
-- letter deltas and as many channel deltas) a fold took 150-260 ms and there were a hundred
-- of them to go. The batch is now the range up to its newest delta's seq, which the primary
-- key's index reads directly. The same rows: in one snapshot, the visible deltas up to that
-- seq are exactly the oldest 10,000.

CREATE OR REPLACE FUNCTION report_fold_deltas() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed'
        OR current_setting('budbringer.report_folded', true) = 'yes'
        OR NOT pg_try_advisory_xact_lock(hashtext('budbringer report roll-ups'), 0) THEN
        RETURN;
    END IF;
    PERFORM set_config('budbringer.report_folded', 'yes', true);
    WITH moved AS (
        DELETE FROM report_letter_deltas
        WHERE seq <= (SELECT max(seq) FROM (SELECT seq FROM report_letter_deltas ORDER BY seq LIMIT 10000) oldest)
        RETURNING *)
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
        WHERE seq <= (SELECT max(seq) FROM (SELECT seq FROM report_channel_deltas ORDER BY seq LIMIT 10000) oldest)
        RETURNING *)
    INSERT INTO report_channel_hours AS r
    SELECT authority_id, hour, unit, channel, purpose, SUM(deliveries), SUM(failed), SUM(opened_in_time)
    FROM moved GROUP BY authority_id, hour, unit, channel, purpose ORDER BY authority_id, hour, unit, channel, purpose
    ON CONFLICT (authority_id, hour, unit, channel, purpose) DO UPDATE SET
        deliveries = r.deliveries + EXCLUDED.deliveries, failed = r.failed + EXCLUDED.failed,
        opened_in_time = r.opened_in_time + EXCLUDED.opened_in_time;
    WITH moved AS (
        DELETE FROM report_callback_deltas
        WHERE seq <= (SELECT max(seq) FROM (SELECT seq FROM report_callback_deltas ORDER BY seq LIMIT 10000) oldest)
        RETURNING *)
    INSERT INTO report_callback_hours AS r
    SELECT authority_id, hour, unit, SUM(tasks), SUM(reached), SUM(failed), SUM(open), SUM(calls), SUM(minutes)
    FROM moved GROUP BY authority_id, hour, unit ORDER BY authority_id, hour, unit
    ON CONFLICT (authority_id, hour, unit) DO UPDATE SET
        tasks = r.tasks + EXCLUDED.tasks, reached = r.reached + EXCLUDED.reached, failed = r.failed + EXCLUDED.failed,
        open = r.open + EXCLUDED.open, calls = r.calls + EXCLUDED.calls, minutes = r.minutes + EXCLUDED.minutes;
END
$$;
