-- The SQL API: the seed's functions under their names, shaped for PostgREST
-- RPC (named arguments, jsonb in and out).  Every function runs with the
-- caller's rights (no SECURITY DEFINER): row-level security and the write
-- trigger apply to it exactly as to a direct INSERT or UPDATE, and each one
-- first refuses, with 42501, a role that is not a reader or a writer.
--
-- Nulls (src/README.md, "The function surface"): a required argument that
-- is null is refused with 22004, "<argument> must not be null", after the
-- rights check; so is a null optional argument whose default is a value.
-- An optional argument whose default is null takes null as "not given".
-- A null job_id matches no job, and job_not_found refuses it so.

-- A job is not found: the same error everywhere.  Executable by every
-- role, as the API functions that call it are: it reads nothing and only
-- raises.
CREATE FUNCTION jobconfig.job_not_found(job_id text) RETURNS void
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF job_id IS NULL THEN
        RAISE EXCEPTION 'job_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RAISE EXCEPTION 'job "%" does not exist', job_id
        USING ERRCODE = 'undefined_object',
              HINT = 'jobconfig.get_enabled_jobs() and the table jobconfig.job_configs list the jobs.';
END $$;
COMMENT ON FUNCTION jobconfig.job_not_found(text) IS
    'Raise the error for an unknown job id (42704), or for a null one (22004)';

CREATE FUNCTION jobconfig.create_job(job_id text, payload jsonb, meta jsonb DEFAULT '{}')
    RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    created jsonb;
BEGIN
    PERFORM jobconfig.require_writer('create jobs');
    IF create_job.job_id IS NULL THEN
        RAISE EXCEPTION 'job_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF create_job.payload IS NULL THEN
        RAISE EXCEPTION 'payload must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF create_job.meta IS NULL THEN
        RAISE EXCEPTION 'meta must not be null' USING ERRCODE = 'null_value_not_allowed',
              HINT = 'Leave it out for an empty meta, {}.';
    END IF;
    IF EXISTS (SELECT FROM jobconfig.job_configs j WHERE j.job_id = create_job.job_id) THEN
        RAISE EXCEPTION 'job "%" already exists', create_job.job_id
            USING ERRCODE = 'unique_violation',
                  HINT = 'Use jobconfig.update_job() to change it.';
    END IF;
    INSERT INTO jobconfig.job_configs AS j (job_id, payload, meta)
    VALUES (create_job.job_id, create_job.payload, create_job.meta)
    RETURNING to_jsonb(j) INTO created;
    RETURN created;
END $$;
COMMENT ON FUNCTION jobconfig.create_job(text, jsonb, jsonb) IS
    'Create a job from a payload; returns the stored job, defaults filled in';

CREATE FUNCTION jobconfig.update_job(job_id text, payload jsonb DEFAULT NULL, meta jsonb DEFAULT NULL)
    RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    updated jsonb;
BEGIN
    PERFORM jobconfig.require_writer('change jobs');
    IF update_job.payload IS NULL AND update_job.meta IS NULL THEN
        RAISE EXCEPTION 'update_job needs a payload or a meta to store'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE jobconfig.job_configs AS j
       SET payload = coalesce(update_job.payload, j.payload),
           meta = coalesce(update_job.meta, j.meta)
     WHERE j.job_id = update_job.job_id
    RETURNING to_jsonb(j) INTO updated;
    IF NOT FOUND THEN
        PERFORM jobconfig.job_not_found(update_job.job_id);
    END IF;
    RETURN updated;
END $$;
COMMENT ON FUNCTION jobconfig.update_job(text, jsonb, jsonb) IS
    'Replace a job''s payload and/or meta (absent keys get their defaults again); returns the stored job';

CREATE FUNCTION jobconfig.delete_job(job_id text) RETURNS boolean
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM jobconfig.require_writer('delete jobs');
    DELETE FROM jobconfig.job_configs AS j WHERE j.job_id = delete_job.job_id;
    IF NOT FOUND THEN
        PERFORM jobconfig.job_not_found(delete_job.job_id);
    END IF;
    RETURN true;
END $$;
COMMENT ON FUNCTION jobconfig.delete_job(text) IS
    'Delete a job; its queued runs are cancelled and its history kept';

CREATE FUNCTION jobconfig.set_job_enabled(job_id text, enabled boolean) RETURNS jsonb
    LANGUAGE plpgsql AS $$
DECLARE
    updated jsonb;
BEGIN
    PERFORM jobconfig.require_writer('enable or disable jobs');
    IF set_job_enabled.enabled IS NULL THEN
        RAISE EXCEPTION 'enabled must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    UPDATE jobconfig.job_configs AS j
       SET payload = pg_catalog.jsonb_set(j.payload, '{enabled}', pg_catalog.to_jsonb(set_job_enabled.enabled))
     WHERE j.job_id = set_job_enabled.job_id
    RETURNING to_jsonb(j) INTO updated;
    IF NOT FOUND THEN
        PERFORM jobconfig.job_not_found(set_job_enabled.job_id);
    END IF;
    RETURN updated;
END $$;
COMMENT ON FUNCTION jobconfig.set_job_enabled(text, boolean) IS
    'Enable or disable a job; returns the stored job';

CREATE FUNCTION jobconfig.toggle_job_enabled(job_id text) RETURNS jsonb
    LANGUAGE plpgsql AS $$
DECLARE
    currently boolean;
BEGIN
    PERFORM jobconfig.require_writer('enable or disable jobs');
    -- Locked, so two toggles at once flip twice rather than once.
    SELECT j.enabled INTO currently FROM jobconfig.job_configs AS j
     WHERE j.job_id = toggle_job_enabled.job_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM jobconfig.job_not_found(toggle_job_enabled.job_id);
    END IF;
    RETURN jobconfig.set_job_enabled(toggle_job_enabled.job_id, NOT currently);
END $$;
COMMENT ON FUNCTION jobconfig.toggle_job_enabled(text) IS
    'Flip a job between enabled and disabled; returns the stored job';

CREATE FUNCTION jobconfig.run_job(job_id text, input jsonb DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    job jobconfig.job_configs;
    execution_id bigint;
BEGIN
    PERFORM jobconfig.require_writer('run jobs');
    -- KEY SHARE: the job cannot be deleted before this transaction ends.
    SELECT * INTO job FROM jobconfig.job_configs AS j
     WHERE j.job_id = run_job.job_id FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM jobconfig.job_not_found(run_job.job_id);
    END IF;
    IF NOT job.enabled THEN
        RAISE EXCEPTION 'job "%" is disabled', job.job_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Enable it first: SELECT jobconfig.set_job_enabled(%L, true);', job.job_id);
    END IF;
    INSERT INTO jobconfig.job_executions
        (job_config_id, job_id, trigger_source, status, priority, scheduled_for, input, run_as)
    VALUES (job.id, job.job_id, 'manual', 'queued', job.priority, pg_catalog.now(), run_job.input, job.run_as)
    RETURNING id INTO execution_id;
    RETURN execution_id;
END $$;
COMMENT ON FUNCTION jobconfig.run_job(text, jsonb) IS
    'Queue a manual run of a job, with an optional input; returns the execution id';

CREATE FUNCTION jobconfig.cancel_execution(execution_id bigint) RETURNS boolean
    LANGUAGE plpgsql AS $$
DECLARE
    current_status text;
BEGIN
    PERFORM jobconfig.require_writer('cancel executions');
    IF cancel_execution.execution_id IS NULL THEN
        RAISE EXCEPTION 'execution_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT e.status INTO current_status FROM jobconfig.job_executions AS e
     WHERE e.id = cancel_execution.execution_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'execution % does not exist', cancel_execution.execution_id
            USING ERRCODE = 'undefined_object';
    END IF;
    IF current_status = 'queued' THEN
        UPDATE jobconfig.job_executions AS e
           SET status = 'cancelled', finished_at = pg_catalog.now(),
               error = format('cancelled by %s before it started', current_user)
         WHERE e.id = cancel_execution.execution_id;
        RETURN true;
    ELSIF current_status = 'running' THEN
        -- Only while an executor holds the run unsettled (claimed, or
        -- running and not yet past the end of its command): a run whose
        -- end is being recorded ends as it ended, and this says false.
        UPDATE jobconfig.job_executions AS e
           SET cancel_requested = true
         WHERE e.id = cancel_execution.execution_id;
        IF NOT jobconfig.interrupt_at_commit(cancel_execution.execution_id) THEN
            UPDATE jobconfig.job_executions AS e
               SET cancel_requested = false
             WHERE e.id = cancel_execution.execution_id;
            RETURN false;
        END IF;
        RETURN true;
    END IF;
    RETURN false;
END $$;
COMMENT ON FUNCTION jobconfig.cancel_execution(bigint) IS
    'Cancel a queued or running execution; true when it will end cancelled, false when it had already ended (or its end was being recorded)';

CREATE FUNCTION jobconfig.get_enabled_jobs() RETURNS SETOF jobconfig.job_configs
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM jobconfig.require_reader('list jobs');
    RETURN QUERY
        SELECT * FROM jobconfig.job_configs AS j
         WHERE j.enabled ORDER BY j.priority DESC, j.job_id;
END $$;
COMMENT ON FUNCTION jobconfig.get_enabled_jobs() IS
    'Enabled jobs, highest priority first';

CREATE FUNCTION jobconfig.get_jobs_by_trigger(trigger_type text) RETURNS SETOF jobconfig.job_configs
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM jobconfig.require_reader('list jobs');
    IF get_jobs_by_trigger.trigger_type IS NULL THEN
        RAISE EXCEPTION 'trigger_type must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF get_jobs_by_trigger.trigger_type NOT IN ('schedule', 'webhook', 'manual', 'dependency') THEN
        RAISE EXCEPTION 'unknown trigger type "%"', get_jobs_by_trigger.trigger_type
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Trigger types are schedule, webhook, manual and dependency.';
    END IF;
    RETURN QUERY
        SELECT * FROM jobconfig.job_configs AS j
         WHERE j.trigger_type = get_jobs_by_trigger.trigger_type
         ORDER BY j.priority DESC, j.job_id;
END $$;
COMMENT ON FUNCTION jobconfig.get_jobs_by_trigger(text) IS
    'Jobs with that trigger type (schedule, webhook, manual, dependency), enabled or not';

CREATE FUNCTION jobconfig.record_job_execution(
    job_id text,
    status text,
    started_at timestamptz DEFAULT NULL,
    finished_at timestamptz DEFAULT NULL,
    error text DEFAULT NULL,
    log jsonb DEFAULT NULL,
    input jsonb DEFAULT NULL,
    trigger_source text DEFAULT 'manual',
    attempt integer DEFAULT 1)
    RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    job jobconfig.job_configs;
    finished timestamptz := coalesce(record_job_execution.finished_at, pg_catalog.now());
    started timestamptz := coalesce(record_job_execution.started_at, finished);
    execution_id bigint;
BEGIN
    PERFORM jobconfig.require_writer('record executions');
    SELECT * INTO job FROM jobconfig.job_configs AS j
     WHERE j.job_id = record_job_execution.job_id FOR KEY SHARE;
    IF NOT FOUND THEN
        PERFORM jobconfig.job_not_found(record_job_execution.job_id);
    END IF;
    IF record_job_execution.status IS NULL THEN
        RAISE EXCEPTION 'status must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF record_job_execution.trigger_source IS NULL THEN
        RAISE EXCEPTION 'trigger_source must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF record_job_execution.attempt IS NULL THEN
        RAISE EXCEPTION 'attempt must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF record_job_execution.status
       NOT IN ('succeeded', 'failed', 'timed_out', 'cancelled', 'skipped') THEN
        RAISE EXCEPTION 'status "%" cannot be recorded', record_job_execution.status
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A recorded run has ended: succeeded, failed, timed_out, cancelled or skipped.';
    END IF;
    IF NOT (pg_catalog.isfinite(started) AND pg_catalog.isfinite(finished)) THEN
        RAISE EXCEPTION 'started_at and finished_at must be finite timestamps'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF started > finished THEN
        RAISE EXCEPTION 'started_at (%) is after finished_at (%)', started, finished
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF record_job_execution.trigger_source NOT IN ('schedule', 'webhook', 'manual', 'dependency', 'retry') THEN
        RAISE EXCEPTION 'unknown trigger source "%"', record_job_execution.trigger_source
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Trigger sources are schedule, webhook, manual, dependency and retry.';
    END IF;
    IF record_job_execution.attempt NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'attempt % is out of range (1-100)', record_job_execution.attempt
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO jobconfig.job_executions
        (job_config_id, job_id, trigger_source, attempt, status, priority,
         scheduled_for, queued_at, started_at, finished_at, input, log, error, recorded_by)
    VALUES (job.id, job.job_id, record_job_execution.trigger_source, record_job_execution.attempt,
            record_job_execution.status, job.priority, started, started, started, finished,
            record_job_execution.input, record_job_execution.log, record_job_execution.error,
            current_user)
    RETURNING id INTO execution_id;
    RETURN execution_id;
END $$;
COMMENT ON FUNCTION jobconfig.record_job_execution(text, text, timestamptz, timestamptz, text, jsonb, jsonb, text, integer) IS
    'Record a run made by an external runner; returns the execution id';

CREATE FUNCTION jobconfig.get_job_execution_history(job_id text, max_rows integer DEFAULT 10)
    RETURNS SETOF jobconfig.job_executions LANGUAGE plpgsql STABLE AS $$
DECLARE
    config_id uuid;
BEGIN
    PERFORM jobconfig.require_reader('read execution history');
    IF max_rows IS NULL THEN
        RAISE EXCEPTION 'max_rows must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF max_rows NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION 'max_rows % is out of range (1-10000)', max_rows
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT j.id INTO config_id FROM jobconfig.job_configs AS j
     WHERE j.job_id = get_job_execution_history.job_id;
    IF NOT FOUND THEN
        PERFORM jobconfig.job_not_found(get_job_execution_history.job_id);
    END IF;
    RETURN QUERY
        SELECT * FROM jobconfig.job_executions AS e
         WHERE e.job_config_id = config_id
         ORDER BY e.id DESC LIMIT max_rows;
END $$;
COMMENT ON FUNCTION jobconfig.get_job_execution_history(text, integer) IS
    'The latest executions of a job, newest first';

CREATE FUNCTION jobconfig.get_latest_job_executions() RETURNS SETOF jobconfig.job_executions
    LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM jobconfig.require_reader('read execution history');
    RETURN QUERY
        SELECT latest.* FROM jobconfig.job_configs AS j
        CROSS JOIN LATERAL (
            SELECT * FROM jobconfig.job_executions AS e
             WHERE e.job_config_id = j.id ORDER BY e.id DESC LIMIT 1) AS latest
        ORDER BY j.job_id;
END $$;
COMMENT ON FUNCTION jobconfig.get_latest_job_executions() IS
    'The latest execution of each job that has one, by job id';

CREATE FUNCTION jobconfig.get_latest_execution_status(job_id text) RETURNS text
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    config_id uuid;
    latest text;
BEGIN
    PERFORM jobconfig.require_reader('read execution history');
    SELECT j.id INTO config_id FROM jobconfig.job_configs AS j
     WHERE j.job_id = get_latest_execution_status.job_id;
    IF NOT FOUND THEN
        PERFORM jobconfig.job_not_found(get_latest_execution_status.job_id);
    END IF;
    SELECT e.status INTO latest FROM jobconfig.job_executions AS e
     WHERE e.job_config_id = config_id
     ORDER BY e.id DESC LIMIT 1;
    RETURN latest;
END $$;
COMMENT ON FUNCTION jobconfig.get_latest_execution_status(text) IS
    'Status of the latest execution of a job; null when it never ran';

CREATE FUNCTION jobconfig.job_health(job_id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    job jobconfig.job_configs;
    reasons text[] := '{}';
    last_final text;
    finished_count integer;
    succeeded_count integer;
    stuck_count integer;
BEGIN
    PERFORM jobconfig.require_reader('read job health');
    SELECT * INTO job FROM jobconfig.job_configs AS j WHERE j.job_id = job_health.job_id;
    IF NOT FOUND THEN
        PERFORM jobconfig.job_not_found(job_health.job_id);
    END IF;

    -- Runs that ended in success or failure; cancelled and skipped say
    -- nothing about the job's health.
    SELECT count(*), count(*) FILTER (WHERE r.status = 'succeeded'),
           (array_agg(r.status ORDER BY r.id DESC))[1]
      INTO finished_count, succeeded_count, last_final
      FROM (SELECT e.id, e.status FROM jobconfig.job_executions AS e
             WHERE e.job_config_id = job.id
               AND e.status IN ('succeeded', 'failed', 'timed_out')
             ORDER BY e.id DESC LIMIT 10) AS r;

    IF last_final IN ('failed', 'timed_out') THEN
        reasons := reasons || format('the last run %s', replace(last_final, '_', ' '));
    END IF;
    IF finished_count > 0 AND succeeded_count * 2 < finished_count THEN
        reasons := reasons || format('only %s of the last %s runs succeeded', succeeded_count, finished_count);
    END IF;

    SELECT count(*) INTO stuck_count FROM jobconfig.job_executions AS e
     WHERE e.job_config_id = job.id AND e.finished_at IS NULL AND e.status = 'running'
       AND e.started_at < pg_catalog.now()
           - make_interval(secs => (job.payload #>> '{execution,timeoutSeconds}')::integer + 60);
    IF stuck_count > 0 THEN
        reasons := reasons || 'a run has outlived its timeout by more than a minute'::text;
    END IF;

    IF job.enabled AND job.next_run_at < pg_catalog.now() - interval '5 minutes' THEN
        reasons := reasons || format('overdue: the slot at %s has not fired', job.next_run_at);
    END IF;

    RETURN jsonb_build_object('healthy', cardinality(reasons) = 0,
                              'reasons', to_jsonb(reasons),
                              'recentRuns', finished_count,
                              'recentSuccesses', succeeded_count);
END $$;
COMMENT ON FUNCTION jobconfig.job_health(text) IS
    'Whether a job is healthy, and why not: see is_job_healthy';

CREATE FUNCTION jobconfig.is_job_healthy(job_id text) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT (jobconfig.job_health(is_job_healthy.job_id) ->> 'healthy')::boolean
$$;
COMMENT ON FUNCTION jobconfig.is_job_healthy(text) IS
    'A job is healthy when its last finished run did not fail or time out, at least half of its last 10 finished runs succeeded, no run has outlived its timeout by a minute, and no schedule slot is more than 5 minutes overdue';

CREATE FUNCTION jobconfig.add_changelog_entry(job_id text, message text) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    config_id uuid;
    entry_id bigint;
BEGIN
    PERFORM jobconfig.require_writer('add changelog entries');
    IF add_changelog_entry.message IS NULL THEN
        RAISE EXCEPTION 'message must not be null' USING ERRCODE = 'null_value_not_allowed';
    ELSIF btrim(add_changelog_entry.message) = '' OR length(add_changelog_entry.message) > 4000 THEN
        RAISE EXCEPTION 'a changelog message must have 1 to 4000 characters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT j.id INTO config_id FROM jobconfig.job_configs AS j
     WHERE j.job_id = add_changelog_entry.job_id;
    IF NOT FOUND THEN
        PERFORM jobconfig.job_not_found(add_changelog_entry.job_id);
    END IF;
    INSERT INTO jobconfig.job_changelog (job_config_id, job_id, action, message)
    VALUES (config_id, add_changelog_entry.job_id, 'note', add_changelog_entry.message)
    RETURNING id INTO entry_id;
    RETURN entry_id;
END $$;
COMMENT ON FUNCTION jobconfig.add_changelog_entry(text, text) IS
    'Add a free-text note to a job''s changelog; returns its id';

CREATE FUNCTION jobconfig.payload_schema() RETURNS jsonb
    LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'jobconfig_payload_schema';
COMMENT ON FUNCTION jobconfig.payload_schema() IS
    'JSON Schema (draft 2020-12) of a job payload, generated from the validator''s own field table';
