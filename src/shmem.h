/*-------------------------------------------------------------------------
 *
 * shmem.h
 *	  The shared state of jobconfig's workers: one slot per database with
 *	  a scheduler and its pool of executors, and the queue of changed jobs
 *	  the scheduler has yet to pick up.
 *
 * IDENTIFICATION
 *	  src/shmem.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_SHMEM_H
#define JOBCONFIG_SHMEM_H

#include "datatype/timestamp.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "utils/uuid.h"

/*
 * How long past its timeoutSeconds a run may go on before the scheduler
 * terminates its executor: the timeout of last resort.
 */
#define TIMEOUT_GRACE_MS (30 * 1000)

/* Changed jobs a database slot can hold before the scheduler reloads all. */
#define CHANGE_QUEUE_SIZE 1024

/* Why an executor's run is being cancelled by someone else. */
typedef enum CancelReason
{
	CANCEL_NONE = 0,
	CANCEL_BY_USER,				/* cancel_execution() */
	CANCEL_REPLACED,			/* concurrency "replace": a new slot is due */
	CANCEL_JOB_DELETED			/* the job was deleted while it ran */
} CancelReason;

/*
 * Runs an executor may hold claimed and not started yet: a batch, and the
 * next one claimed before the first is recorded.
 */
#define MAX_CLAIMED 96

/*
 * A request to cancel a run (run_session.c has the protocol): made by a
 * transaction, in force once that transaction commits.
 */
typedef struct CancelRequest
{
	TransactionId xid;			/* the requesting transaction, or invalid */
	CancelReason reason;		/* set when it committed */
	char		by[NAMEDATALEN];
} CancelRequest;

/* A run claimed and not started, and a request to cancel it. */
typedef struct ClaimedRunSlot
{
	int64		execution_id;
	CancelRequest cancel;
} ClaimedRunSlot;

typedef struct ExecutorSlot
{
	pid_t		pid;			/* 0 while no executor runs in this slot */
	Latch	   *latch;
	bool		idle;			/* looking for work or waiting for it */
	int64		execution_id;	/* the run in progress, 0 if none */
	bool		cancellable;	/* that run's end is not settled yet */
	TimestampTz started_at;		/* of that run */
	int			timeout_seconds;	/* of that run */
	CancelRequest cancel;		/* of that run */
	int			claimed_count;
	ClaimedRunSlot claimed[MAX_CLAIMED];
} ExecutorSlot;

typedef enum DatabaseState
{
	DATABASE_UNKNOWN = 0,		/* not probed yet */
	DATABASE_NO_EXTENSION,		/* probed: jobconfig is not installed */
	DATABASE_ACTIVE				/* a scheduler runs */
} DatabaseState;

typedef struct DatabaseSlot
{
	Oid			dboid;			/* InvalidOid while the slot is free */
	DatabaseState state;
	uint64		probed_generation;	/* extension_generation when probed */
	pid_t		scheduler_pid;
	Latch	   *scheduler_latch;
	pid_t		notifier_pid;	/* 0 while no notifier runs */
	Latch	   *notifier_latch;

	/*
	 * Set while a command that needs the database to itself (DROP
	 * DATABASE, CREATE DATABASE ... TEMPLATE, ALTER DATABASE RENAME) runs:
	 * the scheduler and its executors step aside, and the launcher does not
	 * start them again before paused_until.
	 */
	bool		stop_requested;
	TimestampTz paused_until;

	/* Jobs changed since the scheduler last looked (a ring buffer). */
	int			change_start;
	int			change_count;
	bool		change_overflow;	/* lost some: reload every job */
	pg_uuid_t	changes[CHANGE_QUEUE_SIZE];

	/*
	 * How many runs the scheduler just queued at once, with a counter that
	 * changes each time: an executor woken by a burst claims its share at
	 * once instead of growing its batch from one.
	 */
	int			queued_hint;
	uint64		queued_hint_generation;

	/*
	 * The earliest time the scheduler's watchdog will look at the running
	 * runs (0: it will not look): an executor starting a run that must be
	 * looked at sooner wakes the scheduler.
	 */
	TimestampTz watchdog_at;

	/* What the scheduler reports through scheduler_status(). */
	int64		changes_applied;
	TimestampTz last_change_applied_at;
	int			scheduled_jobs;

	ExecutorSlot executors[FLEXIBLE_ARRAY_MEMBER];	/* jobconfig.max_workers */
} DatabaseSlot;

typedef struct JobconfigShared
{
	LWLock	   *lock;			/* protects everything below */
	pid_t		launcher_pid;
	Latch	   *launcher_latch;
	uint64		extension_generation;	/* bumped by CREATE EXTENSION */
	int			max_databases;
	int			max_workers;
	/* then max_databases DatabaseSlots of DatabaseSlotSize() bytes each */
} JobconfigShared;

extern JobconfigShared *JobconfigState;

extern void ShmemRegister(void);
extern Size DatabaseSlotSize(void);
extern DatabaseSlot *DatabaseSlotAt(int index);
extern int	DatabaseSlotFind(Oid dboid);
extern void ShmemWakeLauncher(void);
extern void ShmemWakeExecutors(Oid dboid);
extern void ShmemWakeScheduler(Oid dboid);
extern void ShmemWakeNotifier(Oid dboid);
extern void ShmemQueueChanges(Oid dboid, List *job_config_ids);
extern void ShmemHintQueued(DatabaseSlot *db, int queued);
extern bool ShmemRequestCancel(Oid dboid, int64 execution_id, TransactionId xid);
extern bool ShmemCancelRun(Oid dboid, int64 execution_id, CancelReason reason,
						   const char *by);

#endif							/* JOBCONFIG_SHMEM_H */
