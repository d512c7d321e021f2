-- The audit log (issue #7): who did what, administratively or as a caseworker, as a hash
-- chain. `seq` is assigned by the gateway under an advisory lock (1, 2, 3, … without gaps);
-- `hash` = SHA-256 over `prev_hash` and the row's other fields (see src/domain/audit_chain.rs).
-- `details` is TEXT holding JSON, not JSONB: the exact text that was hashed is kept.
-- Append-only: the triggers refuse every UPDATE, DELETE and TRUNCATE.

CREATE TABLE audit_log (
    seq          BIGINT PRIMARY KEY,
    at           BIGINT NOT NULL,
    actor_kind   TEXT NOT NULL CHECK (actor_kind IN ('admin_cli', 'api_key', 'caseworker', 'system')),
    actor_id     TEXT NOT NULL,
    authority_id UUID,
    action       TEXT NOT NULL,
    subject      TEXT NOT NULL,             -- ids only
    details      TEXT NOT NULL CHECK (details::jsonb IS NOT NULL), -- canonical JSON text, exactly as hashed
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX audit_log_authority ON audit_log (authority_id, seq);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
