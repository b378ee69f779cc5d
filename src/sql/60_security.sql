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
