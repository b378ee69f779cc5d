/*-------------------------------------------------------------------------
 *
 * maintenance.c
 *	  The scheduler's housekeeping: accounting for runs whose worker went
 *	  away, and deleting old history in small batches.
 *
 * A run is marked running, durably, before its command starts.  So when a
 * worker dies (killed, crashed, or the whole server restarted) its runs are
 * still "running" in the table, and this is where they are found and
 * marked failed with a reason that says what happened, after which the
 * job's retry policy applies as to any failure.  A job that kills its
 * worker every time therefore fails its attempts and stops; it cannot
 * stall other jobs or the scheduler.
 *
 * IDENTIFICATION
 *	  src/maintenance.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "catalog.h"
#include "execution_state.h"
#include "jobconfig.h"
#include "maintenance.h"

static CatalogQuery InterruptAll = {
	"UPDATE jobconfig.job_executions"
	"   SET status = 'failed', finished_at = pg_catalog.now(), error = $1"
	" WHERE finished_at IS NULL AND status = 'running' RETURNING id",
	1, {TEXTOID}
};

static CatalogQuery InterruptWorker = {
	"UPDATE jobconfig.job_executions"
	"   SET status = $3, finished_at = pg_catalog.now(), error = $2"
	" WHERE finished_at IS NULL AND status = 'running' AND worker_pid = $1"
	" RETURNING id",
	3, {INT4OID, TEXTOID, TEXTOID}
};

static CatalogQuery DeleteOldRuns = {
	"DELETE FROM jobconfig.job_executions WHERE id IN ("
	" SELECT e.id FROM jobconfig.job_executions e"
	"   LEFT JOIN jobconfig.job_configs j ON j.id = e.job_config_id"
	"  WHERE e.finished_at IS NOT NULL"
	"    AND coalesce((j.payload #>> '{history,retentionDays}')::integer, $1) > 0"
	"    AND e.finished_at < pg_catalog.now() - pg_catalog.make_interval("
	"          days => coalesce((j.payload #>> '{history,retentionDays}')::integer, $1))"
	"  ORDER BY e.finished_at LIMIT $2)"
	" RETURNING id",
	2, {INT4OID, INT4OID}, true
};

static CatalogQuery DeleteOldNotifications = {
	"DELETE FROM jobconfig.notification_outbox WHERE id IN ("
	" SELECT o.id FROM jobconfig.notification_outbox o"
	"  WHERE o.status <> 'pending'"
	"    AND o.created_at < pg_catalog.now() - pg_catalog.make_interval(days => $1)"
	"  ORDER BY o.id LIMIT $2)",
	2, {INT4OID, INT4OID}, true
};

static CatalogQuery DeleteExpiredSignatures = {
	"DELETE FROM jobconfig.webhook_signatures WHERE (job_config_id, signature) IN ("
	" SELECT s.job_config_id, s.signature FROM jobconfig.webhook_signatures s"
	"  WHERE s.expires_at < pg_catalog.now() LIMIT $1)",
	1, {INT4OID}, true
};

static CatalogQuery ForgetCauses = {
	"UPDATE jobconfig.job_executions SET cause_id = NULL WHERE cause_id = ANY ($1)",
	1, {INT8ARRAYOID}
};

/*
 * FinishReturnedRuns
 *	  Pass the ids the last statement returned to ExecutionFinish, which
 *	  queues retries and downstream runs.  Returns how many there were.
 */
static uint64
FinishReturnedRuns(void)
{
	uint64		n = SPI_processed;
	List	   *ids = NIL;
	uint64		i;

	for (i = 0; i < n; i++)
	{
		int64	   *id = palloc(sizeof(int64));
		bool		isnull;

		*id = DatumGetInt64(CatalogGetDatum(i, 1, &isnull));
		ids = lappend(ids, id);
	}
	ExecutionFinish(ids, NIL);
	return n;
}

/*
 * MaintenanceRecoverRuns
 *	  At scheduler start no executor of this database is alive, so every
 *	  run still marked running was interrupted.  Caller is in a transaction
 *	  and connected to SPI.
 */
uint64
MaintenanceRecoverRuns(void)
{
	Datum		args[1] = {CStringGetTextDatum(
		"interrupted: the server or jobconfig's workers restarted while the run was in progress")};

	CatalogExecute(&InterruptAll, args, NULL, false, 0);
	return FinishReturnedRuns();
}

/*
 * MaintenanceWorkerGone
 *	  An executor exited: its runs still marked running end as failed (or
 *	  timed out, when the scheduler had to terminate it for running past
 *	  its timeout).
 */
uint64
MaintenanceWorkerGone(pid_t pid, bool terminated_for_timeout)
{
	Datum		args[3];

	args[0] = Int32GetDatum((int32) pid);
	if (terminated_for_timeout)
	{
		args[1] = CStringGetTextDatum(psprintf("timed out: the run did not stop when cancelled, and its worker (pid %d) was terminated",
											   (int) pid));
		args[2] = CStringGetTextDatum("timed_out");
	}
	else
	{
		args[1] = CStringGetTextDatum(psprintf("interrupted: the worker running it (pid %d) exited before the run ended",
											   (int) pid));
		args[2] = CStringGetTextDatum("failed");
	}
	CatalogExecute(&InterruptWorker, args, NULL, false, 0);
	return FinishReturnedRuns();
}

/*
 * MaintenanceDeleteHistory
 *	  Delete one batch of executions older than their job's retention (or
 *	  jobconfig.history_days), of finished notifications older than
 *	  jobconfig.history_days, and of expired webhook signatures.  Returns
 *	  the largest number deleted of one kind; a full batch means there may
 *	  be more.
 */
uint64
MaintenanceDeleteHistory(void)
{
	Datum		args[2] = {Int32GetDatum(jobconfig_history_days),
	Int32GetDatum(jobconfig_retention_batch_size)};
	uint64		deleted;
	uint64		most;
	Datum	   *ids;
	uint64		i;

	/* Spent webhook signatures, and notifications as old as old runs. */
	CatalogExecute(&DeleteExpiredSignatures, &args[1], NULL, false, 0);
	most = SPI_processed;
	if (jobconfig_history_days > 0)
	{
		CatalogExecute(&DeleteOldNotifications, args, NULL, false, 0);
		most = Max(most, SPI_processed);
	}

	CatalogExecute(&DeleteOldRuns, args, NULL, false, 0);
	deleted = SPI_processed;
	if (deleted == 0)
		return most;

	/* Runs they caused keep their history, without a dangling cause. */
	ids = palloc(sizeof(Datum) * deleted);
	for (i = 0; i < deleted; i++)
	{
		bool		isnull;

		ids[i] = CatalogGetDatum(i, 1, &isnull);
	}
	args[0] = CatalogArray(ids, NULL, (int) deleted, INT8OID);
	CatalogExecute(&ForgetCauses, args, NULL, false, 0);
	return Max(most, deleted);
}
