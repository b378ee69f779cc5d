/*-------------------------------------------------------------------------
 *
 * status.c
 *	  jobconfig.scheduler_status(): what this database's workers are doing,
 *	  read from shared memory.
 *
 * IDENTIFICATION
 *	  src/status.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "access.h"
#include "jobconfig.h"
#include "shmem.h"

PG_FUNCTION_INFO_V1(jobconfig_scheduler_status);

/*
 * AppendTimestamp
 *	  ,"key":"ISO timestamp" or null.
 */
static void
AppendTimestamp(StringInfo out, const char *key, TimestampTz ts)
{
	appendStringInfo(out, ",\"%s\":", key);
	if (ts == 0)
		appendStringInfoString(out, "null");
	else
		appendStringInfo(out, "\"%s\"",
						 JsonEncodeDateTime(NULL, TimestampTzGetDatum(ts),
											TIMESTAMPTZOID, NULL));
}

/*
 * jobconfig_scheduler_status
 *	  SQL: jobconfig.scheduler_status() returns jsonb.
 */
Datum
jobconfig_scheduler_status(PG_FUNCTION_ARGS)
{
	StringInfoData out;
	int			index;

	AccessRequireReader("read the scheduler's status");
	initStringInfo(&out);
	appendStringInfo(&out, "{\"preloaded\":%s,\"enabled\":%s",
					 JobconfigState ? "true" : "false",
					 jobconfig_enabled ? "true" : "false");
	if (JobconfigState == NULL)
	{
		appendStringInfoChar(&out, '}');
		PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
	}

	LWLockAcquire(JobconfigState->lock, LW_SHARED);
	index = DatabaseSlotFind(MyDatabaseId);
	if (index < 0 || DatabaseSlotAt(index)->scheduler_pid == 0)
		appendStringInfoString(&out, ",\"pid\":null");
	else
	{
		DatabaseSlot *db = DatabaseSlotAt(index);
		int			i;
		bool		first = true;

		appendStringInfo(&out, ",\"pid\":%d,\"jobs\":%d,\"changesApplied\":" INT64_FORMAT,
						 (int) db->scheduler_pid, db->scheduled_jobs, db->changes_applied);
		AppendTimestamp(&out, "lastChangeAppliedAt", db->last_change_applied_at);
		appendStringInfoString(&out, ",\"executors\":[");
		for (i = 0; i < JobconfigState->max_workers; i++)
		{
			ExecutorSlot *ex = &db->executors[i];

			if (ex->pid == 0)
				continue;
			appendStringInfo(&out, "%s{\"pid\":%d,\"idle\":%s", first ? "" : ",",
							 (int) ex->pid, ex->idle ? "true" : "false");
			if (ex->execution_id != 0)
			{
				appendStringInfo(&out, ",\"executionId\":" INT64_FORMAT, ex->execution_id);
				AppendTimestamp(&out, "runStartedAt", ex->started_at);
			}
			appendStringInfoChar(&out, '}');
			first = false;
		}
		appendStringInfoChar(&out, ']');
		if (db->notifier_pid != 0)
			appendStringInfo(&out, ",\"notifierPid\":%d", (int) db->notifier_pid);
		else
			appendStringInfoString(&out, ",\"notifierPid\":null");
	}
	LWLockRelease(JobconfigState->lock);
	appendStringInfoChar(&out, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}
