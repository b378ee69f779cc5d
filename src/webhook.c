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
 *	  secret, of what the job's trigger.webhook.signature names: timestamp
 *	  "." body ("timestamp", Stripe's convention, the default) or the body
 *	  alone ("body", GitHub's).  A job accepts its own form only: were both
 *	  accepted, a call signed as timestamp "." body could be replayed at
 *	  any time as a body of that text without a timestamp, past the
 *	  tolerance and the once-only guard;
 *	- an unknown path, a wrong signature and a call in the other form get
 *	  the same error after the same work: the look-up takes no lock (which
 *	  would assign a transaction id, visible to a caller, and take longer),
 *	  an unknown path is checked against a throwaway key, the digests are
 *	  compared in constant time, and every condition is evaluated before
 *	  any is acted on;
 *	- only a valid signature locks the job's row (so it cannot be deleted
 *	  under the queued run) and checks the call again against the row as
 *	  locked: a job deleted, moved to another path or given a new secret
 *	  in between refuses it like a bad signature;
 *	- a signed timestamp must be within the job's toleranceSeconds of the
 *	  server's clock, and is accepted once: a replay within the tolerance
 *	  is refused too (webhook_signatures remembers it until it expires);
 *	- only then is the job's state revealed (disabled).
 *
 * The run's input is the body as jsonb when jsonb can hold it, else a
 * jsonb string: a validly signed call is never lost to its body.
 *
 * IDENTIFICATION
 *	  src/webhook.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/xact.h"
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
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "catalog.h"
#include "compat.h"
#include "jobconfig.h"

PG_FUNCTION_INFO_V1(jobconfig_receive_webhook);

#define SIGNATURE_PREFIX "sha256="

/*
 * The key an unknown path is checked against, so that its refusal costs
 * what a real job's does: of a typical secret's length.  (HMAC hashes a
 * key longer than 64 bytes first, so a job with a secret that long pays a
 * SHA-256 block or more besides.)
 */
#define THROWAWAY_KEY "no job has this path: any key will do"

/*
 * The look-up before the signature check: no lock, and the same work
 * whether or not a job has the path.  Every call makes two equality probes
 * of the path index, of the same plan, and exactly one of them hits and
 * reads a job's row: the probe for the path called ("called"), and one
 * ("decoy") for the first path of all when that missed, or else for a path
 * just after it that no job can have (paths hold no control character).
 * Each goes through a materialized CTE, so the row read, whichever it is,
 * is stored once; the secret of that one row is read by one probe.  So a
 * job's path and an unknown one both cost one hit and one miss.
 *
 * Two simpler look-ups were measured and told paths apart: an equality
 * look-up alone reads and joins a row for a job's path only (its refusals
 * took 15 us against 11 us for an unknown path), and a range scan for the
 * first path at or after the one called reads the rest of its index page,
 * so its time grew with the number of paths sorting after the one called
 * (20 us for the first of 100 paths, 17 us for the last).  The look-up
 * reads small columns only, never the payload, whose size would show which
 * row was read; and it has one generic plan, so that no plan is chosen by
 * the value of the path called either.
 */
static CatalogQuery FindWebhookJob = {
	.sql = "WITH called AS MATERIALIZED ("
	"  SELECT j.id, j.webhook_signature FROM jobconfig.job_configs j"
	"   WHERE j.webhook_path = $1 AND j.trigger_type = 'webhook'),"
	" decoy AS MATERIALIZED ("
	"  SELECT j.id, j.webhook_signature FROM jobconfig.job_configs j"
	"   WHERE j.webhook_path ="
	"         (SELECT pg_catalog.min(m.webhook_path) FROM jobconfig.job_configs m)"
	"         OPERATOR(pg_catalog.||)"
	"         CASE WHEN EXISTS (SELECT FROM called) THEN pg_catalog.chr(1) ELSE '' END"
	"     AND j.trigger_type = 'webhook'),"
	" job AS (SELECT true AS found, * FROM called UNION ALL SELECT false, * FROM decoy)"
	" SELECT job.found, job.id,"
	"        (SELECT s.webhook_secret FROM jobconfig.job_secrets s"
	"          WHERE s.job_config_id = job.id),"
	"        job.webhook_signature IS DISTINCT FROM 'body'"
	"   FROM job",
	.nargs = 1, .argtypes = {TEXTOID}, .generic_plan = true
};

/*
 * The same job once the signature passed, locked until the call commits,
 * and still at that path: the row the call is checked again against.
 */
static CatalogQuery LockWebhookJob = {
	"SELECT s.webhook_secret, j.webhook_signature IS DISTINCT FROM 'body',"
	"       j.job_id, j.enabled, j.priority, j.run_as::oid,"
	"       (j.payload #>> '{trigger,webhook,toleranceSeconds}')::integer"
	"  FROM jobconfig.job_configs j"
	"  JOIN jobconfig.job_secrets s ON s.job_config_id = j.id"
	" WHERE j.id = $1 AND j.webhook_path = $2 AND j.trigger_type = 'webhook'"
	"   FOR KEY SHARE OF j",
	2, {UUIDOID, TEXTOID}
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

/* A call to receive_webhook, as sent. */
typedef struct WebhookCall
{
	char	   *path;			/* NULL when not given */
	char	   *body;
	size_t		body_len;
	char	   *signature;		/* NULL when not given */
	char	   *timestamp;		/* NULL when not given */
	TimestampTz signed_at;		/* the timestamp, when given */
} WebhookCall;

/* The job a call names, as read from its row. */
typedef struct WebhookJob
{
	bool		found;
	Datum		job_config_id;	/* uuid */
	char	   *secret;
	bool		timestamped;	/* trigger.webhook.signature "timestamp" */
	/* Read once the signature passed and the row is locked: */
	char	   *job_id;
	bool		enabled;
	Datum		priority;
	Datum		run_as;
	int			tolerance;
} WebhookJob;

/*
 * Refuse
 *	  The one answer for an unknown path, a bad signature and a call in the
 *	  form its job does not take.  It names both forms, and never says
 *	  which one a path takes: that would tell a caller that the path exists.
 */
static void
Refuse(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("webhook call refused: unknown path or bad signature"),
			 errdetail("The signature must be \"" SIGNATURE_PREFIX "\" followed by the hex HMAC-SHA256, keyed with the secret of the job whose trigger.webhook.path is the path called, of what that job's trigger.webhook.signature names: for \"timestamp\" (the default), the timestamp sent with the call, \".\" and the body; for \"body\", the body alone, with no timestamp sent.")));
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
 * ReadCall
 *	  The arguments, checked for what needs no job: a body is given and
 *	  within jobconfig.webhook_max_bytes, a timestamp is Unix seconds.
 *	  These answers are the same for every path.
 */
static void
ReadCall(FunctionCallInfo fcinfo, WebhookCall *call)
{
	text	   *body;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("webhook body must not be null"),
				 errhint("Pass the request body exactly as received, as text; an empty body is \"\".")));
	body = PG_GETARG_TEXT_PP(1);
	call->body_len = VARSIZE_ANY_EXHDR(body);
	if (call->body_len > (size_t) jobconfig_webhook_max_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("webhook body of %zu bytes is larger than jobconfig.webhook_max_bytes (%d bytes)",
						call->body_len, jobconfig_webhook_max_bytes)));
	call->body = text_to_cstring(body);
	call->path = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	call->signature = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	call->timestamp = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (call->timestamp != NULL)
		call->signed_at = ParseTimestamp(call->timestamp);
}

/*
 * FindJob
 *	  The job at the call's path, if any: its id, secret and scheme.  A
 *	  plain read, which takes no lock and assigns no transaction id, and
 *	  which reads a row of some job whether or not one has the path (see
 *	  FindWebhookJob).
 */
static void
FindJob(const WebhookCall *call, WebhookJob *job)
{
	Datum		args[1];
	bool		isnull;

	job->found = false;
	if (call->path == NULL)
		return;
	args[0] = CStringGetTextDatum(call->path);
	CatalogExecute(&FindWebhookJob, args, NULL, false, 0);
	if (SPI_processed != 1)
		return;
	job->found = DatumGetBool(CatalogGetDatum(0, 1, &isnull));
	job->job_config_id = CatalogGetDatum(0, 2, &isnull);
	job->secret = TextDatumGetCString(CatalogGetDatum(0, 3, &isnull));
	job->timestamped = DatumGetBool(CatalogGetDatum(0, 4, &isnull));
}

/*
 * CallIsSigned
 *	  Does the call carry a valid signature of the job, in the job's form?
 *	  For an unknown path, the HMAC is computed with a throwaway key and
 *	  the form taken as right, and every condition is evaluated before
 *	  they are combined, so that the answer takes as long whatever it is.
 *	  *given receives the signature's digest.
 */
static bool
CallIsSigned(const WebhookCall *call, const WebhookJob *job, uint8 *given)
{
	uint8		expected[PG_SHA256_DIGEST_LENGTH];
	bool		well_formed = ParseSignature(call->signature, given);
	bool		timestamped = job->found ? job->timestamped : call->timestamp != NULL;
	bool		in_its_form;

	ComputeSignature(job->found ? job->secret : THROWAWAY_KEY,
					 call->timestamp, call->body, call->body_len, expected);
	in_its_form = timestamped == (call->timestamp != NULL);
	return job->found & well_formed & in_its_form & DigestsEqual(given, expected);
}

/*
 * LockJob
 *	  Lock the job's row until the call commits, so the job cannot be
 *	  deleted under its queued run, and read the rest of it.  False when
 *	  the job is gone from the path in the meantime.
 */
static bool
LockJob(const WebhookCall *call, WebhookJob *job)
{
	Datum		args[2];
	bool		isnull;
	bool		tolerance_null;

	args[0] = job->job_config_id;
	args[1] = CStringGetTextDatum(call->path);
	CatalogExecute(&LockWebhookJob, args, NULL, false, 1);
	if (SPI_processed != 1)
		return false;
	job->secret = CatalogGetText(0, 1);
	job->timestamped = DatumGetBool(CatalogGetDatum(0, 2, &isnull));
	job->job_id = CatalogGetText(0, 3);
	job->enabled = DatumGetBool(CatalogGetDatum(0, 4, &isnull));
	job->priority = CatalogGetDatum(0, 5, &isnull);
	job->run_as = CatalogGetDatum(0, 6, &isnull);
	job->tolerance = DatumGetInt32(CatalogGetDatum(0, 7, &tolerance_null));
	if (tolerance_null)
		job->tolerance = 0;
	return true;
}

/*
 * CheckTimestamp
 *	  A timestamped call must be within the job's toleranceSeconds of the
 *	  server's clock.
 */
static void
CheckTimestamp(const WebhookCall *call, const WebhookJob *job)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	int64		skew = (now > call->signed_at ? now - call->signed_at :
						call->signed_at - now) / USECS_PER_SEC;

	if (skew > job->tolerance)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("webhook call refused: its timestamp is " INT64_FORMAT " seconds away from the server's clock, more than the job's trigger.webhook.toleranceSeconds (%d)",
						skew, job->tolerance),
				 errhint("A replayed or delayed call; the sender signs each call with the current time.")));
}

/*
 * RememberCall
 *	  Record a timestamped call as received, refusing it when it was
 *	  received before.  Remembered as the digest in lower-case hex: the
 *	  prefix and the hex digits are read case-insensitively, so the text as
 *	  sent would let "SHA256=ABC..." replay "sha256=abc...".  The row is
 *	  written in the transaction that queues the run, so the two commit or
 *	  roll back together: a call refused or lost after this point can be
 *	  sent again.
 */
static void
RememberCall(const WebhookCall *call, const WebhookJob *job, const uint8 *given)
{
	Datum		args[3];

	args[0] = job->job_config_id;
	args[1] = CStringGetTextDatum(DigestHex(given));
	args[2] = TimestampTzGetDatum(call->signed_at + (int64) job->tolerance * USECS_PER_SEC);
	CatalogExecute(&RememberSignature, args, NULL, false, 0);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("webhook call refused: this signed call was received before"),
				 errhint("A replayed call; each call must be signed with its own timestamp.")));
}

/*
 * BodyAsString
 *	  The body as a jsonb string.  It cannot fail: the body is valid text
 *	  of the database's encoding, and at most jobconfig.webhook_max_bytes
 *	  (64MB) is far below the 256MB a jsonb value may hold.
 */
static Datum
BodyAsString(char *body, size_t len)
{
	JsonbValue	string;

	string.type = jbvString;
	string.val.string.val = body;
	string.val.string.len = len;
	return JsonbPGetDatum(JsonbValueToJsonb(&string));
}

/*
 * BodyAsInput
 *	  The run's input: the body as jsonb when it is JSON that jsonb can
 *	  hold, else the body as a jsonb string, as for a body that is not JSON
 *	  at all.  This runs after the signature passed, so no body may make it
 *	  fail: a number beyond numeric's range (1e1000000), nesting deeper than
 *	  the server's stack allows, an escape jsonb refuses (\u0000), or
 *	  anything else jsonb_in raises, is caught in a subtransaction and the
 *	  body kept as a string; the sender's call is not lost.  Only a cancel
 *	  or a shutdown (class 57) goes through, as it would anywhere.  The
 *	  attempt runs in a memory context of its own, dropped when it fails.
 */
static Datum
BodyAsInput(char *body, size_t len)
{
	MemoryContext caller = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	MemoryContext attempt = AllocSetContextCreate(caller, "webhook body",
												  ALLOCSET_DEFAULT_SIZES);
	volatile Datum input = (Datum) 0;
	volatile bool parsed = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(attempt);
	PG_TRY();
	{
		JsonLexContext *lex = JsonLexerForCString(body, len,
												  GetDatabaseEncoding(), true);

		if (pg_parse_json(lex, &nullSemAction) == JSON_SUCCESS)
		{
			input = DirectFunctionCall1(jsonb_in, CStringGetDatum(body));
			parsed = true;
		}
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(caller);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller);
		CurrentResourceOwner = owner;
		if (ERRCODE_TO_CATEGORY(error->sqlerrcode) == ERRCODE_OPERATOR_INTERVENTION)
			ReThrowError(error);
		FreeErrorData(error);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	CurrentResourceOwner = owner;

	if (parsed)
		return input;
	MemoryContextDelete(attempt);
	return BodyAsString(body, len);
}

/*
 * QueueRun
 *	  Insert the queued run; returns its execution id.
 */
static int64
QueueRun(const WebhookJob *job, Datum input)
{
	Datum		args[5];
	bool		isnull;

	args[0] = job->job_config_id;
	args[1] = CStringGetTextDatum(job->job_id);
	args[2] = job->priority;
	args[3] = input;
	args[4] = job->run_as;
	CatalogExecute(&QueueWebhookRun, args, NULL, false, 0);
	return DatumGetInt64(CatalogGetDatum(0, 1, &isnull));
}

/*
 * jobconfig_receive_webhook
 *	  receive_webhook(path, body, signature, "timestamp") returns bigint:
 *	  the id of the queued run.  Up to the signature check every path,
 *	  known or not, does the same work and writes nothing; the errors a
 *	  signed call can still meet are the documented refusals (timestamp,
 *	  replay, disabled job, a job changed in between) and those of any
 *	  statement (a cancel, memory running out).
 */
Datum
jobconfig_receive_webhook(PG_FUNCTION_ARGS)
{
	WebhookCall call = {0};
	WebhookJob	job = {0};
	uint8		given[PG_SHA256_DIGEST_LENGTH] = {0};
	Datum		input;
	int64		execution_id;

	ReadCall(fcinfo, &call);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	FindJob(&call, &job);
	if (!CallIsSigned(&call, &job, given))
		Refuse();
	if (!LockJob(&call, &job) || !CallIsSigned(&call, &job, given))
		Refuse();

	if (job.timestamped)
		CheckTimestamp(&call, &job);
	if (!job.enabled)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("webhook job \"%s\" is disabled", job.job_id),
				 errhint("Enable it with jobconfig.set_job_enabled(); calls made meanwhile are not kept.")));
	input = BodyAsInput(call.body, call.body_len);
	if (job.timestamped)
		RememberCall(&call, &job, given);
	execution_id = QueueRun(&job, input);
	SPI_finish();
	PG_RETURN_INT64(execution_id);
}
