-- Times are Unix nanoseconds (exact round trip of OffsetDateTime).
CREATE TABLE clients (
    client_id  TEXT PRIMARY KEY NOT NULL,
    metadata   TEXT NOT NULL,            -- JSON of keyward_types::Client
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE client_secrets (
    id         TEXT PRIMARY KEY NOT NULL,
    client_id  TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    hash       BLOB NOT NULL,            -- HMAC-SHA256(pepper, secret), never the secret
    created_at INTEGER NOT NULL,
    expires_at INTEGER                   -- NULL: current secret
) STRICT;
CREATE INDEX client_secrets_by_client ON client_secrets(client_id);

CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY NOT NULL,
    alg           TEXT NOT NULL,
    encrypted_key BLOB NOT NULL,         -- AES-256-GCM(kek, PKCS#8)
    created_at    INTEGER NOT NULL,
    retire_at     INTEGER
) STRICT;

CREATE TABLE audit_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail  TEXT NOT NULL
) STRICT;
