/*-------------------------------------------------------------------------
 *
 * scheduler.c
 *	  The scheduler of one database: fires schedule slots, keeps the pool
 *	  of executors alive, accounts for interrupted runs, enforces timeouts
 *	  as a last resort, and deletes old history.
 *
 * Glossary and the state diagram of an execution: src/README.md.
 *
 * The scheduler holds every enabled schedule job in memory, in a heap keyed
 * on when its next slot must be recorded (schedule_table.c: at the slot, or
 * FIRE_AHEAD_MS before it), and sleeps on its latch until the earliest of
 * those, a changed job (announced at commit by the writing backend through
 * shared memory), or an executor's exit (SIGUSR1 from the postmaster).  At
 * rest it uses no CPU: there is no tick and no scan.
 *
 * On start, before any executor runs, every run still marked running was
 * interrupted: it is marked failed and retried by its policy.  Then the
 * @reboot jobs fire, then the executors start.
 *
 * Timeouts are enforced by each executor on its own run (a timer cancels
 * the statement).  Should a run not stop — stuck where cancellation is not
 * checked — the scheduler terminates its executor a grace period later,
 * records the run timed out, and starts a new executor.
 *
 * IDENTIFICATION
 *	  src/scheduler.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "jobconfig.h"
#include "maintenance.h"
#include "schedule_fire.h"
#include "schedule_table.h"
#include "shmem.h"
#include "workers.h"


/* Between two passes of history retention, when the last one finished. */
#define RETENTION_INTERVAL_MS (10 * 60 * 1000)

/* Slots recorded per transaction when many are due at once. */
#define FIRE_CHUNK 250

/* Next slots are saved this long after the slots were fired. */
#define PERSIST_DELAY_MS 1000

/* A notifier that exited is started again no sooner than this. */
#define NOTIFIER_RESTART_MS (10 * 1000)

/* After an error in the loop, before trying again. */
#define ERROR_BACKOFF_MS 1000

/* What the scheduler knows of each executor it started. */
typedef struct ExecutorHandle
{
	BackgroundWorkerHandle *handle;
	pid_t		pid;
	bool		terminated_for_timeout;
} ExecutorHandle;

static WorkerPlace place;
static DatabaseSlot *my_slot = NULL;
static ExecutorHandle *executors = NULL;
static BackgroundWorkerHandle *notifier = NULL;
static TimestampTz notifier_started_at = 0;
static MemoryContext scheduler_context = NULL;
static MemoryContext iteration_context = NULL;
static TimestampTz next_retention = 0;
static TimestampTz persist_at = 0;		/* 0: nothing to save */
static bool reload_all = false;
static bool paused = false;		/* jobconfig.enabled was off last pass */
static char *database_name = NULL;

PGDLLEXPORT void jobconfig_scheduler_main(Datum main_arg);

/*
 * RegisterWorker
 *	  RegisterDynamicBackgroundWorker, with the handle in the scheduler's
 *	  long-lived context (the current one may be reset before the handle
 *	  is used again).
 */
static bool
RegisterWorker(BackgroundWorker *worker, BackgroundWorkerHandle **handle)
{
	MemoryContext old = MemoryContextSwitchTo(scheduler_context);
	bool		registered = RegisterDynamicBackgroundWorker(worker, handle);

	MemoryContextSwitchTo(old);
	return registered;
}

/*
 * StartExecutor
 *	  Start executor i and wait until it runs (or could not start).
 */
static void
StartExecutor(int i)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	pid_t		pid;

	WorkerDescribe(&worker, "jobconfig_executor_main", "jobconfig executor",
				   place.dboid, place.slot, i);
	executors[i].handle = NULL;
	executors[i].pid = 0;
	executors[i].terminated_for_timeout = false;
	if (!RegisterWorker(&worker, &handle))
	{
		ereport(WARNING,
				(errmsg("jobconfig could not start executor %d for database \"%s\"",
						i + 1, database_name),
				 errhint(WORKERS_NEEDED_HINT)));
		return;
	}
	if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
		return;
	executors[i].handle = handle;
	executors[i].pid = pid;
}

/*
 * KeepNotifier
 *	  Start the notifier if it is not running, at most once per
 *	  NOTIFIER_RESTART_MS (a notifier failing at start must not spin).
 *	  Returns milliseconds until another start may be tried, or -1.
 */
static long
KeepNotifier(TimestampTz now)
{
	BackgroundWorker worker;
	TimestampTz retry_at;
	pid_t		pid;

	if (notifier != NULL && GetBackgroundWorkerPid(notifier, &pid) != BGWH_STOPPED)
		return -1;
	retry_at = TimestampTzPlusMilliseconds(notifier_started_at, NOTIFIER_RESTART_MS);
	if (notifier_started_at != 0 && now < retry_at)
		return TimestampDifferenceMilliseconds(now, retry_at) + 1;

	if (notifier != NULL)
		pfree(notifier);
	notifier = NULL;
	notifier_started_at = now;
	WorkerDescribe(&worker, "jobconfig_notifier_main", "jobconfig notifier",
				   place.dboid, place.slot, 0);
	if (!RegisterWorker(&worker, &notifier))
	{
		notifier = NULL;
		ereport(WARNING,
				(errmsg("jobconfig could not start the notifier for database \"%s\"",
						database_name),
				 errhint(WORKERS_NEEDED_HINT)));
		return NOTIFIER_RESTART_MS;
	}
	return -1;
}

/*
 * TerminateExecutors
 *	  before_shmem_exit: executors never outlive their scheduler, so a new
 *	  scheduler can take every run still marked running as interrupted.
 *	  The notifier goes with them.
 */
static void
TerminateExecutors(int code, Datum arg)
{
	int			i;

	if (executors != NULL)
		for (i = 0; i < jobconfig_max_workers; i++)
			if (executors[i].handle != NULL)
				TerminateBackgroundWorker(executors[i].handle);
	if (notifier != NULL)
		TerminateBackgroundWorker(notifier);

	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	if (my_slot != NULL && my_slot->scheduler_pid == MyProcPid)
	{
		my_slot->scheduler_pid = 0;
		my_slot->scheduler_latch = NULL;
	}
	LWLockRelease(JobconfigState->lock);
}

/*
 * WaitForOldExecutors
 *	  Executors of a previous scheduler may still be exiting: wait until
 *	  every executor slot of this database is free.
 */
static void
WaitForOldExecutors(void)
{
	for (;;)
	{
		bool		busy = false;
		int			i;

		LWLockAcquire(JobconfigState->lock, LW_SHARED);
		for (i = 0; i < JobconfigState->max_workers; i++)
			busy |= my_slot->executors[i].pid != 0;
		LWLockRelease(JobconfigState->lock);
		if (!busy)
			return;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Startup
 *	  Account for interrupted runs, load the schedule jobs, fire @reboot
 *	  jobs; then start the executors.
 */
static void
Startup(void)
{
	TimestampTz start = GetCurrentTimestamp();
	uint64		recovered;
	int			i;

	WaitForOldExecutors();

	WorkerBeginWork("recovering interrupted runs");
	database_name = MemoryContextStrdup(scheduler_context,
										get_database_name(MyDatabaseId));
	recovered = MaintenanceRecoverRuns();
	ScheduleTableLoad(NIL);
	ScheduleFireWithdraw(NIL, true);
	ScheduleFireReboot(ScheduleTableRebootJobs(), start);
	WorkerEndWork();
	if (recovered > 0)
		ereport(LOG,
				(errmsg("jobconfig marked " UINT64_FORMAT " interrupted runs in database \"%s\" as failed",
						recovered, database_name)));

	for (i = 0; i < jobconfig_max_workers; i++)
		StartExecutor(i);
	(void) KeepNotifier(GetCurrentTimestamp());
}

/*
 * TakeChanges
 *	  The jobs changed since last time (copied into the current context);
 *	  sets reload_all when the queue overflowed.
 */
static List *
TakeChanges(void)
{
	List	   *ids = NIL;

	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	while (my_slot->change_count > 0)
	{
		pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));

		*id = my_slot->changes[my_slot->change_start];
		my_slot->change_start = (my_slot->change_start + 1) % CHANGE_QUEUE_SIZE;
		my_slot->change_count--;
		ids = lappend(ids, id);
	}
	if (my_slot->change_overflow)
	{
		my_slot->change_overflow = false;
		reload_all = true;
	}
	LWLockRelease(JobconfigState->lock);
	return ids;
}

/*
 * ReportChangesApplied
 *	  For scheduler_status(): how many changes are in effect, and when.
 */
static void
ReportChangesApplied(int count)
{
	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	my_slot->changes_applied += count;
	my_slot->last_change_applied_at = GetCurrentTimestamp();
	my_slot->scheduled_jobs = ScheduleTableCount();
	LWLockRelease(JobconfigState->lock);
}

/*
 * DeadExecutors
 *	  Indexes of executors that exited since last time.
 */
static List *
DeadExecutors(void)
{
	List	   *dead = NIL;
	int			i;

	for (i = 0; i < jobconfig_max_workers; i++)
	{
		pid_t		pid;

		if (executors[i].handle == NULL)
			dead = lappend_int(dead, i);
		else if (GetBackgroundWorkerPid(executors[i].handle, &pid) == BGWH_STOPPED)
		{
			pfree(executors[i].handle);
			executors[i].handle = NULL;
			dead = lappend_int(dead, i);
		}
	}
	return dead;
}

/*
 * Watchdog
 *	  Terminate the executors whose run outlived its timeout by the grace
 *	  period; returns milliseconds until the next check is due (-1: none).
 */
static long
Watchdog(TimestampTz now)
{
	long		next_ms = -1;
	int			i;

	/*
	 * Exclusive: what it finds is published as watchdog_at in the same
	 * hold of the lock, so an executor starting a run meanwhile either is
	 * seen here or sees watchdog_at and wakes this process.
	 */
	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	for (i = 0; i < jobconfig_max_workers; i++)
	{
		ExecutorSlot *ex = &my_slot->executors[i];
		TimestampTz deadline;

		if (ex->pid == 0 || ex->execution_id == 0 || executors[i].pid != ex->pid)
			continue;
		deadline = TimestampTzPlusMilliseconds(ex->started_at,
											   ex->timeout_seconds * 1000L + TIMEOUT_GRACE_MS);
		if (deadline <= now)
		{
			if (!executors[i].terminated_for_timeout)
			{
				ereport(LOG,
						(errmsg("jobconfig terminates executor %d (pid %d): execution " INT64_FORMAT " did not stop at its timeout",
								i + 1, (int) ex->pid, ex->execution_id)));
				executors[i].terminated_for_timeout = true;
				kill(ex->pid, SIGTERM);
			}
		}
		else
		{
			long		ms = TimestampDifferenceMilliseconds(now, deadline) + 1;

			next_ms = next_ms < 0 ? ms : Min(next_ms, ms);
		}
	}
	my_slot->watchdog_at = next_ms < 0 ? 0 :
		TimestampTzPlusMilliseconds(now, next_ms);
	LWLockRelease(JobconfigState->lock);
	return next_ms;
}

/*
 * WaitBefore
 *	  How long to sleep for a slot due at "due".  Linux lets a long sleep
 *	  oversleep by 0.1% of its length (up to 100 ms): a slot 45 s away would
 *	  fire 45 ms late.  So a far slot is slept towards in two steps, the
 *	  last one short.
 */
static long
WaitBefore(TimestampTz now, TimestampTz due)
{
	long		ms;

	if (due <= now)
		return 0;
	ms = TimestampDifferenceMilliseconds(now, due) + 1;
	return ms > 1000 ? ms - 500 : ms;
}

/*
 * Iterate
 *	  One pass: pick up changed jobs, account for dead executors, fire due
 *	  slots, delete a batch of old history.  Returns how long to sleep, in
 *	  milliseconds.
 */
static long
Iterate(void)
{
	TimestampTz now = GetCurrentTimestamp();
	List	   *changed = TakeChanges();
	List	   *dead = DeadExecutors();
	bool		due = jobconfig_enabled && ScheduleTableEarliest() <= now;
	TimestampTz earliest;
	long		sleep_ms = 3600 * 1000L;
	long		watchdog_ms;
	long		notifier_ms;
	ListCell   *lc;

	/* Turned off: the runs recorded ahead of their slot are taken back. */
	if (!jobconfig_enabled && !paused)
	{
		WorkerBeginWork("scheduling");
		ScheduleFireWithdraw(NIL, false);
		WorkerEndWork();
	}
	paused = !jobconfig_enabled;

	if (changed != NIL || reload_all || dead != NIL)
	{
		WorkerBeginWork("scheduling");
		foreach(lc, dead)
		{
			int			i = lfirst_int(lc);

			if (executors[i].pid != 0)
				MaintenanceWorkerGone(executors[i].pid,
									  executors[i].terminated_for_timeout);
		}
		if (changed != NIL || reload_all)
		{
			List	   *ids = reload_all ? NIL : changed;

			ScheduleTableLoad(ids);
			ScheduleFireWithdraw(ids, false);
			reload_all = false;
		}
		WorkerEndWork();
		if (changed != NIL)
			ReportChangesApplied(list_length(changed));
		foreach(lc, dead)
			StartExecutor(lfirst_int(lc));
	}

	if (due)
	{
		List	   *jobs;
		int			from;

		now = GetCurrentTimestamp();
		jobs = ScheduleTableTakeDue(now);
		if (persist_at == 0)
			persist_at = TimestampTzPlusMilliseconds(now, PERSIST_DELAY_MS);

		/*
		 * Many slots due at once go in chunks, each committed on its own:
		 * the executors start on the first while the next is written.
		 */
		for (from = 0; from < list_length(jobs); from += FIRE_CHUNK)
		{
			List	   *chunk = list_copy_head(list_copy_tail(jobs, from), FIRE_CHUNK);
			int			queued;

			WorkerBeginWork("scheduling");
			queued = ScheduleFire(chunk, now);
			WorkerEndWork();
			ShmemHintQueued(my_slot, queued);
		}
	}

	if (persist_at != 0 && GetCurrentTimestamp() >= persist_at)
	{
		WorkerBeginWork("saving next slots");
		ScheduleFirePersist();
		WorkerEndWork();
		persist_at = 0;
	}

	if (now >= next_retention)
	{
		uint64		deleted;

		WorkerBeginWork("deleting old history");
		deleted = MaintenanceDeleteHistory();
		WorkerEndWork();
		/* A full batch: come back at once, after anything more urgent. */
		next_retention = deleted >= (uint64) jobconfig_retention_batch_size ? now :
			TimestampTzPlusMilliseconds(now, RETENTION_INTERVAL_MS);
	}

	now = GetCurrentTimestamp();
	earliest = ScheduleTableEarliest();
	if (jobconfig_enabled && earliest != DT_NOEND)
		sleep_ms = Min(sleep_ms, WaitBefore(now, earliest));
	sleep_ms = Min(sleep_ms, Max(0, TimestampDifferenceMilliseconds(now, next_retention)));
	if (persist_at != 0)
		sleep_ms = Min(sleep_ms, Max(0, TimestampDifferenceMilliseconds(now, persist_at)));
	watchdog_ms = Watchdog(now);
	if (watchdog_ms >= 0)
		sleep_ms = Min(sleep_ms, watchdog_ms);
	notifier_ms = KeepNotifier(now);
	if (notifier_ms >= 0)
		sleep_ms = Min(sleep_ms, notifier_ms);
	return sleep_ms;
}

/*
 * jobconfig_scheduler_main
 *	  Entry point of a database's scheduler.
 */
void
jobconfig_scheduler_main(Datum main_arg)
{
	place = WorkerPlaceOf(main_arg);

	WorkerInstallSignals();
	WorkerConnect(place.dboid);
	pgstat_report_appname("jobconfig scheduler");

	my_slot = DatabaseSlotAt(place.slot);
	if (!WorkerExtensionInstalled())
	{
		LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
		my_slot->state = DATABASE_NO_EXTENSION;
		LWLockRelease(JobconfigState->lock);
		proc_exit(0);
	}

	scheduler_context = AllocSetContextCreate(TopMemoryContext,
											  "jobconfig scheduler",
											  ALLOCSET_DEFAULT_SIZES);
	iteration_context = AllocSetContextCreate(TopMemoryContext,
											  "jobconfig scheduler iteration",
											  ALLOCSET_DEFAULT_SIZES);
	executors = MemoryContextAllocZero(scheduler_context,
									   sizeof(ExecutorHandle) * jobconfig_max_workers);
	ScheduleTableInit(scheduler_context);

	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	if (my_slot->scheduler_pid != 0 && kill(my_slot->scheduler_pid, 0) == 0)
	{
		/* Another scheduler serves this database already. */
		LWLockRelease(JobconfigState->lock);
		proc_exit(0);
	}
	my_slot->state = DATABASE_ACTIVE;
	my_slot->scheduler_pid = MyProcPid;
	my_slot->scheduler_latch = MyLatch;
	my_slot->change_start = 0;
	my_slot->change_count = 0;
	my_slot->change_overflow = false;
	LWLockRelease(JobconfigState->lock);
	before_shmem_exit(TerminateExecutors, 0);

	MemoryContextSwitchTo(iteration_context);
	Startup();
	ReportChangesApplied(0);

	for (;;)
	{
		long		sleep_ms = ERROR_BACKOFF_MS;

		WorkerCheckSignals();
		if (my_slot->stop_requested)
		{
			ereport(LOG,
					(errmsg("jobconfig's scheduler of database \"%s\" steps aside for a command that needs the database alone",
							database_name)));
			proc_exit(0);
		}
		if (!WorkerExtensionInstalled())
		{
			ereport(LOG,
					(errmsg("jobconfig was dropped from database \"%s\"; its scheduler stops",
							database_name)));
			LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
			my_slot->state = DATABASE_NO_EXTENSION;
			LWLockRelease(JobconfigState->lock);
			proc_exit(0);
		}

		MemoryContextSwitchTo(iteration_context);
		PG_TRY();
		{
			sleep_ms = Iterate();
		}
		PG_CATCH();
		{
			/* Report, clean up, and try again from a full reload. */
			MemoryContextSwitchTo(iteration_context);
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
			reload_all = true;
			sleep_ms = ERROR_BACKOFF_MS;
		}
		PG_END_TRY();
		MemoryContextReset(iteration_context);

		WorkerSleep(sleep_ms);
		ResetLatch(MyLatch);
	}
}
