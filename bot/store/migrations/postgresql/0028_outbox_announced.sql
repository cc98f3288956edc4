-- Issue #22 item 8: new outbox rows are announced to every instance (`pg_notify` on the change channel,
-- delivered on commit, once per transaction), so an idle dispatcher does not look every second: it is told.
CREATE FUNCTION gfi_outbox_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gfi_changes', 'outbox');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_queued AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION gfi_outbox_queued();
