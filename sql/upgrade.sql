-- upgrade: at 1.0 there is nothing to upgrade to, and ALTER EXTENSION
-- UPDATE says so without touching anything; the extension drops and comes
-- back cleanly.
SELECT extversion FROM pg_extension WHERE extname = 'jobconfig';
SELECT count(*) AS objects_before FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid
 WHERE x.extname = 'jobconfig' AND d.deptype = 'e' \gset
ALTER EXTENSION jobconfig UPDATE;
ALTER EXTENSION jobconfig UPDATE TO '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'jobconfig';
SELECT count(*) = :objects_before AS same_objects FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid
 WHERE x.extname = 'jobconfig' AND d.deptype = 'e';
SELECT name, version, installed FROM pg_available_extension_versions WHERE name = 'jobconfig';

-- drop and create again, in a transaction so the other suites keep theirs.
-- CREATE EXTENSION says with a NOTICE that jobs will not run when the
-- library is not preloaded, and nothing when it is: this suite has two
-- expected outputs, upgrade.out without the preload and upgrade_1.out with
-- it, and this query ties each to its case.
SELECT jobconfig.scheduler_status() ->> 'preloaded' AS preloaded;
BEGIN;
DROP EXTENSION jobconfig;
SELECT count(*) AS schemas_left FROM pg_namespace WHERE nspname = 'jobconfig';
CREATE EXTENSION jobconfig;
SELECT jobconfig.create_job('upgrade-probe', '{"execution": {"command": "SELECT 1"}}') ->> 'job_id';
ROLLBACK;
