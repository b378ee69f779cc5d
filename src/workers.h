/*-------------------------------------------------------------------------
 *
 * workers.h
 *	  What the launcher, the schedulers and the executors share: how a
 *	  worker is described to the postmaster, and how it finds its slot.
 *
 * IDENTIFICATION
 *	  src/workers.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_WORKERS_H
#define JOBCONFIG_WORKERS_H

#include "postmaster/bgworker.h"

#include "shmem.h"

/* What to say when the postmaster has no background worker slot left. */
#define WORKERS_NEEDED_HINT \
	"Raise max_worker_processes: jobconfig needs one launcher, and per database " \
	"one scheduler, one notifier and jobconfig.max_workers executors."

/* Where a dynamic worker belongs, packed into its main argument. */
typedef struct WorkerPlace
{
	Oid			dboid;
	int			slot;			/* database slot */
	int			executor;		/* executor slot (executors only) */
} WorkerPlace;

extern void WorkerDescribe(BackgroundWorker *worker, const char *function,
						   const char *type, Oid dboid, int slot, int executor);
extern void WorkerConnect(Oid dboid);
extern WorkerPlace WorkerPlaceOf(Datum main_arg);
extern void WorkerInstallSignals(void);
extern void WorkerCheckSignals(void);
extern void WorkerSleep(long timeout_ms);
extern bool WorkerExtensionInstalled(void);
extern void WorkerBeginWork(const char *what);
extern void WorkerEndWork(void);

#endif							/* JOBCONFIG_WORKERS_H */
