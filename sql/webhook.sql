-- webhook: what receive_webhook answers, where no worker is needed: the one
-- form of signature each job takes, and refusals that look the same whether
-- or not a job has the path (SQLSTATE, message, detail, hint, and no
-- transaction id).  t/020_webhook.pl runs the queued jobs.
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

SELECT jobconfig.delete_job(j) FROM unnest(ARRAY['wh-stripe', 'wh-github']) AS j;
