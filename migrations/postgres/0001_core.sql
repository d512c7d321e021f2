-- Core gateway schema (PostgreSQL). Timestamps are milliseconds since the Unix epoch (UTC)
-- so both databases share one representation; dates are 'YYYY-MM-DD' text.

CREATE TABLE instance_keys (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE TABLE authorities (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL,
    cvr        TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id           UUID PRIMARY KEY,
    authority_id UUID NOT NULL REFERENCES authorities(id),
    key_hash     TEXT NOT NULL UNIQUE,
    hint         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);

CREATE TABLE citizens (
    id                       UUID PRIMARY KEY,
    cpr_hash                 TEXT NOT NULL UNIQUE,
    cpr                      TEXT NOT NULL,
    preferred_channel        TEXT,
    phone                    TEXT,
    email                    TEXT,
    language                 TEXT,
    large_print              BOOLEAN NOT NULL DEFAULT FALSE,
    exempt_from_digital_post BOOLEAN NOT NULL DEFAULT FALSE,
    created_at               BIGINT NOT NULL
);

CREATE TABLE letters (
    id              UUID PRIMARY KEY,
    authority_id    UUID NOT NULL REFERENCES authorities(id),
    citizen_id      UUID NOT NULL REFERENCES citizens(id),
    recipient       JSONB NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    importance      TEXT NOT NULL,
    respond_by      TEXT,
    deadline        TEXT,
    reference       TEXT,
    contact         JSONB NOT NULL,
    status          TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash    TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX letters_idempotency ON letters (authority_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX letters_authority ON letters (authority_id, id);
CREATE INDEX letters_authority_reference ON letters (authority_id, reference);

CREATE TABLE documents (
    id         UUID PRIMARY KEY,
    letter_id  UUID NOT NULL REFERENCES letters(id),
    position   BIGINT NOT NULL,
    filename   TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size       BIGINT NOT NULL,
    sha256     TEXT NOT NULL,
    content    BYTEA NOT NULL
);
CREATE INDEX documents_letter ON documents (letter_id, position);

CREATE TABLE deliveries (
    id           UUID PRIMARY KEY,
    letter_id    UUID NOT NULL REFERENCES letters(id),
    channel      TEXT NOT NULL,
    status       TEXT NOT NULL,
    transport    TEXT,
    provider_ref TEXT,
    attempts     BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX deliveries_letter ON deliveries (letter_id);
CREATE INDEX deliveries_provider_ref ON deliveries (channel, provider_ref) WHERE provider_ref IS NOT NULL;

CREATE TABLE jobs (
    id           UUID PRIMARY KEY,
    kind         TEXT NOT NULL,
    letter_id    UUID NOT NULL,
    delivery_id  UUID,
    available_at BIGINT NOT NULL,
    locked_by    TEXT,
    attempts     BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    last_error   TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX jobs_available ON jobs (available_at);
CREATE INDEX jobs_letter ON jobs (letter_id);
CREATE INDEX jobs_locked_by ON jobs (locked_by) WHERE locked_by IS NOT NULL;

-- xid: the writing transaction, so the event feed never hands out a cursor past an event
-- whose transaction has not committed yet (sequence values commit out of order).
CREATE TABLE events (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           UUID NOT NULL UNIQUE,
    letter_id    UUID NOT NULL,
    authority_id UUID NOT NULL,
    kind         TEXT NOT NULL,
    data         JSONB NOT NULL,
    created_at   BIGINT NOT NULL,
    xid          XID8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX events_letter ON events (letter_id, seq);
CREATE INDEX events_authority ON events (authority_id, seq);

CREATE TABLE webhooks (
    id           UUID PRIMARY KEY,
    authority_id UUID NOT NULL REFERENCES authorities(id),
    url          TEXT NOT NULL,
    secret       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX webhooks_authority ON webhooks (authority_id);

CREATE TABLE webhook_messages (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id   UUID NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_seq    BIGINT NOT NULL REFERENCES events(seq),
    letter_id    UUID NOT NULL,
    state        TEXT NOT NULL,
    available_at BIGINT NOT NULL,
    locked_by    TEXT,
    attempts     BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX webhook_messages_due ON webhook_messages (state, available_at);
CREATE INDEX webhook_messages_order ON webhook_messages (webhook_id, letter_id, id);
