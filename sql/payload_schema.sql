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
SELECT jsonb_pretty(jobconfig.payload_schema() -> '$defs');
