-- The admin console searches clients by id or name. The name lives in the metadata JSON; a
-- generated column names it for the search (computed on read: SQLite cannot add a stored one
-- to an existing table, and a substring search scans the rows either way).
ALTER TABLE clients ADD COLUMN client_name TEXT GENERATED ALWAYS AS (json_extract(metadata, '$.client_name')) VIRTUAL;
