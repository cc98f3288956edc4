-- Time (issue #4 part A): awaiting answers and the ladder, one-shot reminders, distribution runs,
-- brist-i-samverkan drafts from the top of the ladder, and the consent-expiry mark on a case.
CREATE TABLE awaiting (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    case_ref TEXT NOT NULL,
    kind TEXT NOT NULL,                   -- distribution | acknowledgement | booking | outcome | follow_up
    subject TEXT NOT NULL DEFAULT '',     -- follow-up id, meeting time: what exactly is awaited
    arm INTEGER NOT NULL,                 -- 1, 2, ...: re-arming opens a new row explicitly
    unit_id TEXT NOT NULL,                -- whose office hours and ladder
    answerers TEXT NOT NULL,              -- JSON list of first answerers (person ids)
    since TEXT NOT NULL,
    due_at TEXT,                          -- when the current rung's time runs out; NULL at the top
    ladder TEXT NOT NULL,                 -- JSON: the ladder frozen when the climb started
    rung INTEGER NOT NULL DEFAULT 0,      -- 0 = first answerers
    alerted TEXT NOT NULL DEFAULT '[]',   -- JSON list of person ids alerted by escalations
    skipped TEXT NOT NULL DEFAULT '[]',   -- JSON list of skipped rung titles (vacant/absent)
    escalated_at TEXT,
    resolved_at TEXT,
    resolved_by TEXT,
    resolution TEXT,                      -- the action that answered, or a code (closed, paused, ...)
    created_at TEXT NOT NULL,
    UNIQUE (case_id, kind, subject, arm)
);
CREATE INDEX awaiting_due ON awaiting (due_at, id) WHERE resolved_at IS NULL;
CREATE UNIQUE INDEX awaiting_one_open ON awaiting (case_id, kind, subject) WHERE resolved_at IS NULL;
CREATE INDEX awaiting_case ON awaiting (case_id);

CREATE TABLE timers (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    case_ref TEXT NOT NULL,
    kind TEXT NOT NULL,                   -- prepare | meeting_day | outcome | follow_up_before | ...
    key TEXT NOT NULL,                    -- meeting time, follow-up id, consent date
    due_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    done_at TEXT,
    outcome TEXT,                         -- fired | cancelled | stale
    UNIQUE (case_id, kind, key)
);
CREATE INDEX timers_due ON timers (due_at, id) WHERE done_at IS NULL;
CREATE INDEX timers_case ON timers (case_id);

CREATE TABLE distribution_runs (
    id INTEGER PRIMARY KEY,
    unit_id TEXT NOT NULL,
    slot_at TEXT NOT NULL,
    ran_at TEXT NOT NULL,
    case_count INTEGER NOT NULL,
    recipients TEXT NOT NULL,             -- JSON list of person ids
    UNIQUE (unit_id, slot_at)
);

CREATE TABLE brist_drafts (
    id INTEGER PRIMARY KEY,
    awaiting_id INTEGER NOT NULL UNIQUE REFERENCES awaiting (id) ON DELETE CASCADE,
    case_id INTEGER REFERENCES cases (id) ON DELETE SET NULL,
    case_ref TEXT NOT NULL,
    coordinators TEXT NOT NULL,           -- JSON list of person ids
    units TEXT NOT NULL,                  -- JSON list of unit ids
    principals TEXT NOT NULL,             -- JSON list of principal ids
    what_happened TEXT NOT NULL,          -- generated text, never free text from the case
    causes TEXT NOT NULL,                 -- JSON list of cause categories
    status TEXT NOT NULL DEFAULT 'draft',
    created_at TEXT NOT NULL
);

ALTER TABLE cases ADD COLUMN consent_expired_at TEXT;
