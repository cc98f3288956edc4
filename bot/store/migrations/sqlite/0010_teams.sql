-- Microsoft Teams (issue #11): who a Teams user is, where the bot can write to them, and inbound activities
-- already handled (redeliveries and double submits act once).
CREATE TABLE teams_identities (
    aad_object_id TEXT PRIMARY KEY,       -- the Entra object id of the Teams user
    person_id TEXT NOT NULL,
    upn TEXT,
    matched_by TEXT NOT NULL,             -- m365_upn | email
    matched_at TEXT NOT NULL
);
CREATE INDEX teams_identities_person ON teams_identities (person_id);
CREATE TABLE teams_references (
    person_id TEXT PRIMARY KEY,           -- one personal chat per person
    aad_object_id TEXT,
    user_id TEXT NOT NULL,                -- the Teams user id (29:...) in the conversation
    conversation_id TEXT NOT NULL,
    service_url TEXT NOT NULL,
    tenant_id TEXT,
    bot_id TEXT,
    source TEXT NOT NULL,                 -- message | install | graph
    updated_at TEXT NOT NULL
);
CREATE TABLE teams_inbound (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    at TEXT NOT NULL
);
