-- Issue #21 item 3: on PostgreSQL a message queued no longer checks and locks its case's row (the foreign key
-- on outbox.case_id is dropped there). SQLite keeps it: dropping it would rebuild the outbox table, and its
-- check is a look-up in the same process, with no lock to take.
SELECT 1;
