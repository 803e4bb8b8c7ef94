-- People and their sign-in sessions. A session goes with its user (ON DELETE CASCADE).
CREATE TABLE users (
    username      TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,            -- argon2id PHC string, never the password
    name          TEXT,
    email         TEXT,
    roles         TEXT NOT NULL,            -- JSON array of role names
    enabled       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY NOT NULL,   -- hex SHA-256 of the cookie's value, never the value
    username   TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_user ON sessions(username);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
CREATE INDEX sessions_by_last_seen ON sessions(last_seen);
