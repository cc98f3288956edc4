-- Issue #21 item 4: a store without facts has nothing to build: its statistics rollups are built (kept in step
-- from the first case on), so instances starting together on a fresh store do not all rebuild them.
INSERT INTO stats_rollup_state (id, built_at) SELECT 1, 'migration 0030'
WHERE NOT EXISTS (SELECT 1 FROM case_facts) AND NOT EXISTS (SELECT 1 FROM escalation_facts)
ON CONFLICT (id) DO NOTHING;
