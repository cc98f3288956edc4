-- Schema 40 finds a case's own messages by its reference (`case_ref = ? AND case_id = ?`; the purge by
-- `case_ref`): a withdrawal, lost access, closing and the retention purge would miss a row with a case id whose
-- reference is missing or not its case's, and leave its text. 40's backfill gave a reference only where there was
-- none: here every row with a case id gets its case's, and the database refuses a row with a case id and no
-- reference (bot/store/outbox refuses it before; copies, retractions and calendar rows copy both columns).
UPDATE outbox SET case_ref = cases.ref FROM cases
    WHERE outbox.case_id = cases.id AND outbox.case_ref IS DISTINCT FROM cases.ref;
ALTER TABLE outbox ADD CONSTRAINT outbox_case_has_ref CHECK (case_id IS NULL OR case_ref IS NOT NULL) NOT VALID;
ALTER TABLE outbox VALIDATE CONSTRAINT outbox_case_has_ref;
