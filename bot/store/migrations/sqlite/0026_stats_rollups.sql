-- Issue #21 item 4: statistics read as aggregates, never fact by fact.
-- wait_*: business time (office hours of the target unit) from the request to its first distribution, first
-- acknowledgement and held meeting, in hundredths of an hour below 100 h and whole hours above (stored as
-- hundredths), computed when the fact is written; NULL until it happened. Filled for older rows at start.
-- stats_hours: counters per UTC hour of filing (YYYY-MM-DDTHH, the first 13 characters of the ISO time) and
-- target unit, kept in step with case_facts by the statistics hook (bot/stats/rollup.py).
-- stats_waits: how many facts of that hour and unit have each wait (measure 0 distribution, 1 acknowledgement,
-- 2 meeting; bucket = the wait as above), so medians and percentiles come from a bounded histogram.
-- stats_escalations: escalations per UTC hour, unit and rung.
-- stats_rollup_state: one row once the tables above hold every fact (the bot rebuilds them at start until then).
ALTER TABLE case_facts ADD COLUMN wait_distribution INTEGER;
ALTER TABLE case_facts ADD COLUMN wait_acknowledgement INTEGER;
ALTER TABLE case_facts ADD COLUMN wait_meeting INTEGER;
CREATE TABLE stats_hours (
    hour_utc TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    urgent INTEGER NOT NULL DEFAULT 0,
    no_shows INTEGER NOT NULL DEFAULT 0,
    lotsning INTEGER NOT NULL DEFAULT 0,
    kartlaggning INTEGER NOT NULL DEFAULT 0,
    sip INTEGER NOT NULL DEFAULT 0,
    aktualiseras INTEGER NOT NULL DEFAULT 0,
    ingen INTEGER NOT NULL DEFAULT 0,
    evaluations_done INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hour_utc, unit_id)
);
CREATE TABLE stats_waits (
    hour_utc TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    measure INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hour_utc, unit_id, measure, bucket)
);
CREATE TABLE stats_escalations (
    hour_utc TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    rung INTEGER NOT NULL,
    rung_title TEXT NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hour_utc, unit_id, rung, rung_title)
);
CREATE TABLE stats_rollup_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    built_at TEXT NOT NULL
);
-- Bounded reads of the coordinator's views: the latest failed deliveries (newest first) without reading the
-- whole outbox, and the open escalations (and disputes) a page at a time, with a count.
CREATE INDEX outbox_failed ON outbox (id) WHERE status = 'failed';
CREATE INDEX awaiting_open_escalations ON awaiting (since, id) WHERE resolved_at IS NULL AND (rung > 0 OR kind = 'dispute');
