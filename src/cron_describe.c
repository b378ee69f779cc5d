/*-------------------------------------------------------------------------
 *
 * cron_describe.c
 *	  Plain-English descriptions of compiled schedules.
 *
 * The description is built from the compiled bit sets, not from the text,
 * so equivalent schedules read the same (a minute step of 15 and the list
 * "0,15,30,45" are both "Every 15 minutes").  It is a sentence without a final period, in the
 * shape "<times> <days> <months>", e.g. "At 04:05 on Monday through Friday",
 * "Every 5 minutes", "At 00:00 on day 29 of February".
 *
 * IDENTIFICATION
 *	  src/cron_describe.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "cron.h"

/* At most this many times of day are listed one by one ("At 09:00, ..."). */
#define CRON_MAX_LISTED_TIMES 8

/* The values of one field, in ascending order. */
typedef struct CronValues
{
	int			count;
	int			values[64];
} CronValues;

static const char *const month_words[] = {
	"", "January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"
};

static const char *const weekday_words[] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday"
};

static void CronDescribeTimes(StringInfo buf, const CronSchedule *schedule,
							  bool *listed);
static bool CronDescribeDays(StringInfo buf, const CronSchedule *schedule,
							 bool months_inline);
static void CronDescribeDates(StringInfo buf, const CronSchedule *schedule,
							  bool months_inline);
static void CronDescribeWeekdays(StringInfo buf, uint8 days, bool any);
static void CronDescribeMonths(StringInfo buf, uint16 months);
static void CronAppendList(StringInfo buf, const CronValues *values,
						   const char *const *words, const char *prefix,
						   const char *last_joiner);
static CronValues CronValuesOf(uint64 bits, int low, int high);
static int	CronUniformStep(const CronValues *values, int low, int size);
static const char *CronOrdinalSuffix(int n);

/*
 * CronDescribe
 *	  A palloc'd plain-English description of the schedule.
 */
char *
CronDescribe(const CronSchedule *schedule)
{
	StringInfoData buf;
	bool		listed;
	bool		all_months = (schedule->months == 0x1FFE);
	bool		months_inline;

	initStringInfo(&buf);
	if (schedule->kind == CRON_KIND_REBOOT)
	{
		appendStringInfoString(&buf, "Once each time the scheduler starts");
		return buf.data;
	}
	if (schedule->kind == CRON_KIND_INTERVAL)
	{
		if (schedule->interval_seconds == 1)
			appendStringInfoString(&buf, "Every second");
		else
			appendStringInfo(&buf, "Every %d seconds",
							 schedule->interval_seconds);
		return buf.data;
	}

	CronDescribeTimes(&buf, schedule, &listed);

	/*
	 * Months read best inside a date ("on day 29 of February"); that works
	 * when only the day-of-month field decides the day.
	 */
	months_inline = !all_months &&
		(schedule->day_of_month_star || schedule->day_of_week_star) &&
		schedule->days_of_week == 0x7F &&
		(schedule->last_day_of_month || schedule->days_of_month != 0xFFFFFFFE);

	if (!CronDescribeDays(&buf, schedule, months_inline) && listed)
		appendStringInfoString(&buf, " every day");
	if (!all_months && !months_inline)
	{
		appendStringInfoString(&buf, " in ");
		CronDescribeMonths(&buf, schedule->months);
	}
	return buf.data;
}

/*
 * CronDescribeTimes
 *	  The times of day.  Sets *listed when they were listed as clock times
 *	  ("At 02:30"), which then want " every day" when no day is named.
 */
static void
CronDescribeTimes(StringInfo buf, const CronSchedule *schedule, bool *listed)
{
	CronValues	minutes = CronValuesOf(schedule->minutes, 0, 59);
	CronValues	hours = CronValuesOf(schedule->hours, 0, 23);
	int			minute_step = CronUniformStep(&minutes, 0, 60);
	int			hour_step = CronUniformStep(&hours, 0, 24);
	bool		every_phrase;
	int			h;
	int			m;

	*listed = false;
	if (hours.count < 24 &&
		minutes.count * hours.count <= CRON_MAX_LISTED_TIMES &&
		minutes.count <= 4)
	{
		int			n = 0;
		int			total = minutes.count * hours.count;

		appendStringInfoString(buf, "At ");
		for (h = 0; h < hours.count; h++)
		{
			for (m = 0; m < minutes.count; m++)
			{
				n++;
				if (n > 1)
					appendStringInfoString(buf, n == total ? " and " : ", ");
				appendStringInfo(buf, "%02d:%02d", hours.values[h],
								 minutes.values[m]);
			}
		}
		*listed = true;
		return;
	}

	/* The minutes within an hour. */
	every_phrase = true;
	if (minutes.count == 60)
		appendStringInfoString(buf, "Every minute");
	else if (minute_step > 1 && minutes.values[0] == 0)
		appendStringInfo(buf, "Every %d minutes", minute_step);
	else if (minute_step > 1)
		appendStringInfo(buf, "Every %d minutes from minute %d",
						 minute_step, minutes.values[0]);
	else if (minutes.count > 2 &&
			 minutes.values[minutes.count - 1] - minutes.values[0] ==
			 minutes.count - 1)
	{
		appendStringInfo(buf, "Every minute from minute %d through %d",
						 minutes.values[0], minutes.values[minutes.count - 1]);
		every_phrase = false;
	}
	else
	{
		CronAppendList(buf, &minutes, NULL,
					   minutes.count == 1 ? "At minute " : "At minutes ",
					   " and ");
		every_phrase = false;
	}

	/* The hours. */
	if (hours.count == 24)
	{
		if (!every_phrase)
			appendStringInfoString(buf, " of every hour");
	}
	else if (hour_step > 1)
	{
		appendStringInfo(buf, " of every %d%s hour", hour_step,
						 CronOrdinalSuffix(hour_step));
		if (hours.values[0] != 0)
			appendStringInfo(buf, " from %02d:00", hours.values[0]);
	}
	else if (hours.values[hours.count - 1] - hours.values[0] ==
			 hours.count - 1)
		appendStringInfo(buf, every_phrase ?
						 " between %02d:00 and %02d:59" :
						 " of every hour from %02d:00 through %02d:00",
						 hours.values[0], hours.values[hours.count - 1]);
	else
		CronAppendList(buf, &hours, NULL, " during hours ", " and ");
}

/*
 * CronDescribeDays
 *	  The days, by the Vixie rule; returns false when every day matches
 *	  (nothing appended).
 */
static bool
CronDescribeDays(StringInfo buf, const CronSchedule *schedule,
				 bool months_inline)
{
	bool		all_dates = !schedule->last_day_of_month &&
		schedule->days_of_month == 0xFFFFFFFE;
	bool		all_weekdays = (schedule->days_of_week == 0x7F);
	bool		both_must_match = schedule->day_of_month_star ||
		schedule->day_of_week_star;

	if (both_must_match)
	{
		if (all_dates && all_weekdays)
			return false;
		if (all_dates)
		{
			appendStringInfoString(buf, " on ");
			CronDescribeWeekdays(buf, schedule->days_of_week, false);
			return true;
		}
		appendStringInfoChar(buf, ' ');
		CronDescribeDates(buf, schedule, months_inline);
		if (!all_weekdays)
		{
			appendStringInfoString(buf, " if it is a ");
			CronDescribeWeekdays(buf, schedule->days_of_week, true);
		}
		return true;
	}

	/* Either field may match: one that allows every day wins. */
	if (all_dates || all_weekdays)
		return false;
	appendStringInfoChar(buf, ' ');
	CronDescribeDates(buf, schedule, false);
	appendStringInfoString(buf, " or on ");
	CronDescribeWeekdays(buf, schedule->days_of_week, false);
	return true;
}

/*
 * CronDescribeDates
 *	  The day-of-month field: "on day 1 of the month", "on the last day of
 *	  February", "on every 2nd day of the month".
 */
static void
CronDescribeDates(StringInfo buf, const CronSchedule *schedule,
				  bool months_inline)
{
	CronValues	days = CronValuesOf(schedule->days_of_month, 1, 31);
	int			step = CronUniformStep(&days, 1, 31);
	bool		stepped = !schedule->last_day_of_month && step > 1 &&
		days.count > 4;

	if (schedule->last_day_of_month)
		appendStringInfoString(buf, "on the last day");
	else if (stepped)
		appendStringInfo(buf, "on every %d%s day", step,
						 CronOrdinalSuffix(step));
	else
		CronAppendList(buf, &days, NULL,
					   days.count == 1 ? "on day " : "on days ", " and ");

	if (months_inline)
	{
		appendStringInfoString(buf, " of ");
		CronDescribeMonths(buf, schedule->months);
	}
	else
		appendStringInfoString(buf, " of the month");
	if (stepped && days.values[0] != 1)
		appendStringInfo(buf, " starting on day %d", days.values[0]);
}

/*
 * CronDescribeWeekdays
 *	  A set of weekdays by name; "any" joins with "or" ("a Monday or
 *	  Friday").  A weekend is listed Saturday first so it reads as a run.
 */
static void
CronDescribeWeekdays(StringInfo buf, uint8 days, bool any)
{
	static const char *const monday_first[] = {
		"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
		"Sunday"
	};
	CronValues	values;
	int			i;

	if ((days & 0x01) && (days & 0x40))
	{
		/* Sunday and Saturday both present: count Sunday as day 7. */
		values.count = 0;
		for (i = 1; i <= 7; i++)
			if (days & (1 << (i % 7)))
				values.values[values.count++] = i - 1;
		CronAppendList(buf, &values, monday_first, "", any ? " or " : " and ");
		return;
	}
	values = CronValuesOf(days, 0, 6);
	CronAppendList(buf, &values, weekday_words, "", any ? " or " : " and ");
}

/* CronDescribeMonths: a set of months by name. */
static void
CronDescribeMonths(StringInfo buf, uint16 months)
{
	CronValues	values = CronValuesOf(months, 1, 12);

	CronAppendList(buf, &values, month_words, "", " and ");
}

/*
 * CronAppendList
 *	  Append "prefix" and the values, with runs of three or more as
 *	  "a through b" and the last two items joined by last_joiner.  "words"
 *	  names each value (indexed by value), or NULL for numbers.
 */
static void
CronAppendList(StringInfo buf, const CronValues *values,
			   const char *const *words, const char *prefix,
			   const char *last_joiner)
{
	int			items[64][2];
	int			item_count = 0;
	int			i;

	/* Group into runs; runs shorter than three become single items. */
	for (i = 0; i < values->count;)
	{
		int			j = i;

		while (j + 1 < values->count &&
			   values->values[j + 1] == values->values[j] + 1)
			j++;
		if (j - i >= 2)
		{
			items[item_count][0] = values->values[i];
			items[item_count++][1] = values->values[j];
			i = j + 1;
		}
		else
		{
			items[item_count][0] = values->values[i];
			items[item_count++][1] = values->values[i];
			i++;
		}
	}

	appendStringInfoString(buf, prefix);
	for (i = 0; i < item_count; i++)
	{
		int			k;

		if (i > 0)
			appendStringInfoString(buf,
								   i == item_count - 1 ? last_joiner : ", ");
		for (k = 0; k < 2; k++)
		{
			int			value = items[i][k];

			if (k == 1 && items[i][1] == items[i][0])
				break;
			if (k == 1)
				appendStringInfoString(buf, " through ");
			if (words != NULL)
				appendStringInfoString(buf, words[value]);
			else
				appendStringInfo(buf, "%d", value);
		}
	}
}

/* CronValuesOf: the values low..high whose bits are set, ascending. */
static CronValues
CronValuesOf(uint64 bits, int low, int high)
{
	CronValues	values;
	int			i;

	values.count = 0;
	for (i = low; i <= high; i++)
		if (bits & (UINT64CONST(1) << i))
			values.values[values.count++] = i;
	return values;
}

/*
 * CronUniformStep
 *	  The step d when the values are evenly spaced by d > 1 and cover the
 *	  whole cycle of "size" values starting below low + d (so "every d"
 *	  is true across the wrap too); 0 otherwise.  For days of the month the
 *	  cycle does not wrap evenly, so callers pass size 31 and get steps
 *	  that reach the end of the month.
 */
static int
CronUniformStep(const CronValues *values, int low, int size)
{
	int			step;
	int			i;

	if (values->count < 2)
		return 0;
	step = values->values[1] - values->values[0];
	if (step < 2 || values->values[0] >= low + step)
		return 0;
	for (i = 2; i < values->count; i++)
		if (values->values[i] - values->values[i - 1] != step)
			return 0;
	if (values->values[values->count - 1] + step < low + size)
		return 0;
	if (size != 31 && size % step != 0)
		return 0;
	return step;
}

/* CronOrdinalSuffix: "st", "nd", "rd" or "th" for n. */
static const char *
CronOrdinalSuffix(int n)
{
	if (n % 100 >= 11 && n % 100 <= 13)
		return "th";
	switch (n % 10)
	{
		case 1:
			return "st";
		case 2:
			return "nd";
		case 3:
			return "rd";
		default:
			return "th";
	}
}
