-- A user's prompt history (the widget's `next`, the profile page) and a filtered results
-- page's counts over listed users read a user's events by (site, user): with every
-- column they read included in the index, PostgreSQL can answer them by index-only
-- scans. It replaces the index on (site, user, id), so a new event still updates the
-- same number of indexes. The SQLite migration of the same name has the figures.
DROP INDEX prompt_events_by_user;
CREATE INDEX prompt_events_by_user
    ON prompt_events (site_id, user_id, id) INCLUDE (question_set, key, kind, login_count, version);
