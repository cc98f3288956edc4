"""Schema migrations 8–14 (SQLite), applied in order at start-up by `bot.store.db` through
`bot.store.migrations.MIGRATIONS`. Never edit one that has shipped."""

from __future__ import annotations

SCHEMA_2: list[tuple[int, str]] = [
    (
        8,
        """
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
        """,
    ),
    (
        9,
        """
        -- Microsoft Graph (issue #9). The Outlook event of a case's GFI meeting: `transaction_id` is stored
        -- before the create is sent, so that a retried create gives Graph the same transactionId and never
        -- makes a second event; `seq` counts the events of a case (a new one after a cancellation).
        CREATE TABLE calendar_events (
            case_id INTEGER PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
            case_ref TEXT NOT NULL,
            seq INTEGER NOT NULL,
            transaction_id TEXT NOT NULL,
            event_id TEXT,                        -- Graph's id, once created
            state TEXT NOT NULL,                  -- creating | active | cancelled
            fingerprint TEXT,                     -- hash of what was last sent (skips repeated updates)
            updated_at TEXT NOT NULL
        );

        -- Signed action links: each token id works once.
        CREATE TABLE link_uses (
            token_id TEXT PRIMARY KEY,
            person_id TEXT NOT NULL,
            case_ref TEXT,
            action TEXT NOT NULL,
            used_at TEXT NOT NULL
        );
        """,
    ),
    (
        10,
        """
        -- Microsoft Teams (issue #11): who a Teams user is, where the bot can write to them, and inbound activities
        -- already handled (redeliveries and double submits act once).
        CREATE TABLE teams_identities (
            aad_object_id TEXT PRIMARY KEY,       -- the Entra object id of the Teams user
            person_id TEXT NOT NULL,
            upn TEXT,
            matched_by TEXT NOT NULL,             -- m365_upn | email
            matched_at TEXT NOT NULL
        );
        CREATE INDEX teams_identities_person ON teams_identities (person_id);
        CREATE TABLE teams_references (
            person_id TEXT PRIMARY KEY,           -- one personal chat per person
            aad_object_id TEXT,
            user_id TEXT NOT NULL,                -- the Teams user id (29:...) in the conversation
            conversation_id TEXT NOT NULL,
            service_url TEXT NOT NULL,
            tenant_id TEXT,
            bot_id TEXT,
            source TEXT NOT NULL,                 -- message | install | graph
            updated_at TEXT NOT NULL
        );
        CREATE TABLE teams_inbound (
            key TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            at TEXT NOT NULL
        );
        """,
    ),
    (
        11,
        """
        -- Messages described once (issue #8): the outbox stores what the message is (bot.messages.model.Message
        -- as JSON: kind, lines with free-text marks, offered actions), rendered per channel at delivery.
        -- `text` keeps a plain rendering without free text (logs, `due`); `blocks` is no longer written.
        ALTER TABLE outbox ADD COLUMN message TEXT;
        """,
    ),
    (
        12,
        """
        -- Vilande (issue #10): a case waiting for the individual, until a date, with a free-text reason (erased on
        -- withdrawal like other free text).
        ALTER TABLE cases ADD COLUMN waiting_until TEXT;
        ALTER TABLE cases ADD COLUMN waiting_reason TEXT;
        """,
    ),
    (
        13,
        """
        -- Issue #10: whether children are affected (ja | nej | vet-ej); NULL for cases filed before it was asked.
        ALTER TABLE cases ADD COLUMN children TEXT;
        """,
    ),
    (
        14,
        """
        -- Absences (issue #10, item 12): a person away from one local date to another (inclusive), with an optional
        -- stand-in, registered in the bot instead of the directory file. Keyed by the directory's person id; a
        -- cancelled absence keeps its row (cancelled_at) for the record.
        CREATE TABLE absences (
            id INTEGER PRIMARY KEY,
            person_id TEXT NOT NULL,
            start_date TEXT NOT NULL,             -- ISO date, local, inclusive
            end_date TEXT NOT NULL,               -- ISO date, local, inclusive
            stand_in TEXT,                        -- person id
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            cancelled_by TEXT,
            cancelled_at TEXT
        );
        CREATE INDEX absences_person ON absences (person_id, end_date);
        """,
    ),
]
