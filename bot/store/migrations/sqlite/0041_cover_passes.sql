-- handover2-r (#22 items 1-6): the pass after a stand-in's cover ended (cancelled, or past its last day) is durable.
-- A cover with a stand-in that ended and has no `cover_passed_at` still owes its pass (bot/absence/service.py): the
-- cancel's own commit is the marker, the pass sets it in its own unit, and the start and the timekeeper run what is
-- owed. Covers that ended before this schema are taken as passed (no pass ran for them before).
ALTER TABLE absences ADD COLUMN cover_passed_at TEXT;
UPDATE absences SET cover_passed_at = COALESCE(cancelled_at, created_at)
    WHERE stand_in IS NOT NULL AND (cancelled_at IS NOT NULL OR end_date < date('now'));
CREATE INDEX absences_cover_due ON absences (id) WHERE stand_in IS NOT NULL AND cover_passed_at IS NULL;
