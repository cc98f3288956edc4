-- The retention purge finds a case's messages by id and by reference (bot/store/stats.py related_counts and
-- delete_case: `case_id = ? OR case_ref = ?`), twice per case purged, inside one transaction that holds every
-- writer and the audit chain. Schema 33 replaced outbox_template_ref with the partial outbox_delivery_failed,
-- which serves only `template = 'delivery_failed'`: the purge then read the whole outbox twice per case. An index
-- on every row's case_ref serves both (the failure notices of a case are among its few rows).
DROP INDEX outbox_delivery_failed;
CREATE INDEX outbox_case_ref ON outbox (case_ref);
