-- Notifications: the messages written to the outbox when a run ends for
-- good, the wake-up of the notifier that delivers them (src/notifier.c),
-- the NOTIFY channel jobconfig_events, and the view of undelivered
-- notifications.

-- A run's captured log (src/run_log.c) as plain text, one message per line.
CREATE FUNCTION jobconfig.log_text(log jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.concat_ws(E'\n',
        (SELECT pg_catalog.string_agg(
                    pg_catalog.concat(m ->> 'level', ': ', m ->> 'message',
                                      E'\nDETAIL:  ' || (m ->> 'detail'),
                                      E'\nHINT:  ' || (m ->> 'hint')),
                    E'\n' ORDER BY n)
           FROM pg_catalog.jsonb_array_elements(log -> 'messages') WITH ORDINALITY AS t(m, n)),
        CASE WHEN (log ->> 'droppedMessages')::integer > 0
             THEN pg_catalog.format('(%s more messages dropped: the log reached jobconfig.log_max_bytes)',
                                    log ->> 'droppedMessages') END,
        'command tag: ' || (log ->> 'commandTag'),
        CASE WHEN log ? 'error'
             THEN pg_catalog.concat('ERROR ', log #>> '{error,sqlstate}', ': ', log #>> '{error,message}',
                                    E'\nDETAIL:  ' || (log #>> '{error,detail}'),
                                    E'\nHINT:  ' || (log #>> '{error,hint}'),
                                    E'\nCONTEXT:  ' || (log #>> '{error,context}')) END)
$$;
COMMENT ON FUNCTION jobconfig.log_text(jsonb) IS
    'A run''s captured log as text: its messages, command tag and error';

-- Slack reads &, < and > as markup: text from a job goes in escaped.
CREATE FUNCTION jobconfig.slack_escape(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
               value, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')
$$;
COMMENT ON FUNCTION jobconfig.slack_escape(text) IS
    'Text with &, < and > escaped as Slack message markup requires';

-- What a notification of a finished run says.  Slack gets its own markup
-- (and only the log's last lines: a Slack message is short); the mail is
-- plain text with the whole captured log, which jobconfig.log_max_bytes
-- bounds.
CREATE FUNCTION jobconfig.notification_message(
        channel text, run jobconfig.job_executions, job jobconfig.job_configs,
        OUT subject text, OUT body text)
    LANGUAGE sql STABLE AS $$
    SELECT parts.subject,
           CASE channel
               WHEN 'slack' THEN pg_catalog.concat_ws(E'\n',
                   '*' || jobconfig.slack_escape(parts.subject) || '*',
                   jobconfig.slack_escape(parts.summary),
                   E'Log (last lines):\n```\n' || jobconfig.slack_escape(pg_catalog."right"(parts.log, 2500)) || E'\n```')
               ELSE pg_catalog.concat_ws(E'\n\n', parts.summary, E'Log:\n' || parts.log)
           END
      FROM (SELECT pg_catalog.format('[jobconfig] %s %s', run.job_id,
                                     pg_catalog.replace(run.status, '_', ' ')) AS subject,
                   pg_catalog.concat_ws(E'\n',
                       pg_catalog.format('Job:        %s%s', run.job_id,
                                         ' (' || nullif(job.meta ->> 'title', run.job_id) || ')'),
                       pg_catalog.format('Status:     %s (attempt %s of %s)', run.status, run.attempt,
                                         job.payload #>> '{execution,retry,maxAttempts}'),
                       pg_catalog.format('Trigger:    %s', run.trigger_source),
                       'Started:    ' || pg_catalog.to_char(run.started_at AT TIME ZONE 'UTC',
                                                            'YYYY-MM-DD HH24:MI:SS "UTC"'),
                       'Duration:   ' || pg_catalog.round(EXTRACT(epoch FROM run.duration), 3) || ' s',
                       'Error:      ' || run.error,
                       pg_catalog.format('Execution:  %s', run.id)) AS summary,
                   CASE WHEN (job.payload #>> '{notifications,includeLogs}')::boolean
                        THEN jobconfig.log_text(run.log) END AS log) AS parts
$$;
COMMENT ON FUNCTION jobconfig.notification_message(text, jobconfig.job_executions, jobconfig.job_configs) IS
    'Subject and body of the notification of a finished run, for a channel (email or slack)';

-- Called by finish_executions in the transaction that records runs' ends:
-- one outbox row per final run and channel that asks for it (onFailure for
-- failed and timed-out runs whose retries are exhausted, onSuccess for
-- successes).  Cancelled and skipped runs notify no one.
CREATE FUNCTION jobconfig.queue_notifications(execution_ids bigint[]) RETURNS void
    LANGUAGE sql AS $$
    INSERT INTO jobconfig.notification_outbox
        (execution_id, job_config_id, job_id, channel, recipients, subject, body)
    SELECT e.id, e.job_config_id, e.job_id, c.channel,
           CASE c.channel WHEN 'email' THEN
               ARRAY(SELECT pg_catalog.jsonb_array_elements_text(c.settings -> 'recipients')) END,
           m.subject, m.body
      FROM jobconfig.job_executions e
      JOIN jobconfig.job_configs j ON j.id = e.job_config_id
     CROSS JOIN LATERAL (VALUES ('email', j.payload #> '{notifications,email}'),
                                ('slack', j.payload #> '{notifications,slack}')) AS c(channel, settings)
     CROSS JOIN LATERAL jobconfig.notification_message(c.channel, e, j) AS m
     WHERE e.id = ANY (execution_ids)
       AND c.settings IS NOT NULL
       AND CASE WHEN e.status = 'succeeded' THEN (c.settings ->> 'onSuccess')::boolean
                WHEN e.status IN ('failed', 'timed_out') THEN (c.settings ->> 'onFailure')::boolean
                ELSE false END
       AND jobconfig.run_is_final(e.id, e.status)
     ORDER BY e.id, c.channel
$$;
COMMENT ON FUNCTION jobconfig.queue_notifications(bigint[]) IS
    'Write the outbox rows of the ended runs that are final and whose job asks to hear of them (used by the workers)';

-- New rows wake the notifier at commit.
CREATE FUNCTION jobconfig.wake_notifier() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'jobconfig_wake_notifier';
CREATE TRIGGER notification_outbox_wake_notifier
    AFTER INSERT ON jobconfig.notification_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION jobconfig.wake_notifier();

-- Every state change of an execution, on NOTIFY channel jobconfig_events
-- (src/events.c): {"executionId", "jobId", "status", "attempt", "triggerSource"}.
CREATE FUNCTION jobconfig.execution_event() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'jobconfig_execution_event';
CREATE TRIGGER job_executions_event_insert
    AFTER INSERT ON jobconfig.job_executions
    FOR EACH ROW EXECUTE FUNCTION jobconfig.execution_event();
CREATE TRIGGER job_executions_event_status
    AFTER UPDATE OF status ON jobconfig.job_executions
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION jobconfig.execution_event();

-- Notifications not delivered (yet): pending ones with their next attempt,
-- failed ones with why.  security_invoker: readers see what the outbox's
-- row-level security lets them see.
CREATE VIEW jobconfig.notification_deliveries WITH (security_invoker = true) AS
SELECT o.id,
       o.job_id,
       o.execution_id,
       o.channel,
       o.recipients,
       o.subject,
       o.status,
       o.attempts,
       CASE WHEN o.status = 'pending' THEN o.next_attempt_at END AS next_attempt_at,
       o.last_attempt_at,
       o.last_error,
       o.delivery_log,
       o.created_at
  FROM jobconfig.notification_outbox AS o
 WHERE o.status IN ('pending', 'failed');
COMMENT ON VIEW jobconfig.notification_deliveries IS
    'Notifications pending or failed: attempts, next attempt, last error and the log of every attempt';
