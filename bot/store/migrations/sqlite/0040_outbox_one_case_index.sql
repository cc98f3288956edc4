-- Issue #21 item 3 (PostgreSQL's 0040 drops outbox_case): every row with a case id carries that case's reference,
-- and a case's own messages are found by it (`case_ref = ? AND case_id = ?`). SQLite keeps outbox_case: its
-- foreign key on outbox.case_id (ON DELETE SET NULL, kept by 0034) looks a deleted case's messages up by it, and
-- without it every case the purge deletes would read the whole outbox. It serves the messages of no case too
-- (`case_id IS NULL`), as PostgreSQL's outbox_no_case does.
UPDATE outbox SET case_ref = (SELECT ref FROM cases WHERE cases.id = outbox.case_id)
    WHERE case_id IS NOT NULL AND case_ref IS NULL;
