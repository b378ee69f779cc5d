-- The SQL API works without the library preloaded, but nothing fires until
-- it is: say so where the admin will see it.  (CREATE EXTENSION runs this
-- script with client_min_messages raised to warning; lower it for this one
-- message, for the rest of the script only.)
SET client_min_messages = notice;
DO $$
BEGIN
    IF NOT 'jobconfig' = ANY (pg_catalog.string_to_array(
            pg_catalog.replace(pg_catalog.current_setting('shared_preload_libraries'), ' ', ''), ','))
    THEN
        RAISE NOTICE 'jobconfig is installed, but jobs will not run until the library is preloaded'
            USING HINT = 'Add jobconfig to shared_preload_libraries in postgresql.conf and restart the server.';
    END IF;
END $$;
