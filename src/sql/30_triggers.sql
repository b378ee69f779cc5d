-- The triggers that validate, complete and record every write to
-- jobconfig.job_configs, whatever path it takes, and keep non-writers out
-- of the tables they could otherwise reach (src/job_write.c).

CREATE FUNCTION jobconfig.check_writer() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'jobconfig_check_writer';
CREATE FUNCTION jobconfig.job_configs_before_write() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'jobconfig_job_configs_before_write';
CREATE FUNCTION jobconfig.job_configs_before_delete() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'jobconfig_job_configs_before_delete';

-- Refuse non-writers with a clear error, before row-level security would
-- quietly turn their UPDATE or DELETE into one that touches no row.
CREATE TRIGGER job_configs_check_writer
    BEFORE INSERT OR UPDATE OR DELETE ON jobconfig.job_configs
    FOR EACH STATEMENT EXECUTE FUNCTION jobconfig.check_writer('change jobs');
CREATE TRIGGER job_executions_check_writer
    BEFORE INSERT OR UPDATE OR DELETE ON jobconfig.job_executions
    FOR EACH STATEMENT EXECUTE FUNCTION jobconfig.check_writer('change executions');
CREATE TRIGGER job_configs_before_write
    BEFORE INSERT OR UPDATE ON jobconfig.job_configs
    FOR EACH ROW EXECUTE FUNCTION jobconfig.job_configs_before_write();
CREATE TRIGGER job_configs_before_delete
    BEFORE DELETE ON jobconfig.job_configs
    FOR EACH ROW EXECUTE FUNCTION jobconfig.job_configs_before_delete();

-- Every update of an execution keeps to the state diagram (src/README.md):
-- final rows never change (but for their links to a deleted job or cause),
-- and only jobconfig's workers start and end runs (src/execution_state.c).
-- ALWAYS: it fires in session_replication_role replica too.
CREATE FUNCTION jobconfig.execution_transition() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'jobconfig_execution_transition';
CREATE TRIGGER job_executions_transition
    BEFORE UPDATE ON jobconfig.job_executions
    FOR EACH ROW EXECUTE FUNCTION jobconfig.execution_transition();
ALTER TABLE jobconfig.job_executions ENABLE ALWAYS TRIGGER job_executions_transition;
