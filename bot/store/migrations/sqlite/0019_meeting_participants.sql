-- Issue #10 item 2: who attends the GFI meeting. Staff per unit (person_id NULL while the unit's
-- distributor is asked to name someone), or an external participant by role (unit_id NULL) with an
-- optional first name only (free text through the identity-number guard; erased on withdrawal).
-- cases.meeting_units stays the list of units; these rows say who comes for each.
CREATE TABLE meeting_participants (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    unit_id TEXT,
    person_id TEXT,
    role TEXT,
    first_name TEXT
);
CREATE INDEX meeting_participants_case ON meeting_participants (case_id, position);
CREATE INDEX meeting_participants_person ON meeting_participants (person_id);
