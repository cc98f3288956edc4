"""Schema migrations 15 and later (SQLite), applied in order at start-up by `bot.store.db` through
`bot.store.migrations.MIGRATIONS`. Never edit one that has shipped."""

from __future__ import annotations

SCHEMA_3: list[tuple[int, str]] = [
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
    (
        21,
        """
        -- Issue #18 item 2: a dispute is settled when both sides agree. One side proposes (proposal: free text,
        -- guarded, erased with the case's other free text), the other side confirms; then settled_by is who
        -- confirmed and agreement the text agreed. proposed_side: the unit whose side proposed.
        ALTER TABLE disputes ADD COLUMN proposal TEXT;
        ALTER TABLE disputes ADD COLUMN proposed_by TEXT;
        ALTER TABLE disputes ADD COLUMN proposed_at TEXT;
        ALTER TABLE disputes ADD COLUMN proposed_side TEXT;
        UPDATE disputes SET proposed_by = settled_by, proposed_at = settled_at WHERE settled_at IS NOT NULL;
        """,
    ),
]
