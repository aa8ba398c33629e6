-- Enrichment quotas, cache, status and backfills (issue 14).

-- Calls per provider and UTC day over the whole deployment: a provider's account (and
-- its daily_budget) belongs to the deployment, not to one site. Deployment-wide like the
-- console's tables; it holds counts only.
CREATE TABLE enrichment_budget (
    provider         TEXT NOT NULL,
    day              TEXT NOT NULL,          -- YYYY-MM-DD, UTC
    calls            INTEGER NOT NULL,
    PRIMARY KEY (provider, day)
);

-- What each provider did for a site per UTC day, and its last success and error.
CREATE TABLE enrichment_usage (
    site_id          TEXT NOT NULL,
    provider         TEXT NOT NULL,
    day              TEXT NOT NULL,          -- YYYY-MM-DD, UTC
    calls            INTEGER NOT NULL,
    cache_hits       INTEGER NOT NULL,
    failures         INTEGER NOT NULL,
    deferrals        INTEGER NOT NULL,
    last_success_at  TEXT,
    last_error_at    TEXT,
    last_error       TEXT,
    PRIMARY KEY (site_id, provider, day)
);

-- A provider's results by the hash of its inputs (and configuration), per site. user_id
-- is the user whose inputs made the entry: erasing them deletes it.
CREATE TABLE enrichment_cache (
    site_id          TEXT NOT NULL,
    provider         TEXT NOT NULL,
    cache_key        TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    result           TEXT NOT NULL,          -- JSON object of fields; {} = nothing known
    fetched_at       TEXT NOT NULL,
    PRIMARY KEY (site_id, provider, cache_key)
);
CREATE INDEX enrichment_cache_by_user ON enrichment_cache (site_id, user_id);

-- `trickle enrich` runs: where a backfill of a provider (and a `where` filter, by its
-- hash) has got to. resume_after is the last user id examined (byte order), written in the
-- transaction of the jobs queued up to it.
CREATE TABLE enrichment_backfills (
    site_id          TEXT NOT NULL,
    provider         TEXT NOT NULL,
    filter_hash      TEXT NOT NULL,
    resume_after     TEXT,
    scanned          INTEGER NOT NULL,
    queued           INTEGER NOT NULL,
    started_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    finished_at      TEXT,
    PRIMARY KEY (site_id, provider, filter_hash)
);
