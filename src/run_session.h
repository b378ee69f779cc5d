/*-------------------------------------------------------------------------
 *
 * run_session.h
 *	  The environment of one run in a pooled executor.
 *
 * IDENTIFICATION
 *	  src/run_session.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_RUN_SESSION_H
#define JOBCONFIG_RUN_SESSION_H

#include "utils/jsonb.h"

#include "shmem.h"

/* What a run is, as far as its environment is concerned. */
typedef struct RunIdentity
{
	int64		execution_id;
	const char *job_id;
	int			attempt;
	Oid			run_as;
	const char *role_name;
	int			timeout_seconds;
	const char *command;
	Jsonb	   *input;
} RunIdentity;

/* How a run was interrupted, if it was. */
typedef enum RunInterruption
{
	RUN_NOT_INTERRUPTED,
	RUN_TIMED_OUT,
	RUN_CANCELLED_BY_USER,
	RUN_REPLACED,
	RUN_JOB_DELETED
} RunInterruption;

typedef struct SavedIdentity
{
	Oid			userid;
	int			sec_context;
	Oid			session_userid; /* InvalidOid: nothing to go back to */
	bool		session_superuser;
} SavedIdentity;

extern void RunSessionInstall(DatabaseSlot *database, ExecutorSlot *slot);
extern void RunSessionClaimed(const int64 *execution_ids, int count);
extern CancelReason RunSessionTakeClaim(int64 execution_id, char *by);
extern void RunSessionBegin(const RunIdentity *run);
extern CancelReason RunSessionSettle(bool raise);
extern void RunSessionCancelPoint(void);
extern RunInterruption RunSessionEnd(char *cancelled_by);
extern SavedIdentity RunSessionBecome(Oid run_as, bool run_as_superuser);
extern void RunSessionReturn(SavedIdentity saved);
extern void RunSessionClean(void);

#endif							/* JOBCONFIG_RUN_SESSION_H */
