/*-------------------------------------------------------------------------
 *
 * execution_state.c
 *	  The states of an execution and the moves between them, as the
 *	  executors record them.  (The state diagram is in src/README.md.)
 *
 * Every move an executor makes goes through ExecutionMove, which refuses
 * an illegal one, and through one UPDATE whose WHERE clause names the state
 * the row must still be in: a run cancelled, or recovered as interrupted,
 * in the meantime is left as it is.
 *
 * IDENTIFICATION
 *	  src/execution_state.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "execution_state.h"

static const char *const StatusNames[] = {
	[EXEC_QUEUED] = "queued",
	[EXEC_RUNNING] = "running",
	[EXEC_SUCCEEDED] = "succeeded",
	[EXEC_FAILED] = "failed",
	[EXEC_TIMED_OUT] = "timed_out",
	[EXEC_CANCELLED] = "cancelled",
	[EXEC_SKIPPED] = "skipped"
};

static CatalogQuery RecordEnd = {
	"UPDATE jobconfig.job_executions"
	"   SET status = $2, started_at = $3, finished_at = $4, log = $5, error = $6"
	" WHERE id = $1 AND status = 'running'",
	6, {INT8OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, JSONBOID, TEXTOID}
};

static CatalogQuery HandBack = {
	"UPDATE jobconfig.job_executions"
	"   SET status = 'queued', started_at = NULL, worker_pid = NULL"
	" WHERE id = ANY ($1) AND status = 'running'",
	1, {INT8ARRAYOID}
};

static CatalogQuery Finish = {
	"SELECT jobconfig.finish_executions($1)",
	1, {INT8ARRAYOID}
};

/*
 * ExecutionStatusName
 *	  The name stored in job_executions.status.
 */
const char *
ExecutionStatusName(ExecutionStatus status)
{
	return StatusNames[status];
}

/*
 * ExecutionMove
 *	  Refuse a move the state diagram does not have.
 */
static void
ExecutionMove(ExecutionStatus from, ExecutionStatus to)
{
	bool		legal;

	switch (from)
	{
		case EXEC_QUEUED:
			legal = to == EXEC_RUNNING || to == EXEC_CANCELLED || to == EXEC_SKIPPED;
			break;
		case EXEC_RUNNING:
			legal = to == EXEC_SUCCEEDED || to == EXEC_FAILED ||
				to == EXEC_TIMED_OUT || to == EXEC_CANCELLED || to == EXEC_QUEUED;
			break;
		default:
			legal = false;		/* the other states are final */
			break;
	}
	if (!legal)
		elog(ERROR, "illegal execution state change from %s to %s",
			 StatusNames[from], StatusNames[to]);
}

/*
 * ExecutionRecordEnd
 *	  Record how a running execution ended.  Caller is in the transaction
 *	  that holds the run's effects, connected to SPI.
 */
void
ExecutionRecordEnd(const RunEnd *end)
{
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};

	ExecutionMove(EXEC_RUNNING, end->status);
	args[0] = Int64GetDatum(end->execution_id);
	args[1] = CStringGetTextDatum(StatusNames[end->status]);
	args[2] = TimestampTzGetDatum(end->started_at);
	args[3] = TimestampTzGetDatum(end->finished_at);
	args[4] = end->log ? JsonbPGetDatum(end->log) : (Datum) 0;
	nulls[4] = end->log ? ' ' : 'n';
	args[5] = end->error ? CStringGetTextDatum(end->error) : (Datum) 0;
	nulls[5] = end->error ? ' ' : 'n';
	CatalogExecute(&RecordEnd, args, nulls, false, 0);
}

/*
 * IdArray
 *	  A bigint[] Datum of a List of int64 *.
 */
static Datum
IdArray(List *ids)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(ids), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, ids)
		elems[n++] = Int64GetDatum(*(int64 *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, INT8OID, 8,
										   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * ExecutionHandBack
 *	  Runs an executor claimed but did not start go back to the queue.
 */
void
ExecutionHandBack(List *execution_ids)
{
	Datum		args[1];

	if (execution_ids == NIL)
		return;
	ExecutionMove(EXEC_RUNNING, EXEC_QUEUED);
	args[0] = IdArray(execution_ids);
	CatalogExecute(&HandBack, args, NULL, false, 0);
}

/*
 * ExecutionFinish
 *	  After runs ended: queue their retries and downstream runs
 *	  (jobconfig.finish_executions), in the same transaction.
 */
void
ExecutionFinish(List *execution_ids)
{
	Datum		args[1];

	if (execution_ids == NIL)
		return;
	args[0] = IdArray(execution_ids);
	CatalogExecute(&Finish, args, NULL, false, 0);
}
