-- Issue #22 item 5: when the file a published directory came from was last changed (ISO 8601, UTC; NULL when
-- not known). An instance that starts with a file the store has never seen publishes it only when that file was
-- changed after the newest published one's: an older copy left on a machine is not published (bot/directory/shared.py).
ALTER TABLE directory_versions ADD COLUMN file_modified TEXT;
