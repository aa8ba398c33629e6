-- When each version of a question set was live, so that a results page can count the
-- users each version could have asked (its "eligible" users: those who logged in while
-- it was live). A publish or a rollback closes the set's open period and opens one for
-- the version it makes live; a period with no end is the live one.
CREATE TABLE question_set_live_periods (
    site_id     TEXT NOT NULL,
    slug        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    live_from   TIMESTAMPTZ NOT NULL,
    live_until  TIMESTAMPTZ,
    PRIMARY KEY (site_id, slug, live_from, version)
);

-- The periods before this table existed: each published version was live from its
-- publication until the next one's.
INSERT INTO question_set_live_periods (site_id, slug, version, live_from, live_until)
SELECT site_id, slug, version, published_at,
       LEAD(published_at) OVER (PARTITION BY site_id, slug ORDER BY published_at, version)
FROM question_set_versions
WHERE status = 'published' AND published_at IS NOT NULL;

-- A rollback made before this table existed left no time: the set's last change
-- (at or after its last publication) stands in for it.
UPDATE question_set_live_periods
SET live_until = (SELECT s.updated_at FROM question_sets s
                  WHERE s.site_id = question_set_live_periods.site_id
                    AND s.slug = question_set_live_periods.slug)
WHERE live_until IS NULL
  AND version <> (SELECT COALESCE(s.live_version, -1) FROM question_sets s
                  WHERE s.site_id = question_set_live_periods.site_id
                    AND s.slug = question_set_live_periods.slug);

INSERT INTO question_set_live_periods (site_id, slug, version, live_from, live_until)
SELECT s.site_id, s.slug, s.live_version, s.updated_at, NULL
FROM question_sets s
WHERE s.live_version IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM question_set_live_periods p
                  WHERE p.site_id = s.site_id AND p.slug = s.slug AND p.live_until IS NULL);
