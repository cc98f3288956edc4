-- Issue #22 item 4: any instance delivers the outbox. A row being sent is claimed (claimed_by: the instance,
-- claimed_until: its lease; an instance that dies is replaced after the lease), and the pacing and
-- Retry-After holds live here, not in one process's memory: a hold is per channel and recipient ('*': the
-- whole channel, e.g. Slack's workspace limit), kind 'pace' (one message per interval) or 'limit' (a 429).
-- SQLite (one process) claims nothing; the columns are kept so that both engines have one schema.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
CREATE TABLE outbox_holds (
    channel TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    until TEXT NOT NULL,
    PRIMARY KEY (channel, recipient_id)
);
