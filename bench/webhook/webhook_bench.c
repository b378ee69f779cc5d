/*-------------------------------------------------------------------------
 *
 * webhook_bench.c
 *	  A benchmark-only module: how long receive_webhook() takes to refuse a
 *	  call to a path that exists and one to a path that does not.
 *
 * webhook_bench_refusals(known_path, unknown_path, calls) makes "calls"
 * refused calls to each path, interleaved (known then unknown, then the
 * other way round, so that neither always runs first), every one with the
 * same body, timestamp and wrong signature.  Each call is timed from the
 * start of a subtransaction to the end of its rollback, on the monotonic
 * clock in nanoseconds: that is the whole of what a refused call costs
 * the server, its abort included (an aborted transaction that had been
 * given an id writes an abort record; one that had none writes nothing).
 * The function goes through fmgr as SQL does, so SECURITY DEFINER and the
 * pinned search_path are paid too.  Every call must end in SQLSTATE 28000;
 * anything else is an error.  Returns {median ns known, median ns
 * unknown}.  Never shipped in the extension.
 *
 * IDENTIFICATION
 *	  bench/webhook/webhook_bench.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/resowner.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(webhook_bench_refusals);

/* Calls of each kind made first and not counted: plans, caches. */
#define WARM_UP_CALLS 200

/* A wrong signature: well formed, so the whole check runs. */
#define WRONG_SIGNATURE \
	"sha256=0000000000000000000000000000000000000000000000000000000000000000"

static int	BenchCompareDoubles(const void *a, const void *b);

/*
 * NowNs
 *	  The monotonic clock in nanoseconds.
 */
static double
NowNs(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1e9 + now.tv_nsec;
}

/*
 * TimeRefusal
 *	  One refused call to "path", in nanoseconds: subtransaction, call,
 *	  error, rollback.
 */
static double
TimeRefusal(FmgrInfo *flinfo, text *path, text *body, text *signature,
			text *timestamp)
{
	LOCAL_FCINFO(fcinfo, 4);
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *error = NULL;
	double		begin;
	double		end;

	InitFunctionCallInfoData(*fcinfo, flinfo, 4, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = PointerGetDatum(path);
	fcinfo->args[1].value = PointerGetDatum(body);
	fcinfo->args[2].value = PointerGetDatum(signature);
	fcinfo->args[3].value = PointerGetDatum(timestamp);
	fcinfo->args[0].isnull = fcinfo->args[1].isnull = false;
	fcinfo->args[2].isnull = fcinfo->args[3].isnull = false;

	begin = NowNs();
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(context);
	PG_TRY();
	{
		(void) FunctionCallInvoke(fcinfo);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(context);
		error = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(context);
	CurrentResourceOwner = owner;
	end = NowNs();

	if (error == NULL)
		elog(ERROR, "webhook call to \"%s\" was accepted", text_to_cstring(path));
	if (error->sqlerrcode != ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION)
		elog(ERROR, "webhook call to \"%s\" failed otherwise: %s",
			 text_to_cstring(path), error->message);
	FreeErrorData(error);
	return end - begin;
}

/*
 * webhook_bench_refusals
 *	  {median ns known, median ns unknown}; see the file header.
 */
Datum
webhook_bench_refusals(PG_FUNCTION_ARGS)
{
	text	   *known = PG_GETARG_TEXT_PP(0);
	text	   *unknown = PG_GETARG_TEXT_PP(1);
	int32		calls = PG_GETARG_INT32(2);
	text	   *body = cstring_to_text("{\"event\": \"deploy\", \"ref\": \"refs/heads/main\"}");
	text	   *signature = cstring_to_text(WRONG_SIGNATURE);
	text	   *timestamp;
	Oid			function;
	FmgrInfo	flinfo;
	double	   *known_ns;
	double	   *unknown_ns;
	Datum		medians[2];
	int32		i;

	if (calls < 1)
		elog(ERROR, "calls must be positive");
	function = DatumGetObjectId(DirectFunctionCall1(regprocedurein,
													CStringGetDatum("jobconfig.receive_webhook(text,text,text,text)")));
	fmgr_info(function, &flinfo);
	timestamp = cstring_to_text(psprintf(INT64_FORMAT, (int64) time(NULL)));

	for (i = 0; i < WARM_UP_CALLS; i++)
	{
		TimeRefusal(&flinfo, known, body, signature, timestamp);
		TimeRefusal(&flinfo, unknown, body, signature, timestamp);
	}

	known_ns = palloc(sizeof(double) * calls);
	unknown_ns = palloc(sizeof(double) * calls);
	for (i = 0; i < calls; i++)
	{
		if (i % 2 == 0)
		{
			known_ns[i] = TimeRefusal(&flinfo, known, body, signature, timestamp);
			unknown_ns[i] = TimeRefusal(&flinfo, unknown, body, signature, timestamp);
		}
		else
		{
			unknown_ns[i] = TimeRefusal(&flinfo, unknown, body, signature, timestamp);
			known_ns[i] = TimeRefusal(&flinfo, known, body, signature, timestamp);
		}
		CHECK_FOR_INTERRUPTS();
	}

	qsort(known_ns, calls, sizeof(double), BenchCompareDoubles);
	qsort(unknown_ns, calls, sizeof(double), BenchCompareDoubles);
	medians[0] = Float8GetDatum(known_ns[calls / 2]);
	medians[1] = Float8GetDatum(unknown_ns[calls / 2]);
	PG_RETURN_ARRAYTYPE_P(construct_array(medians, 2, FLOAT8OID, sizeof(float8),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* BenchCompareDoubles: qsort comparator, ascending. */
static int
BenchCompareDoubles(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}
