-- The authorization code flow (keyward_storage::GrantStore). Request ids, codes and refresh
-- tokens are stored as the hex SHA-256 of their value, never the value. Everything of a client
-- or a user goes with it (ON DELETE CASCADE), so each such column has an index for the cascade.
-- Scopes are the space-separated string of keyward_types::Scope.
-- client_id and username collate as the keys they reference (COLLATE "C").

CREATE TABLE pending_requests (
    id_hash    TEXT PRIMARY KEY,
    client_id  TEXT COLLATE "C" NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    params     TEXT NOT NULL,            -- the validated request, as the server serialized it
    expires_at BIGINT NOT NULL
);
CREATE INDEX pending_requests_by_client ON pending_requests(client_id);
CREATE INDEX pending_requests_by_expiry ON pending_requests(expires_at);

-- grant_id names the grant the code's exchange starts (no foreign key: that grant is stored
-- only at the exchange), so a second use can revoke it.
CREATE TABLE authorization_codes (
    code_hash      TEXT PRIMARY KEY,
    grant_id       TEXT NOT NULL,
    client_id      TEXT COLLATE "C" NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    username       TEXT COLLATE "C" NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    scope          TEXT NOT NULL,
    nonce          TEXT,
    auth_time      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT                 -- NULL until the code is redeemed
);
CREATE INDEX authorization_codes_by_client ON authorization_codes(client_id);
CREATE INDEX authorization_codes_by_user ON authorization_codes(username);
CREATE INDEX authorization_codes_by_expiry ON authorization_codes(expires_at);

CREATE TABLE grants (
    grant_id   TEXT PRIMARY KEY,
    client_id  TEXT COLLATE "C" NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    username   TEXT COLLATE "C" NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    auth_time  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked    BOOLEAN NOT NULL
);
CREATE INDEX grants_by_client ON grants(client_id);
CREATE INDEX grants_by_user ON grants(username);
CREATE INDEX grants_by_expiry ON grants(expires_at);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES grants(grant_id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT                     -- NULL until rotated
);
CREATE INDEX refresh_tokens_by_grant ON refresh_tokens(grant_id);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens(expires_at);

-- Revoked access tokens, kept until the token would have expired anyway.
CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens(expires_at);

CREATE TABLE consents (
    username   TEXT COLLATE "C" NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    client_id  TEXT COLLATE "C" NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (username, client_id)
);
CREATE INDEX consents_by_client ON consents(client_id);
