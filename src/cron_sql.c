/*-------------------------------------------------------------------------
 *
 * cron_sql.c
 *	  SQL-callable functions of the cron engine: cron_next, cron_preview
 *	  and cron_describe.
 *
 * These are thin: they refuse a null argument (22004, arguments.c), turn
 * bad input into ereport(ERROR) with errcode 22023 and leave the work to
 * the pure engine (cron_parse.c, cron_next.c, cron_describe.c,
 * cron_timezone.c).
 *
 * IDENTIFICATION
 *	  src/cron_sql.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "arguments.h"
#include "cron.h"

/* Largest count cron_preview returns. */
#define CRON_PREVIEW_MAX 10000

PG_FUNCTION_INFO_V1(jobconfig_cron_next);
PG_FUNCTION_INFO_V1(jobconfig_cron_preview);
PG_FUNCTION_INFO_V1(jobconfig_cron_describe);

static void CronSqlParse(text *schedule_text, CronSchedule *schedule);
static pg_tz *CronSqlZone(text *zone_text);
static void CronSqlCheckAfter(TimestampTz after);

/*
 * jobconfig_cron_next
 *	  cron_next(schedule, after, timezone): the first fire time strictly
 *	  after "after", or NULL when there is none (@reboot).
 */
Datum
jobconfig_cron_next(PG_FUNCTION_ARGS)
{
	CronSchedule schedule;
	TimestampTz after;
	pg_tz	   *tz;
	TimestampTz next;

	ArgumentsRequire(fcinfo);
	after = PG_GETARG_TIMESTAMPTZ(1);
	CronSqlParse(PG_GETARG_TEXT_PP(0), &schedule);
	tz = CronSqlZone(PG_GETARG_TEXT_PP(2));
	CronSqlCheckAfter(after);

	if (!CronNextAfter(&schedule, after, tz, &next))
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(next);
}

/*
 * jobconfig_cron_preview
 *	  cron_preview(schedule, count, after, timezone): the next "count" fire
 *	  times after "after", in order; none for @reboot.
 */
Datum
jobconfig_cron_preview(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CronSchedule schedule;
	int32		count;
	TimestampTz after;
	pg_tz	   *tz;
	int32		i;

	ArgumentsRequire(fcinfo);
	count = PG_GETARG_INT32(1);
	after = PG_GETARG_TIMESTAMPTZ(2);
	CronSqlParse(PG_GETARG_TEXT_PP(0), &schedule);
	if (count < 1 || count > CRON_PREVIEW_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("count must be between 1 and %d, not %d",
						CRON_PREVIEW_MAX, count)));
	tz = CronSqlZone(PG_GETARG_TEXT_PP(3));
	CronSqlCheckAfter(after);

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	for (i = 0; i < count; i++)
	{
		Datum		value;
		bool		isnull = false;

		if (!CronNextAfter(&schedule, after, tz, &after))
			break;
		value = TimestampTzGetDatum(after);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value,
							 &isnull);
	}
	return (Datum) 0;
}

/*
 * jobconfig_cron_describe
 *	  cron_describe(schedule): the schedule in plain English.
 */
Datum
jobconfig_cron_describe(PG_FUNCTION_ARGS)
{
	CronSchedule schedule;

	ArgumentsRequire(fcinfo);
	CronSqlParse(PG_GETARG_TEXT_PP(0), &schedule);
	PG_RETURN_TEXT_P(cstring_to_text(CronDescribe(&schedule)));
}

/*
 * CronSqlParse
 *	  Compile a schedule or raise 22023 with the parser's detail.
 */
static void
CronSqlParse(text *schedule_text, CronSchedule *schedule)
{
	char	   *source = text_to_cstring(schedule_text);
	char	   *detail;

	if (!CronParse(source, schedule, &detail))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid cron schedule \"%s\"", source),
				 errdetail_internal("%s", detail)));
}

/*
 * CronSqlZone
 *	  Resolve a zone name or raise 22023 naming it.
 */
static pg_tz *
CronSqlZone(text *zone_text)
{
	char	   *name = text_to_cstring(zone_text);
	pg_tz	   *tz = CronLookupTimezone(name);

	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" is not recognized", name),
				 errhint("Use a name listed in pg_timezone_names, such as "
						 "\"UTC\" or \"Europe/Berlin\".")));
	return tz;
}

/*
 * CronSqlCheckAfter
 *	  Refuse an infinite starting instant: there is no "next" after it.
 */
static void
CronSqlCheckAfter(TimestampTz after)
{
	if (TIMESTAMP_NOT_FINITE(after))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("after must be a finite timestamp")));
}
