-- validation: every rule of the payload, meta and job id checks, each with
-- its message; a refused write changes nothing.
\set SHOW_CONTEXT never
\pset format unaligned
\pset tuples_only on

-- refusal(job_id, payload, meta): 'accepted', or the SQLSTATE, then the
-- detail (one problem per line).  Either way the write is rolled back with
-- the function's subtransaction, so cases do not see each other.
CREATE FUNCTION pg_temp.refusal(job_id text, payload jsonb, meta jsonb DEFAULT '{}')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text;
    detail text;
BEGIN
    PERFORM jobconfig.create_job(job_id, payload, meta);
    RAISE EXCEPTION 'accepted' USING ERRCODE = 'JC000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL;
    IF state = 'JC000' THEN
        RETURN 'accepted';
    END IF;
    RETURN state || E'\n' || detail;
END $$;

-- A minimal valid payload to break one key at a time.
CREATE FUNCTION pg_temp.ok() RETURNS jsonb LANGUAGE sql
    AS $$ SELECT '{"execution": {"command": "SELECT 1"}}'::jsonb $$;

SELECT count(*) AS jobs_before FROM jobconfig.job_configs \gset
SELECT count(*) AS changelog_before FROM jobconfig.job_changelog \gset

-- The document itself
SELECT pg_temp.refusal('v', '[]');
SELECT pg_temp.refusal('v', '"a string"');
SELECT pg_temp.refusal('v', 'null');
SELECT pg_temp.refusal('v', '{}');
SELECT pg_temp.refusal('v', '{"execution": {}}');

-- Unknown keys, with and without a suggestion
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"enabeld": true}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "timeout": 30}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "Priority": 30}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"owner": "me"}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"we\"ird key\n": 1}');

-- Wrong types
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"enabled": "yes"}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": "manual"}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "priority": "high"}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "timeoutSeconds": 1.5}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "retry": {"jitter": 1}}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "retry": []}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": ["SELECT 1"]}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": null}}');

-- Job ids
SELECT pg_temp.refusal('Bad Id', pg_temp.ok());
SELECT pg_temp.refusal('-leading-dash', pg_temp.ok());
SELECT pg_temp.refusal(repeat('a', 64), pg_temp.ok());
-- create_job refuses a null job_id itself (22004); a write by another path
-- meets the trigger's check.
SELECT pg_temp.refusal(NULL, pg_temp.ok());
INSERT INTO jobconfig.job_configs (job_id, payload) VALUES (NULL, pg_temp.ok());

-- Trigger types and their sections
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "cronjob"}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "schedule"}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "webhook"}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "dependency"}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "manual", "schedule": {"cron": "@daily"}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"schedule": {"cron": "@daily"}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "schedule", "schedule": {"cron": "@daily", "every": 5}}}');

-- Schedules: cron through the cron engine, time zones from PostgreSQL's tz database
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "schedule", "schedule": {"cron": "61 * * * *"}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "schedule", "schedule": {"cron": "* * * * * *"}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "schedule", "schedule": {"cron": ""}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "schedule", "schedule": {"cron": "@daily", "timezone": "Mars/Olympus"}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "schedule", "schedule": {"cron": "@daily", "timezone": "UTC+3"}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "schedule", "schedule": {"cron": "@daily", "timezone": 1}}}');

-- Commands
SELECT pg_temp.refusal('v', '{"execution": {"command": ""}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "  \n\t "}}');
SELECT pg_temp.refusal('v', jsonb_build_object('execution', jsonb_build_object('command', repeat('x', 1000001))));

-- Numbers out of range
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "priority": -1}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "priority": 101}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "timeoutSeconds": 0}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "timeoutSeconds": 86401}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "timeoutSeconds": 1e300}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "retry": {"maxAttempts": 0}}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "retry": {"maxAttempts": 101}}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "retry": {"backoffMultiplier": 0.5}}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "retry": {"backoffMultiplier": 10.5}}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "retry": {"initialDelaySeconds": -1}}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "retry": {"maxDelaySeconds": 0}}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "retry": {"initialDelaySeconds": 600, "maxDelaySeconds": 60}}}');

-- Ranges and integers are decided on the exact decimal value (jsonb numbers
-- are numeric), never on a double that rounds it; each problem names its
-- path and the value as written
SELECT pg_temp.refusal('v', pg_temp.ok() || p::jsonb) FROM (VALUES
    ('{"execution": {"command": "SELECT 1", "retry": {"backoffMultiplier": 10.0000000000000000000000000001}}}'),
    ('{"execution": {"command": "SELECT 1", "retry": {"backoffMultiplier": 0.99999999999999999999999999999}}}'),
    ('{"execution": {"command": "SELECT 1", "priority": 5.0000000000000000001}}'),
    ('{"execution": {"command": "SELECT 1", "priority": 100.000000000000000001}}'),
    ('{"execution": {"command": "SELECT 1", "priority": -0.0000000000000000001}}'),
    ('{"execution": {"command": "SELECT 1", "timeoutSeconds": 1e400}}'),
    ('{"execution": {"command": "SELECT 1", "timeoutSeconds": -1e400}}'),
    ('{"execution": {"command": "SELECT 1", "timeoutSeconds": 1e-400}}'),
    ('{"execution": {"command": "SELECT 1", "timeoutSeconds": 86400.0000000000000000000000000000000000000001}}'),
    ('{"execution": {"command": "SELECT 1", "retry": {"maxAttempts": 9223372036854775808}}}'),
    ('{"trigger": {"type": "webhook", "webhook": {"path": "num-path", "secret": "0123456789abcdef", "toleranceSeconds": 86400.00000000000000001}}}'),
    ('{"history": {"retentionDays": 36500.000000000000000001}}')) AS cases(p);
-- and exactly at the bounds they are accepted, integers stored plainly
-- (-0 as 0, 1e2 as 100, 86400.000 as 86400), numbers as written
BEGIN;
SELECT jsonb_pretty(jobconfig.create_job('val-num', '{"execution": {"command": "SELECT 1", "priority": 1e2, "timeoutSeconds": 86400.0000000000000000000000000,
    "retry": {"maxAttempts": 1.000, "initialDelaySeconds": -0, "maxDelaySeconds": 6048e2, "backoffMultiplier": 10.0000000000000000000000000000}}}') #> '{payload,execution}');
SELECT jobconfig.create_job('val-num2', '{"execution": {"command": "SELECT 1", "priority": -0.0, "retry": {"initialDelaySeconds": -0e5, "backoffMultiplier": 1.00000000000000000000000000000000000000000000000000001}}}') #> '{payload,execution,retry}' ->> 'backoffMultiplier' AS multiplier,
       jobconfig.create_job('val-num3', '{"execution": {"command": "SELECT 1", "priority": -0.0}}') #>> '{payload,execution,priority}' AS priority;
ROLLBACK;

-- Allowed values
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "concurrency": "sometimes"}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "missedRuns": "never"}}');

-- runAs: an existing role the writer is a member of
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "runAs": "no_such_role"}}');
SELECT pg_temp.refusal('v', '{"execution": {"command": "SELECT 1", "runAs": ""}}');

-- Dependencies: existing jobs, no duplicates, no cycle
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "dependency", "dependency": {"jobIds": []}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["missing-job"]}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["Not A Slug", 7]}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["v"]}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["a", "a"], "on": "done", "mode": "some"}}}');
SELECT jobconfig.create_job('val-a', pg_temp.ok()) ->> 'job_id';
SELECT jobconfig.create_job('val-b', pg_temp.ok() || '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["val-a"]}}}') ->> 'job_id';
SELECT jobconfig.create_job('val-c', pg_temp.ok() || '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["val-b"]}}}') ->> 'job_id';
SELECT pg_temp.refusal('val-d', pg_temp.ok() || '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["val-c", "val-a"], "mode": "any"}}}');
-- closing the loop val-a -> val-c -> val-b -> val-a is refused, naming the cycle
\set VERBOSITY default
\pset tuples_only off
\pset format aligned
UPDATE jobconfig.job_configs
   SET payload = payload || '{"trigger": {"type": "dependency", "dependency": {"jobIds": ["val-c"]}}}'
 WHERE job_id = 'val-a';
\pset format unaligned
\pset tuples_only on

-- Notifications
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"notifications": {"email": {"recipients": ["bob", "bob@", "@example.com", "a b@example.com", "Bob <bob@example.com>", "ops@localhost", "ops@example.com\r\nBcc: x@example.com"]}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"notifications": {"email": {"recipients": []}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"notifications": {"email": {"onFailure": true}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"notifications": {"slack": {"webhookUrl": "http://hooks.slack.com/services/T/B/secret-token"}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"notifications": {"slack": {"webhookUrl": "https://"}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"notifications": {"slack": {"webhookUrl": "https://user:pw@hooks.example.com/x"}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"notifications": {"slack": {"webhookUrl": "https://hooks.example.com/a b"}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"notifications": {"includeLogs": "yes", "sms": {}}}');

-- Webhooks: a path names one job; the secret is long enough and real
SELECT jobconfig.create_job('val-hook', pg_temp.ok() || '{"trigger": {"type": "webhook", "webhook": {"path": "val-deploy", "secret": "0123456789abcdef"}}}') ->> 'job_id';
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "webhook", "webhook": {"path": "val-deploy", "secret": "0123456789abcdef"}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "webhook", "webhook": {"path": "../etc", "secret": "short"}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "webhook", "webhook": {"path": "new-path", "secret": "********"}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "webhook", "webhook": {"path": "new-path", "secret": "0123456789abcdef", "toleranceSeconds": 0}}}');
-- one signature scheme per job: "timestamp" (the default) or "body", and
-- a tolerance only for the timestamped one
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "webhook", "webhook": {"path": "new-path", "secret": "0123456789abcdef", "signature": "both"}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "webhook", "webhook": {"path": "new-path", "secret": "0123456789abcdef", "signature": "Body"}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "webhook", "webhook": {"path": "new-path", "secret": "0123456789abcdef", "signature": null}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "webhook", "webhook": {"path": "new-path", "secret": "0123456789abcdef", "signature": "body", "toleranceSeconds": 300}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "webhook", "webhook": {"path": "new-path", "secret": "0123456789abcdef", "signature": "timestamp", "toleranceSeconds": 60}}}');
SELECT pg_temp.refusal('v', pg_temp.ok() || '{"trigger": {"type": "webhook", "webhook": {"path": "new-path", "secret": "0123456789abcdef", "signature": "body"}}}');

-- Meta
SELECT pg_temp.refusal('v', pg_temp.ok(), '{"title": 5, "colour": "red", "tags": ["a", "a", ""]}');
SELECT pg_temp.refusal('v', pg_temp.ok(), '[]');

-- Every problem at once, first one in the message
\set VERBOSITY default
\pset tuples_only off
\pset format aligned
SELECT jobconfig.create_job('Bad Id', '{"trigger": {"type": "schedule", "schedule": {"cron": "61 * * * *", "timezone": "Nowhere/Land"}}, "execution": {"command": "", "priority": 500, "retry": {"maxAttempts": "3"}}, "extra": true}');
-- A direct INSERT goes through the same checks
INSERT INTO jobconfig.job_configs (job_id, payload) VALUES ('direct', '{"execution": {"command": "SELECT 1", "priority": 500}}');

-- Nothing was written by any refused write: only the four jobs created on
-- purpose, and their four changelog rows, are new
SELECT count(*) - :jobs_before AS new_jobs FROM jobconfig.job_configs;
SELECT count(*) - :changelog_before AS new_changelog_rows FROM jobconfig.job_changelog;
SELECT count(*) AS secrets_rows FROM jobconfig.job_secrets;

-- Clean up (dependents first)
SELECT jobconfig.delete_job(j) FROM unnest(ARRAY['val-c', 'val-b', 'val-a', 'val-hook']) AS j;
