-- The inbound webhook entry point (src/webhook.c).  SECURITY DEFINER and
-- open to every role: callers prove who they are with the job's secret, not
-- with a database role (Supabase's anon calls it through PostgREST).  A
-- job takes one form of signature (trigger.webhook.signature), never both.
CREATE FUNCTION jobconfig.receive_webhook(path text, body text, signature text,
                                          "timestamp" text DEFAULT NULL) RETURNS bigint
    LANGUAGE c VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'jobconfig_receive_webhook';
COMMENT ON FUNCTION jobconfig.receive_webhook(text, text, text, text) IS
    'Queue a run of the webhook job at "path" when "signature" is sha256=<hex HMAC-SHA256, with its secret, of "timestamp.body" (trigger.webhook.signature "timestamp", the default) or of the body alone ("body")>; returns the execution id.  The run''s input is the body as jsonb, or as a jsonb string when jsonb cannot hold it (not JSON, a number beyond numeric, nesting beyond the stack): a signed call is never lost to its body';
