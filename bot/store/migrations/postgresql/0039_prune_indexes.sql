-- Issue #22 item 6: the nightly purge prunes the inbound idempotency keys and the link uses by age
-- (bot/store/pruning.py), in batches: each batch finds its oldest rows through these indexes instead of a scan.
CREATE INDEX slack_inbound_at ON slack_inbound (at);
CREATE INDEX teams_inbound_at ON teams_inbound (at);
CREATE INDEX link_uses_used_at ON link_uses (used_at);
