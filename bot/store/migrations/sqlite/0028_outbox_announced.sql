-- Issue #22 item 8: PostgreSQL announces new outbox rows to every instance (a trigger). SQLite's one process
-- queues and delivers them itself: nothing to announce; the number is kept so that both engines agree.
SELECT 1;
