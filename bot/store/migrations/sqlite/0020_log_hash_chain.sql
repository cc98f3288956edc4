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
