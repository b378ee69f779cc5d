/*-------------------------------------------------------------------------
 *
 * executor.c
 *	  An executor: a persistent background worker that claims queued runs
 *	  of its database, highest priority first then oldest, and runs them.
 *
 * No process and no connection is started per run.  An idle executor
 * sleeps on its latch; a backend that queues a run sets it at commit
 * (wakeup.c).  Claiming is one UPDATE ... FOR UPDATE SKIP LOCKED, committed
 * before any run starts, so a crash always leaves an account of what was
 * running (maintenance.c).
 *
 * Runs that may run inside a transaction (run_sql.c) are run in batches:
 * each in its own subtransaction of one batch transaction, its record
 * written in that transaction after it, so that a run's effects and its
 * "succeeded" commit together, and a whole batch costs one WAL flush.  The
 * batch grows while runs are short (by BATCH_GROWTH, up to MAX_BATCH) and falls
 * back to one run when one is not; runs claimed but not started when a
 * batch has used up BATCH_BUDGET_MS go back to the queue.  A command that
 * must run at top level (VACUUM, CALL, BEGIN...) ends the batch and runs on
 * its own, as psql -c would run it.
 *
 * IDENTIFICATION
 *	  src/executor.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "command_cache.h"
#include "execution_state.h"
#include "jobconfig.h"
#include "own_settings.h"
#include "run_log.h"
#include "run_session.h"
#include "run_sql.h"
#include "shmem.h"
#include "workers.h"

/*
 * Runs claimed at once, at most: each is a subtransaction of the batch,
 * and beyond 64 of them snapshots of every backend get slower (the
 * subtransaction cache of the batch's PGPROC overflows).
 */
#define MAX_BATCH 48

/* How fast a batch grows while runs are short. */
#define BATCH_GROWTH 2

/* Runs shorter than this on average let the next batch grow. */
#define SHORT_RUN_US 2000

/* A batch starts no new run after this long. */
#define BATCH_BUDGET_MS 50

/* A claimed run and what it needs to run. */
typedef struct ClaimedRun
{
	int64		execution_id;
	char	   *job_id;
	pg_uuid_t  *job_config_id;	/* NULL when the job is gone */
	int			attempt;
	int			priority;
	TimestampTz scheduled_for;
	Jsonb	   *input;
	Oid			run_as;
	char	   *role_name;
	char	   *command;		/* NULL when the job no longer exists */
	int			timeout_seconds;
	bool		enabled;
	bool		role_exists;
	bool		role_is_superuser;
} ClaimedRun;

static WorkerPlace place;
static ExecutorSlot *my_executor = NULL;
static MemoryContext batch_context = NULL;
static MemoryContext prefetch_context = NULL;

/*
 * The next batch, claimed in the transaction that committed the last one
 * when the queue was deep: one commit (one WAL flush) for both.
 */
static List *prefetched = NIL;
static bool prefetch_next = false;
static MemoryContext run_context = NULL;
static int	batch_limit = 1;

/* Ends of the batch's runs, recorded in one statement before it commits. */
static List *pending_ends = NIL;

/* The role of the runs in the batch transaction, InvalidOid before any. */
static Oid	batch_role = InvalidOid;
static bool batch_role_is_superuser = false;

static CatalogQuery ClaimRuns = {
	"WITH next AS ("
	"  SELECT q.id, j.enabled, j.run_as AS job_run_as,"
	"         j.payload #>> '{execution,command}' AS command,"
	"         (j.payload #>> '{execution,timeoutSeconds}')::integer AS timeout_seconds"
	"    FROM jobconfig.job_executions q"
	"    LEFT JOIN jobconfig.job_configs j ON j.id = q.job_config_id"
	"   WHERE q.finished_at IS NULL AND q.status = 'queued'"
	"     AND q.scheduled_for <= pg_catalog.now()"
	"   ORDER BY q.priority DESC, q.scheduled_for, q.id"
	"   LIMIT $1 FOR UPDATE OF q SKIP LOCKED)"
	" UPDATE jobconfig.job_executions e"
	"    SET status = 'running', started_at = pg_catalog.clock_timestamp(),"
	"        worker_pid = $2, run_as = coalesce(next.job_run_as, e.run_as)"
	"   FROM next WHERE e.id = next.id"
	" RETURNING e.id, e.job_id, e.attempt, e.priority, e.scheduled_for, e.input,"
	"           e.run_as, next.command, next.timeout_seconds, next.enabled,"
	"           e.job_config_id",
	2, {INT4OID, INT4OID}, true
};

static CatalogQuery NextDueTime = {
	"SELECT min(scheduled_for) FROM jobconfig.job_executions"
	" WHERE finished_at IS NULL AND status = 'queued'"
	"   AND scheduled_for > pg_catalog.now()",
	0, {InvalidOid}
};

PGDLLEXPORT void jobconfig_executor_main(Datum main_arg);

/*
 * CompareClaims
 *	  The claim order: highest priority, then oldest slot, then oldest id.
 */
static int
CompareClaims(const ListCell *a, const ListCell *b)
{
	const ClaimedRun *x = lfirst(a);
	const ClaimedRun *y = lfirst(b);

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	if (x->scheduled_for != y->scheduled_for)
		return x->scheduled_for < y->scheduled_for ? -1 : 1;
	return x->execution_id < y->execution_id ? -1 : (x->execution_id > y->execution_id);
}

/*
 * TakeHint
 *	  When the scheduler queued a burst of runs since this executor last
 *	  looked, start at a fair share of it rather than at one run.
 */
static void
TakeHint(void)
{
	static uint64 seen = 0;
	DatabaseSlot *db = DatabaseSlotAt(place.slot);
	int			share = 0;

	LWLockAcquire(JobconfigState->lock, LW_SHARED);
	if (db->queued_hint_generation != seen)
	{
		seen = db->queued_hint_generation;
		share = db->queued_hint / JobconfigState->max_workers;
	}
	LWLockRelease(JobconfigState->lock);
	batch_limit = Max(batch_limit, Min(share, MAX_BATCH));
}

/*
 * SetIdle
 *	  Tell backends queueing runs whether to set this executor's latch.
 */
static void
SetIdle(bool idle)
{
	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	my_executor->idle = idle;
	LWLockRelease(JobconfigState->lock);
}

/*
 * ClaimInTransaction
 *	  Claim up to "limit" due runs in the current transaction (connected
 *	  to SPI); they are accounted for once it commits.  Returns them in
 *	  claim order, allocated in "context".
 */
static List *
ClaimInTransaction(int limit, MemoryContext context)
{
	List	   *claimed = NIL;
	Datum		args[2] = {Int32GetDatum(limit), Int32GetDatum(MyProcPid)};
	uint64		row;

	CatalogExecute(&ClaimRuns, args, NULL, false, 0);
	for (row = 0; row < SPI_processed; row++)
	{
		MemoryContext old = MemoryContextSwitchTo(context);
		ClaimedRun *run = palloc0(sizeof(ClaimedRun));
		bool		isnull;
		Datum		d;

		run->execution_id = DatumGetInt64(CatalogGetDatum(row, 1, &isnull));
		run->job_id = CatalogGetText(row, 2);
		run->attempt = DatumGetInt32(CatalogGetDatum(row, 3, &isnull));
		run->priority = DatumGetInt32(CatalogGetDatum(row, 4, &isnull));
		run->scheduled_for = DatumGetTimestampTz(CatalogGetDatum(row, 5, &isnull));
		d = CatalogGetDatum(row, 6, &isnull);
		run->input = isnull ? NULL : DatumGetJsonbPCopy(d);
		d = CatalogGetDatum(row, 7, &isnull);
		run->run_as = isnull ? InvalidOid : DatumGetObjectId(d);
		run->role_name = isnull ? "?" : CatalogGetText(row, 7);
		run->command = CatalogGetText(row, 8);
		d = CatalogGetDatum(row, 9, &isnull);
		run->timeout_seconds = isnull ? 3600 : DatumGetInt32(d);
		d = CatalogGetDatum(row, 10, &isnull);
		run->enabled = !isnull && DatumGetBool(d);
		d = CatalogGetDatum(row, 11, &isnull);
		if (!isnull)
		{
			run->job_config_id = palloc(sizeof(pg_uuid_t));
			memcpy(run->job_config_id, DatumGetUUIDP(d), sizeof(pg_uuid_t));
		}
		run->role_exists = OidIsValid(run->run_as) &&
			SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(run->run_as));
		run->role_is_superuser = run->role_exists && superuser_arg(run->run_as);
		claimed = lappend(claimed, run);
		MemoryContextSwitchTo(old);
	}
	list_sort(claimed, CompareClaims);
	if (SPI_processed > 0)
	{
		int64	   *ids = palloc(sizeof(int64) * SPI_processed);
		ListCell   *lc;
		int			n = 0;

		foreach(lc, claimed)
			ids[n++] = ((ClaimedRun *) lfirst(lc))->execution_id;
		RunSessionClaimed(ids, n);
		pfree(ids);
		RoleSettingsLoad();
	}
	return claimed;
}

/*
 * WarmUp
 *	  Plan the claim and the records, open what they use, before any run
 *	  is due: a burst of runs due at once right after a start should not
 *	  wait for the planner and cold caches.
 */
static void
WarmUp(void)
{
	WorkerBeginWork("preparing");
	(void) ClaimInTransaction(0, batch_context);
	ExecutionWarmUp();
	WorkerEndWork();
}

/*
 * Claim
 *	  Claim up to "limit" due runs in a transaction of their own, and
 *	  commit: from here on each is accounted for even if this process dies.
 *	  Returns them in claim order (in batch_context), or NIL.
 */
static List *
Claim(int limit)
{
	List	   *claimed;

	WorkerBeginWork("claiming runs");
	claimed = ClaimInTransaction(limit, batch_context);
	WorkerEndWork();
	return claimed;
}

/*
 * IdleWaitMs
 *	  How long to sleep with nothing to do: until the earliest queued run
 *	  that is not due yet (a retry waiting out its delay), at most a minute.
 */
static long
IdleWaitMs(void)
{
	long		wait_ms = 60 * 1000L;
	bool		isnull;
	Datum		next;

	WorkerBeginWork("looking for runs due later");
	CatalogExecute(&NextDueTime, NULL, NULL, true, 1);
	next = CatalogGetDatum(0, 1, &isnull);
	if (!isnull)
	{
		/*
		 * Rounded up, so as not to wake before the run is due: a burst of
		 * runs recorded ahead of their slot starts when this sleep ends.
		 * Linux oversleeps a long sleep by 0.1%: go near, then the rest.
		 */
		long		ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
														 DatumGetTimestampTz(next));

		wait_ms = Min(wait_ms, ms > 1000 ? ms - 500 : ms);
	}
	WorkerEndWork();
	return wait_ms;
}

/*
 * InterruptedStatus
 *	  The status and message of a run that raised an error.
 */
static ExecutionStatus
InterruptedStatus(RunInterruption why, const char *by, ErrorData *error,
				  int timeout_seconds, char **message)
{
	switch (why)
	{
		case RUN_TIMED_OUT:
			*message = psprintf("timed out after %d s", timeout_seconds);
			return EXEC_TIMED_OUT;
		case RUN_CANCELLED_BY_USER:
			*message = psprintf("cancelled by %s while running", by[0] ? by : "a user");
			return EXEC_CANCELLED;
		case RUN_REPLACED:
			*message = pstrdup("cancelled: replaced by a newer run of its schedule");
			return EXEC_CANCELLED;
		case RUN_JOB_DELETED:
			*message = psprintf("cancelled: the job was deleted by %s while it ran", by);
			return EXEC_CANCELLED;
		default:
			*message = pstrdup(error->message ? error->message : "unknown error");
			return EXEC_FAILED;
	}
}

/*
 * EndOf
 *	  The record of a run that ran: its status, times and log.
 */
static RunEnd
EndOf(ClaimedRun *run, TimestampTz started, RunOutcome *outcome,
	  ErrorData *error, RunInterruption why, const char *by)
{
	RunEnd		end;

	end.execution_id = run->execution_id;
	end.job_id = run->job_id;
	end.job_config_id = run->job_config_id;
	end.started_at = started;
	end.finished_at = GetCurrentTimestamp();
	end.error = NULL;
	end.no_retry = false;
	RunLogClipError(error);
	if (error == NULL)
	{
		end.status = EXEC_SUCCEEDED;
		if (outcome->left_block_open)
			end.error = pstrdup("succeeded, but left a transaction block open, which was rolled back");
	}
	else
		end.status = InterruptedStatus(why, by, error, run->timeout_seconds,
									   &end.error);
	end.log = RunLogBuild(outcome->command_tag, outcome->rows, error);
	return end;
}

/*
 * SpiBegin, SpiEnd
 *	  Connect to SPI for jobconfig's own bookkeeping, with a snapshot when
 *	  the transaction has none active (between a top-level command's
 *	  statements it has not).
 */
static bool
SpiBegin(void)
{
	bool		pushed = !ActiveSnapshotSet();

	if (pushed)
		PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	return pushed;
}

static void
SpiEnd(bool pushed)
{
	SPI_finish();
	if (pushed)
		PopActiveSnapshot();
}

/*
 * RecordNow
 *	  Note how a run ended; the note is written, with the others of the
 *	  transaction, by FinishNow, before the transaction commits.
 */
static void
RecordNow(const RunEnd *end, List **finished)
{
	MemoryContext old = MemoryContextSwitchTo(batch_context);
	RunEnd	   *copy = palloc(sizeof(RunEnd));
	int64	   *id = palloc(sizeof(int64));

	*copy = *end;
	copy->log = end->log ? DatumGetJsonbPCopy(JsonbPGetDatum(end->log)) : NULL;
	copy->error = end->error ? pstrdup(end->error) : NULL;
	pending_ends = lappend(pending_ends, copy);
	*id = end->execution_id;
	*finished = lappend(*finished, id);
	MemoryContextSwitchTo(old);
}

/*
 * FinishNow
 *	  Write the noted ends of this transaction's runs, hand back the runs
 *	  not started, then queue the retries, notifications and downstream
 *	  runs they call for, if they can call for any.
 */
static void
FinishNow(List *finished, List *unstarted)
{
	bool		pushed = SpiBegin();
	bool		finish = ExecutionFinishNeeded(pending_ends);
	List	   *ends = pending_ends;

	ExecutionRecordEnds(ends);
	pending_ends = NIL;
	ExecutionHandBack(unstarted);
	if (finish)
		ExecutionFinish(finished, ends);
	if (prefetch_next && jobconfig_enabled)
	{
		MemoryContextReset(prefetch_context);
		prefetched = ClaimInTransaction(batch_limit, prefetch_context);
	}
	prefetch_next = false;
	SpiEnd(pushed);
}

/*
 * RunWithoutRunning
 *	  A claimed run that does not start: it was cancelled meanwhile, its job
 *	  was deleted or disabled (cancelled), or its role no longer exists
 *	  (failed).
 */
static void
RunWithoutRunning(ClaimedRun *run, CancelReason cancelled, const char *by,
				  List **finished)
{
	RunEnd		end;

	end.execution_id = run->execution_id;
	end.job_id = run->job_id;
	end.job_config_id = run->job_config_id;
	end.started_at = GetCurrentTimestamp();
	end.finished_at = end.started_at;
	end.log = NULL;
	end.no_retry = false;
	end.status = EXEC_CANCELLED;
	if (cancelled == CANCEL_BY_USER)
		end.error = psprintf("cancelled by %s before it started", by[0] ? by : "a user");
	else if (cancelled == CANCEL_REPLACED)
		end.error = pstrdup("cancelled: replaced by a newer run of its schedule");
	else if (cancelled == CANCEL_JOB_DELETED)
		end.error = psprintf("cancelled: the job was deleted by %s before the run started", by);
	else if (run->command == NULL)
		end.error = pstrdup("cancelled: the job no longer exists");
	else if (!run->enabled)
		end.error = pstrdup("cancelled: the job was disabled before the run started");
	else
	{
		end.status = EXEC_FAILED;
		end.error = pstrdup("failed: the job's role (execution.runAs) no longer exists");
	}
	RecordNow(&end, finished);
}

/*
 * RunInSubtransaction
 *	  Run one command inside the batch transaction, in a subtransaction of
 *	  its own, and record how it ended in the batch transaction.  The run
 *	  has its role's settings (own_settings.c), undone after it; its
 *	  deferred triggers fire at the batch's commit, as its role
 *	  (CommitBatch).
 */
static void
RunInSubtransaction(ClaimedRun *run, CommandEntry *entry, List **finished)
{
	MemoryContext old_context = CurrentMemoryContext;
	ResourceOwner old_owner = CurrentResourceOwner;
	RunIdentity identity = {run->execution_id, run->job_id, run->attempt,
	run->run_as, run->role_name, run->timeout_seconds, run->command, run->input};
	RunOutcome	outcome = {{0}};
	ErrorData  *error = NULL;
	TimestampTz started = GetCurrentTimestamp();
	SavedIdentity saved = {0};
	RunInterruption why;
	char		by[NAMEDATALEN];
	RunEnd		end;

	batch_role = run->run_as;
	batch_role_is_superuser = run->role_is_superuser;
	RunLogBegin();
	RunSessionBegin(&identity);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(run_context);
	PG_TRY();
	{
		int			nest = NewGUCNestLevel();

		saved = RunSessionBecome(run->run_as, run->role_is_superuser);
		RoleSettingsApply(run->run_as);
		RunInTransaction(entry, &outcome);
		/* A cancel that committed meanwhile wins: the run rolls back. */
		(void) RunSessionSettle(true);
		RunSessionReturn(saved);
		AtEOXact_GUC(false, nest);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(run_context);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		RunSessionReturn(saved);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old_context);
	CurrentResourceOwner = old_owner;

	RunLogEnd();
	why = RunSessionEnd(by);
	RunSessionClean();
	end = EndOf(run, started, &outcome, error, why, by);
	RecordNow(&end, finished);
}

/* What RecordBeforeCommit and the transaction callback need. */
typedef struct TopLevelRecord
{
	ClaimedRun *run;
	TimestampTz started;
	RunOutcome *outcome;
	SavedIdentity saved;
	int			commits;		/* of the command's own transactions */
	bool		recording;		/* RecordBeforeCommit began */
	bool		written;		/* it wrote the record */
	bool		recorded;		/* and the record committed */
	ErrorData  *record_error;	/* why writing the record failed */
	List	  **finished;
} TopLevelRecord;

/* The top-level run in progress, for TopLevelCommits. */
static TopLevelRecord *top_level_run = NULL;

/*
 * TopLevelCommits
 *	  XactCallback, while a top-level run is in progress.  Before each of
 *	  its transactions commits, a cancel that committed meanwhile is
 *	  applied (RunSessionCancelPoint); after, the commit is counted, or
 *	  the run's record is known to have committed with its last one.
 */
static void
TopLevelCommits(XactEvent event, void *arg)
{
	TopLevelRecord *rec = top_level_run;

	if (rec == NULL)
		return;
	if (event == XACT_EVENT_PRE_COMMIT && !rec->recording)
		RunSessionCancelPoint();
	else if (event == XACT_EVENT_COMMIT)
	{
		if (rec->written)
			rec->recorded = true;
		else
			rec->commits++;
	}
}

/*
 * RecordBeforeCommit
 *	  At top level, the run's success is recorded in the transaction of its
 *	  last statement, so that both commit together: its end is settled (a
 *	  cancel that committed meanwhile rolls it back), then the record is
 *	  written with the server's settings, not the ones the job left, and
 *	  the transaction commits as the run's role again (its deferred
 *	  triggers fire then, with the job's own rights).
 */
static void
RecordBeforeCommit(void *arg)
{
	TopLevelRecord *rec = arg;
	RunEnd		end;
	MemoryContext old = MemoryContextSwitchTo(run_context);
	int			nest;

	rec->recording = true;
	(void) RunSessionSettle(true);
	RunSessionReturn(rec->saved);
	nest = ServerSettingsEnter();
	PG_TRY();
	{
		RunLogEnd();
		end = EndOf(rec->run, rec->started, rec->outcome, NULL, RUN_NOT_INTERRUPTED, "");
		RecordNow(&end, rec->finished);
		RunSessionClean();
		FinishNow(*rec->finished, NIL);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(run_context);
		rec->record_error = CopyErrorData();
		PG_RE_THROW();
	}
	PG_END_TRY();
	AtEOXact_GUC(true, nest);
	rec->written = true;
	rec->saved = RunSessionBecome(rec->run->run_as, rec->run->role_is_superuser);
	MemoryContextSwitchTo(old);
}

/*
 * RecordingFailed
 *	  The end of a top-level run whose record could not be written with its
 *	  last transaction (it left that transaction read-only, say), which so
 *	  rolled back.  If none of its transactions had committed, the run did
 *	  nothing and failed.  If some had, its work is partly in: it failed,
 *	  and is not retried, which would do that work twice.
 */
static void
RecordingFailed(RunEnd *end, const TopLevelRecord *rec)
{
	const char *why = rec->record_error->message ? rec->record_error->message : "unknown error";

	end->status = EXEC_FAILED;
	if (rec->commits > 0)
	{
		end->error = psprintf("not recorded: the command committed %d transaction%s, but its end could not be recorded with its last one (%s), which was rolled back; not retried",
							  rec->commits, rec->commits == 1 ? "" : "s", why);
		end->no_retry = true;
	}
	else
		end->error = psprintf("not recorded: the command's end could not be recorded with its transaction (%s), which was rolled back",
							  why);
}

/*
 * RunTopLevel
 *	  Run one command outside any batch, as psql -c would.  Called and
 *	  returns outside any transaction.  The record commits with the
 *	  command's last transaction, or, when the command left none open or
 *	  that commit failed, in a transaction of its own after it.
 */
static void
RunTopLevel(ClaimedRun *run, List *raw)
{
	static bool callback_registered = false;
	RunIdentity identity = {run->execution_id, run->job_id, run->attempt,
	run->run_as, run->role_name, run->timeout_seconds, run->command, run->input};
	RunOutcome	outcome = {{0}};
	List	   *finished = NIL;
	TopLevelRecord rec = {run, GetCurrentTimestamp(), &outcome, {0}, 0,
	false, false, false, NULL, &finished};
	ErrorData  *error = NULL;
	RunInterruption why;
	char		by[NAMEDATALEN];

	if (!callback_registered)
	{
		RegisterXactCallback(TopLevelCommits, NULL);
		callback_registered = true;
	}
	RunLogBegin();
	RunSessionBegin(&identity);
	MemoryContextSwitchTo(run_context);
	top_level_run = &rec;
	PG_TRY();
	{
		rec.saved = RunSessionBecome(run->run_as, run->role_is_superuser);
		RoleSettingsApply(run->run_as);
		RunAtTopLevel(raw, run->command, &outcome, RecordBeforeCommit, &rec);
		RunSessionReturn(rec.saved);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(run_context);
		error = CopyErrorData();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		RunSessionReturn(rec.saved);
	}
	PG_END_TRY();
	top_level_run = NULL;

	RunLogEnd();
	why = RunSessionEnd(by);

	/* Settings the command changed, at session level too, go. */
	StartTransactionCommand();
	ResetAllOptions();
	if (!rec.recorded)
	{
		RunEnd		end;

		/* What was noted with a transaction that rolled back is void. */
		pending_ends = NIL;
		finished = NIL;
		end = EndOf(run, rec.started, &outcome, error, why, by);
		if (rec.recording && !rec.written && rec.record_error != NULL &&
			why == RUN_NOT_INTERRUPTED)
			RecordingFailed(&end, &rec);
		RecordNow(&end, &finished);
		RunSessionClean();
		FinishNow(finished, NIL);
	}
	CommitTransactionCommand();
}

/*
 * ParseCommand
 *	  The cached entry of a command, or NULL with the run recorded as
 *	  failed when it does not parse.
 */
static CommandEntry *
ParseCommand(ClaimedRun *run, List **finished)
{
	MemoryContext old = MemoryContextSwitchTo(run_context);
	CommandEntry *volatile entry = NULL;

	PG_TRY();
	{
		entry = CommandLookup(run->command);
	}
	PG_CATCH();
	{
		ErrorData  *error = CopyErrorData();
		RunOutcome	outcome = {{0}};
		RunEnd		end;

		FlushErrorState();
		RunLogBegin();
		RunLogEnd();
		end = EndOf(run, GetCurrentTimestamp(), &outcome, error,
					RUN_NOT_INTERRUPTED, "");
		RecordNow(&end, finished);
		entry = NULL;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return entry;
}

/*
 * BeginBatch
 *	  A new batch transaction.
 */
static void
BeginBatch(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
}

/*
 * CommitBatch
 *	  Queue what the ended runs call for, hand back the unstarted ones,
 *	  then commit: one WAL flush for the whole batch.  All the runs of a
 *	  batch transaction have one role (RunBatch), which commits it.
 */
static void
CommitBatch(List *finished, List *unstarted)
{
	FinishNow(finished, unstarted);
	PopActiveSnapshot();
	if (OidIsValid(batch_role))
	{
		/*
		 * Deferred triggers of the runs fire now: as their role, never as
		 * the executor's.  Aborting puts the executor's identity back.
		 */
		SavedIdentity saved = RunSessionBecome(batch_role, batch_role_is_superuser);

		batch_role = InvalidOid;
		PG_TRY();
		{
			CommitTransactionCommand();
		}
		PG_CATCH();
		{
			RunSessionReturn(saved);
			PG_RE_THROW();
		}
		PG_END_TRY();
		RunSessionReturn(saved);
	}
	else
		CommitTransactionCommand();
}

/*
 * RunOne
 *	  Run one claimed run in the batch transaction (or, for a command that
 *	  needs it, at top level between two batch transactions).
 */
static void
RunOne(ClaimedRun *run, List **finished)
{
	CommandEntry *entry;
	CancelReason cancelled;
	char		by[NAMEDATALEN];

	MemoryContextReset(run_context);
	cancelled = RunSessionTakeClaim(run->execution_id, by);
	if (cancelled != CANCEL_NONE || run->command == NULL || !run->enabled ||
		!run->role_exists)
	{
		RunWithoutRunning(run, cancelled, by, finished);
		return;
	}
	entry = ParseCommand(run, finished);
	if (entry == NULL)
		return;
	if (entry->top_level)
	{
		List	   *raw;

		CommitBatch(*finished, NIL);
		*finished = NIL;
		/* Parse analysis may scribble on raw trees: run a copy. */
		raw = copyObject(entry->raw);
		RunTopLevel(run, raw);
		BeginBatch();
		return;
	}
	RunInSubtransaction(run, entry, finished);
}

/*
 * RecordCommitFailure
 *	  A run whose own transaction failed to commit (a deferred constraint,
 *	  a serialization failure): record the error, in a new transaction.
 */
static void
RecordCommitFailure(ClaimedRun *run, ErrorData *error)
{
	RunOutcome	outcome = {{0}};
	List	   *finished = NIL;
	RunEnd		end;

	BeginBatch();
	RunLogBegin();
	RunLogEnd();
	end = EndOf(run, GetCurrentTimestamp(), &outcome, error,
				RUN_NOT_INTERRUPTED, "");
	RecordNow(&end, &finished);
	CommitBatch(finished, NIL);
}

/*
 * CommitGroup
 *	  Commit the runs of the batch transaction.  Should the commit fail
 *	  (deferred constraints are checked only now), none of the group's
 *	  effects or records survived: run each again in a transaction of its
 *	  own, so that only the run at fault fails, as it would have alone.
 */
static void
CommitGroup(List *group, List *finished, List *unstarted)
{
	ErrorData  *error = NULL;
	ListCell   *lc;

	PG_TRY();
	{
		CommitBatch(finished, unstarted);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(batch_context);
		error = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		pending_ends = NIL;
		prefetched = NIL;
		batch_role = InvalidOid;
	}
	PG_END_TRY();

	/*
	 * The transaction is over, and the context this was called in went
	 * with it: what comes next allocates in TopMemoryContext, where the
	 * commit or the abort left us.  (Switching back would leave a dangling
	 * CurrentMemoryContext, which the next context created would corrupt.)
	 */
	Assert(CurrentMemoryContext == TopMemoryContext);
	if (error == NULL)
		return;

	batch_limit = 1;
	if (list_length(group) == 1)
	{
		RecordCommitFailure(linitial(group), error);
		BeginBatch();
		CommitBatch(NIL, unstarted);
		return;
	}
	foreach(lc, group)
	{
		List	   *one_finished = NIL;

		BeginBatch();
		RunOne(lfirst(lc), &one_finished);
		CommitGroup(list_make1(lfirst(lc)), one_finished, NIL);
	}
	BeginBatch();
	CommitBatch(NIL, unstarted);
}

/*
 * RunBatch
 *	  Run the claimed runs in claim order, as many per transaction as
 *	  their commands allow, and adapt the next batch's size.
 */
static void
RunBatch(List *claimed)
{
	TimestampTz batch_start = GetCurrentTimestamp();
	List	   *finished = NIL;
	List	   *unstarted = NIL;
	List	   *group = NIL;
	int			started = 0;
	bool		top_level = false;
	bool		short_on_average;
	ListCell   *lc;

	BeginBatch();
	foreach(lc, claimed)
	{
		ClaimedRun *run = lfirst(lc);
		TimestampTz run_start = GetCurrentTimestamp();
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (TimestampDifferenceExceeds(batch_start, run_start, BATCH_BUDGET_MS))
		{
			/* Out of time: the rest go back to the queue, for anyone. */
			for (; lc != NULL; lc = lnext(claimed, lc))
			{
				int64	   *id = MemoryContextAlloc(batch_context, sizeof(int64));

				*id = ((ClaimedRun *) lfirst(lc))->execution_id;
				old = MemoryContextSwitchTo(batch_context);
				unstarted = lappend(unstarted, id);
				MemoryContextSwitchTo(old);
			}
			break;
		}

		/* A run of another role starts a new batch transaction. */
		if (OidIsValid(batch_role) && run->run_as != batch_role)
		{
			CommitGroup(group, finished, NIL);
			group = NIL;
			finished = NIL;
			BeginBatch();
		}

		old = MemoryContextSwitchTo(batch_context);
		group = lappend(group, run);
		MemoryContextSwitchTo(old);
		RunOne(run, &finished);
		started++;
		if (finished == NIL)
		{
			/* It ran at top level, committing the group before it. */
			group = NIL;
			top_level = true;
		}
	}

	/*
	 * Short on average: one run slowed by a busy machine says little about
	 * the next batch, and BATCH_BUDGET_MS bounds a batch whatever its runs.
	 */
	short_on_average = !top_level && started > 0 &&
		!TimestampDifferenceExceeds(batch_start, GetCurrentTimestamp(),
									started * SHORT_RUN_US / 1000);
	if (short_on_average && unstarted == NIL && list_length(claimed) == batch_limit)
		batch_limit = Min(batch_limit * BATCH_GROWTH, MAX_BATCH);
	else if (!short_on_average || unstarted != NIL)
		batch_limit = 1;

	/* A full batch of short runs: the queue is deep, claim the next now. */
	prefetch_next = batch_limit > 1 && list_length(claimed) > 1;
	CommitGroup(group, finished, unstarted);
}

/*
 * ExecutorDetach
 *	  on_shmem_exit: free the slot.
 */
static void
ExecutorDetach(int code, Datum arg)
{
	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	if (my_executor->pid == MyProcPid)
	{
		my_executor->pid = 0;
		my_executor->latch = NULL;
		my_executor->idle = false;
		my_executor->execution_id = 0;
		my_executor->claimed_count = 0;
	}
	LWLockRelease(JobconfigState->lock);
}

/*
 * jobconfig_executor_main
 *	  Entry point of an executor.
 */
void
jobconfig_executor_main(Datum main_arg)
{
	place = WorkerPlaceOf(main_arg);

	WorkerInstallSignals();
	WorkerConnect(place.dboid);
	pgstat_report_appname(psprintf("jobconfig executor %d", place.executor + 1));

	my_executor = &DatabaseSlotAt(place.slot)->executors[place.executor];
	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	my_executor->pid = MyProcPid;
	my_executor->latch = MyLatch;
	my_executor->idle = false;
	my_executor->execution_id = 0;
	my_executor->claimed_count = 0;
	LWLockRelease(JobconfigState->lock);
	on_shmem_exit(ExecutorDetach, 0);

	batch_context = AllocSetContextCreate(TopMemoryContext, "jobconfig batch",
										  ALLOCSET_DEFAULT_SIZES);
	prefetch_context = AllocSetContextCreate(TopMemoryContext, "jobconfig next batch",
											 ALLOCSET_DEFAULT_SIZES);
	run_context = AllocSetContextCreate(TopMemoryContext, "jobconfig run",
										ALLOCSET_DEFAULT_SIZES);
	RunLogInstall();
	RunSessionInstall(DatabaseSlotAt(place.slot), my_executor);

	/* Every message a job raises reaches the log hook (run_log.c). */
	SetConfigOption("log_min_messages", "info", PGC_SUSET, PGC_S_OVERRIDE);
	WarmUp();

	for (;;)
	{
		List	   *claimed;

		WorkerCheckSignals();

		if (prefetched != NIL)
		{
			/* The next batch is claimed already: run it. */
			MemoryContext spare = batch_context;

			batch_context = prefetch_context;
			prefetch_context = spare;
			claimed = prefetched;
			prefetched = NIL;
			MemoryContextReset(prefetch_context);
			SetIdle(false);
			RunBatch(claimed);
			continue;
		}

		MemoryContextReset(batch_context);
		SetIdle(true);
		ResetLatch(MyLatch);
		TakeHint();
		claimed = jobconfig_enabled ? Claim(batch_limit) : NIL;
		if (claimed == NIL)
		{
			long		wait_ms = jobconfig_enabled ? IdleWaitMs() : -1;

			WorkerSleep(wait_ms);
			continue;
		}
		SetIdle(false);
		RunBatch(claimed);
	}
}
