-- PostgreSQL's 0042: every row with a case id gets its case's reference (40 filled only missing ones), and a row
-- with a case id and no reference is refused. SQLite cannot add a CHECK to a table without rebuilding it: two
-- triggers refuse such a row when it is written.
UPDATE outbox SET case_ref = (SELECT ref FROM cases WHERE cases.id = outbox.case_id)
    WHERE case_id IS NOT NULL AND EXISTS (SELECT 1 FROM cases WHERE cases.id = outbox.case_id
                                                              AND cases.ref IS NOT outbox.case_ref);
CREATE TRIGGER outbox_case_has_ref BEFORE INSERT ON outbox
    WHEN NEW.case_id IS NOT NULL AND NEW.case_ref IS NULL
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: outbox_case_has_ref'); END;
CREATE TRIGGER outbox_case_keeps_ref BEFORE UPDATE OF case_id, case_ref ON outbox
    WHEN NEW.case_id IS NOT NULL AND NEW.case_ref IS NULL
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: outbox_case_has_ref'); END;
