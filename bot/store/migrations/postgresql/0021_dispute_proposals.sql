-- Issue #18 item 2 (SQLite's 0021 for PostgreSQL): a dispute is settled when both sides agree. One side
-- proposes (proposal: free text, guarded, erased with the case's other free text), the other side confirms;
-- then settled_by is who confirmed and agreement the text agreed. proposed_side: the unit whose side proposed.
ALTER TABLE disputes ADD COLUMN proposal TEXT;
ALTER TABLE disputes ADD COLUMN proposed_by TEXT;
ALTER TABLE disputes ADD COLUMN proposed_at TEXT;
ALTER TABLE disputes ADD COLUMN proposed_side TEXT;
UPDATE disputes SET proposed_by = settled_by, proposed_at = settled_at WHERE settled_at IS NOT NULL;
