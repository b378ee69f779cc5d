-- Row-level security and privileges.
--
-- The tables are granted to PUBLIC and every row is guarded by a policy that
-- asks jobconfig.current_role_can_read()/current_role_can_write(); those read
-- the settings jobconfig.reader_roles and jobconfig.writer_roles on each
-- query.  So the extension installs on a PostgreSQL without Supabase's
-- roles, roles created later count at once, and anon, PUBLIC and any other
-- role see no row and may change nothing.  (SELECT ...) around each call
-- makes it an InitPlan: evaluated once per query, not once per row.
--
-- Secrets live in job_secrets, readable by writers only; the payload that
-- readers see carries redacted placeholders.  The changelog, the secrets
-- and the outbox are written by jobconfig itself, as the extension's owner.

ALTER TABLE jobconfig.job_configs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobconfig.job_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobconfig.job_executions ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobconfig.job_changelog ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobconfig.notification_outbox ENABLE ROW LEVEL SECURITY;
-- No grant and no policy: only receive_webhook(), as the owner, uses it.
ALTER TABLE jobconfig.webhook_signatures ENABLE ROW LEVEL SECURITY;

GRANT USAGE ON SCHEMA jobconfig TO PUBLIC;

GRANT SELECT, INSERT, UPDATE, DELETE ON jobconfig.job_configs TO PUBLIC;
CREATE POLICY job_configs_read ON jobconfig.job_configs FOR SELECT
    USING ((SELECT jobconfig.current_role_can_read()));
CREATE POLICY job_configs_write ON jobconfig.job_configs FOR ALL
    USING ((SELECT jobconfig.current_role_can_write()))
    WITH CHECK ((SELECT jobconfig.current_role_can_write()));

GRANT SELECT ON jobconfig.job_secrets TO PUBLIC;
CREATE POLICY job_secrets_read ON jobconfig.job_secrets FOR SELECT
    USING ((SELECT jobconfig.current_role_can_write()));

GRANT SELECT, INSERT, UPDATE ON jobconfig.job_executions TO PUBLIC;
CREATE POLICY job_executions_read ON jobconfig.job_executions FOR SELECT
    USING ((SELECT jobconfig.current_role_can_read()));
CREATE POLICY job_executions_write ON jobconfig.job_executions FOR ALL
    USING ((SELECT jobconfig.current_role_can_write()))
    WITH CHECK ((SELECT jobconfig.current_role_can_write()));

-- Writers may add notes in their own name; everything else in the
-- changelog is written by the write trigger.
GRANT SELECT, INSERT ON jobconfig.job_changelog TO PUBLIC;
CREATE POLICY job_changelog_read ON jobconfig.job_changelog FOR SELECT
    USING ((SELECT jobconfig.current_role_can_read()));
CREATE POLICY job_changelog_note ON jobconfig.job_changelog FOR INSERT
    WITH CHECK ((SELECT jobconfig.current_role_can_write())
                AND action = 'note' AND changed_by = current_user);

GRANT SELECT ON jobconfig.notification_outbox TO PUBLIC;
CREATE POLICY notification_outbox_read ON jobconfig.notification_outbox FOR SELECT
    USING ((SELECT jobconfig.current_role_can_read()));

GRANT SELECT ON jobconfig.job_status TO PUBLIC;
GRANT SELECT ON jobconfig.notification_deliveries TO PUBLIC;

-- Functions.  PostgREST offers every function a role may execute as an RPC
-- endpoint, so nothing is executable by PUBLIC but the documented API (the
-- table in README, "SQL API", which t/022_function_surface.pl checks this
-- against) and the few internal functions that policies and API functions
-- call with their caller's rights; a function added later is internal
-- until it is listed here.  The API functions check the caller's role
-- themselves (require_reader, require_writer).  The workers, the install
-- script and the triggers need no grant: workers and the installer are
-- superusers, and a trigger's function is not checked when it fires.
-- Names without argument lists: jobconfig never overloads a name.
REVOKE EXECUTE ON ALL ROUTINES IN SCHEMA jobconfig FROM PUBLIC;

-- The API.
GRANT EXECUTE ON FUNCTION
    jobconfig.create_job, jobconfig.update_job, jobconfig.delete_job,
    jobconfig.set_job_enabled, jobconfig.toggle_job_enabled,
    jobconfig.run_job, jobconfig.cancel_execution,
    jobconfig.get_enabled_jobs, jobconfig.get_jobs_by_trigger,
    jobconfig.record_job_execution, jobconfig.get_job_execution_history,
    jobconfig.get_latest_job_executions, jobconfig.get_latest_execution_status,
    jobconfig.is_job_healthy, jobconfig.job_health,
    jobconfig.add_changelog_entry, jobconfig.payload_schema,
    jobconfig.receive_webhook, jobconfig.current_input,
    jobconfig.current_execution_id, jobconfig.scheduler_status,
    jobconfig.cron_next, jobconfig.cron_preview, jobconfig.cron_describe
    TO PUBLIC;

-- Internal, but called with the caller's rights, so executable by every
-- role; each tells or refuses only the caller, and changes nothing:
-- current_role_can_read/write (the policies above) say whether the caller
-- may read or write; require_reader/writer (every API function) refuse a
-- caller who may not; job_not_found (the API functions) only raises;
-- interrupt_at_commit (cancel_execution) refuses everyone but a writer
-- whose own transaction has just asked that running execution to stop.
GRANT EXECUTE ON FUNCTION
    jobconfig.current_role_can_read, jobconfig.current_role_can_write,
    jobconfig.require_reader, jobconfig.require_writer,
    jobconfig.job_not_found, jobconfig.interrupt_at_commit
    TO PUBLIC;
