-- Issue #23 item 2 (SQLite's 0020 for PostgreSQL): the audit log and the read log are hash-chained
-- (bot/store/chain.py computes `hash` in the writing transaction, holding the log's advisory lock). A BEFORE
-- INSERT guard refuses an existing id, and a row without its hash. UPDATE may only give a row written before
-- this migration its hash, once (bot/logchain.py seals them at start); nothing else about a row may change.
-- DELETE and TRUNCATE stay refused.
ALTER TABLE audit ADD COLUMN hash TEXT;
ALTER TABLE case_reads ADD COLUMN hash TEXT;

CREATE FUNCTION gfi_chain_seal_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.hash IS NOT NULL OR NEW.hash IS NULL
       OR (to_jsonb(NEW) - 'hash') IS DISTINCT FROM (to_jsonb(OLD) - 'hash') THEN
        RAISE EXCEPTION '% is append-only', TG_ARGV[0];
    END IF;
    RETURN NEW;
END;
$$;

CREATE FUNCTION gfi_chain_no_replace() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    taken BOOLEAN;
BEGIN
    IF NEW.hash IS NULL THEN
        RAISE EXCEPTION '% is append-only', TG_ARGV[0];
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE id = $1)', TG_TABLE_NAME) INTO taken USING NEW.id;
    IF taken THEN
        RAISE EXCEPTION '% is append-only', TG_ARGV[0];
    END IF;
    RETURN NEW;
END;
$$;

DROP TRIGGER audit_no_update ON audit;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    FOR EACH ROW EXECUTE FUNCTION gfi_chain_seal_only('audit log');
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION gfi_append_only('audit log');
CREATE TRIGGER audit_no_replace BEFORE INSERT ON audit
    FOR EACH ROW EXECUTE FUNCTION gfi_chain_no_replace('audit log');

DROP TRIGGER case_reads_no_update ON case_reads;
CREATE TRIGGER case_reads_no_update BEFORE UPDATE ON case_reads
    FOR EACH ROW EXECUTE FUNCTION gfi_chain_seal_only('read log');
CREATE TRIGGER case_reads_no_delete BEFORE DELETE ON case_reads
    FOR EACH ROW EXECUTE FUNCTION gfi_append_only('read log');
CREATE TRIGGER case_reads_no_replace BEFORE INSERT ON case_reads
    FOR EACH ROW EXECUTE FUNCTION gfi_chain_no_replace('read log');
