-- A durable job queue (enrichment, webhook fan-out and delivery) and webhooks.

-- Jobs are claimed by setting status = 'running' with a lease (locked_until); a job whose
-- worker died is claimable again once its lease has expired.
CREATE TABLE jobs (
    site_id          TEXT NOT NULL,
    id               TEXT NOT NULL,
    kind             TEXT NOT NULL,
    payload          JSONB NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'dead')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    max_attempts     BIGINT NOT NULL,
    run_at           TIMESTAMPTZ NOT NULL,
    locked_until     TIMESTAMPTZ,
    last_error       TEXT,
    dedupe_key       TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (site_id, id)
);
CREATE INDEX jobs_due ON jobs (status, run_at);
-- At most one queued job per dedupe key (e.g. one pending enrichment per user and provider).
CREATE UNIQUE INDEX jobs_dedupe ON jobs (site_id, dedupe_key) WHERE status = 'queued';

CREATE TABLE webhook_subscriptions (
    site_id          TEXT NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    id               TEXT NOT NULL,
    url              TEXT NOT NULL,
    secret           TEXT NOT NULL,          -- whsec_…: must be readable to sign
    events           JSONB NOT NULL,          -- JSON array of event types
    description      TEXT,
    enabled          BOOLEAN NOT NULL,
    failure_streak   BIGINT NOT NULL DEFAULT 0,
    disabled_reason  TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (site_id, id)
);

-- One row per (event, subscription): the delivery log.
CREATE TABLE webhook_deliveries (
    site_id          TEXT NOT NULL,
    id               TEXT NOT NULL,          -- msg_…: the webhook-id header, stable across retries
    subscription_id  TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    payload          JSONB NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead', 'cancelled')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    last_status      BIGINT,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    delivered_at     TIMESTAMPTZ,
    PRIMARY KEY (site_id, id)
);
CREATE INDEX webhook_deliveries_by_subscription ON webhook_deliveries (site_id, subscription_id, created_at);
