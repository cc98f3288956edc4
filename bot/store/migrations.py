"""Versioned schema migrations, applied in order at start-up.

Append a new (version, sql) pair to MIGRATIONS; never edit one that has shipped.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str]] = [
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
    (
        15,
        """
        -- Parallel delivery (issue #14): a message waits for the earlier pending messages to its recipient
        -- (`bot.store.outbox.heads`), looked up among the pending rows only.
        CREATE INDEX outbox_recipient_pending ON outbox (recipient_id, id) WHERE status = 'pending';
        -- Lean storage (issue #14): the rows whose text is still kept, by age, for the retention sweep
        -- (`bot.store.outbox.drop_texts`); a swept row leaves the index.
        CREATE INDEX outbox_kept_text ON outbox (created_at)
            WHERE text != '' OR blocks IS NOT NULL OR message IS NOT NULL;
        """,
    ),
    (
        16,
        """
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
        """,
    ),
    (
        17,
        """
        -- Issue #14: bounded pages at scale. The queue in its order (urgent first, then oldest first), a person's
        -- cases newest first and the "annan" cases of a distributor are read in index order, so that the first
        -- page of a long list costs no more than a short list; the count of a person's requests is read from
        -- an index alone.
        CREATE INDEX cases_queue_order ON cases (target_unit, state, urgent DESC, created_at, id);
        CREATE INDEX cases_requester_state ON cases (requester_id, state);
        CREATE INDEX cases_other_assignee ON cases (assigned_by) WHERE other_assignee IS NOT NULL;
        CREATE INDEX case_assignees_person_case ON case_assignees (person_id, case_id);
        -- The open escalations (on every Home tab that shows them) without reading every open awaited item.
        CREATE INDEX awaiting_escalated ON awaiting (since, id) WHERE resolved_at IS NULL AND rung > 0;
        """,
    ),
    (
        18,
        """
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
        """,
    ),
    (
        19,
        """
        -- Issue #10 item 2: who attends the GFI meeting. Staff per unit (person_id NULL while the unit's
        -- distributor is asked to name someone), or an external participant by role (unit_id NULL) with an
        -- optional first name only (free text through the identity-number guard; erased on withdrawal).
        -- cases.meeting_units stays the list of units; these rows say who comes for each.
        CREATE TABLE meeting_participants (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            unit_id TEXT,
            person_id TEXT,
            role TEXT,
            first_name TEXT
        );
        CREATE INDEX meeting_participants_case ON meeting_participants (case_id, position);
        CREATE INDEX meeting_participants_person ON meeting_participants (person_id);
        """,
    ),
    (
        20,
        """
        -- Issue #23 item 2: the audit log and the read log are hash-chained (bot/store/chain.py computes `hash`
        -- in the writing transaction: SHA-256 over the previous row's hash and the row). REPLACE over an
        -- existing id deleted the old row without firing the delete trigger: a BEFORE INSERT guard refuses an
        -- existing id, and a row without its hash. UPDATE may only give a row written before this migration its
        -- hash, once (bot/logchain.py seals them at start); nothing else about a row may change.
        ALTER TABLE audit ADD COLUMN hash TEXT;
        ALTER TABLE case_reads ADD COLUMN hash TEXT;
        DROP TRIGGER audit_no_update;
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
            WHEN OLD.hash IS NOT NULL OR NEW.hash IS NULL
              OR NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at OR NEW.actor_id IS NOT OLD.actor_id
              OR NEW.action IS NOT OLD.action OR NEW.result IS NOT OLD.result OR NEW.case_id IS NOT OLD.case_id
              OR NEW.case_ref IS NOT OLD.case_ref OR NEW.detail IS NOT OLD.detail
            BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
        CREATE TRIGGER audit_no_replace BEFORE INSERT ON audit
            WHEN NEW.hash IS NULL OR EXISTS (SELECT 1 FROM audit WHERE id = NEW.id)
            BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
        DROP TRIGGER case_reads_no_update;
        CREATE TRIGGER case_reads_no_update BEFORE UPDATE ON case_reads
            WHEN OLD.hash IS NOT NULL OR NEW.hash IS NULL
              OR NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at OR NEW.person_id IS NOT OLD.person_id
              OR NEW.case_ref IS NOT OLD.case_ref OR NEW.view IS NOT OLD.view OR NEW.channel IS NOT OLD.channel
            BEGIN SELECT RAISE(ABORT, 'read log is append-only'); END;
        CREATE TRIGGER case_reads_no_replace BEFORE INSERT ON case_reads
            WHEN NEW.hash IS NULL OR EXISTS (SELECT 1 FROM case_reads WHERE id = NEW.id)
            BEGIN SELECT RAISE(ABORT, 'read log is append-only'); END;
        """,
    ),
]
