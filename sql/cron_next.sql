-- cron_next and cron_preview: next fire times in UTC and fixed zones,
-- across month ends, leap years and the Vixie day-of-month/day-of-week
-- rule.  Every call passes "after" so the output never depends on now().
\set VERBOSITY default
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- Strictly after: a slot exactly at "after" is not returned.
SELECT jobconfig.cron_next('*/5 * * * *', '2026-01-01 00:05:00+00') AS on_slot,
       jobconfig.cron_next('*/5 * * * *', '2026-01-01 00:04:59.999999+00') AS just_before,
       jobconfig.cron_next('*/5 * * * *', '2026-01-01 00:05:00.000001+00') AS just_after;

-- Month and year ends.
SELECT s AS schedule, a AS after, jobconfig.cron_next(s, a) AS next
FROM (VALUES
    ('0 0 * * *',   timestamptz '2026-01-31 23:59+00'),
    ('59 23 * * *', '2026-12-31 23:59+00'),
    ('0 0 1 * *',   '2026-12-15 00:00+00'),
    ('0 0 31 * *',  '2026-04-01 00:00+00'),
    ('0 0 30 * *',  '2026-02-01 00:00+00'),
    ('0 0 $ * *',   '2026-04-30 00:00+00'),
    ('0 0 $ * *',   '2026-12-31 12:00+00'),
    ('0 12 * 2 *',  '2026-02-28 12:00+00')
) AS t(s, a);

-- Leap years: February 29 and '$' in February.
SELECT s AS schedule, x AS fires
FROM (VALUES ('0 0 29 2 *'), ('0 0 $ 2 *'), ('0 0 28 2 *')) AS t(s),
LATERAL jobconfig.cron_preview(s, 5, '2096-01-01 00:00+00') AS x;

-- 2100 is not a leap year: Feb 29 jumps from 2096 to 2104.
SELECT jobconfig.cron_next('0 0 29 2 *', '2096-03-01 00:00+00') AS after_2096;

-- The Vixie rule: if either day field begins with '*', both must match;
-- otherwise either may.  2026-03-13 is a Friday.
SELECT s AS schedule, array_agg(to_char(x, 'YYYY-MM-DD Dy') ORDER BY x) AS fires
FROM (VALUES
    ('0 0 13 * 5'),      -- day 13 OR any Friday
    ('0 0 13 * *'),      -- day 13 only
    ('0 0 * * 5'),       -- Fridays only
    ('0 0 */13 * 5'),    -- '*' first: days 1, 14, 27 that are Fridays
    ('0 0 13 * */5'),    -- '*' first: day 13 when Sunday or Friday
    ('0 0 $ * 1'),       -- last day OR any Monday
    ('0 0 1-31 * 5')     -- explicit 1-31 does not count as '*': every day
) AS t(s),
LATERAL jobconfig.cron_preview(s, 6, '2026-03-01 00:00+00') AS x
GROUP BY s ORDER BY s;

-- Names, Sunday as 0 and 7, weekend ranges.
SELECT s AS schedule, array_agg(to_char(x, 'Dy DD Mon') ORDER BY x) AS fires
FROM (VALUES ('0 9 * * mon-fri'), ('0 9 * * sat-sun'), ('0 9 * * 0,7'),
             ('0 9 1 jan,jul *'), ('0 9 * * fri-sun')) AS t(s),
LATERAL jobconfig.cron_preview(s, 5, '2026-03-01 00:00+00') AS x
GROUP BY s ORDER BY s;

-- Seconds intervals count from "after"; @reboot has no next time.
SELECT jobconfig.cron_next('30 seconds', '2026-01-01 00:00:10.5+00') AS thirty,
       jobconfig.cron_next('1 second', '2026-01-01 23:59:59+00') AS one,
       jobconfig.cron_next('@reboot', '2026-01-01 00:00+00') AS reboot;
SELECT x FROM jobconfig.cron_preview('20 seconds', 4, '2026-01-01 00:00:00+00') AS x;
SELECT count(*) AS reboot_rows FROM jobconfig.cron_preview('@reboot', 5, '2026-01-01 00:00+00');

-- @yearly fires (pg_cron's never does since 1.6.0).
SELECT x FROM jobconfig.cron_preview('@yearly', 3, '2026-06-01 00:00+00') AS x;

-- Zones: wall-clock slots in the zone, returned as instants.
SELECT z AS zone, jobconfig.cron_next('30 2 * * *', '2026-07-01 00:00+00', z) AS next
FROM unnest(ARRAY['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata',
                  'Australia/Lord_Howe', 'Pacific/Chatham', 'Etc/GMT+3',
                  'europe/BERLIN']) AS z;

-- Defaults: UTC zone, count 10, after now().
SELECT count(*) AS ten FROM jobconfig.cron_preview('* * * * *');
SELECT jobconfig.cron_next('* * * * *') > now() AS in_future;
SELECT jobconfig.cron_next('0 0 * * *', '2026-01-01 12:00+00') AS default_zone;

-- Named arguments, PostgREST style.
SELECT jobconfig.cron_next(schedule => '0 8 * * *',
                           after => '2026-01-01 12:00+00',
                           timezone => 'Europe/Berlin') AS named;

-- Far away: the search ends at the edge of the timestamptz range.
SELECT jobconfig.cron_next('0 0 29 2 *', '294276-01-01 00:00+00') AS last_leap_day,
       jobconfig.cron_next('0 0 1 1 *', '294276-06-01 00:00+00') AS beyond_range;
SELECT jobconfig.cron_next('0 0 1 1 *', '4713-11-25 00:00+00 BC') AS near_start;

-- NULLs are refused, naming the argument, a given "after" or "timezone"
-- included: none of the functions is STRICT, which would answer null.
SELECT jobconfig.cron_next(NULL, '2026-01-01');
SELECT jobconfig.cron_next('* * * * *', NULL);
SELECT jobconfig.cron_next('* * * * *', '2026-01-01', NULL);
SELECT * FROM jobconfig.cron_preview('* * * * *', NULL);
SELECT jobconfig.cron_describe(NULL);

-- Errors: unknown zones (and POSIX specs, which are not zone names),
-- infinite "after", bad counts.
SELECT jobconfig.cron_next('* * * * *', '2026-01-01', 'Mars/Olympus_Mons');
SELECT jobconfig.cron_next('* * * * *', '2026-01-01', 'UTC+3');
SELECT jobconfig.cron_next('* * * * *', '2026-01-01', '');
SELECT jobconfig.cron_next('* * * * *', 'infinity');
SELECT jobconfig.cron_preview('* * * * *', 0, '2026-01-01');
SELECT jobconfig.cron_preview('* * * * *', 10001, '2026-01-01');
SELECT count(*) AS max_count FROM jobconfig.cron_preview('* * * * *', 10000, '2026-01-01');

-- The zone names accepted are exactly pg_timezone_names', in any case.
SELECT count(*) AS unaccepted
FROM pg_timezone_names
WHERE jobconfig.cron_next('* * * * *', '2026-01-01', upper(name)) IS NULL;
