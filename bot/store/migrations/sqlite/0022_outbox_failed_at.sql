-- Issue #19: when a message failed for good, so /readyz counts "failed in 24 h" by the failure, not by when its
-- last attempt was due (a bot that was down failed it later). Rows failed before this are counted by
-- next_attempt_at, as before.
ALTER TABLE outbox ADD COLUMN failed_at TEXT;
