-- api: the SQL API, one function at a time, as a superuser (the security
-- suite covers the other roles).
\set SHOW_CONTEXT never
\set VERBOSITY default

-- A job of each trigger kind from a minimal payload reads back with every
-- default filled in.
SELECT jsonb_pretty(jobconfig.create_job('api-manual', '{"execution": {"command": "SELECT 1"}}') -> 'payload');
SELECT jsonb_pretty(jobconfig.create_job('api-schedule',
    '{"trigger": {"type": "schedule", "schedule": {"cron": "30 2 * * *", "timezone": "europe/berlin"}},
      "execution": {"command": "SELECT 2"}}') -> 'payload' -> 'trigger');
SELECT jsonb_pretty(jobconfig.create_job('api-webhook',
    '{"trigger": {"type": "webhook", "webhook": {"path": "api-deploy", "secret": "s3cret-s3cret-s3cret"}},
      "execution": {"command": "SELECT 3"}}') -> 'payload' -> 'trigger');
SELECT jsonb_pretty(jobconfig.create_job('api-dependency',
    '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["api-manual", "api-schedule"]}},
      "execution": {"command": "SELECT 4", "priority": 90}}',
    '{"title": "Downstream", "description": "Runs after both", "tags": ["etl"]}') - 'id' - 'meta');

-- The typed columns follow the payload
SELECT job_id, enabled, trigger_type, cron, timezone, webhook_path, webhook_signature, depends_on, run_as, priority, owner,
       next_run_at IS NOT NULL AS has_next_run
  FROM jobconfig.job_configs WHERE job_id LIKE 'api-%' ORDER BY job_id;
-- and cannot be edited by hand: the trigger derives them again
UPDATE jobconfig.job_configs SET enabled = false, priority = 1, trigger_type = 'webhook', cron = 'x' WHERE job_id = 'api-schedule';
SELECT job_id, enabled, priority, trigger_type, cron FROM jobconfig.job_configs WHERE job_id = 'api-schedule';
-- next_run_at too: an edit that leaves the schedule alone keeps the stored slot
UPDATE jobconfig.job_configs SET next_run_at = '2000-01-01' WHERE job_id = 'api-schedule';
SELECT next_run_at > '2020-01-01' AS slot_kept FROM jobconfig.job_configs WHERE job_id = 'api-schedule';

-- meta: title defaults to the job id; provenance is maintained by jobconfig
SELECT meta ->> 'title' AS title, meta -> 'provenance' ->> 'createdBy' AS created_by,
       meta -> 'provenance' ? 'updatedAt' AS has_updated_at
  FROM jobconfig.job_configs WHERE job_id = 'api-manual';

-- create_job refuses an existing job id
SELECT jobconfig.create_job('api-manual', '{"execution": {"command": "SELECT 1"}}');

-- update_job replaces the payload (absent keys return to their defaults)
SELECT jobconfig.update_job('api-manual', '{"execution": {"command": "SELECT 10", "priority": 70}}') -> 'payload' -> 'execution' ->> 'priority' AS priority;
SELECT jobconfig.update_job('api-manual', '{"execution": {"command": "SELECT 11"}}') -> 'payload' -> 'execution' ->> 'priority' AS priority;
SELECT jobconfig.update_job('api-manual', meta => '{"title": "Manual job"}') -> 'meta' ->> 'title' AS title;
SELECT jobconfig.update_job('api-manual');
SELECT jobconfig.update_job('no-such-job', '{"execution": {"command": "SELECT 1"}}');

-- enable, disable, toggle
SELECT jobconfig.set_job_enabled('api-schedule', false) ->> 'enabled' AS enabled;
SELECT next_run_at IS NULL AS no_next_run_when_disabled FROM jobconfig.job_configs WHERE job_id = 'api-schedule';
SELECT jobconfig.toggle_job_enabled('api-schedule') ->> 'enabled' AS enabled;
SELECT payload ->> 'enabled' AS payload_enabled, enabled, next_run_at IS NOT NULL AS has_next_run
  FROM jobconfig.job_configs WHERE job_id = 'api-schedule';
SELECT jobconfig.set_job_enabled('api-schedule', NULL);
SELECT jobconfig.toggle_job_enabled('no-such-job');

-- jobs by state and trigger
SELECT job_id FROM jobconfig.get_enabled_jobs() WHERE job_id LIKE 'api-%';
SELECT job_id FROM jobconfig.get_jobs_by_trigger('dependency') WHERE job_id LIKE 'api-%';
SELECT job_id FROM jobconfig.get_jobs_by_trigger(trigger_type => 'webhook') WHERE job_id LIKE 'api-%';
SELECT * FROM jobconfig.get_jobs_by_trigger('cron');

-- run_job queues a manual execution with its input; a disabled job is refused.
-- The run is queued and cancelled in one transaction: on a server with
-- jobconfig preloaded, an executor would start it as soon as run_job commits.
-- (ON_ERROR_ROLLBACK: psql puts each statement in a savepoint, so the errors
-- below are shown as usual and the transaction goes on.)
\set ON_ERROR_ROLLBACK on
BEGIN;
SELECT jobconfig.run_job('api-manual', '{"reason": "test"}') AS first_run \gset
SELECT job_id, trigger_source, attempt, status, priority, input, run_as, cause_id
  FROM jobconfig.job_executions WHERE id = :first_run;
SELECT jobconfig.set_job_enabled('api-manual', false) ->> 'enabled' AS enabled;
SELECT jobconfig.run_job('api-manual');
SELECT jobconfig.set_job_enabled('api-manual', true) ->> 'enabled' AS enabled;
SELECT jobconfig.run_job('no-such-job');

-- cancel_execution: a queued run is cancelled; an ended one is left alone
SELECT jobconfig.cancel_execution(:first_run);
SELECT status, finished_at IS NOT NULL AS finished, error FROM jobconfig.job_executions WHERE id = :first_run;
COMMIT;
\set ON_ERROR_ROLLBACK off
SELECT jobconfig.cancel_execution(:first_run);
SELECT jobconfig.cancel_execution(-1);

-- record_job_execution: runs of an external runner
SELECT jobconfig.record_job_execution('api-manual', 'succeeded',
    '2026-01-01 10:00:00+00', '2026-01-01 10:00:02.5+00', log => '{"commandTag": "SELECT 1"}') AS recorded \gset
SELECT job_id, status, trigger_source, duration, log, recorded_by FROM jobconfig.job_executions WHERE id = :recorded;
SELECT jobconfig.record_job_execution('api-manual', 'failed', '2026-01-01 11:00:00+00', '2026-01-01 11:00:01+00',
    error => 'division by zero');
SELECT jobconfig.record_job_execution('api-manual', 'running');
SELECT jobconfig.record_job_execution('api-manual', 'failed', '2026-01-01 12:00:00+00', '2026-01-01 11:00:00+00');
SELECT jobconfig.record_job_execution('api-manual', 'failed', trigger_source => 'cron');
SELECT jobconfig.record_job_execution('api-manual', 'failed', attempt => 0);

-- history, latest, status
SELECT status, trigger_source, error FROM jobconfig.get_job_execution_history('api-manual');
SELECT status FROM jobconfig.get_job_execution_history('api-manual', max_rows => 1);
SELECT * FROM jobconfig.get_job_execution_history('api-manual', 0);
SELECT * FROM jobconfig.get_job_execution_history('no-such-job');
SELECT job_id, status FROM jobconfig.get_latest_job_executions() WHERE job_id LIKE 'api-%';
SELECT jobconfig.get_latest_execution_status('api-manual');
SELECT jobconfig.get_latest_execution_status('api-webhook') IS NULL AS never_ran;

-- health: the last finished run failed
SELECT jobconfig.is_job_healthy('api-manual');
SELECT jobconfig.job_health('api-manual');
SELECT jobconfig.record_job_execution('api-manual', 'succeeded', '2026-01-01 13:00:00+00', '2026-01-01 13:00:01+00') > 0 AS recorded;
SELECT jobconfig.job_health('api-manual');
SELECT jobconfig.is_job_healthy('api-webhook') AS healthy_without_runs;
-- mostly failing: healthy only when at least half of the last 10 succeeded
SELECT count(jobconfig.record_job_execution('api-webhook', 'failed', '2026-01-02 10:00:00+00', '2026-01-02 10:00:01+00'))
  FROM generate_series(1, 5);
SELECT count(jobconfig.record_job_execution('api-webhook', 'succeeded', '2026-01-02 11:00:00+00', '2026-01-02 11:00:01+00'))
  FROM generate_series(1, 4);
SELECT jobconfig.job_health('api-webhook');
-- a schedule slot that never fired makes the job overdue: the slot is moved
-- into the past behind the trigger's back, in a transaction rolled back
-- after the status view has shown it too.  (On a server with jobconfig
-- preloaded, a scheduler that read the job meanwhile, as it does a moment
-- after each change above commits, would fire the missed slot.)
SELECT jobconfig.is_job_healthy('api-schedule') AS healthy_before_its_slot;
BEGIN;
SET session_replication_role = replica;
UPDATE jobconfig.job_configs SET next_run_at = now() - interval '1 hour' WHERE job_id = 'api-schedule';
RESET session_replication_role;
SELECT jobconfig.job_health('api-schedule') -> 'healthy' AS healthy, jobconfig.job_health('api-schedule') -> 'reasons' ->> 0 LIKE 'overdue: %' AS overdue;

-- the status view
SELECT job_id, title, trigger_type, trigger_summary, enabled, schedule, timezone,
       last_status, last_duration, retry_policy, healthy, priority, tags
  FROM jobconfig.job_status WHERE job_id LIKE 'api-%' ORDER BY job_id;
ROLLBACK;
SELECT jobconfig.is_job_healthy('no-such-job');

-- changelog notes
SELECT jobconfig.add_changelog_entry('api-manual', 'Rotated credentials by hand') > 0 AS added;
SELECT action, changed_by, message, changes FROM jobconfig.job_changelog
 WHERE job_id = 'api-manual' ORDER BY id DESC LIMIT 1;
SELECT jobconfig.add_changelog_entry('api-manual', '  ');
SELECT jobconfig.add_changelog_entry('no-such-job', 'hello');

-- nulls: a required argument, or an optional one whose default is a value,
-- is refused by name (22004); an optional one whose default is null means
-- "not given"
SELECT jobconfig.create_job(NULL, '{"execution": {"command": "SELECT 1"}}');
SELECT jobconfig.create_job('api-null', NULL);
SELECT jobconfig.create_job('api-null', '{"execution": {"command": "SELECT 1"}}', NULL);
SELECT jobconfig.update_job(NULL, '{"execution": {"command": "SELECT 1"}}');
SELECT jobconfig.run_job(NULL);
SELECT jobconfig.get_jobs_by_trigger(NULL);
SELECT jobconfig.get_job_execution_history('api-manual', NULL);
SELECT jobconfig.get_latest_execution_status(NULL);
SELECT jobconfig.cancel_execution(NULL);
SELECT jobconfig.record_job_execution('api-manual', NULL);
SELECT jobconfig.record_job_execution('api-manual', 'succeeded', trigger_source => NULL);
SELECT jobconfig.record_job_execution('api-manual', 'succeeded', attempt => NULL);
SELECT jobconfig.add_changelog_entry('api-manual', NULL);
SELECT jobconfig.job_health(NULL);
-- and a run recorded with infinite times is refused too
SELECT jobconfig.record_job_execution('api-manual', 'succeeded', started_at => '-infinity');

-- delete_job: refused while others depend on the job; history is kept
SELECT jobconfig.delete_job('api-manual');
SELECT jobconfig.delete_job('api-dependency');
SELECT jobconfig.delete_job('api-manual');
SELECT count(*) AS history_kept, count(job_config_id) AS still_linked
  FROM jobconfig.job_executions WHERE job_id = 'api-manual';
SELECT jobconfig.delete_job('api-manual');
SELECT jobconfig.delete_job('api-schedule'), jobconfig.delete_job('api-webhook');
