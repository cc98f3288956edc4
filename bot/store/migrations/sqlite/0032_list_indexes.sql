-- Issue #21 item 4: a report's draft is found by the report (the reports list joins it for each report of its page).
CREATE INDEX brist_drafts_brist ON brist_drafts (brist_id);
