-- A secret's own lifetime (RFC 7591 client_secret_expires_at), apart from expires_at, which
-- marks a rotated-out secret's grace period (NULL there still means "the current secret").
ALTER TABLE client_secrets ADD COLUMN not_after INTEGER;
CREATE INDEX client_secrets_by_not_after ON client_secrets(not_after) WHERE not_after IS NOT NULL;
