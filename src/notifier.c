/*-------------------------------------------------------------------------
 *
 * notifier.c
 *	  The notifier of one database: delivers the notification outbox (Slack
 *	  and email) with libcurl's multi interface, and records every attempt.
 *
 * Rows reach the outbox in the transaction that records a run's final
 * result (jobconfig.queue_notifications), and their insert wakes the
 * notifier at commit.  The notifier is a process of its own, started and
 * restarted by the database's scheduler, so a slow or unreachable server
 * never delays scheduling or execution.
 *
 * A loop:
 *	1. claim due rows (pending, next_attempt_at passed) in a short
 *	   transaction, leasing them: next_attempt_at moves LEASE_SECONDS ahead,
 *	   so rows whose notifier died mid-transfer are tried again then;
 *	2. start their transfers, up to MAX_IN_FLIGHT at once, and drive them
 *	   without blocking, waking every POLL_MS to look for new work;
 *	3. record the finished attempts in one transaction: delivered; or
 *	   pending again after jobconfig.notify_retry_delay x 3^(attempt-1)
 *	   (at most an hour); or failed, when refused for good or after
 *	   jobconfig.notify_max_attempts attempts; or deferred, without
 *	   counting an attempt, while mail has no server configured.
 * When nothing is in flight it sleeps on its latch until the next retry is
 * due.  Delivery is at least once: a notifier that dies between a
 * transfer's end and its record sends that message again.
 *
 * IDENTIFICATION
 *	  src/notifier.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "catalog.h"
#include "jobconfig.h"
#include "notify_transfer.h"
#include "shmem.h"
#include "workers.h"

/* Transfers driven at once. */
#define MAX_IN_FLIGHT 16

/* A claimed row is tried again after this long if its attempt is lost. */
#define LEASE_SECONDS 120

/* How often a notifier with transfers in flight looks for new work. */
#define POLL_MS 100

/* With nothing due, the outbox is looked at this often anyway. */
#define IDLE_CHECK_MS (60 * 1000)

PGDLLEXPORT void jobconfig_notifier_main(Datum main_arg);

static CatalogQuery ClaimDue = {
	"UPDATE jobconfig.notification_outbox o"
	"   SET next_attempt_at = pg_catalog.now() + pg_catalog.make_interval(secs => $2)"
	"  FROM (SELECT id FROM jobconfig.notification_outbox"
	"         WHERE status = 'pending' AND next_attempt_at <= pg_catalog.now()"
	"         ORDER BY next_attempt_at, id LIMIT $1"
	"           FOR UPDATE SKIP LOCKED) due"
	" WHERE o.id = due.id"
	" RETURNING o.id, o.execution_id, o.job_id, o.channel, o.recipients,"
	"           o.subject, o.body,"
	"           (SELECT s.slack_webhook_url FROM jobconfig.job_secrets s"
	"             WHERE s.job_config_id = o.job_config_id)",
	2, {INT4OID, INT4OID}, true
};

static CatalogQuery NextDue = {
	"SELECT min(next_attempt_at) FROM jobconfig.notification_outbox"
	" WHERE status = 'pending'",
	0, {InvalidOid}, true
};

static CatalogQuery RecordAttempts = {
	"UPDATE jobconfig.notification_outbox o"
	"   SET attempts = o.attempts + a.counts,"
	"       last_attempt_at = CASE WHEN a.counts = 1 THEN r.at ELSE o.last_attempt_at END,"
	"       status = CASE WHEN r.outcome = 'delivered' THEN 'delivered'"
	"                     WHEN r.outcome = 'failed' OR o.attempts + a.counts >= $7 THEN 'failed'"
	"                     ELSE 'pending' END,"
	"       delivered_at = CASE WHEN r.outcome = 'delivered' THEN r.at END,"
	"       next_attempt_at = CASE r.outcome"
	"           WHEN 'retry' THEN r.at + pg_catalog.make_interval(secs =>"
	"               least($8::float8 * power(3::float8, o.attempts), 3600))"
	"           WHEN 'deferred' THEN r.at + pg_catalog.make_interval(secs => $8)"
	"           ELSE r.at END,"
	"       last_error = CASE WHEN r.outcome = 'retry' AND o.attempts + 1 >= $7"
	"           THEN pg_catalog.format('gave up after %s attempts; the last: %s', o.attempts + 1, r.error)"
	"           ELSE r.error END,"
	"       delivery_log = CASE WHEN a.counts = 0 THEN o.delivery_log"
	"           ELSE o.delivery_log || pg_catalog.jsonb_build_array("
	"           pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
	"               'attempt', o.attempts + 1, 'at', r.at, 'outcome', r.outcome,"
	"               'code', nullif(r.code, 0), 'ms', r.ms, 'error', r.error))) END"
	"  FROM unnest($1, $2, $3, $4, $5, $6) AS r(id, outcome, code, ms, error, at),"
	"       LATERAL (SELECT CASE WHEN r.outcome = 'deferred' THEN 0 ELSE 1 END) AS a(counts)"
	" WHERE o.id = r.id",
	8, {INT8ARRAYOID, TEXTARRAYOID, INT4ARRAYOID, INT4ARRAYOID, TEXTARRAYOID,
	TIMESTAMPTZARRAYOID, INT4OID, INT4OID}
};

static WorkerPlace place;
static DatabaseSlot *my_slot = NULL;
static CURLM *multi = NULL;
static MemoryContext deliveries_context = NULL;
static List *in_flight = NIL;	/* of Delivery *, transfers running */
static List *finished = NIL;	/* of Delivery *, to record */

/*
 * QueryNextDue
 *	  When the earliest pending row is due (DT_NOEND: none).  In a
 *	  transaction.
 */
static TimestampTz
QueryNextDue(void)
{
	bool		isnull;
	Datum		due;

	/* Not read-only: it must see what this transaction just wrote. */
	CatalogExecute(&NextDue, NULL, NULL, false, 1);
	due = CatalogGetDatum(0, 1, &isnull);
	return isnull ? DT_NOEND : DatumGetTimestampTz(due);
}

/*
 * CopyText
 *	  Column "column" of row "row" in the deliveries context, or NULL.
 */
static char *
CopyText(int row, int column)
{
	char	   *value = CatalogGetText(row, column);

	return value == NULL ? NULL : MemoryContextStrdup(deliveries_context, value);
}

/*
 * ClaimDeliveries
 *	  Lease up to "room" due rows and return them as Deliveries; sets
 *	  *next_due.
 */
static List *
ClaimDeliveries(int room, TimestampTz *next_due)
{
	Datum		args[2] = {Int32GetDatum(room), Int32GetDatum(LEASE_SECONDS)};
	List	   *claimed = NIL;
	uint64		i;

	WorkerBeginWork("claiming notifications");
	CatalogExecute(&ClaimDue, args, NULL, false, 0);
	for (i = 0; i < SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(deliveries_context);
		Delivery   *delivery = palloc0(sizeof(Delivery));
		bool		isnull;
		Datum		datum;

		delivery->id = DatumGetInt64(CatalogGetDatum(i, 1, &isnull));
		datum = CatalogGetDatum(i, 2, &isnull);
		delivery->execution_id = isnull ? 0 : DatumGetInt64(datum);
		delivery->job_id = CopyText(i, 3);
		delivery->channel = CopyText(i, 4);
		datum = CatalogGetDatum(i, 5, &isnull);
		if (!isnull)
		{
			Datum	   *elems;
			int			nelems;
			int			k;

			deconstruct_array(DatumGetArrayTypeP(datum), TEXTOID, -1, false,
							  TYPALIGN_INT, &elems, NULL, &nelems);
			for (k = 0; k < nelems; k++)
				delivery->recipients = lappend(delivery->recipients,
											   TextDatumGetCString(elems[k]));
		}
		delivery->subject = CopyText(i, 6);
		delivery->body = CopyText(i, 7);
		delivery->slack_url = CopyText(i, 8);
		claimed = lappend(claimed, delivery);
		MemoryContextSwitchTo(old);
	}
	*next_due = QueryNextDue();
	WorkerEndWork();
	return claimed;
}

/*
 * StartDeliveries
 *	  Start each claimed delivery; those that cannot start are finished
 *	  at once.
 */
static void
StartDeliveries(List *claimed)
{
	MemoryContext old = MemoryContextSwitchTo(deliveries_context);
	ListCell   *lc;

	foreach(lc, claimed)
	{
		Delivery   *delivery = lfirst(lc);

		if (DeliveryStart(multi, delivery))
			in_flight = lappend(in_flight, delivery);
		else
			finished = lappend(finished, delivery);
	}
	MemoryContextSwitchTo(old);
}

/*
 * DriveTransfers
 *	  Let libcurl progress, and move the transfers that ended to finished.
 */
static void
DriveTransfers(void)
{
	MemoryContext old = MemoryContextSwitchTo(deliveries_context);
	int			running;
	int			queued;
	CURLMsg    *msg;

	curl_multi_perform(multi, &running);
	while ((msg = curl_multi_info_read(multi, &queued)) != NULL)
	{
		Delivery   *delivery;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &delivery);
		DeliveryDone(multi, delivery, msg->data.result);
		in_flight = list_delete_ptr(in_flight, delivery);
		finished = lappend(finished, delivery);
	}
	MemoryContextSwitchTo(old);
}

/*
 * OutcomeName
 *	  An outcome as the outbox's delivery log names it.
 */
static const char *
OutcomeName(DeliveryOutcome outcome)
{
	switch (outcome)
	{
		case DELIVERY_DELIVERED:
			return "delivered";
		case DELIVERY_RETRY:
			return "retry";
		case DELIVERY_FAILED:
			return "failed";
		case DELIVERY_DEFERRED:
			return "deferred";
	}
	return "failed";
}

/*
 * RecordFinished
 *	  Record the finished attempts in one transaction; sets *next_due.
 */
static void
RecordFinished(TimestampTz *next_due)
{
	int			n = list_length(finished);
	Datum	   *ids;
	Datum	   *outcomes;
	Datum	   *codes;
	Datum	   *elapsed;
	Datum	   *errors;
	bool	   *error_nulls;
	Datum	   *ats;
	Datum		args[8];
	TimestampTz now = GetCurrentTimestamp();
	ListCell   *lc;
	int			i = 0;

	/* First, so that the arrays below live in SPI's memory, freed at the end. */
	WorkerBeginWork("recording notification attempts");
	ids = palloc(sizeof(Datum) * n);
	outcomes = palloc(sizeof(Datum) * n);
	codes = palloc(sizeof(Datum) * n);
	elapsed = palloc(sizeof(Datum) * n);
	errors = palloc(sizeof(Datum) * n);
	error_nulls = palloc(sizeof(bool) * n);
	ats = palloc(sizeof(Datum) * n);
	foreach(lc, finished)
	{
		Delivery   *delivery = lfirst(lc);

		ids[i] = Int64GetDatum(delivery->id);
		outcomes[i] = CStringGetTextDatum(OutcomeName(delivery->outcome));
		codes[i] = Int32GetDatum((int32) delivery->status_code);
		elapsed[i] = Int32GetDatum(delivery->elapsed_ms);
		error_nulls[i] = delivery->error == NULL;
		errors[i] = error_nulls[i] ? (Datum) 0 : CStringGetTextDatum(delivery->error);
		ats[i] = TimestampTzGetDatum(now);
		if (delivery->outcome != DELIVERY_DELIVERED)
			ereport(delivery->outcome == DELIVERY_FAILED ? LOG : DEBUG1,
					(errmsg("jobconfig could not deliver %s notification %lld of job \"%s\": %s",
							delivery->channel, (long long) delivery->id,
							delivery->job_id, delivery->error)));
		i++;
	}

	args[0] = CatalogArray(ids, NULL, n, INT8OID);
	args[1] = CatalogArray(outcomes, NULL, n, TEXTOID);
	args[2] = CatalogArray(codes, NULL, n, INT4OID);
	args[3] = CatalogArray(elapsed, NULL, n, INT4OID);
	args[4] = CatalogArray(errors, error_nulls, n, TEXTOID);
	args[5] = CatalogArray(ats, NULL, n, TIMESTAMPTZOID);
	args[6] = Int32GetDatum(jobconfig_notify_max_attempts);
	args[7] = Int32GetDatum(jobconfig_notify_retry_delay);
	CatalogExecute(&RecordAttempts, args, NULL, false, 0);
	*next_due = QueryNextDue();
	WorkerEndWork();
	finished = NIL;
}

/*
 * ForgetSlot
 *	  before_shmem_exit: this database has no notifier any more.
 */
static void
ForgetSlot(int code, Datum arg)
{
	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	if (my_slot->notifier_pid == MyProcPid)
	{
		my_slot->notifier_pid = 0;
		my_slot->notifier_latch = NULL;
	}
	LWLockRelease(JobconfigState->lock);
}

/*
 * TakeSlot
 *	  Become the database's notifier, once a previous one has exited.
 */
static void
TakeSlot(void)
{
	for (;;)
	{
		pid_t		previous;

		LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
		previous = my_slot->notifier_pid;
		if (previous == 0 || kill(previous, 0) != 0)
		{
			my_slot->notifier_pid = MyProcPid;
			my_slot->notifier_latch = MyLatch;
			LWLockRelease(JobconfigState->lock);
			before_shmem_exit(ForgetSlot, 0);
			return;
		}
		LWLockRelease(JobconfigState->lock);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * jobconfig_notifier_main
 *	  Entry point of a database's notifier.
 */
void
jobconfig_notifier_main(Datum main_arg)
{
	TimestampTz next_due = 0;	/* look at once */
	bool		woken = true;

	place = WorkerPlaceOf(main_arg);

	WorkerInstallSignals();
	WorkerConnect(place.dboid);
	pgstat_report_appname("jobconfig notifier");

	my_slot = DatabaseSlotAt(place.slot);
	TakeSlot();

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
		(multi = curl_multi_init()) == NULL)
		elog(ERROR, "jobconfig's notifier could not initialize libcurl");
	deliveries_context = AllocSetContextCreate(TopMemoryContext,
											   "jobconfig notifier deliveries",
											   ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		TimestampTz now;

		WorkerCheckSignals();

		now = GetCurrentTimestamp();
		if (list_length(in_flight) < MAX_IN_FLIGHT && (woken || now >= next_due))
		{
			int			room = MAX_IN_FLIGHT - list_length(in_flight);
			List	   *claimed = ClaimDeliveries(room, &next_due);

			/* A full claim may have left more behind. */
			woken = list_length(claimed) == room;
			StartDeliveries(claimed);
		}
		if (in_flight != NIL)
			DriveTransfers();
		if (finished != NIL)
			RecordFinished(&next_due);
		if (in_flight == NIL && finished == NIL)
			MemoryContextReset(deliveries_context);

		if (in_flight != NIL)
		{
			/* Wake on socket activity, or after POLL_MS to look for work. */
			curl_multi_poll(multi, NULL, 0, POLL_MS, NULL);
			if (!PostmasterIsAlive())
				proc_exit(1);
		}
		else if (!woken)
		{
			long		sleep_ms = IDLE_CHECK_MS;

			now = GetCurrentTimestamp();
			if (next_due != DT_NOEND)
				sleep_ms = Min(sleep_ms,
							   Max(0, TimestampDifferenceMilliseconds(now, next_due) + 1));
			WorkerSleep(sleep_ms);
		}
		if (MyLatch->is_set)
		{
			ResetLatch(MyLatch);
			woken = true;
		}
	}
}
