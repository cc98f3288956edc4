-- Vilande (issue #10): a case waiting for the individual, until a date, with a free-text reason (erased on
-- withdrawal like other free text).
ALTER TABLE cases ADD COLUMN waiting_until TEXT;
ALTER TABLE cases ADD COLUMN waiting_reason TEXT;
