-- Core gateway schema (SQLite). Ids are UUIDs as 16-byte blobs (v7: time-ordered),
-- timestamps are milliseconds since the Unix epoch (UTC), dates are 'YYYY-MM-DD'.

CREATE TABLE instance_keys (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE authorities (
    id         BLOB PRIMARY KEY,
    name       TEXT NOT NULL,
    cvr        TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    -- when its caseworkers make callback calls, e.g. 'mon-fri 09:00-15:00' (else the installation's)
    office_hours TEXT,
    time_zone    TEXT,
    -- days its offices are closed besides public holidays (deadlines skip them)
    closing_days TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE api_keys (
    id           BLOB PRIMARY KEY,
    authority_id BLOB NOT NULL REFERENCES authorities(id),
    key_hash     TEXT NOT NULL UNIQUE,
    hint         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);

CREATE TABLE citizens (
    id                       BLOB PRIMARY KEY,
    cpr_hash                 TEXT NOT NULL UNIQUE,
    cpr                      TEXT NOT NULL,
    name                     TEXT,
    address                  TEXT,
    phone                    TEXT,
    -- the phone number in E.164, to match an SMS reply to its citizen
    phone_e164               TEXT,
    email                    TEXT,
    language                 TEXT,
    large_print              INTEGER NOT NULL DEFAULT 0,
    easy_read                INTEGER NOT NULL DEFAULT 0,
    preferred_channel        TEXT,
    notice_channels          TEXT NOT NULL DEFAULT '[]',
    helpers                  TEXT NOT NULL DEFAULT '[]',
    exempt_from_digital_post INTEGER NOT NULL DEFAULT 0,
    -- who last changed the profile: an authority acting on the citizen's behalf (NULL: the citizen)
    profile_updated_by       BLOB,
    profile_updated_at       INTEGER,
    created_at               INTEGER NOT NULL
);

-- Every read of a citizen's letter or profile, for the citizen to see.
CREATE TABLE access_log (
    id           BLOB PRIMARY KEY,
    citizen_id   BLOB NOT NULL REFERENCES citizens(id),
    actor_kind   TEXT NOT NULL,
    actor_id     BLOB,
    actor_name   TEXT NOT NULL,
    action       TEXT NOT NULL,
    letter_id    BLOB,
    created_at   INTEGER NOT NULL
);
CREATE INDEX access_log_citizen ON access_log (citizen_id, created_at);

CREATE TABLE letters (
    id              BLOB PRIMARY KEY,
    authority_id    BLOB NOT NULL REFERENCES authorities(id),
    citizen_id      BLOB NOT NULL REFERENCES citizens(id),
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    importance      TEXT NOT NULL,
    -- the authority's kind of letter, choosing its escalation policy
    category        TEXT,
    respond_by      TEXT,
    deadline        TEXT,
    reference       TEXT,
    contact         TEXT NOT NULL,
    status          TEXT NOT NULL,
    -- first evidence that the citizen got it (opened, reacted); stops escalation
    evidence_at     INTEGER,
    -- the next rung of the escalation ladder
    escalation_step INTEGER NOT NULL DEFAULT 0,
    idempotency_key TEXT,
    request_hash    TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX letters_idempotency ON letters (authority_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX letters_authority ON letters (authority_id, id);
CREATE INDEX letters_authority_reference ON letters (authority_id, reference);

-- Document content lives here, out of the hot letters rows.
CREATE TABLE documents (
    id         BLOB PRIMARY KEY,
    letter_id  BLOB NOT NULL REFERENCES letters(id),
    position   INTEGER NOT NULL,
    filename   TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size       INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    content    BLOB NOT NULL
);
CREATE INDEX documents_letter ON documents (letter_id, position);

CREATE TABLE deliveries (
    id           BLOB PRIMARY KEY,
    letter_id    BLOB NOT NULL REFERENCES letters(id),
    channel      TEXT NOT NULL,
    -- 'letter': carries the letter; 'notice': tells the citizen a letter has come
    purpose      TEXT NOT NULL DEFAULT 'letter',
    -- a helper the delivery goes to instead of the citizen (name and contact, as granted)
    helper       TEXT,
    status       TEXT NOT NULL,
    transport    TEXT,
    provider_ref TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX deliveries_letter ON deliveries (letter_id);
CREATE INDEX deliveries_provider_ref ON deliveries (channel, provider_ref) WHERE provider_ref IS NOT NULL;

-- Durable work: a job is available when available_at <= now; claiming pushes available_at
-- forward by the lease, so a crashed worker's job comes back by itself.
CREATE TABLE jobs (
    id           BLOB PRIMARY KEY,
    kind         TEXT NOT NULL,
    letter_id    BLOB NOT NULL,
    delivery_id  BLOB,
    -- for escalation timers: the rung it starts
    step         INTEGER,
    -- what a one-off job needs (a one-time code SMS: number and text)
    payload      TEXT,
    available_at INTEGER NOT NULL,
    locked_by    TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    last_error   TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX jobs_available ON jobs (available_at);
CREATE INDEX jobs_letter ON jobs (letter_id);
CREATE INDEX jobs_locked_by ON jobs (locked_by) WHERE locked_by IS NOT NULL;

CREATE TABLE events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           BLOB NOT NULL UNIQUE,
    letter_id    BLOB NOT NULL,
    authority_id BLOB NOT NULL,
    kind         TEXT NOT NULL,
    data         TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX events_letter ON events (letter_id, seq);
CREATE INDEX events_authority ON events (authority_id, seq);

CREATE TABLE webhooks (
    id           BLOB PRIMARY KEY,
    authority_id BLOB NOT NULL REFERENCES authorities(id),
    url          TEXT NOT NULL,
    secret       TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX webhooks_authority ON webhooks (authority_id);

-- One row per (webhook, event) still to be sent; sent rows are deleted, given-up rows kept.
CREATE TABLE webhook_messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id   BLOB NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_seq    INTEGER NOT NULL REFERENCES events(seq),
    letter_id    BLOB NOT NULL,
    state        TEXT NOT NULL,
    available_at INTEGER NOT NULL,
    locked_by    TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX webhook_messages_due ON webhook_messages (state, available_at);
CREATE INDEX webhook_messages_order ON webhook_messages (webhook_id, letter_id, id);

-- Calls a caseworker owes a citizen (the phone channel, or a citizen asking to be called).
CREATE TABLE callback_tasks (
    id            BLOB PRIMARY KEY,
    authority_id  BLOB NOT NULL REFERENCES authorities(id),
    letter_id     BLOB NOT NULL REFERENCES letters(id),
    delivery_id   BLOB REFERENCES deliveries(id),
    phone         TEXT NOT NULL,
    summary       TEXT NOT NULL,
    status        TEXT NOT NULL,          -- open, done, failed
    due_at        INTEGER NOT NULL,
    no_answers    INTEGER NOT NULL DEFAULT 0,
    minutes_spent INTEGER NOT NULL DEFAULT 0,
    last_outcome  TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX callback_tasks_queue ON callback_tasks (authority_id, status, due_at);
CREATE INDEX citizens_phone ON citizens (phone_e164) WHERE phone_e164 IS NOT NULL;

-- Things a caseworker must act on: an important letter unopened, a citizen unreachable, a
-- delivery that failed for good, a citizen who should be offered exemption.
CREATE TABLE alerts (
    id           BLOB PRIMARY KEY,
    authority_id BLOB NOT NULL REFERENCES authorities(id),
    letter_id    BLOB REFERENCES letters(id),
    citizen_id   BLOB REFERENCES citizens(id),
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,          -- open, resolved (by evidence), closed (by a caseworker)
    details      TEXT NOT NULL,
    note         TEXT,
    created_at   INTEGER NOT NULL,
    closed_at    INTEGER
);
CREATE INDEX alerts_open ON alerts (authority_id, status, created_at);
CREATE INDEX alerts_letter ON alerts (letter_id);

-- An authority's own escalation ladder for a kind of letter (importance, optional category);
-- the installation's [policies] apply where it has none.
CREATE TABLE policies (
    authority_id BLOB NOT NULL REFERENCES authorities(id),
    importance   TEXT NOT NULL,
    category     TEXT NOT NULL DEFAULT '',
    policy       TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (authority_id, importance, category)
);

-- One-time codes that open a reading link which arrived by SMS or e-mail (those can be
-- forwarded); only the hash is kept.
CREATE TABLE reading_codes (
    id          BLOB PRIMARY KEY,
    delivery_id BLOB NOT NULL REFERENCES deliveries(id),
    code_hash   TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    used_at     INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX reading_codes_delivery ON reading_codes (delivery_id, created_at);
