CREATE TABLE ref_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    case_type TEXT NOT NULL,
    target_unit TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    requester_unit TEXT NOT NULL,
    contact TEXT,
    brief TEXT,
    consent_scope TEXT NOT NULL,          -- JSON list of unit ids
    consent_valid_until TEXT NOT NULL,    -- ISO date
    urgent INTEGER NOT NULL DEFAULT 0,
    other_assignee TEXT,                  -- "annan": free text
    assigned_by TEXT,
    assigned_at TEXT,
    acknowledged_by TEXT,
    acknowledged_at TEXT,
    meeting_at TEXT,
    meeting_place TEXT,
    meeting_units TEXT,                   -- JSON list of unit ids
    no_shows INTEGER NOT NULL DEFAULT 0,
    outcome TEXT,
    evaluation_done INTEGER,
    outcome_at TEXT,
    closed_reason TEXT,
    closed_note TEXT,
    closed_at TEXT,
    state_before_close TEXT,
    erased_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX cases_queue ON cases (target_unit, state, created_at);
CREATE INDEX cases_requester ON cases (requester_id);

CREATE TABLE case_assignees (
    case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (case_id, person_id)
);
CREATE INDEX case_assignees_person ON case_assignees (person_id);

CREATE TABLE follow_ups (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL,
    due_date TEXT NOT NULL,
    what TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    done_at TEXT,
    done_by TEXT
);
CREATE INDEX follow_ups_case ON follow_ups (case_id);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    result TEXT NOT NULL,                 -- ok | refused
    case_id INTEGER,
    case_ref TEXT,
    detail TEXT NOT NULL DEFAULT '{}'     -- JSON, codes and ids only, never free text
);
CREATE INDEX audit_case ON audit (case_ref, id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    case_id INTEGER REFERENCES cases (id) ON DELETE SET NULL,
    case_ref TEXT,
    recipient_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    template TEXT NOT NULL,
    text TEXT NOT NULL,
    blocks TEXT,                          -- JSON Block Kit, optional
    urgent INTEGER NOT NULL DEFAULT 0,
    not_before TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',   -- pending | sent | failed | cancelled
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    sent_at TEXT,
    external_id TEXT,
    dedupe_key TEXT UNIQUE
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_case ON outbox (case_id);

CREATE TABLE inbound_requests (
    key TEXT PRIMARY KEY,                 -- idempotency key of an inbound request
    case_id INTEGER REFERENCES cases (id) ON DELETE CASCADE,
    at TEXT NOT NULL
);
