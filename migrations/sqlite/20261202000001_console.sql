-- The console: admins, the sites a member may manage, server-side sessions and the
-- audit log. These tables are deployment-wide (admins span sites), so their keys do
-- not start with site_id; every console query is checked against the admin's role.

CREATE TABLE admins (
    admin_id         TEXT PRIMARY KEY,
    email            TEXT NOT NULL UNIQUE,   -- lower-cased
    password_hash    TEXT NOT NULL,          -- argon2id, PHC string
    role             TEXT NOT NULL CHECK (role IN ('owner', 'member')),
    created_at       TEXT NOT NULL
);

-- Sites a member may manage (owners manage every site).
CREATE TABLE admin_site_grants (
    admin_id         TEXT NOT NULL REFERENCES admins (admin_id) ON DELETE CASCADE,
    site_id          TEXT NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (admin_id, site_id)
);

-- A session is found by the SHA-256 of its cookie's token: a copy of this table holds
-- no usable session.
CREATE TABLE admin_sessions (
    token_hash       TEXT PRIMARY KEY,
    admin_id         TEXT NOT NULL REFERENCES admins (admin_id) ON DELETE CASCADE,
    created_at       TEXT NOT NULL,
    last_seen_at     TEXT NOT NULL,
    expires_at       TEXT NOT NULL
);
CREATE INDEX admin_sessions_by_admin ON admin_sessions (admin_id);
CREATE INDEX admin_sessions_by_expiry ON admin_sessions (expires_at);

-- Who changed what, when. The actor's e-mail is copied so that entries outlive admins.
CREATE TABLE audit_log (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    at               TEXT NOT NULL,
    admin_id         TEXT,                   -- NULL: the command line
    actor            TEXT NOT NULL,
    action           TEXT NOT NULL,
    site_id          TEXT,
    subject          TEXT NOT NULL,
    detail           TEXT NOT NULL
);
CREATE INDEX audit_log_by_site ON audit_log (site_id, id);
