-- Trickle schema, PostgreSQL flavour. Every table's key starts with site_id: no data crosses sites.
-- Timestamps are timestamptz, JSON is jsonb. Distributable by site_id (Citus) as is.

CREATE TABLE sites (
    site_id          TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    publishable_key  TEXT NOT NULL UNIQUE,
    secret_key_hash  TEXT NOT NULL UNIQUE,   -- SHA-256 of the sk_ key; the key itself is never stored
    identity_secret  TEXT NOT NULL,          -- HMAC key for user hashes; must be readable to verify them
    allowed_origins  JSONB NOT NULL DEFAULT '[]',
    widget_settings  JSONB NOT NULL DEFAULT '{}',
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    site_id          TEXT NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL,
    login_count      BIGINT NOT NULL,
    first_login_at   TIMESTAMPTZ NOT NULL,
    last_login_at    TIMESTAMPTZ NOT NULL,
    last_ip          TEXT,
    last_user_agent  TEXT,
    email            TEXT,
    name             TEXT,
    user_metadata    JSONB NOT NULL DEFAULT '{}',
    app_metadata     JSONB NOT NULL DEFAULT '{}',
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (site_id, user_id)
);

-- One row per reported login; event_id makes retries idempotent, and the stored result
-- lets a retry return exactly the first answer.
CREATE TABLE login_events (
    site_id          TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    occurred_at      TIMESTAMPTZ NOT NULL,
    ip               TEXT,
    user_agent       TEXT,
    login_count      BIGINT NOT NULL,
    first_login_at   TIMESTAMPTZ NOT NULL,
    last_login_at    TIMESTAMPTZ NOT NULL,
    signed_up        BOOLEAN NOT NULL,
    PRIMARY KEY (site_id, event_id)
);
CREATE INDEX login_events_by_user ON login_events (site_id, user_id, occurred_at);

CREATE TABLE question_sets (
    site_id          TEXT NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    slug             TEXT NOT NULL,
    latest_version   BIGINT NOT NULL,
    live_version     BIGINT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (site_id, slug)
);

-- Published versions are immutable: only a draft's status ever changes, once.
CREATE TABLE question_set_versions (
    site_id          TEXT NOT NULL,
    slug             TEXT NOT NULL,
    version          BIGINT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    definition       JSONB NOT NULL,          -- canonical JSON of the parsed set
    source           TEXT NOT NULL,          -- the YAML or JSON as submitted
    created_at       TIMESTAMPTZ NOT NULL,
    published_at     TIMESTAMPTZ,
    PRIMARY KEY (site_id, slug, version)
);

-- The latest answer per user_metadata key, with where it came from.
CREATE TABLE answers (
    site_id          TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    key              TEXT NOT NULL,
    question_set     TEXT NOT NULL,
    version          BIGINT NOT NULL,
    value            JSONB NOT NULL,
    login_count      BIGINT NOT NULL,
    answered_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (site_id, user_id, key)
);

-- Everything that happened to a prompt: impression, answered, skipped, dismissed.
CREATE TABLE prompt_events (
    id               BIGINT GENERATED ALWAYS AS IDENTITY,
    site_id          TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    question_set     TEXT NOT NULL,
    version          BIGINT NOT NULL,
    key              TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('impression', 'answered', 'skipped', 'dismissed')),
    login_count      BIGINT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (site_id, id)
);
CREATE INDEX prompt_events_by_user ON prompt_events (site_id, user_id, id);
CREATE INDEX prompt_events_by_question ON prompt_events (site_id, question_set, key, kind);
