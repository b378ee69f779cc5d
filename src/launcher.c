/*-------------------------------------------------------------------------
 *
 * launcher.c
 *	  The launcher: one static background worker that starts a scheduler
 *	  for every database that has jobconfig installed.
 *
 * It is registered only when jobconfig is in shared_preload_libraries, and
 * only starts once recovery has finished: on a hot standby nothing runs,
 * and after promotion everything starts as on a primary that just booted.
 *
 * The launcher connects to no database; it reads pg_database and starts a
 * scheduler per connectable database.  A scheduler that finds no jobconfig
 * in its database says so in its slot and exits; the launcher does not
 * probe that database again until some backend runs CREATE EXTENSION
 * jobconfig (its install script bumps a generation counter and sets the
 * launcher's latch at commit), so a new installation starts working at
 * once, without a restart and without polling every database.  A scheduler
 * that dies otherwise is restarted after a short delay.
 *
 * IDENTIFICATION
 *	  src/launcher.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "jobconfig.h"
#include "shmem.h"
#include "workers.h"

/* Seconds before a scheduler that died is started again. */
#define SCHEDULER_RESTART_DELAY_S 5

/* What the launcher knows of each database slot, locally. */
typedef struct LauncherSlot
{
	BackgroundWorkerHandle *handle; /* of its scheduler, or NULL */
	TimestampTz started_at;
} LauncherSlot;

static LauncherSlot *launcher_slots = NULL;

PGDLLEXPORT void jobconfig_launcher_main(Datum main_arg);

/*
 * LauncherRegister
 *	  Register the launcher; called from _PG_init when preloaded.
 */
void
LauncherRegister(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = SCHEDULER_RESTART_DELAY_S;
	strlcpy(worker.bgw_library_name, "jobconfig", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "jobconfig_launcher_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "jobconfig launcher", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "jobconfig launcher", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

/*
 * ConnectableDatabases
 *	  The OIDs of the databases a scheduler may connect to.
 */
static List *
ConnectableDatabases(void)
{
	List	   *dboids = NIL;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tuple;
	MemoryContext caller = CurrentMemoryContext;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tuple);
		MemoryContext old;

		if (!db->datallowconn || db->datistemplate)
			continue;
		old = MemoryContextSwitchTo(caller);
		dboids = lappend_oid(dboids, db->oid);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	PopActiveSnapshot();
	CommitTransactionCommand();
	return dboids;
}

/*
 * StartScheduler
 *	  Start the scheduler of the database in slot "index".
 */
static void
StartScheduler(int index, Oid dboid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;

	WorkerDescribe(&worker, "jobconfig_scheduler_main", "jobconfig scheduler",
				   dboid, index, 0);
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		ereport(WARNING,
				(errmsg("jobconfig could not start a scheduler for database %u", dboid),
				 errhint(WORKERS_NEEDED_HINT)));
		return;
	}
	launcher_slots[index].handle = handle;
	launcher_slots[index].started_at = GetCurrentTimestamp();
}

/*
 * SchedulerAlive
 *	  Is a scheduler starting or running in this slot?  The handle says so
 *	  for one this launcher started; the slot's pid for one started by a
 *	  launcher that has since been restarted.  Caller holds the lock.
 */
static bool
SchedulerAlive(int index)
{
	pid_t		pid;

	if (launcher_slots[index].handle != NULL &&
		GetBackgroundWorkerPid(launcher_slots[index].handle, &pid) == BGWH_STOPPED)
	{
		pfree(launcher_slots[index].handle);
		launcher_slots[index].handle = NULL;
	}
	return launcher_slots[index].handle != NULL ||
		DatabaseSlotAt(index)->scheduler_pid != 0;
}

/*
 * Reconcile
 *	  Make sure every database that may have jobconfig has a scheduler, and
 *	  return how many milliseconds until the next scheduler restart is due
 *	  (-1: none pending).
 */
static long
Reconcile(void)
{
	List	   *dboids = ConnectableDatabases();
	ListCell   *lc;
	long		wait_ms = -1;
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);

	/* Free the slots of databases that are gone. */
	for (i = 0; i < JobconfigState->max_databases; i++)
	{
		DatabaseSlot *db = DatabaseSlotAt(i);

		if (OidIsValid(db->dboid) && !list_member_oid(dboids, db->dboid) &&
			!SchedulerAlive(i))
			memset(db, 0, DatabaseSlotSize());
	}

	foreach(lc, dboids)
	{
		Oid			dboid = lfirst_oid(lc);
		int			index = DatabaseSlotFind(dboid);
		DatabaseSlot *db;
		TimestampTz restart_at;

		if (index < 0)
		{
			index = DatabaseSlotFind(InvalidOid);
			if (index < 0)
			{
				ereport(LOG,
						(errmsg("jobconfig has no slot left for database %u", dboid),
						 errhint("Raise jobconfig.max_databases.")));
				continue;
			}
			db = DatabaseSlotAt(index);
			memset(db, 0, DatabaseSlotSize());
			db->dboid = dboid;
		}
		db = DatabaseSlotAt(index);

		if (SchedulerAlive(index))
			continue;
		if (db->paused_until > now)
		{
			/* A command needs the database alone (database_hooks.c). */
			long		ms = TimestampDifferenceMilliseconds(now, db->paused_until) + 1;

			wait_ms = (wait_ms < 0) ? ms : Min(wait_ms, ms);
			continue;
		}
		if (db->state == DATABASE_NO_EXTENSION &&
			db->probed_generation == JobconfigState->extension_generation)
			continue;

		/* A scheduler that died is given a moment before it starts again. */
		restart_at = TimestampTzPlusMilliseconds(launcher_slots[index].started_at,
												 SCHEDULER_RESTART_DELAY_S * 1000);
		if (db->state == DATABASE_ACTIVE && restart_at > now)
		{
			long		ms = TimestampDifferenceMilliseconds(now, restart_at) + 1;

			wait_ms = (wait_ms < 0) ? ms : Min(wait_ms, ms);
			continue;
		}
		db->probed_generation = JobconfigState->extension_generation;
		db->stop_requested = false;
		StartScheduler(index, dboid);
	}
	LWLockRelease(JobconfigState->lock);
	list_free(dboids);
	return wait_ms;
}

/*
 * LauncherDetach
 *	  on_shmem_exit: the launcher's latch is gone.
 */
static void
LauncherDetach(int code, Datum arg)
{
	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	JobconfigState->launcher_pid = 0;
	JobconfigState->launcher_latch = NULL;
	LWLockRelease(JobconfigState->lock);
}

/*
 * jobconfig_launcher_main
 *	  Entry point of the launcher.
 */
void
jobconfig_launcher_main(Datum main_arg)
{
	WorkerInstallSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	launcher_slots = MemoryContextAllocZero(TopMemoryContext,
											sizeof(LauncherSlot) * JobconfigState->max_databases);

	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	JobconfigState->launcher_pid = MyProcPid;
	JobconfigState->launcher_latch = MyLatch;
	LWLockRelease(JobconfigState->lock);
	on_shmem_exit(LauncherDetach, 0);

	pgstat_report_activity(STATE_IDLE, "starting schedulers");
	for (;;)
	{
		long		wait_ms;

		WorkerCheckSignals();

		wait_ms = Reconcile();

		/*
		 * Schedulers report their exit through SIGUSR1 (bgw_notify_pid),
		 * CREATE EXTENSION through the latch; the timeout only restarts a
		 * scheduler that died, or rechecks the list of databases hourly.
		 */
		WorkerSleep(wait_ms >= 0 ? wait_ms : 3600 * 1000L);
		ResetLatch(MyLatch);
	}
}
