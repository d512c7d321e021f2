-- Logged-in people on the web pages (citizens and caseworkers). Only a hash of the cookie
-- value is kept, so a copy of the database opens no session.
CREATE TABLE web_sessions (
    id_hash      TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,          -- citizen, staff
    subject_id   UUID NOT NULL,          -- citizens.id or caseworkers.id
    authority_id UUID,                   -- staff: the caseworker's authority
    login_method TEXT NOT NULL,          -- oidc, sms_code, access_code, password
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX web_sessions_subject ON web_sessions (kind, subject_id);

-- OpenID Connect logins under way: the state a provider sends back, with the PKCE verifier
-- and nonce it must match. Single use.
CREATE TABLE oidc_pending (
    state         TEXT PRIMARY KEY,
    audience      TEXT NOT NULL,         -- citizen, staff
    nonce         TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    return_to     TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
