-- The roll-ups' deltas (0005) are now folded by a background task of the gateway
-- (src/engine/report_fold.rs calls report_fold_deltas() every half second), no longer by the
-- writers' triggers. A fold in a trigger ran inside a letter's or an escalation's transaction
-- and took tens of milliseconds (it walks the queue's dead rows), holding that transaction's
-- row locks the while: in the escalation sweep the folds were about a quarter of the
-- database's time. The triggers still call report_maybe_fold(), which now does nothing; the
-- report reads the hour tables and the pending deltas together, so it is exact either way.
CREATE OR REPLACE FUNCTION report_maybe_fold() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
END
$$;
