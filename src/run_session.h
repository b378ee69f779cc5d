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
} SavedIdentity;

extern void RunSessionInstall(ExecutorSlot *slot);
extern void RunSessionBegin(const RunIdentity *run);
extern RunInterruption RunSessionEnd(char *cancelled_by);
extern SavedIdentity RunSessionBecome(Oid run_as);
extern void RunSessionReturn(SavedIdentity saved);
extern void RunSessionClean(void);

#endif							/* JOBCONFIG_RUN_SESSION_H */
