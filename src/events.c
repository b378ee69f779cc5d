/*-------------------------------------------------------------------------
 *
 * events.c
 *	  Every execution state change, sent on the NOTIFY channel
 *	  jobconfig_events for applications that LISTEN.
 *
 * A row trigger on job_executions (AFTER INSERT, and AFTER UPDATE when the
 * status changed) sends a small JSON object:
 *
 *	  {"executionId": 42, "jobId": "nightly-report", "status": "running",
 *	   "attempt": 1, "triggerSource": "schedule"}
 *
 * NOTIFY is transactional, so listeners hear of a change only once it has
 * committed, and never of one that rolled back.  PostgreSQL cannot limit
 * who may LISTEN, so the payload carries identifiers and states only: no
 * input, log or error.  jobconfig.notify_events turns the channel off.
 *
 * Written in C because it fires for every run two or three times: a
 * PL/pgSQL trigger would cost more than the rest of a short run's
 * bookkeeping.
 *
 * IDENTIFICATION
 *	  src/events.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/async.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/rel.h"

#include "jobconfig.h"

PG_FUNCTION_INFO_V1(jobconfig_execution_event);

#define EVENTS_CHANNEL "jobconfig_events"

/* Column numbers in job_executions, found once per backend. */
static Oid	columns_of = InvalidOid;
static int	column_id;
static int	column_job_id;
static int	column_status;
static int	column_attempt;
static int	column_trigger_source;

/*
 * FindColumns
 *	  Look up the columns the payload needs.
 */
static void
FindColumns(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);

	column_id = SPI_fnumber(desc, "id");
	column_job_id = SPI_fnumber(desc, "job_id");
	column_status = SPI_fnumber(desc, "status");
	column_attempt = SPI_fnumber(desc, "attempt");
	column_trigger_source = SPI_fnumber(desc, "trigger_source");
	if (column_id <= 0 || column_job_id <= 0 || column_status <= 0 ||
		column_attempt <= 0 || column_trigger_source <= 0)
		elog(ERROR, "jobconfig.job_executions lacks a column jobconfig_execution_event needs");
	columns_of = RelationGetRelid(rel);
}

/*
 * AppendTextColumn
 *	  ,"key":"value" from a text column.
 */
static void
AppendTextColumn(StringInfo out, const char *key, HeapTuple tuple,
				 TupleDesc desc, int column)
{
	bool		isnull;
	Datum		value = heap_getattr(tuple, column, desc, &isnull);

	appendStringInfo(out, ",\"%s\":", key);
	if (isnull)
		appendStringInfoString(out, "null");
	else
		escape_json(out, TextDatumGetCString(value));
}

/*
 * jobconfig_execution_event
 *	  Row trigger: NOTIFY jobconfig_events with the execution's new state.
 */
Datum
jobconfig_execution_event(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	HeapTuple	tuple;
	TupleDesc	desc;
	StringInfoData payload;
	bool		isnull;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event))
		elog(ERROR, "jobconfig_execution_event must be an AFTER ... FOR EACH ROW trigger");
	if (!jobconfig_notify_events)
		return PointerGetDatum(NULL);

	if (RelationGetRelid(trigdata->tg_relation) != columns_of)
		FindColumns(trigdata->tg_relation);
	desc = RelationGetDescr(trigdata->tg_relation);
	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;

	initStringInfo(&payload);
	appendStringInfo(&payload, "{\"executionId\":" INT64_FORMAT,
					 DatumGetInt64(heap_getattr(tuple, column_id, desc, &isnull)));
	AppendTextColumn(&payload, "jobId", tuple, desc, column_job_id);
	AppendTextColumn(&payload, "status", tuple, desc, column_status);
	appendStringInfo(&payload, ",\"attempt\":%d",
					 DatumGetInt32(heap_getattr(tuple, column_attempt, desc, &isnull)));
	AppendTextColumn(&payload, "triggerSource", tuple, desc, column_trigger_source);
	appendStringInfoChar(&payload, '}');

	Async_Notify(EVENTS_CHANNEL, payload.data);
	pfree(payload.data);
	return PointerGetDatum(NULL);
}
