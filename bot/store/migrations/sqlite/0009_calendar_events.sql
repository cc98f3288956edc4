-- Microsoft Graph (issue #9). The Outlook event of a case's GFI meeting: `transaction_id` is stored
-- before the create is sent, so that a retried create gives Graph the same transactionId and never
-- makes a second event; `seq` counts the events of a case (a new one after a cancellation).
CREATE TABLE calendar_events (
    case_id INTEGER PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
    case_ref TEXT NOT NULL,
    seq INTEGER NOT NULL,
    transaction_id TEXT NOT NULL,
    event_id TEXT,                        -- Graph's id, once created
    state TEXT NOT NULL,                  -- creating | active | cancelled
    fingerprint TEXT,                     -- hash of what was last sent (skips repeated updates)
    updated_at TEXT NOT NULL
);

-- Signed action links: each token id works once.
CREATE TABLE link_uses (
    token_id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    case_ref TEXT,
    action TEXT NOT NULL,
    used_at TEXT NOT NULL
);
