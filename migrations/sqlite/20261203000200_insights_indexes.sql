-- The site overview counts a site's logins and prompt events per day of the last 30
-- days: both read a range of one site's rows in time order from an index alone.
CREATE INDEX login_events_by_site_time ON login_events (site_id, occurred_at, signed_up);
CREATE INDEX prompt_events_by_site_time ON prompt_events (site_id, created_at, kind);
