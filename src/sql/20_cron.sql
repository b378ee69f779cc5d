-- Cron schedules: next fire times, previews and plain-English descriptions.
--
-- The schedule syntax is pg_cron's (five fields, @keywords, '$' for the last
-- day of the month, "N seconds"), stricter where pg_cron silently accepts
-- nonsense; see docs/cron.md.  Time zones are names from pg_timezone_names.
--
-- cron_next and cron_preview are STABLE rather than IMMUTABLE: their answers
-- depend on the tz database on disk, which a package upgrade can change.
-- None is STRICT: a null argument, a given "after" or "timezone" included,
-- is refused (22004) rather than answered with null.  They read nothing
-- but their arguments and the tz database, so every role may call them,
-- anon included.

CREATE FUNCTION jobconfig.cron_next(schedule text,
                                    after timestamptz DEFAULT now(),
                                    timezone text DEFAULT 'UTC')
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'jobconfig_cron_next'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION jobconfig.cron_next(text, timestamptz, text) IS
'First fire time of a cron schedule strictly after "after", in the given IANA time zone; "N seconds" gives after + N s, @reboot gives NULL';

CREATE FUNCTION jobconfig.cron_preview(schedule text,
                                       count integer DEFAULT 10,
                                       after timestamptz DEFAULT now(),
                                       timezone text DEFAULT 'UTC')
RETURNS SETOF timestamptz
AS 'MODULE_PATHNAME', 'jobconfig_cron_preview'
LANGUAGE C STABLE PARALLEL SAFE
ROWS 10;

COMMENT ON FUNCTION jobconfig.cron_preview(text, integer, timestamptz, text) IS
'The next "count" (1-10000) fire times of a cron schedule after "after", in the given IANA time zone';

CREATE FUNCTION jobconfig.cron_describe(schedule text)
RETURNS text
AS 'MODULE_PATHNAME', 'jobconfig_cron_describe'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION jobconfig.cron_describe(text) IS
'A cron schedule in plain English, e.g. "At 04:05 on Monday through Friday"';
