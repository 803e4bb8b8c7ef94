-- The admin console searches clients by id or name. The name lives in the metadata JSON; a
-- stored generated column keeps it beside the id, so a search reads no JSON.
ALTER TABLE clients ADD COLUMN client_name TEXT GENERATED ALWAYS AS ((metadata::jsonb) ->> 'client_name') STORED;
