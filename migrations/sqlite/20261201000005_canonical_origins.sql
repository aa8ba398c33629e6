-- Allowed origins are compared with the browser's `Origin` header as stored, so they are
-- kept canonical (`https://shop.example.com`: lower case, punycode, no default port, no
-- trailing slash). Before this migration the origin check let through exactly one kind
-- of non-canonical origin, trailing slashes (`https://shop.example.com/`), which never
-- matched: strip them, keep each origin once, in its first position.
UPDATE sites
SET allowed_origins = (
    SELECT json_group_array(origin)
    FROM (
        SELECT rtrim(o.value, '/') AS origin, min(o.key) AS position
        FROM json_each(sites.allowed_origins) AS o
        GROUP BY rtrim(o.value, '/')
        ORDER BY position
    )
)
WHERE EXISTS (
    SELECT 1 FROM json_each(sites.allowed_origins) AS o WHERE o.value LIKE '%/'
);
