/*-------------------------------------------------------------------------
 *
 * execution_state.c
 *	  The states of an execution and the moves between them, as the
 *	  executors record them.  (The state diagram is in src/README.md.)
 *
 * Every move an executor makes goes through ExecutionMove, which refuses
 * an illegal one.  The UPDATEs that record them touch only rows the
 * executor still holds (worker_pid is its own): a run that was recovered
 * as interrupted in the meantime is left as it is.  (They say so by the
 * worker, not by "finished_at IS NULL AND status = 'running'": that would
 * let the planner pick the partial index of active runs and scan it once
 * per row.)
 *
 * IDENTIFICATION
 *	  src/execution_state.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
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

static CatalogQuery RecordEnds = {
	"UPDATE jobconfig.job_executions e"
	"   SET status = u.status, started_at = u.started, finished_at = u.finished,"
	"       log = u.log, error = u.error"
	"  FROM ROWS FROM (pg_catalog.unnest($1::bigint[]), pg_catalog.unnest($2::text[]),"
	"                  pg_catalog.unnest($3::timestamptz[]), pg_catalog.unnest($4::timestamptz[]),"
	"                  pg_catalog.unnest($5::jsonb[]), pg_catalog.unnest($6::text[]))"
	"       AS u(id, status, started, finished, log, error)"
	" WHERE e.id = u.id AND e.worker_pid = $7",
	7, {INT8ARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID,
	JSONBARRAYOID, TEXTARRAYOID, INT4OID}
};

static CatalogQuery HandBack = {
	"UPDATE jobconfig.job_executions"
	"   SET status = 'queued', started_at = NULL, worker_pid = NULL"
	" WHERE id = ANY ($1) AND worker_pid = $2",
	2, {INT8ARRAYOID, INT4OID}
};

/*
 * Whether finish_executions can have anything to do for runs that all
 * ended without failing: a job of theirs notifies, or some enabled
 * dependency job names one of them.  (Failed runs may be retried: for them
 * it is always called.)  finish_executions asks the same, of a snapshot
 * taken the same way (a fresh one, which sees what the runs themselves
 * changed): skipping it when this says no changes nothing.  Its two
 * conditions are those of finish_executions' first look and of its lock
 * of the downstream jobs (src/sql/45_runs.sql): a change to either, such
 * as a new notification channel, is a change to both.
 */
static CatalogQuery FinishNeeded = {
	"SELECT EXISTS (SELECT FROM jobconfig.job_configs j"
	"                WHERE j.id = ANY ($1)"
	"                  AND j.payload -> 'notifications' ?| ARRAY['email', 'slack'])"
	"    OR EXISTS (SELECT FROM jobconfig.job_configs d"
	"                WHERE d.depends_on && $2 AND d.trigger_type = 'dependency'"
	"                  AND d.enabled)",
	2, {UUIDARRAYOID, TEXTARRAYOID}
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
 * ExecutionRecordEnds
 *	  Record how running executions ended (a List of RunEnd *), all in one
 *	  statement.  Caller is in the transaction that holds the runs'
 *	  effects, connected to SPI.
 */
void
ExecutionRecordEnds(List *ends)
{
	int			n = list_length(ends);
	Datum	   *ids;
	Datum	   *statuses;
	Datum	   *starts;
	Datum	   *finishes;
	Datum	   *logs;
	bool	   *log_nulls;
	Datum	   *errors;
	bool	   *error_nulls;
	Datum		args[7];
	ListCell   *lc;
	int			i = 0;

	if (n == 0)
		return;
	ids = palloc(sizeof(Datum) * n);
	statuses = palloc(sizeof(Datum) * n);
	starts = palloc(sizeof(Datum) * n);
	finishes = palloc(sizeof(Datum) * n);
	logs = palloc(sizeof(Datum) * n);
	log_nulls = palloc(sizeof(bool) * n);
	errors = palloc(sizeof(Datum) * n);
	error_nulls = palloc(sizeof(bool) * n);
	foreach(lc, ends)
	{
		const RunEnd *end = lfirst(lc);

		ExecutionMove(EXEC_RUNNING, end->status);
		ids[i] = Int64GetDatum(end->execution_id);
		statuses[i] = CStringGetTextDatum(StatusNames[end->status]);
		starts[i] = TimestampTzGetDatum(end->started_at);
		finishes[i] = TimestampTzGetDatum(end->finished_at);
		log_nulls[i] = end->log == NULL;
		logs[i] = end->log ? JsonbPGetDatum(end->log) : (Datum) 0;
		error_nulls[i] = end->error == NULL;
		errors[i] = end->error ? CStringGetTextDatum(end->error) : (Datum) 0;
		i++;
	}
	args[0] = CatalogArray(ids, NULL, n, INT8OID);
	args[1] = CatalogArray(statuses, NULL, n, TEXTOID);
	args[2] = CatalogArray(starts, NULL, n, TIMESTAMPTZOID);
	args[3] = CatalogArray(finishes, NULL, n, TIMESTAMPTZOID);
	args[4] = CatalogArray(logs, log_nulls, n, JSONBOID);
	args[5] = CatalogArray(errors, error_nulls, n, TEXTOID);
	args[6] = Int32GetDatum(MyProcPid);
	CatalogExecute(&RecordEnds, args, NULL, false, 0);
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
	return CatalogArray(elems, NULL, n, INT8OID);
}

/*
 * ExecutionHandBack
 *	  Runs an executor claimed but did not start go back to the queue.
 */
void
ExecutionHandBack(List *execution_ids)
{
	Datum		args[2];

	if (execution_ids == NIL)
		return;
	ExecutionMove(EXEC_RUNNING, EXEC_QUEUED);
	args[0] = IdArray(execution_ids);
	args[1] = Int32GetDatum(MyProcPid);
	CatalogExecute(&HandBack, args, NULL, false, 0);
}

/*
 * ExecutionFinishNeeded
 *	  Whether the runs that ended (a List of RunEnd *) call for
 *	  ExecutionFinish: one of them failed or timed out, or one of their
 *	  jobs notifies or has dependents.  A batch of successes of jobs that
 *	  notify no one and that nobody depends on, the common case, then
 *	  costs one look at job_configs instead of reading its runs back.
 *	  Caller is connected to SPI.
 */
bool
ExecutionFinishNeeded(List *ends)
{
	List	   *config_ids = NIL;
	Datum	   *job_ids;
	Datum		args[2];
	ListCell   *lc;
	int			n = 0;
	bool		isnull;

	if (ends == NIL)
		return false;
	job_ids = palloc(sizeof(Datum) * list_length(ends));
	foreach(lc, ends)
	{
		const RunEnd *end = lfirst(lc);

		if (end->status == EXEC_FAILED || end->status == EXEC_TIMED_OUT)
			return true;
		if (end->job_config_id != NULL)
			config_ids = lappend(config_ids, end->job_config_id);
		job_ids[n++] = CStringGetTextDatum(end->job_id);
	}
	args[0] = CatalogUuidArray(config_ids);
	args[1] = CatalogArray(job_ids, NULL, n, TEXTOID);
	CatalogExecute(&FinishNeeded, args, NULL, false, 1);
	return DatumGetBool(CatalogGetDatum(0, 1, &isnull));
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

/*
 * ExecutionWarmUp
 *	  Prepare the statements of a run's end, and let PL/pgSQL compile
 *	  finish_executions, before the first run needs them: the first burst
 *	  of runs after a start should not wait for the planner.  Caller is in
 *	  a transaction, connected to SPI.
 */
void
ExecutionWarmUp(void)
{
	Datum		args[7];
	ArrayType  *empty = construct_empty_array(INT8OID);
	int			i;

	for (i = 0; i < 6; i++)
		args[i] = PointerGetDatum(construct_empty_array(RecordEnds.argtypes[i] == INT8ARRAYOID ? INT8OID :
														 RecordEnds.argtypes[i] == TEXTARRAYOID ? TEXTOID :
														 RecordEnds.argtypes[i] == JSONBARRAYOID ? JSONBOID :
														 TIMESTAMPTZOID));
	args[6] = Int32GetDatum(MyProcPid);
	CatalogExecute(&RecordEnds, args, NULL, false, 0);
	args[0] = PointerGetDatum(empty);
	args[1] = Int32GetDatum(MyProcPid);
	CatalogExecute(&HandBack, args, NULL, false, 0);
	CatalogExecute(&Finish, args, NULL, false, 0);
	args[0] = PointerGetDatum(construct_empty_array(UUIDOID));
	args[1] = PointerGetDatum(construct_empty_array(TEXTOID));
	CatalogExecute(&FinishNeeded, args, NULL, false, 1);
}
