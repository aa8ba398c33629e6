-- Allowed origins are compared with the browser's `Origin` header as stored, so they are
-- kept canonical (`https://shop.example.com`: lower case, punycode, no default port, no
-- trailing slash). Before this migration the origin check let through exactly one kind
-- of non-canonical origin, trailing slashes (`https://shop.example.com/`), which never
-- matched: strip them, keep each origin once, in its first position.
UPDATE sites
SET allowed_origins = (
    SELECT coalesce(jsonb_agg(canonical.origin ORDER BY canonical.position), '[]'::jsonb)
    FROM (
        SELECT rtrim(o.value, '/') AS origin, min(o.position) AS position
        FROM jsonb_array_elements_text(sites.allowed_origins) WITH ORDINALITY AS o(value, position)
        GROUP BY rtrim(o.value, '/')
    ) AS canonical
)
WHERE EXISTS (
    SELECT 1 FROM jsonb_array_elements_text(sites.allowed_origins) AS o(value)
    WHERE o.value LIKE '%/'
);
