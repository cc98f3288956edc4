-- Issue #10 item 6: a follow-up given to someone of the other principal is a proposal until its owner (or
-- their unit's distributor) accepts it. status: proposed | accepted | declined; existing follow-ups
-- are counted at once (accepted).
ALTER TABLE follow_ups ADD COLUMN status TEXT NOT NULL DEFAULT 'accepted';
ALTER TABLE follow_ups ADD COLUMN accepted_by TEXT;
ALTER TABLE follow_ups ADD COLUMN accepted_at TEXT;
UPDATE follow_ups SET accepted_by = created_by, accepted_at = created_at;
-- a proposal its owner's side declines (status declined) never counts; the proposer is told
ALTER TABLE follow_ups ADD COLUMN declined_by TEXT;
ALTER TABLE follow_ups ADD COLUMN declined_at TEXT;
-- the open proposals (for *mina*) without reading every follow-up
CREATE INDEX follow_ups_proposed ON follow_ups (id) WHERE status = 'proposed' AND done_at IS NULL;
