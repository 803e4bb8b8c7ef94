-- client_secret_jwt needs the clear secret: kept AES-256-GCM encrypted beside its hash.
ALTER TABLE client_secrets ADD COLUMN encrypted BLOB;

CREATE TABLE credentials (
    id         TEXT PRIMARY KEY NOT NULL,
    client_id  TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    kid        TEXT NOT NULL,
    thumbprint TEXT NOT NULL,
    data       TEXT NOT NULL,            -- JSON of keyward_types::Credential (public key only)
    created_at INTEGER NOT NULL,
    UNIQUE (client_id, thumbprint),
    UNIQUE (client_id, kid)
) STRICT;

-- One row per accepted client assertion, until exp + skew. WITHOUT ROWID: the primary key is
-- the table, so the insert that checks for a replay touches one B-tree.
CREATE TABLE replay (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
) STRICT, WITHOUT ROWID;
CREATE INDEX replay_by_expiry ON replay(expires_at);
