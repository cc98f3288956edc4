-- Issue #21 item 2 (SQLite's 0029, the same): the intake of a filing that could not be answered within Slack's
-- time. Before the user is told "registreras", the form is kept here (durably, on a connection beside the write queue), so that a crash
-- before the filing commits loses nothing: at the next start every row left is filed (`bot.intake.replay`,
-- idempotent by `key`, the submission's idempotency key) and the receipt tells the reference. A row lives
-- seconds: it is deleted once its filing has ended. `form` is the request as JSON, free text included.
CREATE TABLE intake (
    key TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    person_id TEXT NOT NULL,
    form TEXT NOT NULL,
    received_at TEXT NOT NULL
);
