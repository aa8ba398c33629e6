-- Each prompt event keeps the time of the login it belongs to (the user's last login
-- when it was written). A user prompted within a results page's closed window without a
-- login in it has every such event's login outside the window, so only those events
-- need the probe for a login in the window. Events written before this column have
-- none, and are probed as before: filling it in would read every prompt event's login
-- at migration time (45 s for 1,000,000 events).
ALTER TABLE prompt_events ADD COLUMN login_at TIMESTAMPTZ;
