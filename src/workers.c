/*-------------------------------------------------------------------------
 *
 * workers.c
 *	  What the launcher, the schedulers and the executors share: how a
 *	  worker is described to the postmaster, and how it finds its slot.
 *
 * IDENTIFICATION
 *	  src/workers.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

#include "own_settings.h"
#include "workers.h"

/*
 * WorkerDescribe
 *	  Fill in a dynamic worker of jobconfig's: never restarted by the
 *	  postmaster (its starter decides), and reporting its start and exit to
 *	  the process starting it.
 */
void
WorkerDescribe(BackgroundWorker *worker, const char *function,
			   const char *type, Oid dboid, int slot, int executor)
{
	memset(worker, 0, sizeof(*worker));
	worker->bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker->bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker->bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker->bgw_library_name, "jobconfig", BGW_MAXLEN);
	strlcpy(worker->bgw_function_name, function, BGW_MAXLEN);
	if (executor > 0 || strcmp(type, "jobconfig executor") == 0)
		snprintf(worker->bgw_name, BGW_MAXLEN, "%s %d for database %u",
				 type, executor + 1, dboid);
	else
		snprintf(worker->bgw_name, BGW_MAXLEN, "%s for database %u", type, dboid);
	strlcpy(worker->bgw_type, type, BGW_MAXLEN);
	worker->bgw_main_arg = Int64GetDatum(((int64) dboid << 32) |
										 ((int64) slot << 16) | executor);
	worker->bgw_notify_pid = MyProcPid;
}

/*
 * WorkerInstallSignals
 *	  A worker's signal handlers: SIGHUP rereads the settings, SIGTERM ends
 *	  the process.  A new background worker ignores SIGHUP until its main
 *	  function installs a handler, so a reload signalled while it was
 *	  being started is lost, and the worker would keep the settings it was
 *	  forked with -- jobconfig.enabled = on, say, after it was turned off.
 *	  So the settings are reread once now, before the worker does anything
 *	  (like the checkpointer's rereading, this needs no database
 *	  connection).
 */
void
WorkerInstallSignals(void)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	ProcessConfigFile(PGC_SIGHUP);
}

/*
 * WorkerCheckSignals
 *	  At the top of a worker's loop, outside any transaction: end the
 *	  process if it was told to, reread the settings if they were reloaded,
 *	  and pass on the worker's table statistics.
 *
 * A backend's statistics reach the shared counters only when it flushes
 * them (postgres.c does between queries), and autovacuum decides from those
 * counters: without this, the rows the workers update and delete in
 * job_executions would never count as dead until the workers exit, and
 * the table and its queue index would bloat.  Flushes are at most one a
 * second, unless the worker is about to sleep (WorkerSleep).
 */
void
WorkerCheckSignals(void)
{
	CHECK_FOR_INTERRUPTS();
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
	(void) pgstat_report_stat(false);
}

/*
 * WorkerSleep
 *	  Sleep on the latch until it is set, the postmaster dies, or
 *	  timeout_ms pass (-1: no timeout).  Statistics still pending are
 *	  flushed first: a sleep may last long.
 */
void
WorkerSleep(long timeout_ms)
{
	(void) pgstat_report_stat(true);
	(void) WaitLatch(MyLatch,
					 WL_LATCH_SET | WL_EXIT_ON_PM_DEATH |
					 (timeout_ms >= 0 ? WL_TIMEOUT : 0),
					 timeout_ms, PG_WAIT_EXTENSION);
}

/*
 * WorkerConnect
 *	  Connect to the worker's database as the bootstrap superuser, with the
 *	  server's settings only: what ALTER DATABASE ... SET or ALTER ROLE ...
 *	  SET would apply is undone (own_settings.c), so a database owner's
 *	  settings never reach the statements jobconfig runs as superuser.
 */
void
WorkerConnect(Oid dboid)
{
	ServerSettingsCapture();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	ServerSettingsRestore();
}

/*
 * WorkerPlaceOf
 *	  Unpack what WorkerDescribe packed.
 */
WorkerPlace
WorkerPlaceOf(Datum main_arg)
{
	int64		packed = DatumGetInt64(main_arg);
	WorkerPlace place;

	place.dboid = (Oid) (packed >> 32);
	place.slot = (int) ((packed >> 16) & 0xFFFF);
	place.executor = (int) (packed & 0xFFFF);
	return place;
}

/*
 * WorkerExtensionInstalled
 *	  Is jobconfig installed in this worker's database?  Runs its own
 *	  transaction.
 */
bool
WorkerExtensionInstalled(void)
{
	bool		installed;

	StartTransactionCommand();
	installed = OidIsValid(get_extension_oid("jobconfig", true));
	CommitTransactionCommand();
	return installed;
}

/*
 * WorkerBeginWork, WorkerEndWork
 *	  A transaction with SPI and a snapshot around one batch of a worker's
 *	  work; "what" shows in pg_stat_activity meanwhile.
 */
void
WorkerBeginWork(const char *what)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, what);
}

void
WorkerEndWork(void)
{
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}
