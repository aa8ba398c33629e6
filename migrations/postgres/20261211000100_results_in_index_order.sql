-- A results page counts distinct users per kind and per key of a set's prompt events,
-- now as groups of (group, kind, user) read in index order (`store/sql/results`), and
-- its answers per day read the answered events' times. Both indexes the counts read
-- now hold the user in byte order and the event's time, so PostgreSQL reads them alone:
-- at 1,000,000 events the count per key went from an index scan with the heap (0.88 s,
-- in a slower hour; 0.66–0.69 s beside the new form's 0.52–0.54 s over the new index),
-- and answers per day from a parallel scan of the table (0.22 s, three processes) to
-- the index (0.16 s). The per-key index was
-- (site, set, key, kind): it still serves every read it served, as its prefix.
-- SQLite has had the same columns since 20261209000200_prompt_times_in_index.
DROP INDEX prompt_events_by_set_kind_user;
CREATE INDEX prompt_events_by_set_kind_user
    ON prompt_events (site_id, question_set, kind, user_id COLLATE "C") INCLUDE (created_at);
DROP INDEX prompt_events_by_question;
CREATE INDEX prompt_events_by_question
    ON prompt_events (site_id, question_set, key, kind, user_id COLLATE "C") INCLUDE (created_at);
ANALYZE prompt_events;
