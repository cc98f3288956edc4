-- Parallel delivery (issue #14): a message waits for the earlier pending messages to its recipient
-- (`bot.store.outbox.heads`), looked up among the pending rows only.
CREATE INDEX outbox_recipient_pending ON outbox (recipient_id, id) WHERE status = 'pending';
-- Lean storage (issue #14): the rows whose text is still kept, by age, for the retention sweep
-- (`bot.store.outbox.drop_texts`); a swept row leaves the index.
CREATE INDEX outbox_kept_text ON outbox (created_at)
    WHERE text != '' OR blocks IS NOT NULL OR message IS NOT NULL;
