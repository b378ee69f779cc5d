-- cron_crosscheck: cron_preview against an independent brute-force
-- reference, on random schedules around real DST transitions.
--
-- The reference knows nothing of the engine: it gets the field values as
-- arrays (the schedule text is written from them), walks every minute
-- instant through PostgreSQL's own UTC-to-local conversion (which is
-- unambiguous in that direction), and applies the rules as stated:
--   * an instant fires when its local time matches, unless that local time
--     was already seen (the clocks went back) and the hour field is fixed;
--   * an instant also fires when the local times skipped since the previous
--     minute (the clocks went forward) contain a match.
-- Every fire in a six-hour window after "after" must agree.
SET timezone = 'UTC';
SELECT setseed(0.20260329);

-- A random field: NULL for '*', else 1-4 distinct values in low..high.
CREATE FUNCTION pg_temp.random_field(low int, high int, star_percent int)
RETURNS int[] LANGUAGE sql AS $$
    SELECT CASE WHEN random() * 100 < star_percent THEN NULL ELSE
        (SELECT array_agg(DISTINCT low + floor(random() * (high - low + 1))::int)
         FROM generate_series(1, 1 + floor(random() * 4)::int))
    END
$$;

-- Transitions to start near (UTC is a control).
CREATE TEMP TABLE transitions (zone text, at timestamptz);
INSERT INTO transitions VALUES
    ('UTC', '2026-03-08 07:00+00'),
    ('America/New_York', '2026-03-08 07:00+00'),
    ('America/New_York', '2026-11-01 06:00+00'),
    ('Europe/Berlin', '2026-03-29 01:00+00'),
    ('Europe/Berlin', '2026-10-25 01:00+00'),
    ('Australia/Lord_Howe', '2026-04-04 15:00+00'),
    ('Australia/Lord_Howe', '2026-10-03 15:30+00'),
    ('Pacific/Chatham', '2026-04-04 14:00+00');

-- The cases: random fields, "after" from 5 hours before a transition to
-- 1 hour after it, at a random second.
CREATE TEMP TABLE cases AS
SELECT i, t.zone,
       t.at + (random() * 6 - 5) * interval '1 hour' AS after,
       pg_temp.random_field(0, 59, 25) AS minutes,
       pg_temp.random_field(0, 23, 40) AS hours,
       CASE WHEN random() < 0.1 THEN true ELSE false END AS last_day,
       pg_temp.random_field(1, 31, 70) AS days,
       pg_temp.random_field(0, 6, 60) AS weekdays
FROM generate_series(1, 1600) AS i
JOIN (SELECT row_number() OVER () - 1 AS n, * FROM transitions) AS t
  ON t.n = i % 8;
UPDATE cases SET days = NULL WHERE last_day;

ALTER TABLE cases ADD COLUMN schedule text;
UPDATE cases SET schedule = concat_ws(' ',
    coalesce(array_to_string(minutes, ','), '*'),
    coalesce(array_to_string(hours, ','), '*'),
    CASE WHEN last_day THEN '$' ELSE coalesce(array_to_string(days, ','), '*') END,
    '*',
    coalesce(array_to_string(weekdays, ','), '*'));

-- Does local time w match case c?  The Vixie rule: when either day field
-- is '*' both must match, otherwise either may.
CREATE FUNCTION pg_temp.matches(c cases, w timestamp) RETURNS boolean
LANGUAGE sql AS $$
    SELECT (c.minutes IS NULL OR extract(minute FROM w)::int = ANY (c.minutes))
       AND (c.hours IS NULL OR extract(hour FROM w)::int = ANY (c.hours))
       AND CASE WHEN (c.days IS NULL AND NOT c.last_day) OR c.weekdays IS NULL
                THEN day_ok AND weekday_ok
                ELSE day_ok OR weekday_ok END
    FROM (SELECT (c.days IS NULL AND NOT c.last_day)
                 OR extract(day FROM w)::int = ANY (c.days)
                 OR (c.last_day AND extract(day FROM w + interval '1 day') = 1)
                 AS day_ok,
                 c.weekdays IS NULL
                 OR extract(dow FROM w)::int = ANY (c.weekdays) AS weekday_ok) AS d
$$;

-- Every minute instant from 2 hours before "after" (to know which local
-- times were already seen) to 6 hours after it.
CREATE TEMP TABLE walk AS
SELECT c.i, m AS instant, m AT TIME ZONE c.zone AS local_time
FROM cases AS c,
     generate_series(date_trunc('minute', c.after) - interval '2 hours',
                     c.after + interval '6 hours', interval '1 minute') AS m;

CREATE TEMP TABLE expected AS
SELECT w.i, w.instant
FROM (SELECT *,
             max(local_time) OVER (PARTITION BY i ORDER BY instant
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS seen,
             lag(local_time) OVER (PARTITION BY i ORDER BY instant) AS previous
      FROM walk) AS w
JOIN cases AS c USING (i)
WHERE w.instant > c.after
  AND ((pg_temp.matches(c, w.local_time)
        AND (w.local_time > w.seen OR c.hours IS NULL))
       OR (w.local_time - w.previous > interval '1 minute'
           AND EXISTS (SELECT
                       FROM generate_series(w.previous + interval '1 minute',
                                            w.local_time - interval '1 minute',
                                            interval '1 minute') AS skipped
                       WHERE pg_temp.matches(c, skipped))));

CREATE TEMP TABLE actual AS
SELECT c.i, x AS instant
FROM cases AS c,
     jobconfig.cron_preview(c.schedule, 400, c.after, c.zone) AS x
WHERE x <= c.after + interval '6 hours';

CREATE TEMP TABLE compared AS
SELECT coalesce(e.i, a.i) AS i, e.instant AS reference, a.instant AS cron_preview
FROM expected AS e FULL JOIN actual AS a USING (i, instant);

-- Per zone: cases, fires compared, and disagreements (must be 0).
SELECT c.zone, count(*) AS cases, sum(r.fires) AS reference_fires,
       sum(r.disagreements) AS disagreements
FROM cases AS c,
LATERAL (SELECT count(reference) AS fires,
                count(*) FILTER (WHERE reference IS NULL
                                    OR cron_preview IS NULL) AS disagreements
         FROM compared WHERE compared.i = c.i) AS r
GROUP BY c.zone ORDER BY c.zone;

-- Any disagreement in detail (expected: none).
SELECT c.schedule, c.zone, c.after, x.reference, x.cron_preview
FROM compared AS x JOIN cases AS c USING (i)
WHERE x.reference IS NULL OR x.cron_preview IS NULL
ORDER BY 1, 2, 3 LIMIT 10;
