-- Statistics and retention (issue #13 items 5-6). Anonymous facts that outlive the cases they describe:
-- no free text, no person ids. `case_ref` links a fact to its case while the case exists and is set to
-- NULL when the case is purged (the purge keeps the fact, so statistics over a period do not change).
CREATE TABLE case_facts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_ref TEXT UNIQUE,
    target_unit TEXT NOT NULL,
    target_principal TEXT,
    requester_unit TEXT NOT NULL,
    requester_principal TEXT,
    case_type TEXT NOT NULL,
    urgent INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,             -- UTC ISO 8601, as every time below
    distributed_at TEXT,                  -- first distribution
    acknowledged_at TEXT,                 -- first acknowledgement
    meeting_at TEXT,                      -- the meeting that was held (its outcome was recorded)
    no_shows INTEGER NOT NULL DEFAULT 0,
    outcome TEXT,
    evaluation_done INTEGER,
    closed_at TEXT,
    closed_reason TEXT,                   -- a code; the free-text note of "annat" is never copied
    purged_at TEXT
);
CREATE INDEX case_facts_period ON case_facts (created_at);

-- One row per rung alerted by the ladder (not per case: no reference at all).
CREATE TABLE escalation_facts (
    id INTEGER PRIMARY KEY,
    unit_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    rung INTEGER NOT NULL,
    rung_title TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX escalation_facts_period ON escalation_facts (at);

-- The daily purge ran for this local day (the job and the sweep's catch-up run it once a day).
CREATE TABLE purge_runs (
    day TEXT PRIMARY KEY,
    ran_at TEXT NOT NULL,
    cases INTEGER NOT NULL
);

-- Backfill from the cases already stored: first distribution and acknowledgement from the audit log.
INSERT INTO case_facts (case_ref, target_unit, requester_unit, case_type, urgent, created_at,
                        distributed_at, acknowledged_at, meeting_at, no_shows, outcome, evaluation_done,
                        closed_at, closed_reason)
SELECT c.ref, c.target_unit, c.requester_unit, c.case_type, c.urgent, c.created_at,
       COALESCE((SELECT MIN(a.at) FROM audit a WHERE a.case_ref = c.ref AND a.action = 'assign'
                 AND a.result = 'ok'), c.assigned_at),
       COALESCE((SELECT MIN(a.at) FROM audit a WHERE a.case_ref = c.ref AND a.action = 'acknowledge'
                 AND a.result = 'ok'), c.acknowledged_at),
       CASE WHEN c.outcome IS NOT NULL THEN c.meeting_at END,
       c.no_shows, c.outcome, c.evaluation_done, c.closed_at, c.closed_reason
FROM cases c;

-- Escalations already under way: every rung reached and not skipped, at the time of the last climb.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
INSERT INTO escalation_facts (unit_id, kind, rung, rung_title, at)
SELECT w.unit_id, w.kind, n.i, json_extract(w.ladder, '$.rungs[' || n.i || '].title'), w.escalated_at
FROM awaiting w JOIN n ON n.i <= w.rung
WHERE w.escalated_at IS NOT NULL
  AND json_extract(w.ladder, '$.rungs[' || n.i || '].title') NOT IN (SELECT value FROM json_each(w.skipped));
