-- People and their sign-in sessions. A session goes with its user (ON DELETE CASCADE).
-- username sorts bytewise (COLLATE "C") so keyset pages come in the same order as on SQLite.
CREATE TABLE users (
    username      TEXT COLLATE "C" PRIMARY KEY,
    password_hash TEXT NOT NULL,            -- argon2id PHC string, never the password
    name          TEXT,
    email         TEXT,
    roles         TEXT NOT NULL,            -- JSON array of role names
    enabled       BOOLEAN NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,            -- hex SHA-256 of the cookie's value, never the value
    username   TEXT COLLATE "C" NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(username);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
CREATE INDEX sessions_by_last_seen ON sessions(last_seen);
