-- Read log (issue #12, loggkontroll): every display of a case's free text to a person. Append-only
-- like the audit. `view` names the view or message template, `channel` where it was shown.
CREATE TABLE case_reads (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    person_id TEXT NOT NULL,
    case_ref TEXT NOT NULL,
    view TEXT NOT NULL,
    channel TEXT NOT NULL
);
CREATE INDEX case_reads_case ON case_reads (case_ref, id);
CREATE INDEX case_reads_person ON case_reads (person_id, at);
CREATE TRIGGER case_reads_no_update BEFORE UPDATE ON case_reads
    BEGIN SELECT RAISE(ABORT, 'read log is append-only'); END;
CREATE TRIGGER case_reads_no_delete BEFORE DELETE ON case_reads
    BEGIN SELECT RAISE(ABORT, 'read log is append-only'); END;

-- The case references whose free text a message shows (JSON list): logged as read when it is sent.
ALTER TABLE outbox ADD COLUMN reads TEXT;
-- who was told about a failed delivery of a case (they may see its summary)
CREATE INDEX outbox_template_ref ON outbox (template, case_ref);
