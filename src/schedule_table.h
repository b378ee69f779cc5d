/*-------------------------------------------------------------------------
 *
 * schedule_table.h
 *	  The scheduler's in-memory table of schedule jobs, ordered by their
 *	  next slot in a binary heap.
 *
 * IDENTIFICATION
 *	  src/schedule_table.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_SCHEDULE_TABLE_H
#define JOBCONFIG_SCHEDULE_TABLE_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/uuid.h"

#include "cron.h"

typedef enum MissedRunPolicy
{
	MISSED_SKIP,
	MISSED_ONCE,
	MISSED_ALL
} MissedRunPolicy;

typedef enum ConcurrencyPolicy
{
	CONCURRENCY_FORBID,
	CONCURRENCY_ALLOW,
	CONCURRENCY_REPLACE
} ConcurrencyPolicy;

typedef struct ScheduledJob
{
	pg_uuid_t	id;				/* hash key: job_configs.id */
	char		job_id[NAMEDATALEN];
	CronSchedule schedule;
	const pg_tz *tz;
	TimestampTz next_slot;		/* DT_NOEND: none (an @reboot job) */
	int			priority;
	Oid			run_as;
	ConcurrencyPolicy concurrency;
	MissedRunPolicy missed_runs;
	int			heap_index;		/* -1 when not in the heap */
	bool		unsaved;		/* next_slot not yet in job_configs */
} ScheduledJob;

/*
 * A run of a job that allows overlapping runs is recorded this long before
 * its slot, queued and not due until the slot, so that the executors start
 * it at the slot itself rather than after the scheduler has written it.
 * Jobs with another concurrency policy are recorded at the slot: what
 * happens to their run depends on the runs active at that moment.
 */
#define FIRE_AHEAD_MS 500

/* One slot to record: a run to queue or a slot skipped by policy. */
typedef struct DueSlot
{
	ScheduledJob *job;
	TimestampTz slot;
	bool		skip;
	const char *reason;			/* why it was skipped */
} DueSlot;

extern void ScheduleTableInit(MemoryContext context);
extern void ScheduleTableLoad(List *ids);
extern int	ScheduleTableCount(void);
extern TimestampTz ScheduleTableEarliest(void);
extern TimestampTz ScheduleTableHorizon(const ScheduledJob *job, TimestampTz now);
extern List *ScheduleTableTakeDue(TimestampTz now);
extern ScheduledJob *ScheduleTableRestore(const pg_uuid_t *id, TimestampTz slot);
extern void ScheduleTableAdvance(ScheduledJob *job, TimestampTz now);
extern List *ScheduleTableRebootJobs(void);
extern List *ScheduleTableUnsaved(void);

#endif							/* JOBCONFIG_SCHEDULE_TABLE_H */
