-- Consent that limits sharing (issue #12 item 3): what information the consent covers, how it was
-- given and by whom it was obtained, and the units it was withdrawn for (the case goes on without them).
ALTER TABLE cases ADD COLUMN consent_covers TEXT NOT NULL DEFAULT '[]';    -- JSON list of categories
ALTER TABLE cases ADD COLUMN consent_note TEXT;                            -- free text for "annat"
ALTER TABLE cases ADD COLUMN consent_form TEXT;                            -- skriftligt | muntligt
ALTER TABLE cases ADD COLUMN consent_obtained_by TEXT;                     -- person id
ALTER TABLE cases ADD COLUMN consent_withdrawn TEXT NOT NULL DEFAULT '[]'; -- JSON list of unit ids
