-- cron_parse: which schedules compile, and how the others are refused.
-- Accepted forms follow pg_cron; the refusals are where pg_cron is
-- silently wrong (see docs/cron.md).
\set VERBOSITY default
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- A refusal as a row: SQLSTATE, message and detail.
CREATE FUNCTION pg_temp.refusal(schedule text,
                                OUT code text, OUT message text,
                                OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM jobconfig.cron_describe(schedule);
    code := 'accepted';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE,
                            message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL;
END $$;

-- Accepted: everything pg_cron accepts, with what it means.
SELECT s AS schedule,
       jobconfig.cron_next(s, '2026-02-27 12:34:56+00') AS next_after_feb27,
       jobconfig.cron_describe(s) AS description
FROM unnest(ARRAY[
    '* * * * *',
    '*/5 * * * *',
    '0 4 * * 1-5',
    '5 4 * * MON-fri',
    '0,30 9-17/2 * * *',
    '1-59/2 * * * *',
    '0 0 1,15 * *',
    '0 0 29 2 *',
    '0 0 $ * *',
    '0 0 $ feb *',
    '0 12 * jan,Jul,DEC *',
    '0 0 * * 0',
    '0 0 * * 7',
    '0 0 * * sun',
    '0 0 * * sat-sun',
    '0 0 * * 5-7',
    '0 0 * * */2',
    '0 0 */10 * *',
    '00 05 * * *',
    '*,5 * * * *',
    '0 0 30 * *',
    '0 0 31 4 mon',
    '0	0	*	*	*',
    '   30 2 * * *   ',
    E'0 3 * * *\n',
    E'# nightly\n\n0 3 * * *',
    '@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight',
    '@hourly', '@reboot', '@restart', '@DAILY',
    '1 second', '1 seconds', '30 seconds', '59 SECONDS', ' 7 Second ',
    '10seconds', '+5 seconds', '05 seconds'
]) AS s;

-- Refused, as a table of SQLSTATE and detail.
SELECT s AS schedule, r.code, r.detail
FROM unnest(ARRAY[
    '',
    '   ',
    '# only a comment',
    '61 * * * *',
    '* 24 * * *',
    '* * 0 * *',
    '* * 32 * *',
    '* * * 0 *',
    '* * * 13 *',
    '* * * * 8',
    '99999999999999999999999999999999999999999999 * * * *',
    '4294967296 * * * *',
    '* * * *',
    '*',
    '* * * * * *',
    '0 0 * * * 2026',
    '0 0 * * * # nightly',
    '5-1 * * * *',
    '0 0 * * fri-mon',
    '0 0 * * 6-0',
    '*/0 * * * *',
    '*/60 * * * *',
    '0 */24 * * *',
    '0 0 * */13 *',
    '0 0 * * */8',
    '0-30/0 * * * *',
    '5/15 * * * *',
    '*/ * * * *',
    '1-* * * * *',
    '*-5 * * * *',
    '1,,2 * * * *',
    '1, * * * *',
    '5; * * * *',
    '5x * * * *',
    'mon * * * *',
    '0 0 * foo *',
    '0 0 * * monday',
    '0 0 * january *',
    '0 0 $1 * *',
    '0 0 1,$ * *',
    '0 0 L * *',
    '0 0 ? * *',
    E'0\n0 * * *',
    '0 0 30 2 *',
    '0 0 31 4 *',
    '0 0 31 2,4,6 *',
    '0 0 30-31 feb *',
    '0 0 31 4 */2',
    '@foo',
    '@',
    '@daily 0 0 * * *',
    '0 seconds',
    '60 seconds',
    '-5 seconds',
    '5 minutes',
    '5 sec',
    '5 seconds later'
]) AS s,
LATERAL pg_temp.refusal(s) AS r;

-- The message always quotes the schedule as given.
SELECT r.message FROM pg_temp.refusal(E'0 0 30 2 *') AS r;

-- The full error as a client sees it.
SELECT jobconfig.cron_next('61 * * * *', '2026-01-01 00:00+00');
SELECT jobconfig.cron_describe('* * * * * *');
SELECT jobconfig.cron_preview('0 0 30 2 *', 1, '2026-01-01 00:00+00');
SELECT jobconfig.cron_next('5-1 * * * *', '2026-01-01 00:00+00');
