-- changelog: every configuration change leaves a row saying who, when, and
-- the old and new value of each changed path; secrets never appear.
\set SHOW_CONTEXT never
\set VERBOSITY default

SET ROLE service_role;
SELECT jobconfig.create_job('log-job',
    '{"trigger": {"type": "webhook", "webhook": {"path": "log-path", "secret": "first-secret-123456"}},
      "execution": {"command": "SELECT 1"},
      "notifications": {"slack": {"webhookUrl": "https://hooks.slack.com/services/T0/B0/first"}}}',
    '{"title": "Log job"}') ->> 'job_id';
-- a change of two values and an added section
SELECT jobconfig.update_job('log-job',
    '{"trigger": {"type": "webhook", "webhook": {"path": "log-path", "secret": "********"}},
      "execution": {"command": "SELECT 2", "priority": 80},
      "notifications": {"slack": {"webhookUrl": "https://hooks.slack.com/********"},
                        "email": {"recipients": ["ops@example.com"]}}}') ->> 'job_id';
-- writing back what a reader sees changes nothing and leaves no row
SELECT jobconfig.update_job('log-job', (SELECT payload FROM jobconfig.job_configs WHERE job_id = 'log-job')) ->> 'job_id';
-- a rotated secret is recorded as changed, both values redacted
SELECT jobconfig.update_job('log-job',
    jsonb_set((SELECT payload FROM jobconfig.job_configs WHERE job_id = 'log-job'),
              '{trigger,webhook,secret}', '"second-secret-123456"'::jsonb)) ->> 'job_id';
-- a Slack URL moved to another host shows the hosts only
SELECT jobconfig.update_job('log-job',
    jsonb_set((SELECT payload FROM jobconfig.job_configs WHERE job_id = 'log-job'),
              '{notifications,slack,webhookUrl}', '"https://alerts.example.com/hook/token"'::jsonb)) ->> 'job_id';
SELECT jobconfig.set_job_enabled('log-job', false) ->> 'enabled' AS enabled;
SELECT jobconfig.update_job('log-job', meta => '{"title": "Renamed", "tags": ["nightly"]}') ->> 'job_id';
SELECT jobconfig.add_changelog_entry('log-job', 'Paused during the migration');
RESET ROLE;
SELECT jobconfig.delete_job('log-job');

SELECT action, changed_by, message, jsonb_pretty(changes) AS changes
  FROM jobconfig.job_changelog WHERE job_id = 'log-job' AND action <> 'created' ORDER BY id;
SELECT action, changed_by, jsonb_array_length(changes) AS entries,
       changes -> 0 ->> 'path' AS first_path, changes -> 0 -> 'old' IS NULL AS nothing_before
  FROM jobconfig.job_changelog WHERE job_id = 'log-job' AND action = 'created';
-- secrets in no changelog row
SELECT count(*) AS rows_with_secrets FROM jobconfig.job_changelog
 WHERE changes::text ~ '(first|second)-secret|services/T0|hook/token';
-- changed_at is the time of the change
SELECT bool_and(changed_at <= now()) AS times_ok FROM jobconfig.job_changelog WHERE job_id = 'log-job';

-- the changelog is append-only for writers: notes in their own name only
SET ROLE service_role;
INSERT INTO jobconfig.job_changelog (job_id, action, changes) VALUES ('log-job', 'updated', '[]');
INSERT INTO jobconfig.job_changelog (job_id, action, changed_by, message) VALUES ('log-job', 'note', 'postgres', 'forged');
UPDATE jobconfig.job_changelog SET message = 'rewritten';
DELETE FROM jobconfig.job_changelog;
RESET ROLE;
