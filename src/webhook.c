/*-------------------------------------------------------------------------
 *
 * webhook.c
 *	  The inbound webhook: jobconfig.receive_webhook(path, body, signature,
 *	  timestamp) checks the caller's signature and queues a run of the job
 *	  whose trigger.webhook.path is "path".
 *
 * The function is SECURITY DEFINER and open to every role (Supabase's anon
 * calls it through PostgREST), so everything an anonymous caller sends is
 * hostile until the signature says otherwise:
 *
 *	- the body size is bounded (jobconfig.webhook_max_bytes) before any work;
 *	- signature is "sha256=" and the hex HMAC-SHA256, keyed with the job's
 *	  secret, of the body, or of timestamp "." body when a timestamp is
 *	  given (GitHub's and Stripe's conventions); it is compared in constant
 *	  time;
 *	- an unknown path and a wrong signature get the same error, after the
 *	  same work (an unknown path is checked against a throwaway key), so
 *	  the answer says nothing about which jobs exist;
 *	- a signed timestamp must be within the job's toleranceSeconds of the
 *	  server's clock, and a signature is accepted once: a replay within the
 *	  tolerance is refused too (webhook_signatures remembers them until
 *	  they expire);
 *	- only then is the job's state revealed (disabled).
 *
 * The run's input is the body as jsonb when it is JSON, else a jsonb string.
 *
 * IDENTIFICATION
 *	  src/webhook.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/hmac.h"
#include "common/jsonapi.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "catalog.h"
#include "compat.h"
#include "jobconfig.h"

PG_FUNCTION_INFO_V1(jobconfig_receive_webhook);

#define SIGNATURE_PREFIX "sha256="

static CatalogQuery FindWebhookJob = {
	"SELECT j.id, j.job_id, j.enabled, j.priority, j.run_as::oid, s.webhook_secret,"
	"       (j.payload #>> '{trigger,webhook,toleranceSeconds}')::integer"
	"  FROM jobconfig.job_configs j"
	"  JOIN jobconfig.job_secrets s ON s.job_config_id = j.id"
	" WHERE j.webhook_path = $1 AND j.trigger_type = 'webhook'"
	"   FOR KEY SHARE OF j",
	1, {TEXTOID}
};

static CatalogQuery RememberSignature = {
	"INSERT INTO jobconfig.webhook_signatures (job_config_id, signature, expires_at)"
	" VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
	3, {UUIDOID, TEXTOID, TIMESTAMPTZOID}
};

static CatalogQuery QueueWebhookRun = {
	"INSERT INTO jobconfig.job_executions"
	" (job_config_id, job_id, trigger_source, status, priority, scheduled_for, input, run_as)"
	" VALUES ($1, $2, 'webhook', 'queued', $3, pg_catalog.now(), $4, $5)"
	" RETURNING id",
	5, {UUIDOID, TEXTOID, INT4OID, JSONBOID, OIDOID}
};

/*
 * Refuse
 *	  The one answer for an unknown path and for a bad signature.
 */
static void
Refuse(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("webhook call refused: unknown path or bad signature"),
			 errdetail("The signature must be \"" SIGNATURE_PREFIX "\" followed by the hex HMAC-SHA256 of the body (of timestamp, \".\" and the body when a timestamp is given), keyed with the secret of the job whose trigger.webhook.path is the path called.")));
}

/*
 * ParseSignature
 *	  "sha256=<64 hex digits>" into its 32 bytes; false when malformed.
 */
static bool
ParseSignature(const char *signature, uint8 *digest)
{
	const char *hex;
	int			i;

	if (signature == NULL ||
		pg_strncasecmp(signature, SIGNATURE_PREFIX, strlen(SIGNATURE_PREFIX)) != 0)
		return false;
	hex = signature + strlen(SIGNATURE_PREFIX);
	if (strlen(hex) != 2 * PG_SHA256_DIGEST_LENGTH)
		return false;
	for (i = 0; i < 2 * PG_SHA256_DIGEST_LENGTH; i++)
		if (!isxdigit((unsigned char) hex[i]))
			return false;
	hex_decode(hex, 2 * PG_SHA256_DIGEST_LENGTH, (char *) digest);
	return true;
}

/*
 * ComputeSignature
 *	  HMAC-SHA256 of [timestamp "."] body, keyed with key.
 */
static void
ComputeSignature(const char *key, const char *timestamp, const char *body,
				 size_t body_len, uint8 *digest)
{
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);

	if (ctx == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (pg_hmac_init(ctx, (const uint8 *) key, strlen(key)) < 0 ||
		(timestamp != NULL &&
		 (pg_hmac_update(ctx, (const uint8 *) timestamp, strlen(timestamp)) < 0 ||
		  pg_hmac_update(ctx, (const uint8 *) ".", 1) < 0)) ||
		pg_hmac_update(ctx, (const uint8 *) body, body_len) < 0 ||
		pg_hmac_final(ctx, digest, PG_SHA256_DIGEST_LENGTH) < 0)
	{
		const char *reason = pg_hmac_error(ctx);

		pg_hmac_free(ctx);
		elog(ERROR, "could not compute HMAC-SHA256: %s", reason);
	}
	pg_hmac_free(ctx);
}

/*
 * DigestsEqual
 *	  Constant-time comparison: the time taken does not depend on where
 *	  the digests differ.
 */
static bool
DigestsEqual(const uint8 *a, const uint8 *b)
{
	uint8		diff = 0;
	int			i;

	for (i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/*
 * DigestHex
 *	  A digest in lower-case hex.
 */
static char *
DigestHex(const uint8 *digest)
{
	char	   *hex = palloc(2 * PG_SHA256_DIGEST_LENGTH + 1);

	hex[hex_encode((const char *) digest, PG_SHA256_DIGEST_LENGTH, hex)] = '\0';
	return hex;
}

/*
 * ParseTimestamp
 *	  A signed timestamp: Unix time in whole seconds.
 */
static TimestampTz
ParseTimestamp(const char *text)
{
	const char *p = text;
	int64		seconds = 0;

	if (*p == '\0' || strlen(p) > 12)
		p = "x";
	for (; *p != '\0'; p++)
	{
		if (!isdigit((unsigned char) *p))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_DATETIME_FORMAT),
					 errmsg("webhook timestamp \"%s\" is not a Unix time in seconds", text),
					 errhint("Send the number of seconds since 1970-01-01 00:00 UTC, as signed.")));
		seconds = seconds * 10 + (*p - '0');
	}
	return (TimestampTz) ((seconds - ((POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY))
						  * USECS_PER_SEC);
}

/*
 * BodyAsInput
 *	  The run's input: the body as jsonb when it is JSON, else as a jsonb
 *	  string.
 */
static Datum
BodyAsInput(char *body, size_t len)
{
	JsonLexContext *lex = JsonLexerForCString(body, len,
											  GetDatabaseEncoding(), true);
	StringInfoData quoted;

	if (pg_parse_json(lex, &nullSemAction) == JSON_SUCCESS)
		return DirectFunctionCall1(jsonb_in, CStringGetDatum(body));
	initStringInfo(&quoted);
	escape_json(&quoted, body);
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(quoted.data));
}

/*
 * jobconfig_receive_webhook
 *	  receive_webhook(path, body, signature, "timestamp") returns bigint:
 *	  the id of the queued run.
 */
Datum
jobconfig_receive_webhook(PG_FUNCTION_ARGS)
{
	char	   *path = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	text	   *body_text = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
	char	   *signature = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *timestamp = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	char	   *body;
	size_t		body_len;
	uint8		given[PG_SHA256_DIGEST_LENGTH];
	uint8		expected[PG_SHA256_DIGEST_LENGTH];
	bool		well_formed;
	bool		found;
	bool		isnull;
	Datum		job_config_id = (Datum) 0;
	char	   *job_id = NULL;
	bool		enabled = false;
	Datum		priority = (Datum) 0;
	Datum		run_as = (Datum) 0;
	char	   *secret = NULL;
	int			tolerance = 0;
	TimestampTz signed_at = 0;
	Datum		args[5];
	int64		execution_id;

	if (body_text == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("webhook body must not be null"),
				 errhint("Pass the request body exactly as received, as text; an empty body is \"\".")));
	body_len = VARSIZE_ANY_EXHDR(body_text);
	if (body_len > (size_t) jobconfig_webhook_max_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("webhook body of %zu bytes is larger than jobconfig.webhook_max_bytes (%d bytes)",
						body_len, jobconfig_webhook_max_bytes)));
	body = text_to_cstring(body_text);
	if (timestamp != NULL)
		signed_at = ParseTimestamp(timestamp);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (path != NULL)
	{
		args[0] = CStringGetTextDatum(path);
		CatalogExecute(&FindWebhookJob, args, NULL, false, 1);
	}
	found = path != NULL && SPI_processed == 1;
	if (found)
	{
		job_config_id = CatalogGetDatum(0, 1, &isnull);
		job_id = CatalogGetText(0, 2);
		enabled = DatumGetBool(CatalogGetDatum(0, 3, &isnull));
		priority = CatalogGetDatum(0, 4, &isnull);
		run_as = CatalogGetDatum(0, 5, &isnull);
		secret = CatalogGetText(0, 6);
		tolerance = DatumGetInt32(CatalogGetDatum(0, 7, &isnull));
	}

	/* The same work whether or not the path names a job. */
	well_formed = ParseSignature(signature, given);
	ComputeSignature(found ? secret : "no job has this path; any key will do",
					 timestamp, body, body_len, expected);
	if (!found | !well_formed | !DigestsEqual(given, expected))
		Refuse();

	if (timestamp != NULL)
	{
		TimestampTz now = GetCurrentTransactionStartTimestamp();
		int64		skew = (now > signed_at ? now - signed_at : signed_at - now) / USECS_PER_SEC;

		if (skew > tolerance)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
					 errmsg("webhook call refused: its timestamp is " INT64_FORMAT " seconds away from the server's clock, more than the job's trigger.webhook.toleranceSeconds (%d)",
							skew, tolerance),
					 errhint("A replayed or delayed call; the sender signs each call with the current time.")));
		/*
		 * Remembered as the digest in lower-case hex: the prefix and the hex
		 * digits are read case-insensitively, so the text as sent would let
		 * "SHA256=ABC..." replay "sha256=abc...".
		 */
		args[0] = job_config_id;
		args[1] = CStringGetTextDatum(DigestHex(given));
		args[2] = TimestampTzGetDatum(signed_at + (int64) tolerance * USECS_PER_SEC);
		CatalogExecute(&RememberSignature, args, NULL, false, 0);
		if (SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
					 errmsg("webhook call refused: this signed call was received before"),
					 errhint("A replayed call; each call must be signed with its own timestamp.")));
	}

	if (!enabled)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("webhook job \"%s\" is disabled", job_id),
				 errhint("Enable it with jobconfig.set_job_enabled(); calls made meanwhile are not kept.")));

	args[0] = job_config_id;
	args[1] = CStringGetTextDatum(job_id);
	args[2] = priority;
	args[3] = BodyAsInput(body, body_len);
	args[4] = run_as;
	CatalogExecute(&QueueWebhookRun, args, NULL, false, 0);
	execution_id = DatumGetInt64(CatalogGetDatum(0, 1, &isnull));
	SPI_finish();
	PG_RETURN_INT64(execution_id);
}
