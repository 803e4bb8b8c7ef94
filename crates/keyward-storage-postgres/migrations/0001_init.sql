-- Times are Unix nanoseconds in BIGINT, as on SQLite: TIMESTAMPTZ keeps only microseconds, and
-- an exported record must come back exactly as it went in.
-- client_id sorts bytewise (COLLATE "C") so keyset pages come in the same order as on SQLite,
-- whatever the database's locale.

CREATE TABLE clients (
    client_id  TEXT COLLATE "C" PRIMARY KEY,
    metadata   TEXT NOT NULL,            -- JSON of keyward_types::Client, kept verbatim
    created_at BIGINT NOT NULL
);

CREATE TABLE client_secrets (
    id         TEXT PRIMARY KEY,
    client_id  TEXT COLLATE "C" NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    hash       BYTEA NOT NULL,           -- HMAC-SHA256(pepper, secret), never the secret
    created_at BIGINT NOT NULL,
    expires_at BIGINT,                   -- NULL: current secret
    encrypted  BYTEA                     -- AES-256-GCM copy, for client_secret_jwt only
);
CREATE INDEX client_secrets_by_client ON client_secrets(client_id);

CREATE TABLE credentials (
    id         TEXT PRIMARY KEY,
    client_id  TEXT COLLATE "C" NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    kid        TEXT NOT NULL,
    thumbprint TEXT NOT NULL,
    data       TEXT NOT NULL,            -- JSON of keyward_types::Credential (public key only)
    created_at BIGINT NOT NULL,
    UNIQUE (client_id, thumbprint),
    UNIQUE (client_id, kid)
);

CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    alg           TEXT NOT NULL,
    encrypted_key BYTEA NOT NULL,        -- AES-256-GCM(kek, PKCS#8)
    created_at    BIGINT NOT NULL,
    retire_at     BIGINT
);

CREATE TABLE audit_events (
    id      BIGSERIAL PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail  TEXT NOT NULL                -- JSON; never a secret
);

-- One row per accepted client assertion, until exp + skew. The primary key is the check: the
-- insert of a second use of one (client_id, jti) conflicts with the first, on every node.
CREATE TABLE replay (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX replay_by_expiry ON replay(expires_at);
