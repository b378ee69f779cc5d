-- jobconfig.job_status: one row per job with what the seed's JobConfigCard
-- shows.  security_invoker, so the reader's own rights and row-level
-- security apply, as they would to the tables.  For the same reason every
-- function it calls runs as the reader: the one-line summaries of the
-- trigger and of the retry policy are written out here rather than as
-- helper functions, which every role would have to be allowed to call.

CREATE VIEW jobconfig.job_status WITH (security_invoker = true) AS
SELECT j.job_id,
       j.meta ->> 'title' AS title,
       j.meta ->> 'description' AS description,
       j.trigger_type,
       -- What starts the job: its schedule, webhook path, upstream jobs, or manual.
       CASE j.trigger_type
           WHEN 'schedule' THEN pg_catalog.format('%s (%s, %s)', j.cron,
               jobconfig.cron_describe(j.cron), j.timezone)
           WHEN 'webhook' THEN pg_catalog.format('webhook %s', j.webhook_path)
           WHEN 'dependency' THEN pg_catalog.format('after %s %s (%s)',
               CASE j.payload #>> '{trigger,dependency,mode}' WHEN 'any' THEN 'any of' ELSE 'all of' END,
               pg_catalog.array_to_string(j.depends_on, ', '),
               CASE j.payload #>> '{trigger,dependency,on}'
                   WHEN 'success' THEN 'on success'
                   WHEN 'failure' THEN 'on failure'
                   ELSE 'on completion' END)
           ELSE 'manual'
       END AS trigger_summary,
       j.enabled,
       j.cron AS schedule,
       j.timezone,
       j.next_run_at,
       last_run.status AS last_status,
       coalesce(last_run.finished_at, last_run.started_at, last_run.queued_at) AS last_run_at,
       last_run.duration AS last_duration,
       -- The retry policy in one line.
       CASE WHEN (j.payload #>> '{execution,retry,maxAttempts}')::integer <= 1 THEN 'no retries'
           ELSE pg_catalog.format('up to %s attempts, %ss delay x%s, at most %ss%s',
                    j.payload #>> '{execution,retry,maxAttempts}',
                    j.payload #>> '{execution,retry,initialDelaySeconds}',
                    j.payload #>> '{execution,retry,backoffMultiplier}',
                    j.payload #>> '{execution,retry,maxDelaySeconds}',
                    CASE WHEN (j.payload #>> '{execution,retry,jitter}')::boolean
                         THEN ', with jitter' ELSE '' END)
       END AS retry_policy,
       jobconfig.is_job_healthy(j.job_id) AS healthy,
       j.priority,
       j.meta -> 'tags' AS tags,
       j.id
  FROM jobconfig.job_configs AS j
  LEFT JOIN LATERAL (
        SELECT e.status, e.queued_at, e.started_at, e.finished_at, e.duration
          FROM jobconfig.job_executions AS e
         WHERE e.job_config_id = j.id
         ORDER BY e.id DESC LIMIT 1) AS last_run ON true;

COMMENT ON VIEW jobconfig.job_status IS
    'One row per job: trigger, schedule, next run, last run, retry policy and health';
