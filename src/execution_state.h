/*-------------------------------------------------------------------------
 *
 * execution_state.h
 *	  The states of an execution and the moves between them.
 *
 * IDENTIFICATION
 *	  src/execution_state.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_EXECUTION_STATE_H
#define JOBCONFIG_EXECUTION_STATE_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

typedef enum ExecutionStatus
{
	EXEC_QUEUED,
	EXEC_RUNNING,
	EXEC_SUCCEEDED,
	EXEC_FAILED,
	EXEC_TIMED_OUT,
	EXEC_CANCELLED,
	EXEC_SKIPPED
} ExecutionStatus;

/* The end of a run, as recorded. */
typedef struct RunEnd
{
	int64		execution_id;
	const char *job_id;
	pg_uuid_t  *job_config_id;	/* NULL when the job is gone */
	ExecutionStatus status;
	TimestampTz started_at;
	TimestampTz finished_at;
	Jsonb	   *log;
	char	   *error;
	bool		no_retry;		/* failed, but its work committed: not retried */
} RunEnd;

extern const char *ExecutionStatusName(ExecutionStatus status);
extern void ExecutionRecordEnds(List *ends);
extern void ExecutionHandBack(List *execution_ids);
extern bool ExecutionFinishNeeded(List *ends);
extern void ExecutionFinish(List *execution_ids, List *ends);
extern void ExecutionWarmUp(void);

#endif							/* JOBCONFIG_EXECUTION_STATE_H */
