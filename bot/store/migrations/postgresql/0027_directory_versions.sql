-- Issue #22 item 5: the directory every instance serves, published by the one whose file changed (or by
-- `gfi-bot directory import|sync`) and announced; the newest row is served. Older rows keep their digest only,
-- so that a machine's out-of-date copy of the file is known as old.
CREATE TABLE directory_versions (
    version BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL,
    content TEXT,
    published_at TEXT NOT NULL,
    origin TEXT NOT NULL
);
