-- One impression, one skip and one dismissal per user, question and login: a widget
-- (or a script) that reports the same one again must not inflate the stats. Answers
-- stay one row each (the latest value wins in `answers`).
DELETE FROM prompt_events
WHERE kind IN ('impression', 'skipped', 'dismissed')
  AND id NOT IN (
    SELECT MIN(id) FROM prompt_events
    WHERE kind IN ('impression', 'skipped', 'dismissed')
    GROUP BY site_id, user_id, question_set, key, login_count, kind
  );
CREATE UNIQUE INDEX prompt_events_once_per_login
    ON prompt_events (site_id, user_id, question_set, key, login_count, kind)
    WHERE kind IN ('impression', 'skipped', 'dismissed');
