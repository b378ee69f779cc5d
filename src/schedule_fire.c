/*-------------------------------------------------------------------------
 *
 * schedule_fire.c
 *	  Turning due schedule slots into execution records: runs to queue,
 *	  slots skipped by policy, runs replaced, and the next slot persisted,
 *	  all in one transaction per round.
 *
 * Each slot of a job yields exactly one record: a queued run, or a skipped
 * row saying why.  The unique index on (job_config_id, scheduled_for) for
 * schedule runs makes a slot recorded twice impossible, and the job's next
 * slot (job_configs.next_run_at) is advanced in the same transaction, so a
 * crash either loses the whole round (and it is done again on restart) or
 * keeps it whole.
 *
 * Policies:
 *	- missedRuns: slots more than MISSED_GRACE_MS late were missed (the
 *	  server or jobconfig was down, or jobconfig.enabled was off).  "skip"
 *	  records each as skipped; "once" queues the latest unless an on-time
 *	  slot follows, and records the others as skipped; "all" queues each.
 *	- concurrency: a slot due while the job still has a queued or running
 *	  run is skipped ("forbid"), replaces it ("replace": queued runs are
 *	  cancelled, running ones interrupted at commit), or runs alongside
 *	  ("allow").
 *
 * Slots of "allow" jobs are recorded FIRE_AHEAD_MS before they are due
 * (schedule_table.h): nothing about them depends on the moment, and the
 * executors, which start no run before its scheduled_for, then start them
 * at the slot itself.  A run so recorded is withdrawn -- deleted, and its
 * job moved back to that slot -- when its job changes, when
 * jobconfig.enabled is turned off, or when the scheduler starts, so that
 * the edit, or missedRuns, decides about the slot as if it had not been
 * recorded.  Such runs are told apart by queued_at < scheduled_for: a slot
 * recorded when due is queued at or after it.
 *
 * IDENTIFICATION
 *	  src/schedule_fire.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "job_write.h"
#include "schedule_fire.h"
#include "wakeup.h"

/* A slot later than this is a missed run, handled by missedRuns. */
#define MISSED_GRACE_MS (60 * 1000)

/* Slots of one job recorded per round at most; the rest wait a round. */
#define MAX_SLOTS_PER_ROUND 10000

static CatalogQuery ActiveRuns = {
	"SELECT job_config_id, id, status,"
	"       CASE WHEN trigger_source = 'schedule' THEN scheduled_for END"
	"  FROM jobconfig.job_executions"
	" WHERE finished_at IS NULL AND job_config_id = ANY ($1)",
	1, {UUIDARRAYOID}
};

/*
 * The slots of a round, from the scheduler's own table: no join.  The
 * first form is the fast one; the second, which skips a slot recorded
 * already, is needed only after a restart found slots whose next slot had
 * not been saved (ScheduleFirePersist).
 */
#define INSERT_SLOTS \
	"INSERT INTO jobconfig.job_executions" \
	" (job_config_id, job_id, trigger_source, status, priority, scheduled_for," \
	"  run_as, finished_at, error)" \
	" SELECT u.id, u.job_id, 'schedule', u.status, u.priority, u.slot, u.run_as," \
	"        CASE WHEN u.status = 'skipped' THEN pg_catalog.now() END, u.reason" \
	"   FROM ROWS FROM (pg_catalog.unnest($1::uuid[]), pg_catalog.unnest($2::text[])," \
	"                   pg_catalog.unnest($3::timestamptz[]), pg_catalog.unnest($4::text[])," \
	"                   pg_catalog.unnest($5::text[]), pg_catalog.unnest($6::integer[])," \
	"                   pg_catalog.unnest($7::oid[]))" \
	"        AS u(id, job_id, slot, status, reason, priority, run_as)"
#define INSERT_SLOTS_TYPES {UUIDARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID, \
	TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID, OIDARRAYOID}

static CatalogQuery InsertSlots = {INSERT_SLOTS, 7, INSERT_SLOTS_TYPES};

static CatalogQuery InsertNewSlots = {
	INSERT_SLOTS
	" ON CONFLICT (job_config_id, scheduled_for) WHERE trigger_source = 'schedule'"
	" DO NOTHING",
	7, INSERT_SLOTS_TYPES
};

static CatalogQuery CancelQueued = {
	"UPDATE jobconfig.job_executions"
	"   SET status = 'cancelled', finished_at = pg_catalog.now(),"
	"       error = 'replaced by a newer run of its schedule'"
	" WHERE id = ANY ($1) AND finished_at IS NULL AND status = 'queued'",
	1, {INT8ARRAYOID}
};

static CatalogQuery PersistNextSlots = {
	"UPDATE jobconfig.job_configs c SET next_run_at = u.next"
	"  FROM ROWS FROM (pg_catalog.unnest($1::uuid[]), pg_catalog.unnest($2::timestamptz[]))"
	"       AS u(id, next)"
	" WHERE c.id = u.id",
	2, {UUIDARRAYOID, TIMESTAMPTZARRAYOID}
};

/*
 * The runs recorded ahead of their slot (queued before it) and not started:
 * those still to come of some jobs, or those of every job, still to come or
 * (at the scheduler's start) all of them.
 */
#define WITHDRAW_AHEAD \
	"DELETE FROM jobconfig.job_executions" \
	" WHERE trigger_source = 'schedule' AND finished_at IS NULL AND status = 'queued'" \
	"   AND queued_at < scheduled_for"
#define WITHDRAWN " RETURNING job_config_id, scheduled_for"

static CatalogQuery WithdrawAheadOf = {
	WITHDRAW_AHEAD " AND job_config_id = ANY ($1) AND scheduled_for > pg_catalog.now()"
	WITHDRAWN,
	1, {UUIDARRAYOID}
};

static CatalogQuery WithdrawAllAhead = {
	WITHDRAW_AHEAD " AND ($1 OR scheduled_for > pg_catalog.now())" WITHDRAWN,
	1, {BOOLOID}
};

/*
 * AddSlot
 *	  Append one slot record.
 */
static List *
AddSlot(List *slots, ScheduledJob *job, TimestampTz slot, bool skip,
		const char *reason)
{
	DueSlot    *due = palloc(sizeof(DueSlot));

	due->job = job;
	due->slot = slot;
	due->skip = skip;
	due->reason = reason;
	return lappend(slots, due);
}

/*
 * SlotsOf
 *	  The slots of one job to record at "now" (those due, and those due
 *	  within its lead), with missedRuns applied.
 */
static List *
SlotsOf(List *slots, ScheduledJob *job, TimestampTz now)
{
	TimestampTz late_before = TimestampTzPlusMilliseconds(now, -MISSED_GRACE_MS);
	TimestampTz horizon = ScheduleTableHorizon(job, now);
	TimestampTz slot = job->next_slot;
	TimestampTz last_missed = DT_NOBEGIN;
	List	   *missed = NIL;
	bool		on_time = false;
	int			n = 0;
	ListCell   *lc;

	while (slot <= horizon && n++ < MAX_SLOTS_PER_ROUND)
	{
		TimestampTz *copy = palloc(sizeof(TimestampTz));

		*copy = slot;
		if (slot < late_before)
		{
			missed = lappend(missed, copy);
			last_missed = slot;
		}
		else
		{
			slots = AddSlot(slots, job, slot, false, NULL);
			on_time = true;
		}
		if (!CronNextAfter(&job->schedule, slot, job->tz, &slot))
			break;
	}

	foreach(lc, missed)
	{
		TimestampTz s = *(TimestampTz *) lfirst(lc);
		bool		run;

		switch (job->missed_runs)
		{
			case MISSED_ALL:
				run = true;
				break;
			case MISSED_ONCE:
				run = !on_time && s == last_missed;
				break;
			default:
				run = false;
				break;
		}
		slots = AddSlot(slots, job, s, !run,
						run ? NULL : "missed: jobconfig was not running when the slot was due");
	}
	return slots;
}

/*
 * UuidArray
 *	  A uuid[] Datum of the ids of a list of jobs.
 */
static Datum
UuidArray(List *jobs)
{
	List	   *ids = NIL;
	ListCell   *lc;

	foreach(lc, jobs)
		ids = lappend(ids, &((ScheduledJob *) lfirst(lc))->id);
	return CatalogUuidArray(ids);
}

/*
 * ApplyConcurrency
 *	  Slots due while their job still has a queued or running run: skip
 *	  them, replace that run, or let both run, by each job's policy.  Runs
 *	  caught up by missedRuns "all" are not held against each other.
 */
static void
ApplyConcurrency(List *jobs, List *slots)
{
	Datum		args[1];
	List	   *cancel_queued = NIL;
	bool		any_policy = false;
	uint64		row;
	ListCell   *lc;

	/* Jobs that allow overlapping runs need no look at their runs. */
	foreach(lc, jobs)
		any_policy |= ((ScheduledJob *) lfirst(lc))->concurrency != CONCURRENCY_ALLOW;
	if (!any_policy)
		return;

	args[0] = UuidArray(jobs);
	CatalogExecute(&ActiveRuns, args, NULL, true, 0);
	for (row = 0; row < SPI_processed; row++)
	{
		bool		isnull;
		pg_uuid_t  *job_config_id = DatumGetUUIDP(CatalogGetDatum(row, 1, &isnull));
		int64		execution_id = DatumGetInt64(CatalogGetDatum(row, 2, &isnull));
		bool		running = strcmp(CatalogGetText(row, 3), "running") == 0;
		bool		replaced = false;
		bool		slot_isnull;
		Datum		slot_of_run = CatalogGetDatum(row, 4, &slot_isnull);

		foreach(lc, slots)
		{
			DueSlot    *due = lfirst(lc);

			if (due->skip ||
				memcmp(&due->job->id, job_config_id, sizeof(pg_uuid_t)) != 0)
				continue;
			/* The run of this very slot, recorded before a restart. */
			if (!slot_isnull && DatumGetTimestampTz(slot_of_run) >= due->slot)
				continue;
			if (due->job->concurrency == CONCURRENCY_FORBID)
			{
				due->skip = true;
				due->reason = psprintf("skipped: execution " INT64_FORMAT " of this job was still %s",
									   execution_id, running ? "running" : "queued");
			}
			else if (due->job->concurrency == CONCURRENCY_REPLACE)
				replaced = true;
		}
		if (!replaced)
			continue;
		if (running)
			(void) WakeupRequestCancel(execution_id, CANCEL_REPLACED, NULL);
		else
		{
			int64	   *id = palloc(sizeof(int64));

			*id = execution_id;
			cancel_queued = lappend(cancel_queued, id);
		}
	}

	if (cancel_queued != NIL)
	{
		Datum	   *elems = palloc(sizeof(Datum) * list_length(cancel_queued));
		int			n = 0;

		foreach(lc, cancel_queued)
			elems[n++] = Int64GetDatum(*(int64 *) lfirst(lc));
		args[0] = CatalogArray(elems, NULL, n, INT8OID);
		CatalogExecute(&CancelQueued, args, NULL, false, 0);
	}
}

/*
 * RecordSlots
 *	  Insert one execution row per slot: queued, or skipped with why.
 *	  Returns how many runs were queued.
 */
static int
RecordSlots(List *slots)
{
	int			n = list_length(slots);
	Datum	   *ids = palloc(sizeof(Datum) * n);
	Datum	   *job_ids = palloc(sizeof(Datum) * n);
	Datum	   *times = palloc(sizeof(Datum) * n);
	Datum	   *statuses = palloc(sizeof(Datum) * n);
	Datum	   *reasons = palloc(sizeof(Datum) * n);
	bool	   *reason_nulls = palloc(sizeof(bool) * n);
	Datum	   *priorities = palloc(sizeof(Datum) * n);
	Datum	   *roles = palloc(sizeof(Datum) * n);
	Datum		args[7];
	ListCell   *lc;
	int			i = 0;
	int			queued = 0;
	MemoryContext context = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	foreach(lc, slots)
	{
		DueSlot    *due = lfirst(lc);

		ids[i] = UUIDPGetDatum(&due->job->id);
		job_ids[i] = CStringGetTextDatum(due->job->job_id);
		times[i] = TimestampTzGetDatum(due->slot);
		statuses[i] = CStringGetTextDatum(due->skip ? "skipped" : "queued");
		reason_nulls[i] = due->reason == NULL;
		reasons[i] = due->reason ? CStringGetTextDatum(due->reason) : (Datum) 0;
		priorities[i] = Int32GetDatum(due->job->priority);
		roles[i] = ObjectIdGetDatum(due->job->run_as);
		queued += !due->skip;
		i++;
	}
	args[0] = CatalogArray(ids, NULL, n, UUIDOID);
	args[1] = CatalogArray(job_ids, NULL, n, TEXTOID);
	args[2] = CatalogArray(times, NULL, n, TIMESTAMPTZOID);
	args[3] = CatalogArray(statuses, NULL, n, TEXTOID);
	args[4] = CatalogArray(reasons, reason_nulls, n, TEXTOID);
	args[5] = CatalogArray(priorities, NULL, n, INT4OID);
	args[6] = CatalogArray(roles, NULL, n, OIDOID);

	/* The fast form in a subtransaction; the careful one if it collides. */
	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		CatalogExecute(&InsertSlots, args, NULL, false, 0);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(context);
		error = CopyErrorData();
		if (error->sqlerrcode != ERRCODE_UNIQUE_VIOLATION)
			PG_RE_THROW();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(context);
		CurrentResourceOwner = owner;
		CatalogExecute(&InsertNewSlots, args, NULL, false, 0);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(context);
	CurrentResourceOwner = owner;
	return queued;
}

/*
 * PersistNext
 *	  Store each job's next slot, as the scheduler's own write: the write
 *	  trigger lets it through without validating the unchanged payload.
 */
static void
PersistNext(List *jobs)
{
	int			n = list_length(jobs);
	Datum	   *nexts = palloc(sizeof(Datum) * n);
	bool	   *nulls = palloc(sizeof(bool) * n);
	Datum		args[2];
	ListCell   *lc;
	int			i = 0;

	foreach(lc, jobs)
	{
		ScheduledJob *job = lfirst(lc);

		nulls[i] = job->next_slot == DT_NOEND;
		nexts[i] = TimestampTzGetDatum(job->next_slot);
		i++;
	}
	args[0] = UuidArray(jobs);
	args[1] = CatalogArray(nexts, nulls, n, TIMESTAMPTZOID);
	JobWriteBypass = true;
	PG_TRY();
	{
		CatalogExecute(&PersistNextSlots, args, NULL, false, 0);
	}
	PG_FINALLY();
	{
		JobWriteBypass = false;
	}
	PG_END_TRY();
}

/*
 * ScheduleFire
 *	  Record every due slot of "jobs" (taken from the table's heap) and put
 *	  them back with their next slot after "now"; returns how many runs it
 *	  queued.  Caller is in a transaction and connected to SPI; the round is
 *	  theirs to commit.  The next slots are stored later, by
 *	  ScheduleFirePersist.
 */
int
ScheduleFire(List *jobs, TimestampTz now)
{
	List	   *slots = NIL;
	ListCell   *lc;
	int			queued = 0;

	if (jobs == NIL)
		return 0;
	foreach(lc, jobs)
		slots = SlotsOf(slots, lfirst(lc), now);
	ApplyConcurrency(jobs, slots);
	if (slots != NIL)
		queued = RecordSlots(slots);
	foreach(lc, jobs)
		ScheduleTableAdvance(lfirst(lc), ScheduleTableHorizon(lfirst(lc), now));
	return queued;
}

/*
 * ScheduleFirePersist
 *	  Store the next slots of the jobs fired since last time, a moment
 *	  after the transactions that queued their runs: writing a thousand
 *	  wide job_configs rows at once would make the executors' first claims
 *	  wait behind it.  Should this be lost, the next scheduler finds the old
 *	  slots again, and the unique index on (job, slot) keeps it from
 *	  recording any of them a second time.  Returns how many were stored.
 */
int
ScheduleFirePersist(void)
{
	List	   *jobs = ScheduleTableUnsaved();

	if (jobs != NIL)
		PersistNext(jobs);
	return list_length(jobs);
}

/*
 * ScheduleFireWithdraw
 *	  Take back the runs recorded ahead of their slot that have not started,
 *	  and move each job back to its withdrawn slot, saved at once, so that
 *	  the slot is recorded again when due if the job still has it.  Whose:
 *	  the jobs in "ids" (changed: the slot may no longer be theirs, or their
 *	  policy no longer allows recording it early), or every job's (ids NIL:
 *	  jobconfig.enabled was turned off, and the slots will be missedRuns' to
 *	  judge).  Only runs still to come go, unless "due_too" (every job's, at
 *	  the scheduler's start: slots that came due while it was down are
 *	  missedRuns' too).  Caller is in a transaction, connected to SPI, with
 *	  the jobs loaded.
 */
void
ScheduleFireWithdraw(List *ids, bool due_too)
{
	Datum		args[1];
	List	   *moved = NIL;
	uint64		row;

	Assert(ids == NIL || !due_too);
	if (ids != NIL)
	{
		args[0] = CatalogUuidArray(ids);
		CatalogExecute(&WithdrawAheadOf, args, NULL, false, 0);
	}
	else
	{
		args[0] = BoolGetDatum(due_too);
		CatalogExecute(&WithdrawAllAhead, args, NULL, false, 0);
	}

	for (row = 0; row < SPI_processed; row++)
	{
		bool		isnull;
		pg_uuid_t  *id = DatumGetUUIDP(CatalogGetDatum(row, 1, &isnull));
		TimestampTz slot = DatumGetTimestampTz(CatalogGetDatum(row, 2, &isnull));
		ScheduledJob *job = ScheduleTableRestore(id, slot);

		/* A job listed twice is saved twice with the same slot: harmless. */
		if (job != NULL)
			moved = lappend(moved, job);
	}
	if (moved != NIL)
		PersistNext(moved);
}

/*
 * ScheduleFireReboot
 *	  Queue one run of each @reboot job, at the scheduler's start.
 */
void
ScheduleFireReboot(List *jobs, TimestampTz start)
{
	List	   *slots = NIL;
	ListCell   *lc;

	foreach(lc, jobs)
		slots = AddSlot(slots, lfirst(lc), start, false, NULL);
	if (slots != NIL)
		(void) RecordSlots(slots);
}
