-- Issue #21 item 3: a sweep writes fewer index entries. Every outbox row queued went into seven indexes, and
-- every awaited item a climb moves into seven; an entry no read needs is dropped here.
-- Redundant: each is the first column of a unique index on the same table, which serves the same lookups
-- (and the foreign key's ON DELETE CASCADE from cases).
DROP INDEX awaiting_case;     -- awaiting (case_id, kind, subject, arm) is unique
DROP INDEX timers_case;       -- timers (case_id, kind, key) is unique
-- Unused since awaiting_open_escalations (0026) serves the open escalations, disputes included.
DROP INDEX awaiting_escalated;
-- Only 'delivery_failed' rows are looked up by (template, case_ref) (bot/store/deliveries.py).
DROP INDEX outbox_template_ref;
CREATE INDEX outbox_delivery_failed ON outbox (case_ref) WHERE template = 'delivery_failed';
-- The purge blanks the text of final rows only (bot/store/outbox.drop_texts): a row is queued pending and enters
-- this index when it becomes final (sent, failed, cancelled).
DROP INDEX outbox_kept_text;
CREATE INDEX outbox_kept_text ON outbox (created_at)
    WHERE status != 'pending' AND (text != '' OR blocks IS NOT NULL OR message IS NOT NULL);
