-- Consent withdrawal retracts messages already delivered: an outbox row of kind 'retract' asks
-- the channel to delete the delivered message named by `target` (the sender's external id).
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'message';
ALTER TABLE outbox ADD COLUMN target TEXT;
