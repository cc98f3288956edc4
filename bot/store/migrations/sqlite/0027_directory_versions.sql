-- Issue #22 item 5: the directory shared by the instances on PostgreSQL. SQLite (one process) reads its file
-- and keeps nothing here; the table is kept so that both engines have one schema.
CREATE TABLE directory_versions (
    version INTEGER PRIMARY KEY AUTOINCREMENT,
    digest TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL,
    content TEXT,
    published_at TEXT NOT NULL,
    origin TEXT NOT NULL
);
