-- Issue #10: whether children are affected (ja | nej | vet-ej); NULL for cases filed before it was asked.
ALTER TABLE cases ADD COLUMN children TEXT;
