-- setup: the extension, and the Supabase-style roles the security suites use.
-- Runs first; every other suite assumes what it creates.
SET client_min_messages = warning;
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END $$;
RESET client_min_messages;
-- Without the library preloaded, CREATE EXTENSION says with a NOTICE that
-- jobs will not run; with it, it says nothing and starts this database's
-- workers.  Both are right, so this suite has two expected outputs:
-- setup.out without the preload, setup_1.out with it; the last query ties
-- each to its case.
CREATE EXTENSION jobconfig;
SELECT extversion FROM pg_extension WHERE extname = 'jobconfig';
-- With the preload, wait (up to a minute) until the scheduler has loaded
-- the jobs, started its executors and gone to sleep after its first pass,
-- the one that deletes old history: every later suite then meets workers
-- that run rather than ones that start halfway through it, and the old
-- runs the api suite records are not deleted under it (the next pass is
-- ten minutes away).
CREATE FUNCTION pg_temp.workers_at_rest() RETURNS boolean LANGUAGE sql AS $$
    SELECT jobconfig.scheduler_status() ->> 'lastChangeAppliedAt' IS NOT NULL
       AND EXISTS (SELECT FROM pg_stat_activity
                    WHERE pid = (jobconfig.scheduler_status() ->> 'pid')::integer
                      AND wait_event_type = 'Extension')
$$;
DO $$
BEGIN
    FOR i IN 1 .. 600 LOOP
        EXIT WHEN NOT (jobconfig.scheduler_status() ->> 'preloaded')::boolean
               OR pg_temp.workers_at_rest();
        PERFORM pg_sleep(0.1);
        PERFORM pg_stat_clear_snapshot();
    END LOOP;
END $$;
SELECT jobconfig.scheduler_status() ->> 'preloaded' AS preloaded,
       pg_temp.workers_at_rest() AS workers_at_rest;
