-- Issue #21 item 4: the views that still read work growing with the store.
-- The daily purge finds the closed cases past retention along an index of closed cases (it scanned every case).
CREATE INDEX cases_closed ON cases (closed_at, id) WHERE state = 'closed' AND closed_at IS NOT NULL;
-- A person's proposed follow-ups (*mina*) are read along their own, not along every proposal of the store.
CREATE INDEX follow_ups_owner_proposed ON follow_ups (owner_id, id) WHERE status = 'proposed' AND done_at IS NULL;
-- How often each person was shown a case's free text, kept in step with the read log (`bot/store/reads.py`,
-- in the transaction that appends): a coordinator's /läsloggar counts the other principal's reads from here,
-- as many rows as readers, instead of reading every read of the case.
CREATE TABLE case_read_counts (
    case_ref TEXT NOT NULL,
    person_id TEXT NOT NULL,
    reads BIGINT NOT NULL,
    PRIMARY KEY (case_ref, person_id)
);
INSERT INTO case_read_counts (case_ref, person_id, reads)
    SELECT case_ref, person_id, COUNT(*) FROM case_reads GROUP BY case_ref, person_id;
-- Who was alerted about each open escalation, by person (`alerted` is a JSON list, with no index by person on
-- SQLite): the escalations someone is shown (/eskaleringar, the Homes) are read from here, a page along their own,
-- instead of reading every open escalation's list. Only open escalations (unresolved, climbed at least one rung,
-- or a dispute) have rows; kept in step by the ladder's store (`bot/store/ladder.track_alerts`) in the same unit of
-- work as every change of an item's alerted, rung or resolution.
CREATE TABLE escalation_alerts (
    person_id TEXT NOT NULL,
    since TEXT NOT NULL,
    awaiting_id BIGINT NOT NULL REFERENCES awaiting (id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, since, awaiting_id)
);
CREATE INDEX escalation_alerts_item ON escalation_alerts (awaiting_id);
INSERT INTO escalation_alerts (person_id, since, awaiting_id)
    SELECT DISTINCT json_each.value, a.since, a.id FROM awaiting a, json_each(a.alerted)
    WHERE a.resolved_at IS NULL AND (a.rung > 0 OR a.kind = 'dispute');
