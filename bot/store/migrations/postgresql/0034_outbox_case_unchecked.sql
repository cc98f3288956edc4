-- Issue #21 item 3: a message queued no longer checks and locks its case's row. The foreign key on
-- outbox.case_id ran a trigger for every row queued (a look-up of the case, FOR KEY SHARE, and a lock on the
-- case's row): about half of a sweep batch's INSERT on a store of 10^5 cases. It guarded nothing the store
-- does not: a message is queued by a unit that has just read its case in the same transaction, and a case is
-- deleted only by the retention purge (bot/store/stats.delete_case), which deletes its messages first, in the
-- same transaction. outbox_case stays: the case's messages are looked up by it.
ALTER TABLE outbox DROP CONSTRAINT outbox_case_id_fkey;
