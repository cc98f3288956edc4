-- Review of the directory rollback (issue #22 item 5): per machine and directory file (`host`: the host's name
-- and the file's path), the digest of the local file that machine last published or served. At start a machine
-- publishes its file only when it changed there since, not by comparing its file's modification time with
-- another machine's clock (bot/directory/shared.py).
CREATE TABLE directory_hosts (
    host TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
