/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  The shared state of jobconfig's workers, and the wake-ups that go
 *	  through it.
 *
 * Nothing in jobconfig polls.  A backend that queues a run wakes the idle
 * executors of its database through their latches, at commit (so a run
 * that rolled back wakes no one); a backend that changes a job tells the
 * scheduler which job changed, at commit; CREATE EXTENSION wakes the
 * launcher.  All of it goes through this small shared segment, sized at
 * server start from jobconfig.max_databases and jobconfig.max_workers,
 * under one LWLock: every operation here is a handful of loads and stores.
 *
 * IDENTIFICATION
 *	  src/shmem.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/ipc.h"
#include "storage/shmem.h"

#include "jobconfig.h"
#include "shmem.h"

JobconfigShared *JobconfigState = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/*
 * DatabaseSlotSize
 *	  Bytes of one database slot, executors included.
 */
Size
DatabaseSlotSize(void)
{
	return MAXALIGN(add_size(offsetof(DatabaseSlot, executors),
							 mul_size(sizeof(ExecutorSlot),
									  jobconfig_max_workers)));
}

/*
 * SharedSize
 *	  Bytes of the whole segment.
 */
static Size
SharedSize(void)
{
	return add_size(MAXALIGN(sizeof(JobconfigShared)),
					mul_size(DatabaseSlotSize(), jobconfig_max_databases));
}

/*
 * ShmemRequest
 *	  shmem_request_hook: reserve the segment and its lock.
 */
static void
ShmemRequest(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(SharedSize());
	RequestNamedLWLockTranche("jobconfig", 1);
}

/*
 * ShmemStartup
 *	  shmem_startup_hook: create the segment, or attach to it.
 */
static void
ShmemStartup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	JobconfigState = ShmemInitStruct("jobconfig", SharedSize(), &found);
	if (!found)
	{
		memset(JobconfigState, 0, SharedSize());
		JobconfigState->lock = &(GetNamedLWLockTranche("jobconfig"))->lock;
		JobconfigState->max_databases = jobconfig_max_databases;
		JobconfigState->max_workers = jobconfig_max_workers;
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * ShmemRegister
 *	  Install the hooks; called from _PG_init when preloaded.
 */
void
ShmemRegister(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ShmemRequest;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ShmemStartup;
}

/*
 * DatabaseSlotAt
 *	  The index-th database slot.
 */
DatabaseSlot *
DatabaseSlotAt(int index)
{
	Assert(index >= 0 && index < JobconfigState->max_databases);
	return (DatabaseSlot *) ((char *) JobconfigState +
							 MAXALIGN(sizeof(JobconfigShared)) +
							 index * DatabaseSlotSize());
}

/*
 * DatabaseSlotFind
 *	  The index of the slot of a database, or -1.  Caller holds the lock.
 */
int
DatabaseSlotFind(Oid dboid)
{
	int			i;

	for (i = 0; i < JobconfigState->max_databases; i++)
		if (DatabaseSlotAt(i)->dboid == dboid)
			return i;
	return -1;
}

/*
 * ShmemWakeLauncher
 *	  A database gained the extension: the launcher looks again.
 */
void
ShmemWakeLauncher(void)
{
	if (JobconfigState == NULL)
		return;
	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	JobconfigState->extension_generation++;
	if (JobconfigState->launcher_latch)
		SetLatch(JobconfigState->launcher_latch);
	LWLockRelease(JobconfigState->lock);
}

/*
 * ShmemWakeExecutors
 *	  Runs were queued in this database: wake its idle executors.  A busy
 *	  one looks for more work by itself when it finishes.
 */
void
ShmemWakeExecutors(Oid dboid)
{
	int			index;

	if (JobconfigState == NULL)
		return;
	LWLockAcquire(JobconfigState->lock, LW_SHARED);
	index = DatabaseSlotFind(dboid);
	if (index >= 0)
	{
		DatabaseSlot *db = DatabaseSlotAt(index);
		int			i;

		for (i = 0; i < JobconfigState->max_workers; i++)
			if (db->executors[i].pid != 0 && db->executors[i].idle)
				SetLatch(db->executors[i].latch);
	}
	LWLockRelease(JobconfigState->lock);
}

/*
 * WakeDatabaseProcess
 *	  Set the latch of dboid's notifier, or of its scheduler, if that
 *	  process is there.
 */
static void
WakeDatabaseProcess(Oid dboid, bool notifier)
{
	int			index;

	if (JobconfigState == NULL)
		return;
	LWLockAcquire(JobconfigState->lock, LW_SHARED);
	index = DatabaseSlotFind(dboid);
	if (index >= 0)
	{
		DatabaseSlot *db = DatabaseSlotAt(index);
		Latch	   *latch = notifier ? db->notifier_latch : db->scheduler_latch;

		if (latch != NULL)
			SetLatch(latch);
	}
	LWLockRelease(JobconfigState->lock);
}

/*
 * ShmemWakeScheduler
 *	  Something the scheduler of this database should look at happened.
 */
void
ShmemWakeScheduler(Oid dboid)
{
	WakeDatabaseProcess(dboid, false);
}

/*
 * ShmemWakeNotifier
 *	  Notifications were queued in dboid: wake its notifier.
 */
void
ShmemWakeNotifier(Oid dboid)
{
	WakeDatabaseProcess(dboid, true);
}

/*
 * ShmemQueueChanges
 *	  Tell the scheduler which jobs changed (a List of pg_uuid_t *).  When
 *	  the queue is full it is marked overflowed and the scheduler reloads
 *	  every job instead: nothing is lost, it only costs more.
 */
void
ShmemQueueChanges(Oid dboid, List *job_config_ids)
{
	int			index;
	ListCell   *lc;

	if (JobconfigState == NULL)
		return;
	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	index = DatabaseSlotFind(dboid);
	if (index >= 0)
	{
		DatabaseSlot *db = DatabaseSlotAt(index);

		foreach(lc, job_config_ids)
		{
			if (db->change_count == CHANGE_QUEUE_SIZE)
			{
				db->change_overflow = true;
				break;
			}
			db->changes[(db->change_start + db->change_count) % CHANGE_QUEUE_SIZE] =
				*(pg_uuid_t *) lfirst(lc);
			db->change_count++;
		}
		if (db->scheduler_latch)
			SetLatch(db->scheduler_latch);
	}
	LWLockRelease(JobconfigState->lock);
}

/*
 * FindCancelRequest
 *	  The cancel request of execution_id in the executors of "db": of the
 *	  run one of them has in progress, while its end is not settled, or of
 *	  a run one has claimed and not started.  NULL when none holds it that
 *	  way (it ended, or is ending, or nobody runs it).  Caller holds the
 *	  lock; *executor is set to the holder.
 */
static CancelRequest *
FindCancelRequest(DatabaseSlot *db, int64 execution_id, ExecutorSlot **executor)
{
	int			i;

	for (i = 0; i < JobconfigState->max_workers; i++)
	{
		ExecutorSlot *ex = &db->executors[i];
		int			j;

		if (ex->pid == 0)
			continue;
		*executor = ex;
		if (ex->execution_id == execution_id && ex->cancellable)
			return &ex->cancel;
		for (j = 0; j < ex->claimed_count; j++)
			if (ex->claimed[j].execution_id == execution_id)
				return &ex->claimed[j].cancel;
	}
	return NULL;
}

/*
 * LockCancelRequest
 *	  Take the lock, exclusive, and find the cancel request of execution_id
 *	  in database dboid (FindCancelRequest); the caller releases the lock.
 */
static CancelRequest *
LockCancelRequest(Oid dboid, int64 execution_id, ExecutorSlot **executor)
{
	int			index;

	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	index = DatabaseSlotFind(dboid);
	if (index < 0)
		return NULL;
	return FindCancelRequest(DatabaseSlotAt(index), execution_id, executor);
}

/*
 * ShmemRequestCancel
 *	  In the transaction "xid" that cancels execution_id: file the request
 *	  with the executor holding the run, if one does (see
 *	  FindCancelRequest).  Returns whether one did: only then will the
 *	  run end cancelled once "xid" commits.
 */
bool
ShmemRequestCancel(Oid dboid, int64 execution_id, TransactionId xid)
{
	ExecutorSlot *ex;
	CancelRequest *request;

	if (JobconfigState == NULL)
		return false;
	request = LockCancelRequest(dboid, execution_id, &ex);

	/*
	 * A request that committed already stands.  (Its transaction's commit
	 * filed it before releasing the row lock that this transaction then
	 * had to wait for.)
	 */
	if (request != NULL && request->reason == CANCEL_NONE)
		request->xid = xid;
	LWLockRelease(JobconfigState->lock);
	return request != NULL;
}

/*
 * ShmemCancelRun
 *	  At the commit of a cancel: put the request in force, and interrupt
 *	  the executor running execution_id, if one is, with SIGINT, which
 *	  cancels the statement in progress.  Returns whether an executor held
 *	  the run.
 */
bool
ShmemCancelRun(Oid dboid, int64 execution_id, CancelReason reason,
			   const char *by)
{
	ExecutorSlot *ex;
	CancelRequest *request;
	bool		found;

	if (JobconfigState == NULL)
		return false;
	request = LockCancelRequest(dboid, execution_id, &ex);
	found = request != NULL && request->reason == CANCEL_NONE;
	if (found)
	{
		request->reason = reason;
		strlcpy(request->by, by ? by : "", NAMEDATALEN);
		if (request == &ex->cancel)
			kill(ex->pid, SIGINT);
	}
	LWLockRelease(JobconfigState->lock);
	return found;
}

/*
 * ShmemHintQueued
 *	  The scheduler just queued this many runs at once (see queued_hint).
 */
void
ShmemHintQueued(DatabaseSlot *db, int queued)
{
	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	db->queued_hint = queued;
	db->queued_hint_generation++;
	LWLockRelease(JobconfigState->lock);
}
