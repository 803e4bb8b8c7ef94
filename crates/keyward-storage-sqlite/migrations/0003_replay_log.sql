-- The replay store becomes an append-only log (issue 8). Rows are appended in `seq` order, so a
-- batch of inserts dirties the last page or two of each B-tree instead of one random leaf per
-- assertion: under load the old (client_id, jti) primary key wrote a 4 KiB WAL page per insert,
-- and that, not the crypto, bounded the assertion methods. The check "was this (client_id, jti)
-- seen before?" is answered by an in-memory index that the replay writer rebuilds from this
-- table (crates/keyward-storage-sqlite/src/replay).
--
-- AUTOINCREMENT: `seq` never goes back, even after every row was purged, so a writer can tell
-- from sqlite_sequence whether another connection appended since its last batch.
CREATE TABLE replay_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX replay_log_by_expiry ON replay_log(expires_at);

-- Entries recorded before the upgrade keep blocking their replays.
INSERT INTO replay_log (client_id, jti, expires_at) SELECT client_id, jti, expires_at FROM replay;
DROP TABLE replay;
