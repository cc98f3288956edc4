-- Absences (issue #10, item 12): a person away from one local date to another (inclusive), with an optional
-- stand-in, registered in the bot instead of the directory file. Keyed by the directory's person id; a
-- cancelled absence keeps its row (cancelled_at) for the record.
CREATE TABLE absences (
    id INTEGER PRIMARY KEY,
    person_id TEXT NOT NULL,
    start_date TEXT NOT NULL,             -- ISO date, local, inclusive
    end_date TEXT NOT NULL,               -- ISO date, local, inclusive
    stand_in TEXT,                        -- person id
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    cancelled_by TEXT,
    cancelled_at TEXT
);
CREATE INDEX absences_person ON absences (person_id, end_date);
