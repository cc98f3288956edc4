-- Issue #21 item 3: a message queued goes into one index on its case, not two. Every row queued went into both
-- outbox_case (case_id) and outbox_case_ref (case_ref), each a look-up of a leaf page chosen by the case (a page
-- read, dirtied and, after a checkpoint, written whole to the WAL): the sweep's batch of messages paid it twice.
-- Every row with a case id carries that case's reference (every INSERT writes both: bot/store/outbox.row and
-- insert refuse one without the other; the rows written before are given it here), so a case's own messages are
-- found by the reference (`case_ref = ? AND case_id = ?`, bot/store/outbox_erase.py, holdings.py, closing.py,
-- stats.py, cases.take_ref), and the messages of no case that show it (a distribution queue, a withdrawal's scope)
-- through a partial index that no case's message enters.
UPDATE outbox SET case_ref = cases.ref FROM cases WHERE outbox.case_id = cases.id AND outbox.case_ref IS NULL;
CREATE INDEX outbox_no_case ON outbox (id) WHERE case_id IS NULL;
DROP INDEX outbox_case;
