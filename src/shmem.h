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

typedef struct ExecutorSlot
{
	pid_t		pid;			/* 0 while no executor runs in this slot */
	Latch	   *latch;
	bool		idle;			/* looking for work or waiting for it */
	int64		execution_id;	/* the run in progress, 0 if none */
	TimestampTz started_at;		/* of that run */
	int			timeout_seconds;	/* of that run */
	CancelReason cancel_reason; /* set by others, then SIGINT */
	char		cancelled_by[NAMEDATALEN];
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
extern bool ShmemCancelRun(Oid dboid, int64 execution_id, CancelReason reason,
						   const char *by);

#endif							/* JOBCONFIG_SHMEM_H */
