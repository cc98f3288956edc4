"""Schema migrations 1–7 (SQLite), applied in order at start-up by `bot.store.db` through
`bot.store.migrations.MIGRATIONS`. Never edit one that has shipped."""

from __future__ import annotations

SCHEMA_1: list[tuple[int, str]] = [
    (
        1,
        """
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
        """,
    ),
    (
        3,
        """
        -- Slack channel (issue #3): who is who in Slack, and which inbound requests were already handled.
        CREATE TABLE slack_identities (
            slack_user_id TEXT PRIMARY KEY,
            person_id TEXT NOT NULL,
            matched_by TEXT NOT NULL,             -- directory | email
            matched_at TEXT NOT NULL
        );
        CREATE INDEX slack_identities_person ON slack_identities (person_id);

        CREATE TABLE slack_inbound (
            key TEXT PRIMARY KEY,                 -- idempotency key of a Slack request (event id, action, view)
            kind TEXT NOT NULL,
            at TEXT NOT NULL
        );
        """,
    ),
    (
        2,
        """
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
        """,
    ),
    (
        4,
        """
        -- Consent withdrawal retracts messages already delivered: an outbox row of kind 'retract' asks
        -- the channel to delete the delivered message named by `target` (the sender's external id).
        ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'message';
        ALTER TABLE outbox ADD COLUMN target TEXT;
        """,
    ),
    (
        5,
        """
        -- Read log (issue #12, loggkontroll): every display of a case's free text to a person. Append-only
        -- like the audit. `view` names the view or message template, `channel` where it was shown.
        CREATE TABLE case_reads (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            person_id TEXT NOT NULL,
            case_ref TEXT NOT NULL,
            view TEXT NOT NULL,
            channel TEXT NOT NULL
        );
        CREATE INDEX case_reads_case ON case_reads (case_ref, id);
        CREATE INDEX case_reads_person ON case_reads (person_id, at);
        CREATE TRIGGER case_reads_no_update BEFORE UPDATE ON case_reads
            BEGIN SELECT RAISE(ABORT, 'read log is append-only'); END;
        CREATE TRIGGER case_reads_no_delete BEFORE DELETE ON case_reads
            BEGIN SELECT RAISE(ABORT, 'read log is append-only'); END;

        -- The case references whose free text a message shows (JSON list): logged as read when it is sent.
        ALTER TABLE outbox ADD COLUMN reads TEXT;
        -- who was told about a failed delivery of a case (they may see its summary)
        CREATE INDEX outbox_template_ref ON outbox (template, case_ref);
        """,
    ),
    (
        6,
        """
        -- Consent that limits sharing (issue #12 item 3): what information the consent covers, how it was
        -- given and by whom it was obtained, and the units it was withdrawn for (the case goes on without them).
        ALTER TABLE cases ADD COLUMN consent_covers TEXT NOT NULL DEFAULT '[]';    -- JSON list of categories
        ALTER TABLE cases ADD COLUMN consent_note TEXT;                            -- free text for "annat"
        ALTER TABLE cases ADD COLUMN consent_form TEXT;                            -- skriftligt | muntligt
        ALTER TABLE cases ADD COLUMN consent_obtained_by TEXT;                     -- person id
        ALTER TABLE cases ADD COLUMN consent_withdrawn TEXT NOT NULL DEFAULT '[]'; -- JSON list of unit ids
        """,
    ),
    (
        7,
        """
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
        """,
    ),
]
