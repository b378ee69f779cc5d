-- notifications: which ended runs write outbox rows, what the messages say,
-- and the settings that guard where they go.  Runs are recorded by hand and
-- finished with finish_executions(), as the workers do, in a transaction
-- that is rolled back: on a server with jobconfig preloaded the workers
-- would otherwise act on them at commit (an executor would start the queued
-- retry, whose time, after a run that ended in January 2026, has passed,
-- and the notifier would send the outbox rows to Slack).
\set SHOW_CONTEXT never
\set VERBOSITY default

SELECT jobconfig.create_job('nt-both',
    '{"execution": {"command": "SELECT 1", "retry": {"maxAttempts": 2}},
      "notifications": {"email": {"recipients": ["ops@example.com", "dev@example.com"], "onSuccess": true},
                        "slack": {"webhookUrl": "https://hooks.slack.com/services/T/B/X"}}}',
    '{"title": "Both channels"}') IS NOT NULL AS created;
SELECT jobconfig.create_job('nt-quiet',
    '{"execution": {"command": "SELECT 1"}}') IS NOT NULL AS created;

-- finish(job, status, attempt): record an ended run and finish it.
CREATE FUNCTION pg_temp.finish(job text, status text, attempt integer) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    run bigint;
BEGIN
    INSERT INTO jobconfig.job_executions
        (job_config_id, job_id, trigger_source, attempt, status, started_at, finished_at, error, log)
    SELECT j.id, j.job_id, CASE WHEN attempt > 1 THEN 'retry' ELSE 'manual' END, attempt, status,
           '2026-01-02 03:04:05+00', '2026-01-02 03:04:06.5+00',
           CASE WHEN status <> 'succeeded' THEN 'division by zero' END,
           CASE WHEN status <> 'succeeded' THEN
               '{"messages": [{"level": "NOTICE", "message": "step 1 <done> & more", "detail": "rows: 3"}],
                 "error": {"sqlstate": "22012", "message": "division by zero", "context": "SQL statement \"SELECT 1/0\""},
                 "droppedMessages": 2}'::jsonb
           ELSE '{"messages": [], "commandTag": "SELECT 1", "rows": 1}'::jsonb END
      FROM jobconfig.job_configs j WHERE j.job_id = job
    RETURNING id INTO run;
    PERFORM jobconfig.finish_executions(ARRAY[run]);
    RETURN run;
END $$;

BEGIN;
-- A failure with a retry left notifies no one; its retry is queued.
SELECT pg_temp.finish('nt-both', 'failed', 1) AS first_attempt \gset
SELECT count(*) AS outbox_rows FROM jobconfig.notification_outbox;
SELECT attempt, status, trigger_source FROM jobconfig.job_executions WHERE cause_id = :first_attempt;
-- The last attempt fails: one row per channel asking for failures.
SELECT pg_temp.finish('nt-both', 'failed', 2) AS final_attempt \gset
SELECT channel, recipients, subject, status, attempts, execution_id = :final_attempt AS of_final_run
  FROM jobconfig.notification_outbox ORDER BY channel;
-- A success notifies only the channels with onSuccess; a job without
-- notifications writes nothing; cancelled and skipped runs are silent.
SELECT pg_temp.finish('nt-both', 'succeeded', 1) IS NOT NULL AS recorded;
SELECT pg_temp.finish('nt-quiet', 'failed', 3) IS NOT NULL AS recorded;
SELECT pg_temp.finish('nt-both', 'cancelled', 1) IS NOT NULL AS recorded;
SELECT pg_temp.finish('nt-both', 'skipped', 1) IS NOT NULL AS recorded;
SELECT job_id, channel, subject FROM jobconfig.notification_outbox ORDER BY id;

-- What the messages say: the mail, plain text with the whole log
SELECT regexp_replace(body, 'Execution:  \d+', 'Execution:  (id)') AS body FROM jobconfig.notification_outbox WHERE channel = 'email' ORDER BY id LIMIT 1;
-- and Slack, with its markup escaped and the log's last lines in a code block.
SELECT regexp_replace(body, 'Execution:  \d+', 'Execution:  (id)') AS body FROM jobconfig.notification_outbox WHERE channel = 'slack' ORDER BY id LIMIT 1;
-- Without includeLogs, no log.
SELECT jobconfig.update_job('nt-both', payload => (SELECT jsonb_set(payload, '{notifications,includeLogs}', 'false')
                                                    FROM jobconfig.job_configs WHERE job_id = 'nt-both')) IS NOT NULL AS updated;
SELECT pg_temp.finish('nt-both', 'succeeded', 1) IS NOT NULL AS recorded;
SELECT regexp_replace(body, 'Execution:  \d+', 'Execution:  (id)') AS body FROM jobconfig.notification_outbox WHERE channel = 'email' ORDER BY id DESC LIMIT 1;
SELECT jobconfig.log_text('{"messages": [{"level": "WARNING", "message": "careful", "hint": "look"}], "commandTag": "DO"}');

-- The view lists what is not delivered yet; a delivered row leaves it.
UPDATE jobconfig.notification_outbox SET status = 'delivered', delivered_at = now()
 WHERE id = (SELECT min(id) FROM jobconfig.notification_outbox);
SELECT job_id, channel, status, attempts, next_attempt_at IS NOT NULL AS has_next_attempt
  FROM jobconfig.notification_deliveries ORDER BY id;
ROLLBACK;
SELECT count(*) AS outbox_rows_left FROM jobconfig.notification_outbox;

-- Where notifications may go: host names, "*.domain" or "*" (a server
-- setting: ALTER SYSTEM checks the value, a session cannot SET it).
ALTER SYSTEM SET jobconfig.notify_allowed_hosts = 'hooks.slack.com, *.example.com, 127.0.0.1';
ALTER SYSTEM SET jobconfig.notify_allowed_hosts = 'hooks.*.com';
ALTER SYSTEM SET jobconfig.notify_allowed_hosts = 'a,,b';
ALTER SYSTEM SET jobconfig.notify_allowed_hosts = '*.';
ALTER SYSTEM RESET jobconfig.notify_allowed_hosts;
SET jobconfig.notify_allowed_hosts = '*';

-- Settings a writer cannot change.
SET ROLE service_role;
SET jobconfig.webhook_max_bytes = '10MB';
SET jobconfig.notify_events = off;
-- Reading the SMTP password is refused (42501); PostgreSQL 16 reworded
-- that error, so the suite shows the code, the same on every version.
DO $$
BEGIN
    PERFORM current_setting('jobconfig.smtp_password');
    RAISE NOTICE 'smtp_password: readable';
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'smtp_password: refused (%)', SQLSTATE;
END $$;
RESET ROLE;

SELECT jobconfig.delete_job('nt-both'), jobconfig.delete_job('nt-quiet');
DELETE FROM jobconfig.notification_outbox;
