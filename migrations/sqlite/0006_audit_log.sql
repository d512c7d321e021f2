-- The audit log (issue #7): who did what, administratively or as a caseworker, as a hash
-- chain. `seq` is assigned by the gateway under the write lock (1, 2, 3, … without gaps);
-- `hash` = SHA-256 over `prev_hash` and the row's other fields (see src/domain/audit_chain.rs).
-- Append-only: the triggers refuse every UPDATE and DELETE.

CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    actor_kind   TEXT NOT NULL CHECK (actor_kind IN ('admin_cli', 'api_key', 'caseworker', 'system')),
    actor_id     TEXT NOT NULL,
    authority_id BLOB,
    action       TEXT NOT NULL,
    subject      TEXT NOT NULL,             -- ids only
    details      TEXT NOT NULL CHECK (json_valid(details)), -- canonical JSON text, exactly as hashed
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX audit_log_authority ON audit_log (authority_id, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
