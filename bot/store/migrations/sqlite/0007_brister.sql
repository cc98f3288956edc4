-- Brister i samverkan (issue #13): submitted reports with their own reference (BRIST-YYYY-NNNN), and
-- the ladder's drafts (brist_drafts, migration 2) linked to the report they became or dismissed.
CREATE TABLE brist_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE brister (
    id INTEGER PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    year INTEGER NOT NULL,                -- the year of the reference: when the report came in
    state TEXT NOT NULL,                  -- submitted | dialogue_held | closed
    incident_date TEXT NOT NULL,          -- ISO date of what happened
    units TEXT NOT NULL,                  -- JSON list of unit ids
    principals TEXT NOT NULL,             -- JSON list of principal ids (as when filed)
    causes TEXT NOT NULL,                 -- JSON list of cause codes
    what TEXT NOT NULL,                   -- what happened: no identifying data (guarded)
    measures TEXT,                        -- measures taken by the units
    dialogue TEXT,                        -- outcome of the dialogue between the parties
    case_ref TEXT,                        -- the GFI case it concerns, if any (reference only)
    filed_by TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    measures_at TEXT,
    dialogue_at TEXT,
    closed_at TEXT,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX brister_year ON brister (year, id);

ALTER TABLE brist_drafts ADD COLUMN brist_id INTEGER REFERENCES brister (id) ON DELETE SET NULL;
ALTER TABLE brist_drafts ADD COLUMN decided_by TEXT;
ALTER TABLE brist_drafts ADD COLUMN decided_at TEXT;
ALTER TABLE brist_drafts ADD COLUMN dismissed_reason TEXT;
CREATE INDEX brist_drafts_status ON brist_drafts (status, id);
