-- Saved segments: a condition of the `when` language under a name, per site.
CREATE TABLE segments (
    site_id          TEXT NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL,
    condition        TEXT NOT NULL,          -- JSON, as GET /v1/users?where= takes it
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (site_id, name)
);
