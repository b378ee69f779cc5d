/*-------------------------------------------------------------------------
 *
 * wakeup.c
 *	  Wake-ups sent at commit: a queued run wakes the executors, a changed
 *	  job wakes the scheduler, a queued notification wakes the notifier, a
 *	  cancelled run interrupts its executor, a created or dropped extension
 *	  wakes the launcher or the scheduler.
 *
 * Work is announced only once the transaction that made it has committed,
 * so a worker woken up always finds it, and a transaction that rolls back
 * (a run_job in a failed transaction, say) wakes no one.  What a
 * transaction has to announce is collected here, in TopTransactionContext,
 * and sent from a transaction callback at commit.
 *
 * IDENTIFICATION
 *	  src/wakeup.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "access.h"
#include "arguments.h"
#include "catalog.h"
#include "jobconfig.h"
#include "shmem.h"
#include "wakeup.h"

PG_FUNCTION_INFO_V1(jobconfig_wake_executors);
PG_FUNCTION_INFO_V1(jobconfig_wake_notifier);
PG_FUNCTION_INFO_V1(jobconfig_announce_install);
PG_FUNCTION_INFO_V1(jobconfig_interrupt_at_commit);

/* A run to interrupt at commit. */
typedef struct PendingCancel
{
	SubTransactionId subid;		/* the subtransaction that asked */
	int64		execution_id;
	CancelReason reason;
	char		by[NAMEDATALEN];
} PendingCancel;

/* What this transaction will announce at commit. */
static bool callback_registered = false;
static bool wake_executors = false;
static bool wake_launcher = false;
static bool wake_scheduler = false;
static bool wake_notifier = false;
static List *changed_jobs = NIL;	/* of pg_uuid_t *, in TopTransactionContext */
static List *cancels = NIL;		/* of PendingCancel *, likewise */

static object_access_hook_type prev_object_access_hook = NULL;

/*
 * The running execution, as the caller sees it, and whether its
 * cancel_requested was set: who last wrote the row (xmin) says whether
 * this transaction did.
 */
static CatalogQuery CancelRequested = {
	"SELECT xmin FROM jobconfig.job_executions"
	" WHERE id = $1 AND finished_at IS NULL AND status = 'running'"
	"   AND cancel_requested",
	1, {INT8OID}
};

/*
 * Forget
 *	  Drop whatever was collected (the lists live in TopTransactionContext,
 *	  which is going away).
 */
static void
Forget(void)
{
	wake_executors = false;
	wake_launcher = false;
	wake_scheduler = false;
	wake_notifier = false;
	changed_jobs = NIL;
	cancels = NIL;
}

/*
 * WakeupAtCommit
 *	  XactCallback: send what was collected once the commit is durable; on
 *	  abort, send nothing.
 */
static void
WakeupAtCommit(XactEvent event, void *arg)
{
	ListCell   *lc;

	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (changed_jobs != NIL)
				ShmemQueueChanges(MyDatabaseId, changed_jobs);
			else if (wake_scheduler)
				ShmemWakeScheduler(MyDatabaseId);
			foreach(lc, cancels)
			{
				PendingCancel *cancel = lfirst(lc);

				ShmemCancelRun(MyDatabaseId, cancel->execution_id,
							   cancel->reason, cancel->by);
			}
			if (wake_executors)
				ShmemWakeExecutors(MyDatabaseId);
			if (wake_notifier)
				ShmemWakeNotifier(MyDatabaseId);
			if (wake_launcher)
				ShmemWakeLauncher();
			Forget();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			Forget();
			break;
		default:
			break;
	}
}

/*
 * CancelsOfSubtransaction
 *	  SubXactCallback: a cancel asked for in a subtransaction that rolls
 *	  back (ROLLBACK TO a savepoint) is not sent; one in a subtransaction
 *	  that commits now belongs to its parent.  (Other wake-ups are hints,
 *	  harmless when nothing came of them.)
 */
static void
CancelsOfSubtransaction(SubXactEvent event, SubTransactionId subid,
						SubTransactionId parent, void *arg)
{
	ListCell   *lc;

	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		foreach(lc, cancels)
			if (((PendingCancel *) lfirst(lc))->subid == subid)
				cancels = foreach_delete_current(cancels, lc);
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		foreach(lc, cancels)
		{
			PendingCancel *cancel = lfirst(lc);

			if (cancel->subid == subid)
				cancel->subid = parent;
		}
	}
}

/*
 * EnsureCallback
 *	  Register the transaction callbacks, once per backend.
 */
static void
EnsureCallback(void)
{
	if (!callback_registered)
	{
		RegisterXactCallback(WakeupAtCommit, NULL);
		RegisterSubXactCallback(CancelsOfSubtransaction, NULL);
		callback_registered = true;
	}
}

/*
 * WakeupExecutorsAtCommit
 *	  Runs were queued: wake the idle executors at commit.
 */
void
WakeupExecutorsAtCommit(void)
{
	EnsureCallback();
	wake_executors = true;
}

/*
 * WakeupSchedulerAtCommit
 *	  A job was created, changed or deleted: the scheduler reloads it.
 */
void
WakeupSchedulerAtCommit(const pg_uuid_t *job_config_id)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	pg_uuid_t  *copy = palloc(sizeof(pg_uuid_t));

	memcpy(copy, job_config_id, sizeof(pg_uuid_t));
	changed_jobs = lappend(changed_jobs, copy);
	MemoryContextSwitchTo(old);
	EnsureCallback();
}

/*
 * WakeupCancelAtCommit
 *	  Interrupt the executor running execution_id once the cancellation
 *	  is committed.
 */
void
WakeupCancelAtCommit(int64 execution_id, CancelReason reason, const char *by)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	PendingCancel *cancel = palloc0(sizeof(PendingCancel));

	cancel->subid = GetCurrentSubTransactionId();
	cancel->execution_id = execution_id;
	cancel->reason = reason;
	strlcpy(cancel->by, by ? by : "", NAMEDATALEN);
	cancels = lappend(cancels, cancel);
	MemoryContextSwitchTo(old);
	EnsureCallback();
}

/*
 * WakeupRequestCancel
 *	  Cancel execution_id once this transaction commits, if an executor
 *	  holds it still in a state that can be cancelled: running and not
 *	  settled, or claimed and not started (shmem.c).  Returns whether one
 *	  does; then the run will end cancelled if this transaction commits.
 */
bool
WakeupRequestCancel(int64 execution_id, CancelReason reason, const char *by)
{
	TransactionId xid = GetTopTransactionId();

	if (!ShmemRequestCancel(MyDatabaseId, execution_id, xid))
		return false;
	WakeupCancelAtCommit(execution_id, reason, by);
	return true;
}

/*
 * ObjectAccess
 *	  object_access_hook: DROP EXTENSION jobconfig wakes this database's
 *	  scheduler at commit, which then finds the extension gone and stops.
 */
static void
ObjectAccess(ObjectAccessType access, Oid classId, Oid objectId, int subId,
			 void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);

	if (access == OAT_DROP && classId == ExtensionRelationId)
	{
		char	   *name = get_extension_name(objectId);

		if (name != NULL && strcmp(name, "jobconfig") == 0)
		{
			EnsureCallback();
			wake_scheduler = true;
		}
	}
}

/*
 * WakeupRegister
 *	  Install the object access hook; called from _PG_init when preloaded.
 */
void
WakeupRegister(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = ObjectAccess;
}

/*
 * jobconfig_wake_executors
 *	  AFTER INSERT FOR EACH STATEMENT on job_executions: whatever was
 *	  inserted may be a queued run.
 */
Datum
jobconfig_wake_executors(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "jobconfig_wake_executors must fire as a trigger");
	WakeupExecutorsAtCommit();
	return PointerGetDatum(NULL);
}

/*
 * jobconfig_wake_notifier
 *	  AFTER INSERT FOR EACH STATEMENT on notification_outbox: the notifier
 *	  has mail.
 */
Datum
jobconfig_wake_notifier(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "jobconfig_wake_notifier must fire as a trigger");
	EnsureCallback();
	wake_notifier = true;
	return PointerGetDatum(NULL);
}

/*
 * jobconfig_announce_install
 *	  Called by the install script: at commit, the launcher starts a
 *	  scheduler for this database, with no restart.
 */
Datum
jobconfig_announce_install(PG_FUNCTION_ARGS)
{
	EnsureCallback();
	wake_launcher = true;
	PG_RETURN_VOID();
}

/*
 * jobconfig_interrupt_at_commit
 *	  SQL: jobconfig.interrupt_at_commit(execution_id), for
 *	  cancel_execution(), which holds the run's row locked and has set
 *	  its cancel_requested: whether the run can still be cancelled (an
 *	  executor holds it claimed, or running its command); if so, once this
 *	  transaction commits, it ends cancelled by the current role (its
 *	  statement is cancelled if it runs one).
 *
 * cancel_execution() runs with its caller's rights, so this must be
 * executable by its callers too, and it is executable by every role.  It
 * signals nothing a direct call could abuse: only a writer gets past the
 * first check, and only for a run that is running and that this very
 * transaction has asked to stop (it set cancel_requested, which takes a
 * writer's UPDATE of the row) -- what cancel_execution() does.  Anything
 * else is refused, and nothing is signalled.
 */
Datum
jobconfig_interrupt_at_commit(PG_FUNCTION_ARGS)
{
	int64		execution_id;
	Datum		args[1];
	bool		requested = false;

	ArgumentsRequire(fcinfo);
	execution_id = PG_GETARG_INT64(0);
	AccessRequireWriter("cancel executions");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	args[0] = Int64GetDatum(execution_id);
	CatalogExecute(&CancelRequested, args, NULL, false, 1);
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		xmin = CatalogGetDatum(0, 1, &isnull);

		requested = !isnull &&
			TransactionIdIsCurrentTransactionId(DatumGetTransactionId(xmin));
	}
	SPI_finish();
	if (!requested)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("execution " INT64_FORMAT " is not a running execution this transaction asked to stop",
						execution_id),
				 errhint("Use jobconfig.cancel_execution() to cancel an execution.")));

	PG_RETURN_BOOL(WakeupRequestCancel(execution_id, CANCEL_BY_USER,
									   GetUserNameFromId(GetUserId(), false)));
}
