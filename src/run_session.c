/*-------------------------------------------------------------------------
 *
 * run_session.c
 *	  The environment of one run in a pooled executor: whose rights it has,
 *	  how long it may take, what it can learn about itself, and the clean
 *	  slate the next run finds.
 *
 * Rights.  A run has exactly the rights of its runAs role, NOLOGIN roles
 * included: the executor switches its current user the way a SECURITY
 * DEFINER function does (SetUserIdAndSecContext with
 * SECURITY_LOCAL_USERID_CHANGE).  In that state PostgreSQL refuses SET
 * ROLE, RESET ROLE and SET SESSION AUTHORIZATION, so the job cannot climb
 * back to the executor's own role.  At top level the switch has to span the
 * transactions a command such as CALL may commit; PostgreSQL has no other
 * way to hold a job to a role across them.
 *
 * Inside a run, session_user is its role too, and is_superuser says
 * whether that role is one; the executor's own superuser identity stays
 * only as the authenticated user, which nothing a job may run can reach
 * (SET SESSION AUTHORIZATION, SET ROLE and RESET of them are refused in
 * this state, as in a SECURITY DEFINER function).
 *
 * Time.  A timer of the executor's own cancels the statement in progress
 * when timeoutSeconds is up, exactly as a query cancel does; the run is
 * then recorded timed_out rather than failed.  An executor starting a run
 * that must be watched sooner than the scheduler's watchdog means to look
 * wakes it, so the timeout of last resort holds on an idle server too.
 *
 * Cancels.  cancel_execution() holds the run's row locked and files a
 * request, with its transaction id, in the executor that holds the run
 * (shmem.c), while the run is claimed and not started, or running and its
 * end not yet settled; otherwise it answers false.  The request is in
 * force once that transaction commits, when a running statement gets
 * SIGINT.  The executor settles a run's end once, after its command
 * (RunSessionSettle): a request still pending then is waited for, so a
 * committed cancel always wins over an end not yet recorded, and after
 * that no request is taken.  SIGINT is heeded only while a run may be
 * interrupted: one arriving later, for a run already settled, is dropped
 * rather than cancelling jobconfig's own bookkeeping or the next run.
 *
 * Clean slate.  Settings a run changes are undone (a GUC nest level, or a
 * RESET ALL after top-level runs); its prepared statements, cursors, session
 * advisory locks, LISTENs, sequence caches and temporary tables are dropped
 * after it, as DISCARD ALL would.
 *
 * IDENTIFICATION
 *	  src/run_session.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "catalog/namespace.h"
#include "commands/async.h"
#include "commands/portalcmds.h"
#include "commands/prepare.h"
#include "commands/sequence.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "jobconfig.h"
#include "run_session.h"
#include "shmem.h"

PG_FUNCTION_INFO_V1(jobconfig_current_input);
PG_FUNCTION_INFO_V1(jobconfig_current_execution_id);

static ExecutorSlot *my_executor = NULL;
static DatabaseSlot *my_database = NULL;
static TimeoutId run_timeout = MAX_TIMEOUTS;
static volatile sig_atomic_t run_timed_out = false;

/* A SIGINT now cancels the run's statement; later ones are dropped. */
static volatile sig_atomic_t run_interruptible = false;

/* The run in progress, for current_input() and current_execution_id(). */
static int64 current_execution = 0;
static Jsonb *current_input = NULL;
static MemoryContext input_context = NULL;

/*
 * RunTimeoutHandler
 *	  The run's time is up: cancel its statement, as a query cancel would.
 */
static void
RunTimeoutHandler(void)
{
	run_timed_out = true;
	kill(MyProcPid, SIGINT);
}

/*
 * RunCancelSignal
 *	  SIGINT: a query cancel while a run may be interrupted, else nothing.
 */
static void
RunCancelSignal(SIGNAL_ARGS)
{
	if (run_interruptible)
		StatementCancelHandler(postgres_signal_arg);
}

/*
 * RunSessionInstall
 *	  Once per executor: its slots, the timer, SIGINT, a context for inputs.
 */
void
RunSessionInstall(DatabaseSlot *database, ExecutorSlot *slot)
{
	my_database = database;
	my_executor = slot;
	run_timeout = RegisterTimeout(USER_TIMEOUT, RunTimeoutHandler);
	pqsignal(SIGINT, RunCancelSignal);
	input_context = AllocSetContextCreate(TopMemoryContext,
										  "jobconfig run input",
										  ALLOCSET_SMALL_SIZES);
}

/*
 * RunSessionClaimed
 *	  The runs this executor just claimed, in the transaction that claims
 *	  them (before it commits, so that whoever sees them claimed finds them
 *	  here).  They replace the previous claims, all of which were started
 *	  or handed back by now.
 */
void
RunSessionClaimed(const int64 *execution_ids, int count)
{
	int			i;

	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	my_executor->claimed_count = Min(count, MAX_CLAIMED);
	for (i = 0; i < my_executor->claimed_count; i++)
	{
		my_executor->claimed[i].execution_id = execution_ids[i];
		memset(&my_executor->claimed[i].cancel, 0, sizeof(CancelRequest));
	}
	LWLockRelease(JobconfigState->lock);
}

/*
 * WaitForCanceller
 *	  Wait until the transaction that asked to cancel a run has ended.  In
 *	  a subtransaction of its own, so that a deadlock with it (it may wait
 *	  for what the run locked) costs only the wait; opens a transaction
 *	  when called outside one.
 */
static void
WaitForCanceller(TransactionId xid)
{
	MemoryContext old_context = CurrentMemoryContext;
	ResourceOwner old_owner;
	bool		own = !IsTransactionState();

	if (own)
		StartTransactionCommand();
	old_owner = CurrentResourceOwner;
	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		XactLockTableWait(xid, NULL, NULL, XLTW_None);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	CurrentResourceOwner = old_owner;
	if (own)
		CommitTransactionCommand();
	MemoryContextSwitchTo(old_context);
}

/*
 * PendingXid
 *	  The transaction of a request that has not committed yet, or invalid.
 */
static TransactionId
PendingXid(const CancelRequest *request)
{
	return request->reason == CANCEL_NONE ? request->xid : InvalidTransactionId;
}

/*
 * RunSessionTakeClaim
 *	  Before a claimed run starts (or ends without starting): take it out
 *	  of the claimed runs.  A request to cancel it that is pending is
 *	  waited for.  Returns why it was cancelled before it started, with by
 *	  whom in "by" (NAMEDATALEN), or CANCEL_NONE.
 */
CancelReason
RunSessionTakeClaim(int64 execution_id, char *by)
{
	CancelReason reason = CANCEL_NONE;
	TransactionId waited = InvalidTransactionId;

	for (;;)
	{
		TransactionId pending = InvalidTransactionId;
		int			i;

		LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
		for (i = 0; i < my_executor->claimed_count; i++)
		{
			ClaimedRunSlot *claim = &my_executor->claimed[i];

			if (claim->execution_id != execution_id)
				continue;
			pending = PendingXid(&claim->cancel);
			if (TransactionIdIsValid(pending) && pending != waited)
				break;
			reason = claim->cancel.reason;
			strlcpy(by, claim->cancel.by, NAMEDATALEN);
			*claim = my_executor->claimed[--my_executor->claimed_count];
			pending = InvalidTransactionId;
			break;
		}
		LWLockRelease(JobconfigState->lock);
		if (!TransactionIdIsValid(pending) || pending == waited)
			return reason;
		WaitForCanceller(pending);
		waited = pending;
	}
}

/*
 * RunSessionBegin
 *	  Publish the run (shared memory, pg_stat_activity, current_input()),
 *	  forget stale cancels, start its timer.
 */
void
RunSessionBegin(const RunIdentity *run)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz watch_at = TimestampTzPlusMilliseconds(now,
													   run->timeout_seconds * 1000L + TIMEOUT_GRACE_MS);

	MemoryContextReset(input_context);
	current_input = run->input ?
		(Jsonb *) MemoryContextAllocZero(input_context, VARSIZE(run->input)) : NULL;
	if (current_input)
		memcpy(current_input, run->input, VARSIZE(run->input));
	current_execution = run->execution_id;

	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	my_executor->execution_id = run->execution_id;
	my_executor->cancellable = true;
	my_executor->started_at = now;
	my_executor->timeout_seconds = run->timeout_seconds;
	memset(&my_executor->cancel, 0, sizeof(CancelRequest));
	if (my_database->watchdog_at == 0 || my_database->watchdog_at > watch_at)
	{
		my_database->watchdog_at = watch_at;
		if (my_database->scheduler_latch != NULL)
			SetLatch(my_database->scheduler_latch);
	}
	LWLockRelease(JobconfigState->lock);

	pgstat_report_activity(STATE_RUNNING,
						   psprintf("jobconfig job %s (execution " INT64_FORMAT ", attempt %d) as %s: %s",
									run->job_id, run->execution_id, run->attempt,
									run->role_name, run->command));

	/* A cancel aimed at an earlier run must not hit this one. */
	QueryCancelPending = false;
	run_timed_out = false;
	run_interruptible = true;
	enable_timeout_after(run_timeout, run->timeout_seconds * 1000);
}

/*
 * AwaitCancel
 *	  Wait for the transaction of a cancel request still pending (and for
 *	  any that came meanwhile); returns the reason of the request in
 *	  force, or CANCEL_NONE.  With "settle", the run takes no request
 *	  after this.
 */
static CancelReason
AwaitCancel(bool settle)
{
	TransactionId waited = InvalidTransactionId;
	CancelReason reason;

	for (;;)
	{
		TransactionId pending;

		LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
		pending = my_executor->cancellable ? PendingXid(&my_executor->cancel) :
			InvalidTransactionId;
		if (!TransactionIdIsValid(pending) || pending == waited)
		{
			reason = my_executor->cancel.reason;
			if (settle)
				my_executor->cancellable = false;
			LWLockRelease(JobconfigState->lock);
			return reason;
		}
		LWLockRelease(JobconfigState->lock);
		WaitForCanceller(pending);
		waited = pending;
	}
}

/*
 * RaiseCancel
 *	  The error of a run cancelled by a request in force.
 */
static void
RaiseCancel(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_QUERY_CANCELED),
			 errmsg("canceling statement due to user request")));
}

/*
 * RunSessionSettle
 *	  The run's command is over: settle its end.  A cancel request still
 *	  pending is waited for; a committed one means the run ends cancelled,
 *	  which, when "raise", is raised here (the caller is still inside the
 *	  run, whose effects this rolls back).  From here on no cancel is taken
 *	  and no SIGINT heeded.  Returns why it was cancelled, or CANCEL_NONE.
 */
CancelReason
RunSessionSettle(bool raise)
{
	CancelReason reason = AwaitCancel(true);

	run_interruptible = false;
	QueryCancelPending = false;
	if (raise && reason != CANCEL_NONE)
		RaiseCancel();
	return reason;
}

/*
 * RunSessionCancelPoint
 *	  Before a top-level run's own transaction commits: a cancel request
 *	  pending is waited for, and one in force raised, so that the
 *	  transaction rolls back rather than commit the work of a run that
 *	  cancel_execution() was told would end cancelled.
 */
void
RunSessionCancelPoint(void)
{
	if (AwaitCancel(false) != CANCEL_NONE)
		RaiseCancel();
}

/*
 * RunSessionEnd
 *	  The run is over, however it ended: stop its timer, settle its end if
 *	  that was not done, and unpublish it.  Returns why it was interrupted,
 *	  if it was.
 */
RunInterruption
RunSessionEnd(char *cancelled_by)
{
	RunInterruption why = RUN_NOT_INTERRUPTED;
	CancelReason reason;

	disable_timeout(run_timeout, false);
	reason = RunSessionSettle(false);
	if (run_timed_out)
		why = RUN_TIMED_OUT;
	else if (reason == CANCEL_BY_USER)
		why = RUN_CANCELLED_BY_USER;
	else if (reason == CANCEL_REPLACED)
		why = RUN_REPLACED;
	else if (reason == CANCEL_JOB_DELETED)
		why = RUN_JOB_DELETED;
	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	if (cancelled_by != NULL)
		strlcpy(cancelled_by, my_executor->cancel.by, NAMEDATALEN);
	my_executor->execution_id = 0;
	memset(&my_executor->cancel, 0, sizeof(CancelRequest));
	LWLockRelease(JobconfigState->lock);

	current_execution = 0;
	current_input = NULL;
	pgstat_report_activity(STATE_IDLE, NULL);
	return why;
}

/*
 * RunSessionBecome
 *	  Take on the run's role, as a SECURITY DEFINER function does, and make
 *	  it the session user too (session_user, is_superuser); returns what
 *	  RunSessionReturn needs to come back.  Needs no catalog access: it
 *	  may be called between transactions.
 */
SavedIdentity
RunSessionBecome(Oid run_as, bool run_as_superuser)
{
	SavedIdentity saved;

	GetUserIdAndSecContext(&saved.userid, &saved.sec_context);
	saved.session_userid = GetSessionUserId();
	/* Executors connect as the bootstrap superuser (WorkerConnect). */
	saved.session_superuser = true;
	SetUserIdAndSecContext(saved.userid, 0);
	SetSessionAuthorization(run_as, run_as_superuser);
	SetUserIdAndSecContext(run_as,
						   saved.sec_context | SECURITY_LOCAL_USERID_CHANGE);
	return saved;
}

/*
 * RunSessionReturn
 *	  Back to the executor's own identity.  Also after an error: aborting
 *	  restores the current user, not the session user.
 */
void
RunSessionReturn(SavedIdentity saved)
{
	if (!OidIsValid(saved.session_userid))
		return;					/* never became anyone */
	SetUserIdAndSecContext(saved.userid, 0);
	SetSessionAuthorization(saved.session_userid, saved.session_superuser);
	SetUserIdAndSecContext(saved.userid, saved.sec_context);
}

/*
 * RunSessionClean
 *	  What a run left in the session goes, as DISCARD ALL would make it go:
 *	  prepared statements, cursors, session advisory locks, LISTENs,
 *	  sequence caches, temporary tables.  Settings are undone by the
 *	  caller.  Must be called in a transaction.
 */
void
RunSessionClean(void)
{
	Oid			temp_namespace;
	Oid			temp_toast_namespace;

	PerformPortalClose(NULL);
	DropAllPreparedStatements();
	LockReleaseSession(USER_LOCKMETHOD);
	Async_UnlistenAll();
	ResetSequenceCaches();
	GetTempNamespaceState(&temp_namespace, &temp_toast_namespace);
	if (OidIsValid(temp_namespace))
		ResetTempTableNamespace();
}

/*
 * jobconfig_current_input
 *	  SQL: jobconfig.current_input(), the input of the run in progress.
 */
Datum
jobconfig_current_input(PG_FUNCTION_ARGS)
{
	if (current_execution == 0 || current_input == NULL)
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(current_input);
}

/*
 * jobconfig_current_execution_id
 *	  SQL: jobconfig.current_execution_id(), the id of the run in progress.
 */
Datum
jobconfig_current_execution_id(PG_FUNCTION_ARGS)
{
	if (current_execution == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(current_execution);
}
