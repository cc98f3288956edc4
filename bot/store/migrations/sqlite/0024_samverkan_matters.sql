-- Issue #18 item 4: a question handed to the samverkansnivå (the principal pair's samverkansgrupp or lokalt
-- samråd, named in the directory) is tracked until someone records what was decided: open while handled_at
-- is NULL; outcome is free text (guarded; erased with the case's other free text).
CREATE TABLE samverkan_matters (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    case_ref TEXT NOT NULL,
    group_id TEXT NOT NULL,
    awaiting_id INTEGER,
    draft_id INTEGER,
    opened_by TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    handled_by TEXT,
    handled_at TEXT,
    outcome TEXT
);
CREATE INDEX samverkan_matters_case ON samverkan_matters (case_id);
CREATE INDEX samverkan_matters_open ON samverkan_matters (group_id) WHERE handled_at IS NULL;
