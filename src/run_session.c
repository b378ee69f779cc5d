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
 * Time.  A timer of the executor's own cancels the statement in progress
 * when timeoutSeconds is up, exactly as a query cancel does; the run is
 * then recorded timed_out rather than failed.
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
static TimeoutId run_timeout = MAX_TIMEOUTS;
static volatile sig_atomic_t run_timed_out = false;

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
 * RunSessionInstall
 *	  Once per executor: its slot, the timer, a context for inputs.
 */
void
RunSessionInstall(ExecutorSlot *slot)
{
	my_executor = slot;
	run_timeout = RegisterTimeout(USER_TIMEOUT, RunTimeoutHandler);
	input_context = AllocSetContextCreate(TopMemoryContext,
										  "jobconfig run input",
										  ALLOCSET_SMALL_SIZES);
}

/*
 * RunSessionBegin
 *	  Publish the run (shared memory, pg_stat_activity, current_input()),
 *	  forget stale cancels, start its timer.
 */
void
RunSessionBegin(const RunIdentity *run)
{
	MemoryContextReset(input_context);
	current_input = run->input ?
		(Jsonb *) MemoryContextAllocZero(input_context, VARSIZE(run->input)) : NULL;
	if (current_input)
		memcpy(current_input, run->input, VARSIZE(run->input));
	current_execution = run->execution_id;

	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	my_executor->execution_id = run->execution_id;
	my_executor->started_at = GetCurrentTimestamp();
	my_executor->timeout_seconds = run->timeout_seconds;
	my_executor->cancel_reason = CANCEL_NONE;
	my_executor->cancelled_by[0] = '\0';
	LWLockRelease(JobconfigState->lock);

	pgstat_report_activity(STATE_RUNNING,
						   psprintf("jobconfig job %s (execution " INT64_FORMAT ", attempt %d) as %s: %s",
									run->job_id, run->execution_id, run->attempt,
									run->role_name, run->command));

	/* A cancel aimed at an earlier run must not hit this one. */
	QueryCancelPending = false;
	run_timed_out = false;
	enable_timeout_after(run_timeout, run->timeout_seconds * 1000);
}

/*
 * RunSessionEnd
 *	  The run is over, however it ended: stop its timer and unpublish it.
 *	  Returns why it was interrupted, if it was.
 */
RunInterruption
RunSessionEnd(char *cancelled_by)
{
	RunInterruption why = RUN_NOT_INTERRUPTED;

	disable_timeout(run_timeout, false);
	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	if (run_timed_out)
		why = RUN_TIMED_OUT;
	else if (my_executor->cancel_reason == CANCEL_BY_USER)
		why = RUN_CANCELLED_BY_USER;
	else if (my_executor->cancel_reason == CANCEL_REPLACED)
		why = RUN_REPLACED;
	else if (my_executor->cancel_reason == CANCEL_JOB_DELETED)
		why = RUN_JOB_DELETED;
	if (cancelled_by != NULL)
		strlcpy(cancelled_by, my_executor->cancelled_by, NAMEDATALEN);
	my_executor->execution_id = 0;
	my_executor->cancel_reason = CANCEL_NONE;
	LWLockRelease(JobconfigState->lock);

	current_execution = 0;
	current_input = NULL;
	pgstat_report_activity(STATE_IDLE, NULL);
	return why;
}

/*
 * RunSessionBecome
 *	  Take on the run's role, as a SECURITY DEFINER function does; returns
 *	  what RunSessionReturn needs to come back.
 */
SavedIdentity
RunSessionBecome(Oid run_as)
{
	SavedIdentity saved;

	GetUserIdAndSecContext(&saved.userid, &saved.sec_context);
	SetUserIdAndSecContext(run_as,
						   saved.sec_context | SECURITY_LOCAL_USERID_CHANGE);
	return saved;
}

/*
 * RunSessionReturn
 *	  Back to the executor's own identity.
 */
void
RunSessionReturn(SavedIdentity saved)
{
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
