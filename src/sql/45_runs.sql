-- What happens when runs end (retries, downstream jobs), what a running job
-- can ask about itself, and what the workers report.  The workers call
-- these in the transaction that records a run's result.

-- The delay before the retry that follows failed attempt number "attempt":
-- min(initial x multiplier^(attempt-1), max), then +/-20% when jitter is on.
CREATE FUNCTION jobconfig.retry_delay(retry jsonb, attempt integer) RETURNS interval
    LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT pg_catalog.make_interval(secs =>
        least((retry ->> 'initialDelaySeconds')::float8
                * power((retry ->> 'backoffMultiplier')::float8, attempt - 1),
              (retry ->> 'maxDelaySeconds')::float8)
        * CASE WHEN (retry ->> 'jitter')::boolean THEN 0.8 + 0.4 * random() ELSE 1 END)
$$;
COMMENT ON FUNCTION jobconfig.retry_delay(jsonb, integer) IS
    'Delay before the retry of failed attempt number "attempt": min(initial x multiplier^(attempt-1), max), +/-20% with jitter';

-- After runs were recorded as ended: queue the retries their policy asks
-- for, the notifications of final runs, then the downstream runs of
-- dependency jobs whose condition now holds.  A run is final when it
-- succeeded, or failed or timed out with no retry left; only final runs
-- trigger downstream jobs.  Downstream jobs are locked first, so two
-- upstream runs ending at once cannot both miss that together they satisfy
-- a job waiting for "all".
CREATE FUNCTION jobconfig.finish_executions(execution_ids bigint[], final_ids bigint[] DEFAULT '{}') RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    any_failed boolean;
    any_notifying boolean;
    ended_jobs text[];
BEGIN
    -- Most batches hold only successes of jobs that notify no one and that
    -- nobody depends on: one look at the batch, then the lock of the
    -- downstream jobs finds none, done.  (The executors ask that first,
    -- without reading the runs back, and then do not call this at all:
    -- ExecutionFinishNeeded in execution_state.c, whose two conditions,
    -- which channels notify and which jobs are downstream, are these: a
    -- change here is a change there.)
    SELECT bool_or(e.status IN ('failed', 'timed_out')),
           bool_or(j.payload -> 'notifications' ?| ARRAY['email', 'slack']),
           array_agg(DISTINCT e.job_id)
      INTO any_failed, any_notifying, ended_jobs
      FROM jobconfig.job_executions e
      LEFT JOIN jobconfig.job_configs j ON j.id = e.job_config_id
     WHERE e.id = ANY (execution_ids);

    IF any_failed THEN
        INSERT INTO jobconfig.job_executions
            (job_config_id, job_id, trigger_source, attempt, status, priority,
             scheduled_for, input, cause_id, run_as)
        SELECT e.job_config_id, e.job_id, 'retry', e.attempt + 1, 'queued', j.priority,
               coalesce(e.finished_at, now())
                 + jobconfig.retry_delay(j.payload #> '{execution,retry}', e.attempt),
               e.input, e.id, j.run_as
          FROM jobconfig.job_executions e
          JOIN jobconfig.job_configs j ON j.id = e.job_config_id
         WHERE e.id = ANY (execution_ids)
           AND e.status IN ('failed', 'timed_out')
           AND e.id <> ALL (coalesce(final_ids, '{}'))
           AND j.enabled
           AND e.attempt < (j.payload #>> '{execution,retry,maxAttempts}')::integer;
    END IF;

    -- Final runs of jobs with notifications: their outbox rows, in this
    -- transaction (47_notifications.sql).
    IF any_notifying THEN
        PERFORM jobconfig.queue_notifications(execution_ids);
    END IF;

    PERFORM 1 FROM jobconfig.job_configs d
     WHERE d.depends_on && ended_jobs AND d.trigger_type = 'dependency' AND d.enabled
     ORDER BY d.id
       FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    -- mode "any": one downstream run per upstream run that satisfies "on".
    INSERT INTO jobconfig.job_executions
        (job_config_id, job_id, trigger_source, status, priority, input, cause_id, run_as)
    SELECT d.id, d.job_id, 'dependency', 'queued', d.priority,
           jsonb_build_object('upstream', jsonb_build_object(
               'jobId', f.job_id, 'executionId', f.id, 'status', f.status)),
           f.id, d.run_as
      FROM jobconfig.job_executions f
      JOIN jobconfig.job_configs d
        ON d.trigger_type = 'dependency' AND d.enabled AND d.depends_on @> ARRAY[f.job_id]
     WHERE f.id = ANY (execution_ids)
       AND d.payload #>> '{trigger,dependency,mode}' = 'any'
       AND jobconfig.run_is_final(f.id, f.status)
       AND jobconfig.outcome_matches(d.payload #>> '{trigger,dependency,on}', f.status)
     ORDER BY d.id, f.id;

    -- mode "all": one downstream run once every upstream job has a final
    -- run satisfying "on" that ended after the upstream run that caused
    -- the downstream's previous dependency run.
    INSERT INTO jobconfig.job_executions
        (job_config_id, job_id, trigger_source, status, priority, input, cause_id, run_as)
    SELECT DISTINCT ON (d.id)
           d.id, d.job_id, 'dependency', 'queued', d.priority,
           jsonb_build_object('upstream', jsonb_build_object(
               'jobId', f.job_id, 'executionId', f.id, 'status', f.status)),
           f.id, d.run_as
      FROM jobconfig.job_executions f
      JOIN jobconfig.job_configs d
        ON d.trigger_type = 'dependency' AND d.enabled AND d.depends_on @> ARRAY[f.job_id]
     WHERE f.id = ANY (execution_ids)
       AND d.payload #>> '{trigger,dependency,mode}' = 'all'
       AND jobconfig.run_is_final(f.id, f.status)
       AND jobconfig.outcome_matches(d.payload #>> '{trigger,dependency,on}', f.status)
       AND NOT EXISTS (
            SELECT FROM unnest(d.depends_on) AS upstream(job_id)
             WHERE NOT EXISTS (
                SELECT FROM jobconfig.job_executions u
                 WHERE u.job_config_id = (SELECT c.id FROM jobconfig.job_configs c
                                           WHERE c.job_id = upstream.job_id)
                   AND u.finished_at > coalesce(
                       (SELECT cause.finished_at
                          FROM jobconfig.job_executions p
                          JOIN jobconfig.job_executions cause ON cause.id = p.cause_id
                         WHERE p.job_config_id = d.id AND p.trigger_source = 'dependency'
                         ORDER BY p.id DESC LIMIT 1),
                       '-infinity')
                   AND jobconfig.outcome_matches(d.payload #>> '{trigger,dependency,on}', u.status)
                   AND jobconfig.run_is_final(u.id, u.status)))
     ORDER BY d.id, f.id;
END $$;
COMMENT ON FUNCTION jobconfig.finish_executions(bigint[], bigint[]) IS
    'Queue the retries, notifications and downstream runs that the ended runs call for, retrying none of final_ids (used by the workers)';

CREATE FUNCTION jobconfig.run_is_final(execution_id bigint, status text) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT status = 'succeeded'
        OR (status IN ('failed', 'timed_out')
            AND NOT EXISTS (SELECT FROM jobconfig.job_executions r
                             WHERE r.cause_id = execution_id AND r.trigger_source = 'retry'))
$$;
COMMENT ON FUNCTION jobconfig.run_is_final(bigint, text) IS
    'Whether a run has ended for good: it succeeded, or failed or timed out with no retry queued';

CREATE FUNCTION jobconfig.outcome_matches(wanted text, status text) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE wanted
        WHEN 'success' THEN status = 'succeeded'
        WHEN 'failure' THEN status IN ('failed', 'timed_out')
        ELSE status IN ('succeeded', 'failed', 'timed_out')
    END
$$;
COMMENT ON FUNCTION jobconfig.outcome_matches(text, text) IS
    'Whether a run''s status satisfies a dependency''s "on" (success, failure, completion)';

CREATE FUNCTION jobconfig.current_input() RETURNS jsonb
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'jobconfig_current_input';
COMMENT ON FUNCTION jobconfig.current_input() IS
    'Inside a running job: the input of its run (run_job''s input, the webhook body, the upstream run of a dependency); null elsewhere';

CREATE FUNCTION jobconfig.current_execution_id() RETURNS bigint
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'jobconfig_current_execution_id';
COMMENT ON FUNCTION jobconfig.current_execution_id() IS
    'Inside a running job: the id of its execution; null elsewhere';

CREATE FUNCTION jobconfig.scheduler_status() RETURNS jsonb
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'jobconfig_scheduler_status';
COMMENT ON FUNCTION jobconfig.scheduler_status() IS
    'This database''s scheduler, executors and notifier: pids, jobs held, configuration changes applied, runs in progress';

CREATE FUNCTION jobconfig.interrupt_at_commit(execution_id bigint) RETURNS boolean
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'jobconfig_interrupt_at_commit';
COMMENT ON FUNCTION jobconfig.interrupt_at_commit(bigint) IS
    'Whether an executor holds that execution, which this transaction asked to stop, still cancellable; if so it ends cancelled once this transaction commits (used by cancel_execution; refuses anything else)';

-- Statement-level, so a bulk insert costs one call: whatever was inserted
-- may be a queued run, and the idle executors look at commit.
CREATE FUNCTION jobconfig.wake_executors() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'jobconfig_wake_executors';
CREATE TRIGGER job_executions_wake_executors
    AFTER INSERT ON jobconfig.job_executions
    FOR EACH STATEMENT EXECUTE FUNCTION jobconfig.wake_executors();

-- CREATE EXTENSION wakes the launcher at commit, which starts this
-- database's scheduler: no restart needed.
CREATE FUNCTION jobconfig.announce_install() RETURNS void
    LANGUAGE c AS 'MODULE_PATHNAME', 'jobconfig_announce_install';
COMMENT ON FUNCTION jobconfig.announce_install() IS
    'Ask the launcher, at commit, to start this database''s scheduler (run by the install script)';
SELECT jobconfig.announce_install();
