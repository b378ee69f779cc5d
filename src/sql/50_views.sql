-- jobconfig.job_status: one row per job with what the seed's JobConfigCard
-- shows.  security_invoker, so the reader's own rights and row-level
-- security apply, as they would to the tables.

CREATE FUNCTION jobconfig.trigger_summary(job jobconfig.job_configs) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT CASE job.trigger_type
        WHEN 'schedule' THEN format('%s (%s, %s)', job.cron,
            jobconfig.cron_describe(job.cron), job.timezone)
        WHEN 'webhook' THEN format('webhook %s', job.webhook_path)
        WHEN 'dependency' THEN format('after %s %s (%s)',
            CASE job.payload #>> '{trigger,dependency,mode}' WHEN 'any' THEN 'any of' ELSE 'all of' END,
            array_to_string(job.depends_on, ', '),
            CASE job.payload #>> '{trigger,dependency,on}'
                WHEN 'success' THEN 'on success'
                WHEN 'failure' THEN 'on failure'
                ELSE 'on completion' END)
        ELSE 'manual'
    END
$$;
COMMENT ON FUNCTION jobconfig.trigger_summary(jobconfig.job_configs) IS
    'One line saying what starts a job: its schedule, webhook path, upstream jobs, or manual';

CREATE FUNCTION jobconfig.retry_summary(job jobconfig.job_configs) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN (r ->> 'maxAttempts')::integer <= 1 THEN 'no retries'
        ELSE format('up to %s attempts, %ss delay x%s, at most %ss%s',
                    r ->> 'maxAttempts', r ->> 'initialDelaySeconds',
                    r ->> 'backoffMultiplier', r ->> 'maxDelaySeconds',
                    CASE WHEN (r ->> 'jitter')::boolean THEN ', with jitter' ELSE '' END)
    END
    FROM (SELECT job.payload #> '{execution,retry}' AS r) AS policy
$$;
COMMENT ON FUNCTION jobconfig.retry_summary(jobconfig.job_configs) IS
    'One line describing a job''s retry policy';

CREATE VIEW jobconfig.job_status WITH (security_invoker = true) AS
SELECT j.job_id,
       j.meta ->> 'title' AS title,
       j.meta ->> 'description' AS description,
       j.trigger_type,
       jobconfig.trigger_summary(j) AS trigger_summary,
       j.enabled,
       j.cron AS schedule,
       j.timezone,
       j.next_run_at,
       last_run.status AS last_status,
       coalesce(last_run.finished_at, last_run.started_at, last_run.queued_at) AS last_run_at,
       last_run.duration AS last_duration,
       jobconfig.retry_summary(j) AS retry_policy,
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
