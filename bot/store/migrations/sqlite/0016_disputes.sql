-- Issue #10 item 7: disagreement is not silence. The receiving unit says the case is not theirs (a tvist):
-- the open dispute on the case (its reason is free text, erased on withdrawal), and
-- every dispute of a case with what was agreed when it was settled (free text too).
ALTER TABLE cases ADD COLUMN disputed_at TEXT;
ALTER TABLE cases ADD COLUMN disputed_by TEXT;
ALTER TABLE cases ADD COLUMN dispute_reason TEXT;
CREATE TABLE disputes (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    case_ref TEXT NOT NULL,
    unit_id TEXT NOT NULL,                -- the unit that disputes (the receiving unit)
    other_unit TEXT NOT NULL,             -- the requester's unit
    opened_by TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    reason TEXT,                          -- free text (guarded); NULL once erased
    settled_by TEXT,
    settled_at TEXT,
    agreement TEXT                        -- free text: what was agreed; NULL once erased
);
CREATE INDEX disputes_case ON disputes (case_id);
