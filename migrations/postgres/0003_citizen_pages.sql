-- The citizens' pages (issue #5).

-- Every change to a contact profile and who made it (the citizen, an authority over the
-- API, a caseworker at the counter), for the citizen to see.
CREATE TABLE profile_changes (
    id           UUID PRIMARY KEY,
    citizen_id   UUID NOT NULL REFERENCES citizens(id),
    actor_kind   TEXT NOT NULL,
    actor_name   TEXT NOT NULL,
    authority_id UUID,
    fields       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX profile_changes_citizen ON profile_changes (citizen_id, created_at);

-- One-time login codes texted to a citizen's registered phone; only a keyed hash is kept.
CREATE TABLE citizen_login_codes (
    id         UUID PRIMARY KEY,
    citizen_id UUID NOT NULL REFERENCES citizens(id),
    code_hash  TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    used_at    BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX citizen_login_codes_citizen ON citizen_login_codes (citizen_id, created_at);

-- Login attempts by key (a keyed hash of the CPR number, of the caller's address), for rate
-- limits that work the same whether or not the CPR number is known.
CREATE TABLE login_throttle (
    id         UUID PRIMARY KEY,
    key        TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX login_throttle_key ON login_throttle (key, created_at);
