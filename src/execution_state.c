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

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "utils/datum.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "execution_state.h"

PG_FUNCTION_INFO_V1(jobconfig_execution_transition);

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

/*
 * A run handed back that someone cancelled meanwhile ends cancelled: the
 * canceller held its row, so this waits for that transaction and sees its
 * cancel_requested if it committed.
 */
static CatalogQuery HandBack = {
	"UPDATE jobconfig.job_executions"
	"   SET status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'queued' END,"
	"       started_at = CASE WHEN cancel_requested THEN started_at END,"
	"       finished_at = CASE WHEN cancel_requested THEN pg_catalog.clock_timestamp() END,"
	"       error = CASE WHEN cancel_requested THEN 'cancelled before it started' ELSE error END,"
	"       worker_pid = CASE WHEN cancel_requested THEN worker_pid END"
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
	"SELECT jobconfig.finish_executions($1, $2)",
	2, {INT8ARRAYOID, INT8ARRAYOID}
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
 * StatusOf
 *	  The ExecutionStatus of a stored status name; -1 when unknown.
 */
static int
StatusOf(const char *name)
{
	int			i;

	for (i = 0; i < lengthof(StatusNames); i++)
		if (strcmp(StatusNames[i], name) == 0)
			return i;
	return -1;
}

/*
 * MoveIsLegal
 *	  The state diagram (src/README.md), kept once: may an execution go
 *	  from "from" to "to"?  "by_worker" says whether jobconfig's own
 *	  workers make the move; anyone else may only cancel a queued run.
 *	  Staying in a state that is not final is no move.
 */
static bool
MoveIsLegal(ExecutionStatus from, ExecutionStatus to, bool by_worker)
{
	switch (from)
	{
		case EXEC_QUEUED:
			if (to == EXEC_QUEUED || to == EXEC_CANCELLED)
				return true;
			return by_worker && (to == EXEC_RUNNING || to == EXEC_SKIPPED);
		case EXEC_RUNNING:
			if (to == EXEC_RUNNING)
				return true;
			return by_worker &&
				(to == EXEC_SUCCEEDED || to == EXEC_FAILED ||
				 to == EXEC_TIMED_OUT || to == EXEC_CANCELLED ||
				 to == EXEC_QUEUED);
		default:
			return false;		/* the other states are final */
	}
}

/*
 * ExecutionMove
 *	  Refuse a move of an executor's that the state diagram does not have.
 */
static void
ExecutionMove(ExecutionStatus from, ExecutionStatus to)
{
	if (!MoveIsLegal(from, to, true))
		elog(ERROR, "illegal execution state change from %s to %s",
			 StatusNames[from], StatusNames[to]);
}

/*
 * ByOwnWorker
 *	  Is this jobconfig's own work in one of its workers (not a job running
 *	  there, which runs with a local user id change)?
 */
static bool
ByOwnWorker(void)
{
	return MyBgworkerEntry != NULL &&
		strcmp(MyBgworkerEntry->bgw_library_name, "jobconfig") == 0 &&
		!InLocalUserIdChange();
}

/*
 * ColumnChanged
 *	  Does column "name" differ between the two versions of a row?
 */
static bool
ColumnChanged(TupleDesc desc, HeapTuple old_row, HeapTuple new_row,
			  const char *name, bool *now_null)
{
	int			attnum = SPI_fnumber(desc, name);
	Form_pg_attribute attr;
	bool		old_null;
	Datum		old_value;
	Datum		new_value;

	if (attnum <= 0)
		elog(ERROR, "job_executions has no column \"%s\"", name);
	attr = TupleDescAttr(desc, attnum - 1);
	old_value = heap_getattr(old_row, attnum, desc, &old_null);
	new_value = heap_getattr(new_row, attnum, desc, now_null);
	if (old_null || *now_null)
		return old_null != *now_null;
	return !datum_image_eq(old_value, new_value, attr->attbyval, attr->attlen);
}

/*
 * jobconfig_execution_transition
 *	  BEFORE UPDATE FOR EACH ROW on job_executions, enabled ALWAYS: every
 *	  write, by any role and any path, keeps to the state diagram.
 *	  A final row never changes, but for its links to a job or a cause
 *	  going (the job was deleted, retention deleted the cause).  A row not
 *	  final moves only as MoveIsLegal says, and only jobconfig's workers
 *	  claim it, hand it back or end it; whoever else may write it cannot
 *	  make it look run by someone (worker, start time, role).
 */
Datum
jobconfig_execution_transition(PG_FUNCTION_ARGS)
{
	static const char *const frozen_when_final[] = {
		"job_id", "trigger_source", "attempt", "status", "priority",
		"scheduled_for", "queued_at", "started_at", "finished_at", "run_as",
		"worker_pid", "input", "log", "error", "cancel_requested", "recorded_by"
	};
	static const char *const workers_only[] = {"started_at", "finished_at",
	"run_as", "worker_pid", "log"};
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	old_row;
	HeapTuple	new_row;
	bool		isnull;
	char	   *old_name;
	char	   *new_name;
	int			from;
	int			to;
	bool		by_worker;
	int			i;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "jobconfig_execution_transition must fire as a row trigger on UPDATE");
	desc = RelationGetDescr(trigdata->tg_relation);
	old_row = trigdata->tg_trigtuple;
	new_row = trigdata->tg_newtuple;
	old_name = SPI_getvalue(old_row, desc, SPI_fnumber(desc, "status"));
	new_name = SPI_getvalue(new_row, desc, SPI_fnumber(desc, "status"));
	from = old_name ? StatusOf(old_name) : -1;
	to = new_name ? StatusOf(new_name) : -1;
	if (from < 0 || to < 0)
		return PointerGetDatum(new_row);	/* the status check refuses it */

	if (from != EXEC_QUEUED && from != EXEC_RUNNING)
	{
		for (i = 0; i < lengthof(frozen_when_final); i++)
			if (ColumnChanged(desc, old_row, new_row, frozen_when_final[i], &isnull))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("execution %s has ended (%s): its %s cannot change",
								SPI_getvalue(old_row, desc, SPI_fnumber(desc, "id")),
								old_name, frozen_when_final[i]),
						 errdetail("A final execution keeps its status, times, log, error and input; only its links to a deleted job or cause are cleared.")));
		if ((ColumnChanged(desc, old_row, new_row, "job_config_id", &isnull) && !isnull) ||
			(ColumnChanged(desc, old_row, new_row, "cause_id", &isnull) && !isnull))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("execution %s has ended (%s): its job and cause can only be cleared",
							SPI_getvalue(old_row, desc, SPI_fnumber(desc, "id")), old_name)));
		return PointerGetDatum(new_row);
	}

	by_worker = ByOwnWorker();
	if (!MoveIsLegal(from, to, by_worker))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("execution %s cannot go from %s to %s",
						SPI_getvalue(old_row, desc, SPI_fnumber(desc, "id")),
						old_name, new_name),
				 errhint("Cancel a run with jobconfig.cancel_execution(); only jobconfig's workers start and end runs.")));
	if (!by_worker)
	{
		for (i = 0; i < lengthof(workers_only); i++)
			if (ColumnChanged(desc, old_row, new_row, workers_only[i], &isnull) &&
				!(to == EXEC_CANCELLED && strcmp(workers_only[i], "finished_at") == 0))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the %s of execution %s is jobconfig's to set",
								workers_only[i],
								SPI_getvalue(old_row, desc, SPI_fnumber(desc, "id")))));
	}
	return PointerGetDatum(new_row);
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
 *	  (jobconfig.finish_executions), in the same transaction.  "ends" (of
 *	  RunEnd *) says which of them must not be retried.
 */
void
ExecutionFinish(List *execution_ids, List *ends)
{
	Datum		args[2];
	List	   *final_ids = NIL;
	ListCell   *lc;

	if (execution_ids == NIL)
		return;
	foreach(lc, ends)
	{
		RunEnd	   *end = lfirst(lc);

		if (end->no_retry)
			final_ids = lappend(final_ids, &end->execution_id);
	}
	args[0] = IdArray(execution_ids);
	args[1] = IdArray(final_ids);
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
	args[1] = PointerGetDatum(empty);
	CatalogExecute(&Finish, args, NULL, false, 0);
	args[0] = PointerGetDatum(construct_empty_array(UUIDOID));
	args[1] = PointerGetDatum(construct_empty_array(TEXTOID));
	CatalogExecute(&FinishNeeded, args, NULL, false, 1);
}
