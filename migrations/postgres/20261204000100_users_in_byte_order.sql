-- User lists, segment pages and CSV exports are ordered by user id byte by byte
-- (`user_id COLLATE "C"`, the order SQLite's primary key already has), which the
-- primary key in the database's collation cannot give: without this index a filtered
-- page sorts every matching user (0.97 s for 1,000 of 50,106 at a million users; with
-- it, 32 ms). SQLite needs no counterpart.
CREATE INDEX users_in_byte_order ON users (site_id, user_id COLLATE "C");
