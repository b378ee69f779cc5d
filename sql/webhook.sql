-- webhook: what receive_webhook answers, where no worker is needed: the one
-- form of signature each job takes, refusals that look the same whether or
-- not a job has the path (SQLSTATE, message, detail, hint, and no
-- transaction id), and signed bodies jsonb cannot hold, which still queue
-- their run.  t/020_webhook.pl runs the queued jobs.
\set SHOW_CONTEXT never
\pset format unaligned
\pset tuples_only on

-- hmac(message, key): the signature a sender computes, "sha256=" and the
-- hex HMAC-SHA256 (RFC 2104), written out here so that the suite needs no
-- other extension.
CREATE FUNCTION pg_temp.hmac(message text, key text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    k bytea := convert_to(key, 'UTF8');
    inner_key bytea;
    outer_key bytea;
BEGIN
    IF length(k) > 64 THEN
        k := sha256(k);
    END IF;
    k := k || decode(repeat('00', 64 - length(k)), 'hex');
    inner_key := k;
    outer_key := k;
    FOR i IN 0 .. 63 LOOP
        inner_key := set_byte(inner_key, i, get_byte(k, i) # 54);   -- 0x36
        outer_key := set_byte(outer_key, i, get_byte(k, i) # 92);   -- 0x5c
    END LOOP;
    RETURN 'sha256=' || encode(sha256(outer_key || sha256(inner_key || convert_to(message, 'UTF8'))), 'hex');
END $$;

-- call(path, body, signature, timestamp): "queued", or the whole refusal
-- (SQLSTATE, message, detail, hint) and whether the refused call left the
-- transaction with an id.  The exception block is a subtransaction: had
-- the call been given an id, its transaction would have one too.
CREATE FUNCTION pg_temp.call(path text, body text, signature text, ts text DEFAULT NULL)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text;
    message text;
    detail text;
    hint text;
BEGIN
    PERFORM jobconfig.receive_webhook(path, body, signature, ts);
    RETURN 'queued';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN concat_ws(E'\n', state, message, 'detail: ' || detail, 'hint: ' || hint,
                     'transaction id: ' || CASE WHEN pg_current_xact_id_if_assigned() IS NULL THEN 'none' ELSE 'assigned' END);
END $$;

-- now_ts(): Unix seconds of the transaction's start, as a sender sends it.
CREATE FUNCTION pg_temp.now_ts() RETURNS text LANGUAGE sql
    AS $$ SELECT floor(extract(epoch FROM now()))::bigint::text $$;

-- Two jobs: Stripe's scheme (the default: timestamp "." body, with a
-- tolerance and a once-only guard) and GitHub's (the body alone, no
-- tolerance to set).
SELECT jobconfig.create_job('wh-stripe', '{"trigger": {"type": "webhook", "webhook": {"path": "wh-stripe", "secret": "whsec-stripe-0123456789"}},
                                           "execution": {"command": "SELECT 1"}}') #> '{payload,trigger,webhook}';
SELECT jobconfig.create_job('wh-github', '{"trigger": {"type": "webhook", "webhook": {"path": "wh-github", "secret": "whsec-github-0123456789", "signature": "body"}},
                                           "execution": {"command": "SELECT 1"}}') #> '{payload,trigger,webhook}';

-- The reference refusal: an unknown path.
SELECT pg_temp.call('no-such-path', '{"ref": "main"}', pg_temp.hmac('{"ref": "main"}', 'whsec-github-0123456789')) AS unknown \gset
SELECT :'unknown';

-- A wrong signature gets exactly that answer, on a job's path or not, with
-- a timestamp or without, and before the first path or after the last;
-- and no refused call was given a transaction id.
SELECT path || ', ' || CASE WHEN ts IS NULL THEN 'no timestamp' ELSE 'timestamp' END || ': ' ||
       CASE WHEN pg_temp.call(path, '{"ref": "main"}', 'sha256=' || repeat('0', 64), ts) = :'unknown'
            THEN 'the same refusal' ELSE pg_temp.call(path, '{"ref": "main"}', 'sha256=' || repeat('0', 64), ts) END
  FROM unnest(ARRAY['wh-stripe', 'wh-github', 'no-such-path', '0-before-every-path', 'zzzz-after-every-path']) AS path,
       unnest(ARRAY[NULL, pg_temp.now_ts()]) AS ts;

-- Each job takes its own form only; the other form gets the same answer.
-- Stripe's scheme: a timestamped call is queued, once.
SELECT pg_temp.call('wh-stripe', '{"ref": "main"}', pg_temp.hmac(pg_temp.now_ts() || '.{"ref": "main"}', 'whsec-stripe-0123456789'), pg_temp.now_ts());
-- that call captured and sent again later as the body "<timestamp>.<body>"
-- without a timestamp: refused (this was the replay past the tolerance and
-- the once-only guard)
SELECT pg_temp.call('wh-stripe', '1700000000.{"ref": "main"}', pg_temp.hmac('1700000000.{"ref": "main"}', 'whsec-stripe-0123456789')) = :'unknown' AS replay_refused_alike;
-- the body alone, signed and sent without a timestamp: refused
SELECT pg_temp.call('wh-stripe', '{"ref": "main"}', pg_temp.hmac('{"ref": "main"}', 'whsec-stripe-0123456789')) = :'unknown' AS body_alone_refused_alike;
-- GitHub's scheme: the body alone is queued, every time
SELECT pg_temp.call('wh-github', '{"ref": "main"}', pg_temp.hmac('{"ref": "main"}', 'whsec-github-0123456789'));
SELECT pg_temp.call('wh-github', '{"ref": "main"}', pg_temp.hmac('{"ref": "main"}', 'whsec-github-0123456789'));
-- a timestamped call, signed right for Stripe's scheme: refused
SELECT pg_temp.call('wh-github', '{"ref": "main"}', pg_temp.hmac(pg_temp.now_ts() || '.{"ref": "main"}', 'whsec-github-0123456789'), pg_temp.now_ts()) = :'unknown' AS timestamped_refused_alike;
-- the body's signature with a timestamp sent beside it: refused
SELECT pg_temp.call('wh-github', '{"ref": "main"}', pg_temp.hmac('{"ref": "main"}', 'whsec-github-0123456789'), pg_temp.now_ts()) = :'unknown' AS timestamp_beside_refused_alike;
-- a timestamp outside the tolerance is refused only once the signature is
-- valid, and then says so
SELECT pg_temp.call('wh-stripe', '{"ref": "main"}', pg_temp.hmac((pg_temp.now_ts()::bigint - 1000) || '.{"ref": "main"}', 'whsec-stripe-0123456789'), (pg_temp.now_ts()::bigint - 1000)::text);

-- The schema says the same: toleranceSeconds only with a timestamp.
SELECT jsonb_pretty(jobconfig.payload_schema() #> '{properties,trigger,properties,webhook,allOf}');

-- Signed bodies that jsonb cannot hold (numbers beyond numeric's range,
-- nesting deeper than the stack allows, an escape of NUL) are queued with
-- the body as a jsonb string, as a body that is not JSON is; JSON that
-- jsonb holds stays JSON.
CREATE TABLE pg_temp.bodies (n int, body text);
INSERT INTO pg_temp.bodies VALUES
    (1, '{"amount": 1e1000000}'),
    (2, '[1e-1000000]'),
    (3, repeat('[', 100000) || repeat(']', 100000)),
    (4, repeat('{"a": ', 100000) || '1' || repeat('}', 100000)),
    (5, '{"note": "\u0000"}'),
    (6, 'not JSON at all'),
    (7, '{"amount": 1e100, "deep": [[[[1]]]]}');
CREATE TABLE pg_temp.runs AS
SELECT n, jobconfig.receive_webhook('wh-github', body, pg_temp.hmac(body, 'whsec-github-0123456789')) AS id
  FROM pg_temp.bodies;
SELECT b.n, jsonb_typeof(e.input),
       CASE jsonb_typeof(e.input) WHEN 'string' THEN e.input #>> '{}' = b.body
                                  ELSE e.input = b.body::jsonb END AS input_is_the_body
  FROM pg_temp.bodies b
  LEFT JOIN pg_temp.runs r ON r.n = b.n
  LEFT JOIN jobconfig.job_executions e ON e.id = r.id
 ORDER BY b.n;

-- With the timestamped scheme too; the replay guard's row and the queued
-- run are written together, so the same call sent again is refused and
-- queues nothing.
SELECT pg_temp.now_ts() AS ts \gset
SELECT count(*) AS runs_before FROM jobconfig.job_executions WHERE job_id = 'wh-stripe' \gset
SELECT count(*) AS signatures_before FROM jobconfig.webhook_signatures s
  JOIN jobconfig.job_configs j ON j.id = s.job_config_id WHERE j.job_id = 'wh-stripe' \gset
SELECT n, pg_temp.call('wh-stripe', body, pg_temp.hmac(:'ts' || '.' || body, 'whsec-stripe-0123456789'), :'ts')
  FROM pg_temp.bodies WHERE n IN (1, 3) ORDER BY n;
SELECT count(*) - :runs_before AS new_runs FROM jobconfig.job_executions WHERE job_id = 'wh-stripe';
SELECT count(*) - :signatures_before AS new_signatures FROM jobconfig.webhook_signatures s
  JOIN jobconfig.job_configs j ON j.id = s.job_config_id WHERE j.job_id = 'wh-stripe';
SELECT n, pg_temp.call('wh-stripe', body, pg_temp.hmac(:'ts' || '.' || body, 'whsec-stripe-0123456789'), :'ts')
  FROM pg_temp.bodies WHERE n IN (1, 3) ORDER BY n;
SELECT count(*) - :runs_before AS new_runs FROM jobconfig.job_executions WHERE job_id = 'wh-stripe';

SELECT jobconfig.delete_job(j) FROM unnest(ARRAY['wh-stripe', 'wh-github']) AS j;
