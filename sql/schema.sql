-- schema: the objects CREATE EXTENSION makes, and the indexes the workers
-- rely on.
SELECT c.relname, c.relkind, c.relrowsecurity AS rls
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'jobconfig' AND c.relkind IN ('r', 'v')
 ORDER BY c.relname;

SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) LIKE '%WHERE%' AS partial
  FROM pg_index WHERE indrelid IN ('jobconfig.job_configs'::regclass, 'jobconfig.job_executions'::regclass,
                                   'jobconfig.job_changelog'::regclass, 'jobconfig.notification_outbox'::regclass)
 ORDER BY indexrelid::regclass::text;

-- the queue index serves the executors' claim order
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT id FROM jobconfig.job_executions
 WHERE finished_at IS NULL AND status = 'queued' ORDER BY priority DESC, scheduled_for, id LIMIT 1;
-- a claim (queued -> running) changes no indexed column: a HOT update,
-- which writes no index entry; an ended status needs its finished_at.
-- (Only an executor claims a run: the check of the state diagram is set
-- aside for this transaction, which plays one.)
BEGIN;
ALTER TABLE jobconfig.job_executions DISABLE TRIGGER job_executions_transition;
INSERT INTO jobconfig.job_executions (job_id, trigger_source) VALUES ('hot-check', 'manual');
UPDATE jobconfig.job_executions SET status = 'running', started_at = clock_timestamp(), worker_pid = 1
 WHERE job_id = 'hot-check';
SELECT pg_stat_get_xact_tuples_updated('jobconfig.job_executions'::regclass) AS updated,
       pg_stat_get_xact_tuples_hot_updated('jobconfig.job_executions'::regclass) AS hot_updated;
\set VERBOSITY terse
UPDATE jobconfig.job_executions SET status = 'succeeded' WHERE job_id = 'hot-check';
\set VERBOSITY default
ROLLBACK;
EXPLAIN (COSTS OFF)
SELECT id FROM jobconfig.job_configs
 WHERE enabled AND next_run_at IS NOT NULL ORDER BY next_run_at LIMIT 1;
RESET enable_seqscan;

SELECT column_name, data_type, is_nullable
  FROM information_schema.columns
 WHERE table_schema = 'jobconfig' AND table_name = 'job_executions'
 ORDER BY ordinal_position;

-- every function has a comment, and the API carries the seed's names
SELECT p.proname
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'jobconfig' AND obj_description(p.oid, 'pg_proc') IS NULL
   AND p.prorettype <> 'trigger'::regtype
 ORDER BY 1;
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS arguments, p.prorettype::regtype AS returns
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'jobconfig' AND p.proname IN
       ('create_job', 'update_job', 'delete_job', 'set_job_enabled', 'toggle_job_enabled', 'run_job',
        'cancel_execution', 'get_enabled_jobs', 'get_jobs_by_trigger', 'record_job_execution',
        'get_job_execution_history', 'get_latest_job_executions', 'get_latest_execution_status',
        'is_job_healthy', 'add_changelog_entry', 'payload_schema')
 ORDER BY 1;

-- tables whose rows pg_dump must keep
SELECT dumped FROM (SELECT unnest(extconfig)::regclass AS dumped FROM pg_extension WHERE extname = 'jobconfig') t
 ORDER BY dumped::text;
