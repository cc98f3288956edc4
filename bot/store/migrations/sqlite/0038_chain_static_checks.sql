-- Issue #22 item 8: PostgreSQL's insert guard of the hash-chained logs without dynamic SQL. SQLite's triggers
-- (migration 20) are unchanged.
SELECT 1;
