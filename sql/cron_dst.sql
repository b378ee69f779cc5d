-- cron_dst: daylight-saving transitions.
--
-- Rules: a slot whose local time is skipped (spring forward) fires once, at
-- the first instant after the jump, and several skipped slots coalesce into
-- that one fire; when local time repeats (fall back), a schedule with a
-- fixed hour fires once, at the first occurrence, while one whose hour field
-- begins with '*' keeps firing in real time through both occurrences.
--
-- Each row shows the instant (UTC) and the local wall time and offset.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

CREATE FUNCTION pg_temp.fires(schedule text, after timestamptz, zone text,
                              n int)
RETURNS TABLE (utc timestamptz, local_time text)
LANGUAGE sql AS $$
    SELECT x, to_char(x AT TIME ZONE zone, 'YYYY-MM-DD HH24:MI') || ' ' ||
              to_char((x AT TIME ZONE zone) - (x AT TIME ZONE 'UTC'), 'HH24:MI')
    FROM jobconfig.cron_preview(schedule, n, after, zone) AS x
$$;

-- America/New_York, spring forward: 2026-03-08 02:00 EST -> 03:00 EDT
-- (07:00 UTC).  PostgreSQL itself maps the missing 02:30 to 07:30 UTC
-- (pre-transition offset); our rule fires at 07:00 UTC instead.
SELECT ('2026-03-08 02:30'::timestamp AT TIME ZONE 'America/New_York') AS postgres_reading;
SELECT * FROM pg_temp.fires('30 2 * * *', '2026-03-06 12:00+00', 'America/New_York', 4);
SELECT * FROM pg_temp.fires('*/20 * * * *', '2026-03-08 06:15+00', 'America/New_York', 6);
SELECT * FROM pg_temp.fires('0,30 2 * * *', '2026-03-08 00:00+00', 'America/New_York', 3);
SELECT * FROM pg_temp.fires('0 * * * *', '2026-03-08 04:30+00', 'America/New_York', 4);

-- America/New_York, fall back: 2026-11-01 02:00 EDT -> 01:00 EST
-- (06:00 UTC); 01:00-01:59 happens twice.  PostgreSQL maps 01:30 to the
-- later occurrence (06:30 UTC); a fixed-hour schedule fires at the first.
SELECT ('2026-11-01 01:30'::timestamp AT TIME ZONE 'America/New_York') AS postgres_reading;
SELECT * FROM pg_temp.fires('30 1 * * *', '2026-10-30 12:00+00', 'America/New_York', 4);
SELECT * FROM pg_temp.fires('*/30 * * * *', '2026-11-01 04:45+00', 'America/New_York', 7);
SELECT * FROM pg_temp.fires('*/30 1 * * *', '2026-11-01 04:45+00', 'America/New_York', 4);
-- Starting inside the second 01:xx, a fixed-hour schedule waits a day.
SELECT jobconfig.cron_next('45 1 * * *', '2026-11-01 06:10+00', 'America/New_York') AS fixed,
       jobconfig.cron_next('45 * * * *', '2026-11-01 06:10+00', 'America/New_York') AS wildcard;

-- Europe/Berlin, spring forward: 2026-03-29 02:00 CET -> 03:00 CEST
-- (01:00 UTC); fall back: 2026-10-25 03:00 CEST -> 02:00 CET (01:00 UTC).
SELECT * FROM pg_temp.fires('30 2 * * *', '2026-03-27 12:00+00', 'Europe/Berlin', 4);
SELECT * FROM pg_temp.fires('15,45 * * * *', '2026-03-29 00:20+00', 'Europe/Berlin', 5);
SELECT * FROM pg_temp.fires('30 2 * * *', '2026-10-23 12:00+00', 'Europe/Berlin', 4);
SELECT * FROM pg_temp.fires('15,45 * * * *', '2026-10-24 23:20+00', 'Europe/Berlin', 6);

-- Australia/Lord_Howe shifts by 30 minutes.  Spring forward:
-- 2026-10-04 02:00 +10:30 -> 02:30 +11:00 (2026-10-03 15:30 UTC).
SELECT * FROM pg_temp.fires('*/15 * * * *', '2026-10-03 15:05+00', 'Australia/Lord_Howe', 5);
SELECT * FROM pg_temp.fires('15 2 * * *', '2026-10-02 12:00+00', 'Australia/Lord_Howe', 3);
SELECT * FROM pg_temp.fires('0,15,45 2 * * *', '2026-10-03 12:00+00', 'Australia/Lord_Howe', 3);
-- Fall back: 2026-04-05 02:00 +11:00 -> 01:30 +10:30 (2026-04-04 15:00
-- UTC); 01:30-01:59 happens twice.
SELECT * FROM pg_temp.fires('*/15 * * * *', '2026-04-04 14:20+00', 'Australia/Lord_Howe', 7);
SELECT * FROM pg_temp.fires('45 1 * * *', '2026-04-03 12:00+00', 'Australia/Lord_Howe', 3);
SELECT * FROM pg_temp.fires('40 * * * *', '2026-04-04 13:00+00', 'Australia/Lord_Howe', 4);

-- A day-long gap: Pacific/Apia skipped 2011-12-30 entirely.
SELECT * FROM pg_temp.fires('0 12 * * *', '2011-12-28 12:00+00', 'Pacific/Apia', 3);
