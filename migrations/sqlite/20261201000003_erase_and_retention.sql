-- Erasure and retention. Jobs and webhook deliveries name the user they are about, so
-- erasing a user deletes them by an index instead of searching JSON payloads; the
-- retention purge finds old history by time.

ALTER TABLE jobs ADD COLUMN user_id TEXT;
UPDATE jobs SET user_id = COALESCE(json_extract(payload, '$.user_id'), json_extract(payload, '$.data.user_id'));
CREATE INDEX jobs_by_user ON jobs (site_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX jobs_finished ON jobs (updated_at) WHERE status IN ('done', 'dead');

ALTER TABLE webhook_deliveries ADD COLUMN user_id TEXT;
UPDATE webhook_deliveries SET user_id = json_extract(payload, '$.data.user_id');
CREATE INDEX webhook_deliveries_by_user ON webhook_deliveries (site_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (updated_at) WHERE status <> 'pending';

CREATE INDEX login_events_by_time ON login_events (occurred_at);
