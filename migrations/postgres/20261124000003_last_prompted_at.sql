-- When the widget last showed the user a prompt: the server enforces the site's
-- `min_hours_between_prompts` with it (NULL: never shown).
ALTER TABLE users ADD COLUMN last_prompted_at TIMESTAMPTZ;
