-- A question set's results page reads its current answers by set and key (the primary
-- key starts with the user), so its GROUP BYs do not scan every answer of the site.
CREATE INDEX answers_by_question_set ON answers (site_id, question_set, key, version);
