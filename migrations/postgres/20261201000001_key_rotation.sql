-- Key rotation: each key a rotation replaces is kept, with its expiry, and still
-- accepted until then (live pages embed the publishable key and their backends' user
-- hashes use the identity secret). One previous key per kind; NULL: none.
-- previous_identity_secret is sealed like identity_secret when a secrets_key is set.
ALTER TABLE sites ADD COLUMN previous_publishable_key TEXT;
ALTER TABLE sites ADD COLUMN previous_publishable_key_expires_at TIMESTAMPTZ;
ALTER TABLE sites ADD COLUMN previous_secret_key_hash TEXT;
ALTER TABLE sites ADD COLUMN previous_secret_key_expires_at TIMESTAMPTZ;
ALTER TABLE sites ADD COLUMN previous_identity_secret TEXT;
ALTER TABLE sites ADD COLUMN previous_identity_secret_expires_at TIMESTAMPTZ;
CREATE INDEX sites_by_previous_publishable_key ON sites (previous_publishable_key);
CREATE INDEX sites_by_previous_secret_key_hash ON sites (previous_secret_key_hash);
