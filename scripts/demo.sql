-- scripts/demo.sql: what scripts/demo.sh shows.
\pset footer off
\set SHOW_CONTEXT never

\echo '== Supabase-style roles: authenticated reads, service_role writes, app_worker runs the jobs'
CREATE ROLE anon NOLOGIN;
CREATE ROLE authenticated NOLOGIN;
CREATE ROLE service_role NOLOGIN;
CREATE ROLE app_worker NOLOGIN;
GRANT app_worker TO service_role;
CREATE TABLE public.events (id serial PRIMARY KEY, kind text, detail jsonb,
                            at timestamptz DEFAULT clock_timestamp());
GRANT ALL ON public.events, public.events_id_seq TO app_worker;
CREATE EXTENSION jobconfig;
SELECT pg_sleep(0.5);
SELECT backend_type, count(*) AS processes FROM pg_stat_activity
 WHERE backend_type LIKE 'jobconfig%' GROUP BY 1 ORDER BY 1;

\echo '== jobs of every trigger kind, created by service_role from minimal payloads'
SET ROLE service_role;
SELECT job_id, trigger_type, next_run_at FROM jsonb_populate_record(NULL::jobconfig.job_configs,
    jobconfig.create_job('heartbeat',
        '{"trigger": {"type": "schedule", "schedule": {"cron": "2 seconds"}},
          "execution": {"command": "INSERT INTO public.events (kind) VALUES (''heartbeat'')", "runAs": "app_worker"}}',
        '{"title": "Heartbeat", "description": "Every 2 seconds"}'));
SELECT job_id, trigger_type, next_run_at FROM jsonb_populate_record(NULL::jobconfig.job_configs,
    jobconfig.create_job('nightly-rollup',
        '{"trigger": {"type": "schedule", "schedule": {"cron": "30 2 * * *", "timezone": "Europe/Berlin"}},
          "execution": {"command": "INSERT INTO public.events (kind) VALUES (''rollup'')", "runAs": "app_worker",
                        "timeoutSeconds": 600},
          "notifications": {"email": {"recipients": ["ops@example.com"]}}}',
        '{"title": "Nightly rollup", "tags": ["etl"]}'));
SELECT job_id, trigger_type, webhook_path FROM jsonb_populate_record(NULL::jobconfig.job_configs,
    jobconfig.create_job('deploy-hook',
        ('{"trigger": {"type": "webhook", "webhook": {"path": "deploy-finished", "secret": "demo-secret-0123456789"}},
          "execution": {"command": "INSERT INTO public.events (kind, detail) VALUES (''deploy'', jobconfig.current_input())",
                        "runAs": "app_worker"},
          "notifications": {"slack": {"webhookUrl": "https://127.0.0.1:' || :'http_port' || '/services/T000/B000/XXXX",
                                      "onSuccess": true}}}')::jsonb));
-- A chain: extract (manual) -> transform -> load (dependency triggers).
SELECT jobconfig.create_job('extract',
    '{"execution": {"command": "INSERT INTO public.events (kind, detail) VALUES (''extract'', jobconfig.current_input()); DO $$BEGIN RAISE NOTICE ''extracted batch %'', jobconfig.current_input() ->> ''batch''; END$$",
                    "runAs": "app_worker"}}') ->> 'job_id' AS job_id;
SELECT jobconfig.create_job('transform',
    '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["extract"]}},
      "execution": {"command": "INSERT INTO public.events (kind, detail) VALUES (''transform'', jobconfig.current_input())", "runAs": "app_worker"}}') ->> 'job_id' AS job_id;
SELECT jobconfig.create_job('load',
    '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["transform"]}},
      "execution": {"command": "INSERT INTO public.events (kind) VALUES (''load'')", "runAs": "app_worker"}}') ->> 'job_id' AS job_id;
-- One that fails and retries with backoff (1 s, then 2 s), one that times
-- out; both alert by email and Slack once they have given up.
SELECT jobconfig.create_job('flaky',
    ('{"execution": {"command": "DO $$BEGIN RAISE NOTICE ''loading invoices''; PERFORM 1 / 0; END$$", "runAs": "app_worker",
                    "retry": {"maxAttempts": 3, "initialDelaySeconds": 1, "backoffMultiplier": 2, "jitter": false}},
      "notifications": {"email": {"recipients": ["ops@example.com", "oncall@example.com"]},
                        "slack": {"webhookUrl": "https://127.0.0.1:' || :'http_port' || '/services/T000/B000/ALERTS"}}}')::jsonb,
    '{"title": "Invoice import"}') ->> 'job_id' AS job_id;
SELECT jobconfig.create_job('too-slow',
    '{"execution": {"command": "SELECT pg_sleep(30)", "runAs": "app_worker", "timeoutSeconds": 2,
                    "retry": {"maxAttempts": 1}},
      "notifications": {"email": {"recipients": ["ops@example.com"]}}}') ->> 'job_id' AS job_id;

\echo '== what was stored: a minimal manual payload, completed with defaults'
SELECT jsonb_pretty(payload) AS load_payload FROM jobconfig.job_configs WHERE job_id = 'load';

\echo '== manual runs are queued; the executors start them at commit'
SELECT jobconfig.run_job('extract', '{"batch": 42}') AS extract_run,
       jobconfig.run_job('flaky') AS flaky_run,
       jobconfig.run_job('too-slow') AS slow_run;

\echo '== a broken payload is refused with every problem and its JSON path'
\set VERBOSITY default
\set ON_ERROR_STOP 0
SELECT jobconfig.create_job('broken', '{"trigger": {"type": "schedule", "schedule": {"cron": "61 * * * *", "timezone": "Mars/Olympus"}},
                                        "execution": {"command": "", "priority": 500, "retyr": {}}}');
\set ON_ERROR_STOP 1
RESET ROLE;

\echo '== a deploy pipeline calls the webhook as anon would through PostgREST: signed "timestamp.body"'
SET ROLE anon;
SELECT jobconfig.receive_webhook(path => 'deploy-finished', body => :'body',
                                 signature => :'signature', "timestamp" => :'ts') AS webhook_run;
\echo '== ... the same call replayed, and one with the body altered, are refused'
\set ON_ERROR_STOP 0
SELECT jobconfig.receive_webhook('deploy-finished', :'body', :'signature', :'ts');
SELECT jobconfig.receive_webhook('deploy-finished', replace(:'body', 'main', 'evil'), :'signature', :'ts');
\set ON_ERROR_STOP 1
RESET ROLE;

\echo '== apps can LISTEN to every state change of every run (channel jobconfig_events)'
LISTEN jobconfig_events;
SET ROLE service_role;
SELECT jobconfig.run_job('load') AS load_run;
RESET ROLE;
SELECT pg_sleep(0.5);
UNLISTEN jobconfig_events;

\echo '== ... 7 seconds later'
SELECT pg_sleep(7);

\echo '== notifications: written with each final run, delivered by the notifier (jobconfig.notification_outbox)'
SELECT job_id, channel, coalesce(array_to_string(recipients, ', '), '(the job''s Slack URL)') AS "to",
       subject, status, attempts, to_char(delivered_at, 'HH24:MI:SS.MS') AS delivered
  FROM jobconfig.notification_outbox ORDER BY id;

\echo '== the history (jobconfig.job_executions)'
SELECT id, job_id, attempt, trigger_source, cause_id, status,
       to_char(scheduled_for, 'HH24:MI:SS.MS') AS due, round(extract(epoch FROM duration)::numeric, 3) AS seconds,
       error
  FROM jobconfig.job_executions
 WHERE job_id <> 'heartbeat' OR id IN (SELECT id FROM jobconfig.job_executions WHERE job_id = 'heartbeat' ORDER BY id LIMIT 3)
 ORDER BY id;

\echo '== retries of flaky: each waits initialDelaySeconds x backoffMultiplier^(attempt-1) after the last'
SELECT e.attempt, round(extract(epoch FROM e.scheduled_for - c.finished_at)::numeric, 2) AS waited_seconds, e.status
  FROM jobconfig.job_executions e LEFT JOIN jobconfig.job_executions c ON c.id = e.cause_id
 WHERE e.job_id = 'flaky' ORDER BY e.attempt;

\echo '== the captured log of the extract run'
SELECT jsonb_pretty(log) AS extract_log FROM jobconfig.job_executions WHERE job_id = 'extract' ORDER BY id LIMIT 1;

\echo '== jobconfig.job_status, as authenticated (a reader: secrets redacted, nothing writable)'
SET ROLE authenticated;
SELECT job_id, trigger_summary, next_run_at, last_status, retry_policy, healthy
  FROM jobconfig.job_status ORDER BY job_id;
SELECT job_id, payload #>> '{trigger,webhook,secret}' AS webhook_secret,
       payload #>> '{notifications,slack,webhookUrl}' AS slack_url
  FROM jobconfig.job_configs WHERE job_id = 'deploy-hook';
RESET ROLE;

\echo '== the workers, in pg_stat_activity'
SELECT backend_type, state, left(query, 70) AS last_query FROM pg_stat_activity
 WHERE backend_type LIKE 'jobconfig%' ORDER BY backend_type;
