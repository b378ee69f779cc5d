-- payload_schema: the JSON Schema a UI builds its form from.  (t/ checks
-- it against stored and broken payloads with a real JSON Schema validator.)
SELECT s ->> '$schema' AS dialect, s ->> 'type' AS type, s -> 'required' AS required,
       s -> 'additionalProperties' AS additional
  FROM jobconfig.payload_schema() AS s;
SELECT jsonb_pretty(jobconfig.payload_schema() #> '{properties,execution,properties,retry}');
SELECT jsonb_pretty(jobconfig.payload_schema() #> '{properties,trigger,allOf}');
SELECT jsonb_pretty(jobconfig.payload_schema() #> '{properties,trigger,properties,webhook}');
SELECT jsonb_pretty(jobconfig.payload_schema() #> '{properties,notifications,properties,email,properties,recipients}');
-- every zone of the server's tz database, in the spelling the validator stores
SELECT jobconfig.payload_schema() #> '{properties,trigger,properties,schedule,properties,timezone,enum}' ? 'Europe/Berlin' AS has_berlin,
       jsonb_array_length(jobconfig.payload_schema() #> '{properties,trigger,properties,schedule,properties,timezone,enum}')
         = (SELECT count(*) FROM pg_timezone_names) AS all_zones;
-- the cron pattern accepts what the engine accepts and catches the common mistakes
WITH p AS (SELECT jobconfig.payload_schema() #>> '{properties,trigger,properties,schedule,properties,cron,pattern}' AS re)
SELECT c AS cron, c ~ p.re AS pattern_accepts
  FROM p, unnest(ARRAY['*/5 * * * *', '0 4 * * 1-5', '30 2 * * *', '0 0 $ * *', '0 0 1,15 jan-jun MON',
                       '@hourly', '@reboot', '30 seconds', '61 * * * *', '* * * * * *', '0 24 * * *', 'every day']) AS c;
-- every form the engine accepts (the list of sql/cron_parse.sql) matches the
-- pattern, so a stored payload is always valid under the schema
WITH p AS (SELECT jobconfig.payload_schema() #>> '{properties,trigger,properties,schedule,properties,cron,pattern}' AS re)
SELECT s AS accepted_but_not_matched
  FROM p, unnest(ARRAY[
    '* * * * *', '*/5 * * * *', '0 4 * * 1-5', '5 4 * * MON-fri', '0,30 9-17/2 * * *',
    '1-59/2 * * * *', '0 0 1,15 * *', '0 0 29 2 *', '0 0 $ * *', '0 0 $ feb *',
    '0 12 * jan,Jul,DEC *', '0 0 * * 0', '0 0 * * 7', '0 0 * * sun', '0 0 * * sat-sun',
    '0 0 * * 5-7', '0 0 * * */2', '0 0 */10 * *', '00 05 * * *', '*,5 * * * *',
    '0 0 30 * *', '0 0 31 4 mon', E'0\t0\t*\t*\t*', '   30 2 * * *   ', E'0 3 * * *\n',
    E'# nightly\n\n0 3 * * *', '@yearly', '@annually', '@monthly', '@weekly', '@daily',
    '@midnight', '@hourly', '@reboot', '@restart', '@DAILY', '1 second', '1 seconds',
    '30 seconds', '59 SECONDS', ' 7 Second ', '10seconds', '+5 seconds', '05 seconds',
    '*/59 */23 */31 */12 */7', '0005 0 * * *']) AS s
 WHERE jobconfig.cron_describe(s) IS NOT NULL AND NOT s ~ p.re;
SELECT jsonb_pretty(jobconfig.payload_schema() -> '$defs');
