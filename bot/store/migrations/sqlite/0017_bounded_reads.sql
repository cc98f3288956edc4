-- Issue #14: bounded pages at scale. The queue in its order (urgent first, then oldest first), a person's
-- cases newest first and the "annan" cases of a distributor are read in index order, so that the first
-- page of a long list costs no more than a short list; the count of a person's requests is read from
-- an index alone.
CREATE INDEX cases_queue_order ON cases (target_unit, state, urgent DESC, created_at, id);
CREATE INDEX cases_requester_state ON cases (requester_id, state);
CREATE INDEX cases_other_assignee ON cases (assigned_by) WHERE other_assignee IS NOT NULL;
CREATE INDEX case_assignees_person_case ON case_assignees (person_id, case_id);
-- The open escalations (on every Home tab that shows them) without reading every open awaited item.
CREATE INDEX awaiting_escalated ON awaiting (since, id) WHERE resolved_at IS NULL AND rung > 0;
