-- Issue #22 item 8: the hash-chained logs' insert guard without dynamic SQL. Migration 20's
-- gfi_chain_no_replace looked for an existing id with EXECUTE format(...), which the server parses and plans
-- again for every row appended (every filing's audit row, every read logged). One function per log with the
-- look-up written out: PL/pgSQL plans it once per connection. What is refused is unchanged: a row without
-- its hash, and an id the log already holds (both as '<log> is append-only').
CREATE FUNCTION gfi_audit_no_replace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.hash IS NULL OR EXISTS (SELECT 1 FROM audit WHERE id = NEW.id) THEN
        RAISE EXCEPTION '% is append-only', TG_ARGV[0];
    END IF;
    RETURN NEW;
END;
$$;

CREATE FUNCTION gfi_case_reads_no_replace() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.hash IS NULL OR EXISTS (SELECT 1 FROM case_reads WHERE id = NEW.id) THEN
        RAISE EXCEPTION '% is append-only', TG_ARGV[0];
    END IF;
    RETURN NEW;
END;
$$;

DROP TRIGGER audit_no_replace ON audit;
CREATE TRIGGER audit_no_replace BEFORE INSERT ON audit
    FOR EACH ROW EXECUTE FUNCTION gfi_audit_no_replace('audit log');
DROP TRIGGER case_reads_no_replace ON case_reads;
CREATE TRIGGER case_reads_no_replace BEFORE INSERT ON case_reads
    FOR EACH ROW EXECUTE FUNCTION gfi_case_reads_no_replace('read log');
DROP FUNCTION gfi_chain_no_replace();
