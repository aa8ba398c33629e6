-- A results page's distinct users per kind over every event of a set (the headline's
-- shown / answered / skipped / dismissed) counted from an index that delivers each
-- kind's user ids in byte order, as the statement compares them (`COLLATE "C"`):
-- PostgreSQL then reads the index only, where it sorted every event twice (a sort by
-- kind spilling to disk, then the distinct count's own). 1,000,000 events: 0.64 s ->
-- 0.27 s for the statement, 0.75 s -> 0.55 s for the unfiltered page. SQLite has had
-- the index of the same name since 20261205000100_results_in_index_order.
CREATE INDEX prompt_events_by_set_kind_user
    ON prompt_events (site_id, question_set, kind, user_id COLLATE "C");
