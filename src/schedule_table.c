/*-------------------------------------------------------------------------
 *
 * schedule_table.c
 *	  The scheduler's in-memory table of schedule jobs, ordered by their
 *	  next slot in a binary heap.
 *
 * Every enabled job with a schedule trigger has an entry here: its
 * compiled cron schedule, time zone, policies and next slot.  A hash finds
 * an entry by job; a binary min-heap keyed on the next slot gives the
 * earliest one in O(1), so the scheduler sleeps exactly until it and never
 * scans every job.  Loading a changed job costs one indexed query and one
 * O(log n) heap move: an edit takes effect in well under a millisecond,
 * whatever the number of jobs.
 *
 * The slot a job fires next is persisted in job_configs.next_run_at a
 * moment after the slot's execution is recorded (schedule_fire.c); it is
 * where the table starts from after a restart.  A slot found there again
 * because the newer value was not saved yet cannot be recorded twice: the
 * unique index on (job, slot) refuses it.
 *
 * IDENTIFICATION
 *	  src/schedule_table.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "cron.h"
#include "schedule_table.h"

static MemoryContext table_context = NULL;
static HTAB *jobs_by_id = NULL;
static ScheduledJob **heap = NULL;
static int	heap_size = 0;
static int	heap_capacity = 0;

static CatalogQuery LoadAllJobs = {
	"SELECT id, job_id, cron, timezone, next_run_at, priority, run_as,"
	"       payload #>> '{execution,concurrency}', payload #>> '{execution,missedRuns}'"
	"  FROM jobconfig.job_configs"
	" WHERE enabled AND trigger_type = 'schedule'",
	0, {InvalidOid}
};

static CatalogQuery LoadSomeJobs = {
	"SELECT id, job_id, cron, timezone, next_run_at, priority, run_as,"
	"       payload #>> '{execution,concurrency}', payload #>> '{execution,missedRuns}'"
	"  FROM jobconfig.job_configs"
	" WHERE enabled AND trigger_type = 'schedule' AND id = ANY ($1)",
	1, {UUIDARRAYOID}
};

/*
 * LeadOf
 *	  How long before its slot a job's run is recorded (FIRE_AHEAD_MS for
 *	  jobs that allow overlapping runs, none for the others).
 */
static inline TimestampTz
LeadOf(const ScheduledJob *job)
{
	return job->concurrency == CONCURRENCY_ALLOW ? FIRE_AHEAD_MS * INT64CONST(1000) : 0;
}

/*
 * FireAt
 *	  When the scheduler must record a job's next slot: the heap's key.
 */
static inline TimestampTz
FireAt(const ScheduledJob *job)
{
	return job->next_slot == DT_NOEND ? DT_NOEND : job->next_slot - LeadOf(job);
}

/*
 * HeapLess
 *	  Heap order: the earlier one to fire first.
 */
static inline bool
HeapLess(int a, int b)
{
	return FireAt(heap[a]) < FireAt(heap[b]);
}

/*
 * HeapSwap
 *	  Swap two heap positions, keeping each entry's index right.
 */
static inline void
HeapSwap(int a, int b)
{
	ScheduledJob *t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
	heap[a]->heap_index = a;
	heap[b]->heap_index = b;
}

/*
 * HeapSiftUp, HeapSiftDown
 *	  Restore heap order around position i.
 */
static void
HeapSiftUp(int i)
{
	while (i > 0 && HeapLess(i, (i - 1) / 2))
	{
		HeapSwap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
HeapSiftDown(int i)
{
	for (;;)
	{
		int			smallest = i;
		int			left = 2 * i + 1;
		int			right = left + 1;

		if (left < heap_size && HeapLess(left, smallest))
			smallest = left;
		if (right < heap_size && HeapLess(right, smallest))
			smallest = right;
		if (smallest == i)
			return;
		HeapSwap(i, smallest);
		i = smallest;
	}
}

/*
 * HeapRemove
 *	  Take an entry out of the heap.
 */
static void
HeapRemove(ScheduledJob *job)
{
	int			i = job->heap_index;

	if (i < 0)
		return;
	heap_size--;
	if (i != heap_size)
	{
		heap[i] = heap[heap_size];
		heap[i]->heap_index = i;
		HeapSiftUp(i);
		HeapSiftDown(heap[i]->heap_index);
	}
	job->heap_index = -1;
}

/*
 * HeapPlace
 *	  Put an entry where its next slot belongs (in the heap if it has one).
 */
static void
HeapPlace(ScheduledJob *job)
{
	HeapRemove(job);
	if (job->next_slot == DT_NOEND)
		return;
	if (heap_size == heap_capacity)
	{
		heap_capacity = Max(1024, heap_capacity * 2);
		heap = repalloc(heap, sizeof(ScheduledJob *) * heap_capacity);
	}
	heap[heap_size] = job;
	job->heap_index = heap_size++;
	HeapSiftUp(job->heap_index);
}

/*
 * ScheduleTableInit
 *	  An empty table, living in "context" (the scheduler's long-lived one).
 */
void
ScheduleTableInit(MemoryContext context)
{
	HASHCTL		ctl;

	table_context = context;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(pg_uuid_t);
	ctl.entrysize = sizeof(ScheduledJob);
	ctl.hcxt = context;
	jobs_by_id = hash_create("jobconfig schedule table", 1024, &ctl,
							 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	heap_capacity = 1024;
	heap = MemoryContextAlloc(context, sizeof(ScheduledJob *) * heap_capacity);
	heap_size = 0;
}

/*
 * PolicyOf
 *	  The enum value of a policy name.
 */
static int
PolicyOf(const char *name, const char *const *names, int fallback)
{
	int			i;

	for (i = 0; name != NULL && names[i] != NULL; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return fallback;
}

/*
 * EntryFromRow
 *	  Fill an entry from row "row" of a Load query; false when the row's
 *	  schedule cannot be used (which validation prevents).
 */
static bool
EntryFromRow(ScheduledJob *job, uint64 row)
{
	static const char *const concurrency_names[] = {"forbid", "allow", "replace", NULL};
	static const char *const missed_names[] = {"skip", "once", "all", NULL};
	char	   *detail;
	bool		isnull;
	Datum		next;

	strlcpy(job->job_id, CatalogGetText(row, 2), NAMEDATALEN);
	if (!CronParse(CatalogGetText(row, 3), &job->schedule, &detail))
	{
		ereport(WARNING,
				(errmsg("jobconfig skips job \"%s\": invalid cron schedule", job->job_id),
				 errdetail_internal("%s", detail)));
		return false;
	}
	job->tz = CronLookupTimezone(CatalogGetText(row, 4));
	if (job->tz == NULL)
	{
		ereport(WARNING,
				(errmsg("jobconfig skips job \"%s\": unknown time zone", job->job_id)));
		return false;
	}
	next = CatalogGetDatum(row, 5, &isnull);
	job->next_slot = isnull ? DT_NOEND : DatumGetTimestampTz(next);
	job->priority = DatumGetInt32(CatalogGetDatum(row, 6, &isnull));
	job->run_as = DatumGetObjectId(CatalogGetDatum(row, 7, &isnull));
	job->concurrency = PolicyOf(CatalogGetText(row, 8), concurrency_names,
								CONCURRENCY_FORBID);
	job->missed_runs = PolicyOf(CatalogGetText(row, 9), missed_names,
								MISSED_ONCE);
	return true;
}

/*
 * ScheduleTableLoad
 *	  Load every schedule job (ids == NIL), or reload the listed ones (a
 *	  List of pg_uuid_t *): a job no longer enabled, or no longer a schedule
 *	  job, or deleted, leaves the table.  Caller is in a transaction and
 *	  connected to SPI.
 */
void
ScheduleTableLoad(List *ids)
{
	uint64		row;
	ListCell   *lc;
	List	   *unsaved = NIL;

	if (ids == NIL)
	{
		HASH_SEQ_STATUS status;
		ScheduledJob *job;

		/* Start over: everything not found below is gone. */
		hash_seq_init(&status, jobs_by_id);
		while ((job = hash_seq_search(&status)) != NULL)
		{
			HeapRemove(job);
			hash_search(jobs_by_id, &job->id, HASH_REMOVE, NULL);
		}
		CatalogExecute(&LoadAllJobs, NULL, NULL, true, 0);
	}
	else
	{
		Datum		args[1] = {CatalogUuidArray(ids)};

		CatalogExecute(&LoadSomeJobs, args, NULL, true, 0);

		/*
		 * Forget the listed jobs first; those still scheduled come back.
		 * Remember their slots not saved yet: the stored ones are older.
		 */
		foreach(lc, ids)
		{
			ScheduledJob *job = hash_search(jobs_by_id, lfirst(lc), HASH_FIND, NULL);

			if (job != NULL)
			{
				if (job->unsaved)
				{
					ScheduledJob *copy = palloc(sizeof(ScheduledJob));

					*copy = *job;
					unsaved = lappend(unsaved, copy);
				}
				HeapRemove(job);
				hash_search(jobs_by_id, lfirst(lc), HASH_REMOVE, NULL);
			}
		}
	}

	for (row = 0; row < SPI_processed; row++)
	{
		bool		isnull;
		pg_uuid_t  *id = DatumGetUUIDP(CatalogGetDatum(row, 1, &isnull));
		ScheduledJob *job = hash_search(jobs_by_id, id, HASH_ENTER, NULL);

		job->heap_index = -1;
		job->unsaved = false;
		if (!EntryFromRow(job, row))
		{
			hash_search(jobs_by_id, id, HASH_REMOVE, NULL);
			continue;
		}
		foreach(lc, unsaved)
		{
			ScheduledJob *before = lfirst(lc);

			/* Same schedule: the slot it fired up to still holds. */
			if (memcmp(&before->id, id, sizeof(pg_uuid_t)) == 0 &&
				memcmp(&before->schedule, &job->schedule, sizeof(CronSchedule)) == 0 &&
				before->tz == job->tz && before->next_slot > job->next_slot)
			{
				job->next_slot = before->next_slot;
				job->unsaved = true;
			}
		}
		HeapPlace(job);
	}
}

/*
 * ScheduleTableCount
 *	  Jobs in the table.
 */
int
ScheduleTableCount(void)
{
	return (int) hash_get_num_entries(jobs_by_id);
}

/*
 * ScheduleTableEarliest
 *	  When the scheduler must next record a slot, or DT_NOEND.
 */
TimestampTz
ScheduleTableEarliest(void)
{
	return heap_size > 0 ? FireAt(heap[0]) : DT_NOEND;
}

/*
 * ScheduleTableHorizon
 *	  The slots of "job" to record at "now": those up to this time.
 */
TimestampTz
ScheduleTableHorizon(const ScheduledJob *job, TimestampTz now)
{
	return now + LeadOf(job);
}

/*
 * ScheduleTableTakeDue
 *	  The jobs whose next slot must be recorded at "now" (it is due, or it
 *	  is due within the job's lead), taken out of the heap
 *	  (ScheduleTableAdvance puts each back).
 */
List *
ScheduleTableTakeDue(TimestampTz now)
{
	List	   *due = NIL;

	while (heap_size > 0 && FireAt(heap[0]) <= now)
	{
		ScheduledJob *job = heap[0];

		HeapRemove(job);
		due = lappend(due, job);
	}
	return due;
}

/*
 * ScheduleTableAdvance
 *	  Move a fired job to its first slot after "now" and back into the heap.
 *	  An "N seconds" job keeps its cadence: its slots stay N seconds apart
 *	  from the first, however late one of them was fired.
 */
void
ScheduleTableAdvance(ScheduledJob *job, TimestampTz now)
{
	TimestampTz next;

	if (job->schedule.kind == CRON_KIND_INTERVAL && job->next_slot != DT_NOEND)
	{
		int64		step = (int64) job->schedule.interval_seconds * USECS_PER_SEC;

		next = job->next_slot;
		if (next <= now)
			next += ((now - next) / step + 1) * step;
	}
	else if (!CronNextAfter(&job->schedule, Max(now, job->next_slot), job->tz, &next))
		next = DT_NOEND;
	job->next_slot = next;
	job->unsaved = true;
	HeapPlace(job);
}

/*
 * ScheduleTableRestore
 *	  Move a job back to "slot", whose run was recorded ahead of time and
 *	  then withdrawn (schedule_fire.c), so that the slot is recorded again:
 *	  unless the job is gone, its next slot is not later, or its schedule
 *	  (changed meanwhile) does not have that slot.  Returns the job if it
 *	  moved.
 */
ScheduledJob *
ScheduleTableRestore(const pg_uuid_t *id, TimestampTz slot)
{
	ScheduledJob *job = hash_search(jobs_by_id, id, HASH_FIND, NULL);
	TimestampTz next;

	if (job == NULL || job->next_slot <= slot)
		return NULL;
	if (job->schedule.kind == CRON_KIND_INTERVAL)
	{
		/* Interval slots are whole steps apart, counted from the first. */
		if ((job->next_slot - slot) % ((int64) job->schedule.interval_seconds * USECS_PER_SEC) != 0)
			return NULL;
	}
	else if (!CronNextAfter(&job->schedule, slot - 1, job->tz, &next) || next != slot)
		return NULL;
	job->next_slot = slot;
	HeapPlace(job);
	return job;
}

/*
 * ScheduleTableRebootJobs
 *	  The @reboot jobs, fired once when the scheduler starts.
 */
List *
ScheduleTableRebootJobs(void)
{
	HASH_SEQ_STATUS status;
	ScheduledJob *job;
	List	   *jobs = NIL;

	hash_seq_init(&status, jobs_by_id);
	while ((job = hash_seq_search(&status)) != NULL)
		if (job->schedule.kind == CRON_KIND_REBOOT)
			jobs = lappend(jobs, job);
	return jobs;
}

/*
 * ScheduleTableUnsaved
 *	  The jobs whose next slot is not saved yet, marked saved: the caller
 *	  saves them in its transaction (and reloads everything if that fails).
 */
List *
ScheduleTableUnsaved(void)
{
	HASH_SEQ_STATUS status;
	ScheduledJob *job;
	List	   *jobs = NIL;

	hash_seq_init(&status, jobs_by_id);
	while ((job = hash_seq_search(&status)) != NULL)
		if (job->unsaved)
		{
			jobs = lappend(jobs, job);
			job->unsaved = false;
		}
	return jobs;
}
