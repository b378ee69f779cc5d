-- scripts/demo.sql: what scripts/demo.sh shows.
\pset footer off
\set SHOW_CONTEXT never

\echo '== Supabase-style roles: authenticated reads, service_role writes'
CREATE ROLE anon NOLOGIN;
CREATE ROLE authenticated NOLOGIN;
CREATE ROLE service_role NOLOGIN;
CREATE ROLE app_worker NOLOGIN;
GRANT app_worker TO service_role;
CREATE EXTENSION jobconfig;
CREATE TABLE public.rollups (day date PRIMARY KEY, events bigint);
GRANT ALL ON public.rollups TO app_worker;

\echo '== a job of each trigger kind, as service_role, from minimal payloads'
SET ROLE service_role;
SELECT job_id, trigger_type, next_run_at FROM jsonb_populate_record(NULL::jobconfig.job_configs,
    jobconfig.create_job('nightly-rollup',
        '{"trigger": {"type": "schedule", "schedule": {"cron": "30 2 * * *", "timezone": "Europe/Berlin"}},
          "execution": {"command": "INSERT INTO public.rollups VALUES (current_date, 0) ON CONFLICT DO NOTHING",
                        "runAs": "app_worker", "timeoutSeconds": 600},
          "notifications": {"email": {"recipients": ["ops@example.com"]}}}',
        '{"title": "Nightly rollup", "description": "Aggregates yesterday''s events", "tags": ["etl"]}'));
SELECT job_id, trigger_type, webhook_path FROM jsonb_populate_record(NULL::jobconfig.job_configs,
    jobconfig.create_job('deploy-hook',
        '{"trigger": {"type": "webhook", "webhook": {"path": "deploy-finished", "secret": "demo-secret-0123456789"}},
          "execution": {"command": "SELECT pg_notify(''deploys'', ''done'')", "runAs": "app_worker"},
          "notifications": {"slack": {"webhookUrl": "https://hooks.slack.com/services/T000/B000/XXXX"}}}'));
SELECT job_id, trigger_type FROM jsonb_populate_record(NULL::jobconfig.job_configs,
    jobconfig.create_job('backfill', '{"execution": {"command": "SELECT count(*) FROM public.rollups", "runAs": "app_worker"}}'));
SELECT job_id, trigger_type, depends_on FROM jsonb_populate_record(NULL::jobconfig.job_configs,
    jobconfig.create_job('report',
        '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["nightly-rollup", "backfill"], "mode": "any"}},
          "execution": {"command": "SELECT max(day) FROM public.rollups", "runAs": "app_worker", "priority": 80}}'));

\echo '== what was stored: the minimal manual payload, completed with defaults'
SELECT jsonb_pretty(payload) AS backfill_payload FROM jobconfig.job_configs WHERE job_id = 'backfill';

\echo '== a manual run is queued'
SELECT jobconfig.run_job('backfill', '{"requestedBy": "demo"}') AS execution_id;

\echo '== a broken payload is refused with every problem and its JSON path'
\set VERBOSITY default
\set ON_ERROR_STOP 0
SELECT jobconfig.create_job('broken', '{"trigger": {"type": "schedule", "schedule": {"cron": "61 * * * *", "timezone": "Mars/Olympus"}},
                                        "execution": {"command": "", "priority": 500, "retyr": {}}}');
\set ON_ERROR_STOP 1
RESET ROLE;

\echo '== jobconfig.job_status, as authenticated (a reader: secrets redacted, nothing writable)'
SET ROLE authenticated;
SELECT job_id, title, trigger_summary, enabled, next_run_at, last_status, retry_policy, healthy
  FROM jobconfig.job_status ORDER BY job_id;
SELECT job_id, payload #>> '{trigger,webhook,secret}' AS webhook_secret,
       payload #>> '{notifications,slack,webhookUrl}' AS slack_url
  FROM jobconfig.job_configs WHERE job_id = 'deploy-hook';
RESET ROLE;

\echo '== the changelog'
SELECT job_id, action, changed_by, jsonb_array_length(changes) AS changes FROM jobconfig.job_changelog ORDER BY id;
