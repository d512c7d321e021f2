-- The caseworkers' pages (issue #6): accounts, claims, units, login throttling, and the
-- indexes the alert list and the inclusion report need at a million letters.

CREATE TABLE caseworkers (
    id            UUID PRIMARY KEY,
    authority_id  UUID NOT NULL REFERENCES authorities(id),
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,         -- caseworker, team_lead, administrator
    password_hash TEXT,                  -- argon2 PHC string; NULL: OpenID Connect only
    oidc_subject  TEXT UNIQUE,
    unit          TEXT,
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);
CREATE INDEX caseworkers_authority ON caseworkers (authority_id, display_name);

-- Who took an alert, and who closed it.
ALTER TABLE alerts ADD COLUMN assigned_to UUID REFERENCES caseworkers(id);
ALTER TABLE alerts ADD COLUMN assigned_at BIGINT;
ALTER TABLE alerts ADD COLUMN closed_by UUID REFERENCES caseworkers(id);

-- Who claimed a callback task.
ALTER TABLE callback_tasks ADD COLUMN claimed_by UUID REFERENCES caseworkers(id);
ALTER TABLE callback_tasks ADD COLUMN claimed_at BIGINT;
CREATE INDEX callback_tasks_report ON callback_tasks (authority_id, created_at);

-- The unit that sent a letter is its contact point's unit; a generated column, so the API's
-- insert stays as it is and the report can filter and group on an index.
ALTER TABLE letters ADD COLUMN unit TEXT GENERATED ALWAYS AS (contact ->> 'unit') STORED;
CREATE INDEX letters_report ON letters (authority_id, created_at, unit, importance, escalation_step, evidence_at, deadline, citizen_id);
CREATE INDEX letters_citizen ON letters (citizen_id, authority_id, created_at);
CREATE INDEX deliveries_report ON deliveries (letter_id, channel, purpose, status);

-- A caseworker looked a citizen up by CPR number (the citizen at the counter): from then on
-- the authority may open the citizen's page even without a letter to them.
CREATE TABLE staff_citizen_lookups (
    authority_id  UUID NOT NULL REFERENCES authorities(id),
    citizen_id    UUID NOT NULL REFERENCES citizens(id),
    caseworker_id UUID NOT NULL REFERENCES caseworkers(id),
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (authority_id, citizen_id)
);

-- Failed logins, counted per username and per client address to slow down guessing.
CREATE TABLE staff_login_failures (
    key TEXT NOT NULL,
    at  BIGINT NOT NULL
);
CREATE INDEX staff_login_failures_key ON staff_login_failures (key, at);
