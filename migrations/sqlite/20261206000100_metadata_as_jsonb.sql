-- Metadata in SQLite's binary JSON (JSONB, SQLite 3.45 and later; decision 0008).
-- Segment conditions, results filters and completeness read a few keys of every user's
-- metadata; from text, SQLite parses the whole document for each key it reads, from
-- JSONB it walks to the key. Every JSON function takes either form, and the store reads
-- the columns back as text with json(); this rewrites the rows stored as text once.
UPDATE users
SET user_metadata = jsonb(user_metadata),
    app_metadata = jsonb(app_metadata);
