-- jobconfig 1.0: declarative job configurations, triggers, executions,
-- changelog and notification outbox.  Built by concatenating src/sql/*.sql
-- in name order; each file holds one concern.

\echo Use "CREATE EXTENSION jobconfig" to load this file. \quit

-- The schema belongs to the extension, so DROP EXTENSION removes it too.
CREATE SCHEMA jobconfig;
COMMENT ON SCHEMA jobconfig IS 'jobconfig: declarative jobs, their runs and their history';
