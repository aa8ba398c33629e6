-- A claim ranks only each site's first due jobs, read in order from this index, instead
-- of ranking every due job: with 100,000 jobs queued, a claim took 0.12 s on SQLite
-- (inside the single writer's lock, every half second) and takes under a millisecond.
CREATE INDEX jobs_due_by_site ON jobs (site_id, status, run_at, id);
