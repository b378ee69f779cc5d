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
CREATE EXTENSION jobconfig;
SELECT extversion FROM pg_extension WHERE extname = 'jobconfig';
