-- security: what anon, authenticated (reader) and service_role (writer) may
-- see and do, secrets kept from readers, and runAs escalation refused.
\set SHOW_CONTEXT never
\set VERBOSITY default

-- Before the library is loaded in a session, anyone may set a placeholder
-- for jobconfig.* settings; the library must not honour one set by anon.
-- Where jobconfig is preloaded, the library is loaded in every session and
-- the SET fails at once (caught here); elsewhere the SET is accepted, and
-- the placeholder dropped with a WARNING (not shown) when the library
-- loads.  Either way anon sees no job and the setting keeps its value.
SET ROLE anon;
SET client_min_messages = error;
DO $$
BEGIN
    SET jobconfig.reader_roles = 'anon';
EXCEPTION WHEN insufficient_privilege THEN
    NULL;
END $$;
SELECT count(*) AS jobs_seen_by_anon FROM jobconfig.job_configs;
RESET client_min_messages;
SHOW jobconfig.reader_roles;
RESET ROLE;
\c
LOAD 'jobconfig';
SHOW jobconfig.reader_roles;
SHOW jobconfig.writer_roles;
-- the role settings are for superusers only
SET ROLE service_role;
SET jobconfig.writer_roles = 'anon';
RESET ROLE;

CREATE ROLE sec_app NOLOGIN;
CREATE ROLE sec_other NOLOGIN;
CREATE ROLE sec_admin NOLOGIN SUPERUSER;
GRANT sec_app TO service_role;

SELECT jobconfig.create_job('sec-hook',
    '{"trigger": {"type": "webhook", "webhook": {"path": "sec-path", "secret": "very-secret-value-1"}},
      "execution": {"command": "SELECT 1", "runAs": "sec_app"},
      "notifications": {"slack": {"webhookUrl": "https://hooks.slack.com/services/TSEC/BSEC/token"}}}') ->> 'job_id';
SELECT jobconfig.run_job('sec-hook') AS sec_run \gset
SELECT :sec_run > 0 AS queued;
-- With jobconfig preloaded, an executor runs it as sec_app at once: wait
-- (up to a minute) until it has ended, so nothing below races with it.
-- Without the preload it stays queued.
CREATE FUNCTION pg_temp.settled(run bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    s text;
BEGIN
    FOR i IN 1 .. 600 LOOP
        SELECT status INTO s FROM jobconfig.job_executions WHERE id = run;
        EXIT WHEN s NOT IN ('queued', 'running')
               OR NOT (jobconfig.scheduler_status() ->> 'preloaded')::boolean;
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN s;
END $$;
SELECT pg_temp.settled(:sec_run) = CASE WHEN (jobconfig.scheduler_status() ->> 'preloaded')::boolean
                                        THEN 'succeeded' ELSE 'queued' END AS run_as_expected;

-- anon: nothing at all
SET ROLE anon;
SELECT count(*) AS jobs FROM jobconfig.job_configs;
SELECT count(*) AS executions FROM jobconfig.job_executions;
SELECT count(*) AS changelog FROM jobconfig.job_changelog;
SELECT count(*) AS secrets FROM jobconfig.job_secrets;
SELECT count(*) AS outbox FROM jobconfig.notification_outbox;
SELECT count(*) AS status_rows FROM jobconfig.job_status;
SELECT * FROM jobconfig.get_enabled_jobs();
SELECT jobconfig.get_latest_execution_status('sec-hook');
SELECT jobconfig.payload_schema();
SELECT jobconfig.create_job('anon-job', '{"execution": {"command": "SELECT 1"}}');
SELECT jobconfig.run_job('sec-hook');
INSERT INTO jobconfig.job_configs (job_id, payload) VALUES ('anon-job', '{"execution": {"command": "SELECT 1"}}');
DELETE FROM jobconfig.job_configs;
SELECT jobconfig.current_role_can_read(), jobconfig.current_role_can_write();
RESET ROLE;

-- authenticated: reads jobs and history, never secrets, changes nothing
SET ROLE authenticated;
SELECT job_id, payload #> '{trigger,webhook,secret}' AS secret,
       payload #> '{notifications,slack,webhookUrl}' AS slack_url
  FROM jobconfig.job_configs WHERE job_id = 'sec-hook';
SELECT count(*) AS secrets_visible FROM jobconfig.job_secrets;
SELECT count(*) > 0 AS sees_history FROM jobconfig.job_executions WHERE job_id = 'sec-hook';
SELECT count(*) > 0 AS sees_changelog FROM jobconfig.job_changelog WHERE job_id = 'sec-hook';
SELECT count(*) AS rows_with_secrets FROM jobconfig.job_changelog WHERE changes::text ~ 'very-secret|TSEC';
SELECT job_id, trigger_type FROM jobconfig.job_status WHERE job_id = 'sec-hook';
SELECT job_id FROM jobconfig.get_jobs_by_trigger('webhook') WHERE job_id = 'sec-hook';
SELECT jobconfig.payload_schema() ->> '$schema' AS schema;
SELECT jobconfig.run_job('sec-hook');
SELECT jobconfig.set_job_enabled('sec-hook', false);
UPDATE jobconfig.job_configs SET payload = payload WHERE job_id = 'sec-hook';
DELETE FROM jobconfig.job_configs WHERE job_id = 'sec-hook';
UPDATE jobconfig.job_executions SET status = 'succeeded';
SELECT jobconfig.current_role_can_read(), jobconfig.current_role_can_write();
RESET ROLE;

-- service_role: writes, sees secrets, and may run jobs only as roles it is a member of
SET ROLE service_role;
SELECT webhook_secret, slack_webhook_url FROM jobconfig.job_secrets s
  JOIN jobconfig.job_configs j ON j.id = s.job_config_id WHERE j.job_id = 'sec-hook';
SELECT jobconfig.create_job('sec-own', '{"execution": {"command": "SELECT 1"}}') ->> 'run_as' AS default_run_as;
SELECT jobconfig.create_job('sec-app', '{"execution": {"command": "SELECT 1", "runAs": "sec_app"}}') ->> 'run_as' AS run_as;
-- escalation attempts
SELECT jobconfig.create_job('sec-esc1', '{"execution": {"command": "SELECT 1", "runAs": "postgres"}}');
SELECT jobconfig.create_job('sec-esc2', '{"execution": {"command": "SELECT 1", "runAs": "sec_admin"}}');
SELECT jobconfig.create_job('sec-esc3', '{"execution": {"command": "SELECT 1", "runAs": "sec_other"}}');
SELECT jobconfig.create_job('sec-esc4', '{"execution": {"command": "SELECT 1", "runAs": "authenticated"}}');
-- taking over a job that runs as a role the writer is not a member of
RESET ROLE;
SELECT jobconfig.create_job('sec-super', '{"execution": {"command": "SELECT 1", "runAs": "sec_other"}}') ->> 'run_as' AS run_as;
SET ROLE service_role;
SELECT jobconfig.update_job('sec-super', '{"execution": {"command": "DROP TABLE important", "runAs": "sec_other"}}');
UPDATE jobconfig.job_configs SET payload = jsonb_set(payload, '{execution,command}', '"SELECT 666"') WHERE job_id = 'sec-super';
-- nor can the derived run_as column be pointed elsewhere by hand
UPDATE jobconfig.job_configs SET run_as = 'sec_other' WHERE job_id = 'sec-own';
SELECT run_as FROM jobconfig.job_configs WHERE job_id = 'sec-own';
SELECT jobconfig.current_role_can_read(), jobconfig.current_role_can_write();
RESET ROLE;
SELECT payload #>> '{execution,command}' AS command_unchanged FROM jobconfig.job_configs WHERE job_id = 'sec-super';

-- the role settings decide, at once
SET jobconfig.reader_roles = 'sec_other';
SET ROLE authenticated;
SELECT count(*) AS jobs_after_reader_change FROM jobconfig.job_configs;
RESET ROLE;
SET ROLE sec_other;
SELECT count(*) > 0 AS new_reader_sees_jobs FROM jobconfig.job_configs;
RESET ROLE;
RESET jobconfig.reader_roles;
SET jobconfig.writer_roles = 'not_a_role, service_role';
SET ROLE service_role;
SELECT jobconfig.current_role_can_write() AS missing_roles_are_skipped;
RESET ROLE;
RESET jobconfig.writer_roles;

-- the one SECURITY DEFINER function, receive_webhook, pins search_path
SELECT p.proname, p.proconfig
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'jobconfig'
 WHERE p.prosecdef;

SELECT jobconfig.delete_job(j) FROM unnest(ARRAY['sec-hook', 'sec-own', 'sec-app', 'sec-super']) AS j;
REVOKE sec_app FROM service_role;
DROP ROLE sec_app, sec_other, sec_admin;
