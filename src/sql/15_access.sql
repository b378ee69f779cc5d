-- Who may read and write (src/access.c).  Readers and writers are named by
-- the settings jobconfig.reader_roles and jobconfig.writer_roles and looked
-- up on every call, so roles created after the extension count at once.

CREATE FUNCTION jobconfig.current_role_can_read() RETURNS boolean
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'jobconfig_current_role_can_read';
COMMENT ON FUNCTION jobconfig.current_role_can_read() IS
    'True when the current role may read jobs and history (a reader or a writer)';

CREATE FUNCTION jobconfig.current_role_can_write() RETURNS boolean
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'jobconfig_current_role_can_write';
COMMENT ON FUNCTION jobconfig.current_role_can_write() IS
    'True when the current role may create, change and run jobs';

CREATE FUNCTION jobconfig.require_reader(action text) RETURNS void
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'jobconfig_require_reader';
COMMENT ON FUNCTION jobconfig.require_reader(text) IS
    'Raise 42501 unless the current role may read; "action" completes "permission denied to ..."';

CREATE FUNCTION jobconfig.require_writer(action text) RETURNS void
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'jobconfig_require_writer';
COMMENT ON FUNCTION jobconfig.require_writer(text) IS
    'Raise 42501 unless the current role may write; "action" completes "permission denied to ..."';
