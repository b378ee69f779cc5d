/*-------------------------------------------------------------------------
 *
 * cron.h
 *	  The cron engine: compile a schedule string once, then answer "when
 *	  does it next fire after instant T in time zone Z?".
 *
 * The parser and the next-fire computation are pure: no SPI, no catalog
 * access, no worker code, palloc only.  Errors are returned as text so
 * that callers can either ereport them (cron_sql.c) or collect them with
 * other problems (the payload validator).
 *
 * IDENTIFICATION
 *	  src/cron.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_CRON_H
#define JOBCONFIG_CRON_H

#include "datatype/timestamp.h"
#include "pgtime.h"

typedef enum CronKind
{
	CRON_KIND_FIELDS,			/* five fields, or an @alias of them */
	CRON_KIND_INTERVAL,			/* "N seconds", 1 <= N <= 59 */
	CRON_KIND_REBOOT			/* @reboot / @restart: once per scheduler start */
} CronKind;

/*
 * A compiled schedule.  Bit i of a field mask is set when value i matches.
 * Small and flat, so the scheduler can keep one per job in memory.
 */
typedef struct CronSchedule
{
	CronKind	kind;
	int			interval_seconds;	/* CRON_KIND_INTERVAL only */
	uint64		minutes;		/* bits 0-59 */
	uint32		hours;			/* bits 0-23 */
	uint32		days_of_month;	/* bits 1-31 */
	uint16		months;			/* bits 1-12 */
	uint8		days_of_week;	/* bits 0-6, Sunday = 0 */
	bool		last_day_of_month;	/* '$' in the day-of-month field */
	bool		day_of_month_star;	/* field began with '*' (Vixie rule) */
	bool		day_of_week_star;	/* field began with '*' (Vixie rule) */
	bool		hour_star;		/* hour field began with '*' (DST rule) */
} CronSchedule;

/*
 * CronParse: compile "text" into *schedule.  On success returns true.  On
 * failure returns false and sets *detail to a palloc'd sentence naming the
 * field, the value at fault and the allowed range, suitable for errdetail.
 */
extern bool CronParse(const char *text, CronSchedule *schedule, char **detail);

/*
 * CronNextAfter: the first fire time strictly after "after", in time zone
 * "tz" (never NULL; use pg_tzset("UTC") for UTC).  Returns false when the
 * schedule has no next fire time (@reboot).
 */
extern bool CronNextAfter(const CronSchedule *schedule, TimestampTz after,
						  const pg_tz *tz, TimestampTz *next);

/* CronDescribe: a plain-English description, palloc'd. */
extern char *CronDescribe(const CronSchedule *schedule);

/*
 * CronLookupTimezone: the zone of that IANA name in PostgreSQL's tz
 * database, or NULL when there is none (POSIX-style specifications such as
 * "UTC+3" are not zone names and give NULL too).
 */
extern pg_tz *CronLookupTimezone(const char *name);

#endif							/* JOBCONFIG_CRON_H */
