-- Slack channel (issue #3): who is who in Slack, and which inbound requests were already handled.
CREATE TABLE slack_identities (
    slack_user_id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    matched_by TEXT NOT NULL,             -- directory | email
    matched_at TEXT NOT NULL
);
CREATE INDEX slack_identities_person ON slack_identities (person_id);

CREATE TABLE slack_inbound (
    key TEXT PRIMARY KEY,                 -- idempotency key of a Slack request (event id, action, view)
    kind TEXT NOT NULL,
    at TEXT NOT NULL
);
