/*-------------------------------------------------------------------------
 *
 * cron_next.c
 *	  When does a compiled schedule next fire after a given instant?
 *
 * A five-field schedule names wall-clock minutes ("slots") in a time zone;
 * this file turns them into instants.  The search runs on the local wall
 * clock with bitmasks (a month, a day, an hour or a minute is skipped with
 * one bit scan) and converts to UTC with the zone's offset.  The offset is
 * known over "spans", the stretches between two offset changes, found with
 * pg_next_dst_boundary() and cached per zone, so that most calls touch no
 * zone code at all and allocate nothing.
 *
 * DST rules (also in docs/cron.md):
 *
 *	 - Spring forward (a gap: local times that never happen).  A slot whose
 *	   local time is skipped fires once, at the first instant after the
 *	   jump, that is at the transition itself.  All skipped slots of one
 *	   schedule coalesce into that one fire, together with a slot that falls
 *	   exactly on the new local time (03:00 in New York).
 *	 - Fall back (an overlap: local times that happen twice).  A schedule
 *	   whose hour field is fixed (does not begin with '*') fires once, at the
 *	   first occurrence.  A schedule whose hour field begins with '*' keeps
 *	   to real time and fires at both occurrences, so "every 15 minutes"
 *	   stays every 15 minutes through the repeated hour.
 *	 - Any other change of a zone's UTC offset (a zone moving to another
 *	   standard time) is a gap or an overlap and follows the same rules.
 *
 * We do not use PostgreSQL's local-to-UTC conversion: it picks the later
 * occurrence of an ambiguous time and the pre-transition offset for a time
 * in a gap, neither of which is the rule above.
 *
 * Only pgtime.h functions touch the zone (pg_next_dst_boundary, and
 * pg_localtime for a can't-happen fallback); calendar arithmetic on wall
 * times is done here, so the fuzz harness can supply its own pg_tz.
 *
 * IDENTIFICATION
 *	  src/cron_next.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "port/pg_bitutils.h"

#include "cron.h"

/* Seconds from the Unix epoch (pg_time_t) to PostgreSQL's (2000-01-01). */
#define CRON_UNIX_TO_PG_SECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

/* 2000-01-01, day 0 of our day numbers, was a Saturday. */
#define CRON_DAY0_WEEKDAY 6

/* Last year a TimestampTz can hold. */
#define CRON_MAX_YEAR 294276

/* How far back to look for the transition that began a span. */
#define CRON_LOOKBACK_SECS (2 * SECS_PER_DAY)

/* Bounds on the searches (never reached by a schedule that parses). */
#define CRON_MAX_SLOT_STEPS 100000
#define CRON_MAX_SPANS 1000

/* Zones whose spans are cached, per backend. */
#define CRON_ZONE_CACHE_SIZE 8

/*
 * A span: the instants [start, end) over which a zone's UTC offset is
 * constant.  prev_offset is the offset before start when start is a
 * transition; when the transition is unknown (more than the lookback ago)
 * start is where we looked from and prev_offset equals offset.
 */
typedef struct CronZoneSpan
{
	const pg_tz *tz;			/* NULL: cache slot unused */
	TimestampTz start;
	TimestampTz end;			/* PG_INT64_MAX: no later transition */
	int64		offset;			/* microseconds east of UTC */
	int64		prev_offset;
} CronZoneSpan;

static CronZoneSpan zone_cache[CRON_ZONE_CACHE_SIZE];

/* A wall-clock minute, broken down; month 1-12, day 1-31. */
typedef enum CronWallUnit
{
	WALL_YEAR,
	WALL_MONTH,
	WALL_DAY,
	WALL_HOUR,
	WALL_MINUTE,
	WALL_UNITS
} CronWallUnit;

typedef struct CronWall
{
	int			unit[WALL_UNITS];
} CronWall;

static void CronZoneSpanFind(const pg_tz *tz, TimestampTz t,
							 CronZoneSpan *span);
static void CronZoneSpanFrom(const pg_tz *tz, TimestampTz edge,
							 int64 prev_offset, CronZoneSpan *span);
static void CronZoneSpanFill(const pg_tz *tz, pg_time_t secs,
							 CronZoneSpan *span);
static bool CronZoneOffsetAt(const pg_tz *tz, pg_time_t secs, long *offset,
							 pg_time_t *boundary, long *next_offset);
static bool CronNextSlot(const CronSchedule *schedule, int64 lo,
						 int64 *slot);
static inline void CronWallMove(CronWall *w, CronWallUnit unit, int value);
static inline int CronFirstSetFrom(uint32 bits, int from);
static inline int CronFirstSetFrom64(uint64 bits, int from);
static uint32 CronDayMask(const CronSchedule *schedule, int year, int month);
static int	CronDaysInMonth(int year, int month);
static int64 CronDaysFromCivil(int year, int month, int day);
static void CronCivilFromDays(int64 days, int *year, int *month, int *day);
static int64 CronFloorDiv(int64 a, int64 b);

/*
 * CronNextAfter
 *	  The first fire time strictly after "after" in zone "tz".
 *
 * Returns false for @reboot, for an infinite "after", and when the next
 * fire time would be past the end of the timestamptz range.
 */
bool
CronNextAfter(const CronSchedule *schedule, TimestampTz after,
			  const pg_tz *tz, TimestampTz *next)
{
	CronZoneSpan span;
	int64		lo;
	int			i;

	if (schedule->kind == CRON_KIND_REBOOT)
		return false;
	if (TIMESTAMP_NOT_FINITE(after) || after < MIN_TIMESTAMP ||
		after >= END_TIMESTAMP)
		return false;
	if (schedule->kind == CRON_KIND_INTERVAL)
	{
		*next = after + (int64) schedule->interval_seconds * USECS_PER_SEC;
		return *next < END_TIMESTAMP;
	}

	CronZoneSpanFind(tz, after, &span);

	/*
	 * The wall-clock search starts just after "after".  A fixed-hour
	 * schedule inside a repeated stretch must not fire again at a local time
	 * it already had before the clocks went back, so it starts at the local
	 * time the clocks went back from.
	 */
	lo = after + span.offset + 1;
	if (!schedule->hour_star && span.prev_offset > span.offset)
		lo = Max(lo, span.start + span.prev_offset);

	for (i = 0; i < CRON_MAX_SPANS; i++)
	{
		int64		slot;
		int64		old_offset;
		TimestampTz edge;

		if (!CronNextSlot(schedule, lo, &slot))
			return false;
		if (slot - span.offset < span.end)
		{
			*next = slot - span.offset;
			return *next < END_TIMESTAMP;
		}

		/* The slot lies beyond this span: step over the transition. */
		edge = span.end;
		old_offset = span.offset;
		CronZoneSpanFrom(tz, edge, old_offset, &span);
		if (span.offset > old_offset)
		{
			/* Gap: a skipped slot fires at the transition itself. */
			if (slot < edge + span.offset)
			{
				*next = edge;
				return true;
			}
			lo = slot;
		}
		else if (span.offset < old_offset && schedule->hour_star)
		{
			/* Overlap: hour-wildcard schedules repeat the local times. */
			lo = edge + span.offset;
		}
		else
			lo = slot;
	}
	return false;
}

/*
 * CronZoneSpanFind
 *	  Fill *span with the span of "tz" that contains instant t, from the
 *	  per-backend cache when possible; on a miss, look back up to
 *	  CRON_LOOKBACK_SECS for the offset change that began it.
 */
static void
CronZoneSpanFind(const pg_tz *tz, TimestampTz t, CronZoneSpan *span)
{
	CronZoneSpan *cached;
	pg_time_t	secs;
	pg_time_t	boundary;
	pg_time_t	probe;

	cached = &zone_cache[((uintptr_t) tz >> 4) % CRON_ZONE_CACHE_SIZE];
	if (cached->tz == tz && cached->start <= t && t < cached->end)
	{
		*span = *cached;
		return;
	}

	secs = (pg_time_t) CronFloorDiv(t, USECS_PER_SEC) + CRON_UNIX_TO_PG_SECS;
	CronZoneSpanFill(tz, secs, span);

	/* Find the offset change that began the span, if it is recent. */
	probe = secs - CRON_LOOKBACK_SECS;
	span->start = ((int64) probe - CRON_UNIX_TO_PG_SECS) * USECS_PER_SEC;
	span->prev_offset = span->offset;
	for (;;)
	{
		long		before;
		long		after;

		if (!CronZoneOffsetAt(tz, probe, &before, &boundary, &after) ||
			boundary > secs)
			break;
		if (before != after)
		{
			span->start = ((int64) boundary - CRON_UNIX_TO_PG_SECS) *
				USECS_PER_SEC;
			span->prev_offset = (int64) before * USECS_PER_SEC;
		}
		probe = boundary;
	}

	*cached = *span;
}

/*
 * CronZoneSpanFrom
 *	  Fill *span with the span that begins at transition "edge", whose
 *	  previous offset is known; no look-back needed.  Cached like
 *	  CronZoneSpanFind's result.
 */
static void
CronZoneSpanFrom(const pg_tz *tz, TimestampTz edge, int64 prev_offset,
				 CronZoneSpan *span)
{
	pg_time_t	secs = (pg_time_t) (edge / USECS_PER_SEC) + CRON_UNIX_TO_PG_SECS;

	CronZoneSpanFill(tz, secs, span);
	span->start = edge;
	span->prev_offset = prev_offset;
	zone_cache[((uintptr_t) tz >> 4) % CRON_ZONE_CACHE_SIZE] = *span;
}

/*
 * CronZoneSpanFill
 *	  Set the zone, offset and end of the span containing Unix time secs.
 *
 * Transitions that change only the abbreviation or the isdst flag, not the
 * offset, are merged into the span around them.
 */
static void
CronZoneSpanFill(const pg_tz *tz, pg_time_t secs, CronZoneSpan *span)
{
	pg_time_t	boundary;
	long		offset;
	long		next_offset;
	bool		has_boundary;
	int			merged;

	has_boundary = CronZoneOffsetAt(tz, secs, &offset, &boundary,
									&next_offset);
	for (merged = 0; has_boundary && next_offset == offset && merged < 8;
		 merged++)
	{
		long		same_offset;

		has_boundary = CronZoneOffsetAt(tz, boundary, &same_offset,
										&boundary, &next_offset);
	}

	span->tz = tz;
	span->offset = (int64) offset * USECS_PER_SEC;
	span->end = has_boundary ?
		((int64) boundary - CRON_UNIX_TO_PG_SECS) * USECS_PER_SEC :
		PG_INT64_MAX;
}

/*
 * CronZoneOffsetAt
 *	  The UTC offset (seconds) of "tz" at Unix time secs, and, when there is
 *	  one, the next transition after secs and the offset after it.
 *
 * pg_next_dst_boundary returns the first transition "at or after" its
 * argument; at exactly the zone's first transition its "before" state is
 * not the state at secs, so we ask again one second later.
 */
static bool
CronZoneOffsetAt(const pg_tz *tz, pg_time_t secs, long *offset,
				 pg_time_t *boundary, long *next_offset)
{
	int			before_isdst;
	int			after_isdst;
	int			found;

	found = pg_next_dst_boundary(&secs, offset, &before_isdst, boundary,
								 next_offset, &after_isdst, tz);
	if (found == 1 && *boundary <= secs)
	{
		pg_time_t	later = secs + 1;

		found = pg_next_dst_boundary(&later, offset, &before_isdst,
									 boundary, next_offset, &after_isdst,
									 tz);
	}
	if (found < 0)
	{
		/* "Cannot happen" per localtime.c; fall back to plain lookup. */
		struct pg_tm *tm = pg_localtime(&secs, tz);

		*offset = tm ? tm->tm_gmtoff : 0;
		return false;
	}
	return found == 1;
}

/*
 * CronNextSlot
 *	  The first wall-clock slot of the schedule at or after wall time lo
 *	  (microseconds since 2000-01-01 00:00 local).  False when there is none
 *	  before the end of the timestamptz range.
 *
 * Walks month, day, hour, minute with bit scans: each step either accepts
 * the current unit or moves it to the next candidate, which resets the
 * smaller units; running out of candidates moves the next larger unit on
 * by one (a month of 13 or a day of 32 is sorted out by the next round).
 * The day mask is computed once per month visited.
 */
static bool
CronNextSlot(const CronSchedule *schedule, int64 lo, int64 *slot)
{
	CronWall	w;
	int64		minutes;
	int64		days;
	int			of_day;
	int			mask_year = 0;
	int			mask_month = 0;
	uint32		day_mask = 0;
	int			steps;

	minutes = CronFloorDiv(lo, USECS_PER_MINUTE);
	if (lo > minutes * USECS_PER_MINUTE)
		minutes++;
	days = CronFloorDiv(minutes, MINS_PER_HOUR * HOURS_PER_DAY);
	of_day = (int) (minutes - days * MINS_PER_HOUR * HOURS_PER_DAY);
	CronCivilFromDays(days, &w.unit[WALL_YEAR], &w.unit[WALL_MONTH],
					  &w.unit[WALL_DAY]);
	w.unit[WALL_HOUR] = of_day / MINS_PER_HOUR;
	w.unit[WALL_MINUTE] = of_day % MINS_PER_HOUR;

	for (steps = 0; steps < CRON_MAX_SLOT_STEPS; steps++)
	{
		int			found;

		if (w.unit[WALL_YEAR] > CRON_MAX_YEAR)
			return false;

		found = CronFirstSetFrom(schedule->months, w.unit[WALL_MONTH]);
		if (found < 0)
		{
			CronWallMove(&w, WALL_YEAR, w.unit[WALL_YEAR] + 1);
			continue;
		}
		CronWallMove(&w, WALL_MONTH, found);

		if (w.unit[WALL_YEAR] != mask_year || w.unit[WALL_MONTH] != mask_month)
		{
			mask_year = w.unit[WALL_YEAR];
			mask_month = w.unit[WALL_MONTH];
			day_mask = CronDayMask(schedule, mask_year, mask_month);
		}
		found = CronFirstSetFrom(day_mask, w.unit[WALL_DAY]);
		if (found < 0)
		{
			CronWallMove(&w, WALL_MONTH, w.unit[WALL_MONTH] + 1);
			continue;
		}
		CronWallMove(&w, WALL_DAY, found);

		found = CronFirstSetFrom(schedule->hours, w.unit[WALL_HOUR]);
		if (found < 0)
		{
			CronWallMove(&w, WALL_DAY, w.unit[WALL_DAY] + 1);
			continue;
		}
		CronWallMove(&w, WALL_HOUR, found);

		found = CronFirstSetFrom64(schedule->minutes, w.unit[WALL_MINUTE]);
		if (found < 0)
		{
			CronWallMove(&w, WALL_HOUR, w.unit[WALL_HOUR] + 1);
			continue;
		}
		w.unit[WALL_MINUTE] = found;

		*slot = CronDaysFromCivil(w.unit[WALL_YEAR], w.unit[WALL_MONTH],
								  w.unit[WALL_DAY]) * USECS_PER_DAY +
			((int64) w.unit[WALL_HOUR] * MINS_PER_HOUR +
			 w.unit[WALL_MINUTE]) * USECS_PER_MINUTE;
		return true;
	}
	return false;
}

/*
 * CronWallMove
 *	  Set one unit of a wall time; when that changes it, the smaller units
 *	  go back to their first value (month 1, day 1, 00:00).
 */
static inline void
CronWallMove(CronWall *w, CronWallUnit unit, int value)
{
	static const int first_value[WALL_UNITS] = {0, 1, 1, 0, 0};
	int			smaller;

	if (w->unit[unit] == value)
		return;
	w->unit[unit] = value;
	for (smaller = unit + 1; smaller < WALL_UNITS; smaller++)
		w->unit[smaller] = first_value[smaller];
}

/*
 * CronFirstSetFrom64
 *	  The lowest set bit of "bits" at position "from" or above, or -1.
 */
static inline int
CronFirstSetFrom64(uint64 bits, int from)
{
	if (from > 63)
		return -1;
	bits &= ~((UINT64CONST(1) << from) - 1);
	return bits == 0 ? -1 : pg_rightmost_one_pos64(bits);
}

/* CronFirstSetFrom: CronFirstSetFrom64 for 32-bit masks. */
static inline int
CronFirstSetFrom(uint32 bits, int from)
{
	if (from > 31)
		return -1;
	bits &= ~(((uint32) 1 << from) - 1);
	return bits == 0 ? -1 : pg_rightmost_one_pos32(bits);
}

/*
 * CronDayMask
 *	  Bit d set for each day d of the month that the schedule's day fields
 *	  allow, by the Vixie rule: when either day field begins with '*' both
 *	  must match, otherwise either may.
 */
static uint32
CronDayMask(const CronSchedule *schedule, int year, int month)
{
	int			length = CronDaysInMonth(year, month);
	uint32		valid = ((uint32) 0xFFFFFFFF >> (31 - length)) & ~1U;
	uint32		by_date = schedule->days_of_month & valid;
	uint32		by_weekday;
	uint64		week;
	int			first_weekday;

	if (schedule->last_day_of_month)
		by_date |= (uint32) 1 << length;

	/* Rotate the weekday set so bit k is "day k+1 matches", then repeat. */
	first_weekday = (int) ((CronDaysFromCivil(year, month, 1) +
							CRON_DAY0_WEEKDAY) % 7);
	if (first_weekday < 0)
		first_weekday += 7;
	week = ((schedule->days_of_week >> first_weekday) |
			(schedule->days_of_week << (7 - first_weekday))) & 0x7F;
	week |= week << 7;
	week |= week << 14;
	week |= week << 28;
	by_weekday = (uint32) (week << 1) & valid;

	if (schedule->day_of_month_star || schedule->day_of_week_star)
		return by_date & by_weekday;
	return by_date | by_weekday;
}

/* CronDaysInMonth: the length of a month of the proleptic Gregorian year. */
static int
CronDaysInMonth(int year, int month)
{
	static const int lengths[] = {
		0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (month == 2 &&
		(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
		return 29;
	return lengths[month];
}

/*
 * CronDaysFromCivil
 *	  Day number (0 = 2000-01-01) of a proleptic Gregorian date.
 *
 * Counts in 400-year eras of 146097 days from a year that starts in March,
 * so that February's leap day is the last day of its year and the month
 * lengths before it follow a fixed pattern (153 days every 5 months).
 */
static int64
CronDaysFromCivil(int year, int month, int day)
{
	int64		y = year - (month <= 2 ? 1 : 0);
	int64		era = CronFloorDiv(y, 400);
	int64		year_of_era = y - era * 400;
	int			march_month = (month + 9) % 12;	/* March = 0 */
	int64		day_of_year = (153 * march_month + 2) / 5 + day - 1;
	int64		day_of_era = year_of_era * 365 + year_of_era / 4 -
		year_of_era / 100 + day_of_year;

	/* 730425 days from 0000-03-01 to 2000-01-01. */
	return era * 146097 + day_of_era - 730425;
}

/*
 * CronCivilFromDays
 *	  The inverse of CronDaysFromCivil.
 */
static void
CronCivilFromDays(int64 days, int *year, int *month, int *day)
{
	int64		shifted = days + 730425;
	int64		era = CronFloorDiv(shifted, 146097);
	int64		day_of_era = shifted - era * 146097;
	int64		year_of_era = (day_of_era - day_of_era / 1460 +
							   day_of_era / 36524 - day_of_era / 146096) / 365;
	int64		day_of_year = day_of_era - (365 * year_of_era +
											year_of_era / 4 -
											year_of_era / 100);
	int			march_month = (int) ((5 * day_of_year + 2) / 153);

	*day = (int) (day_of_year - (153 * march_month + 2) / 5 + 1);
	*month = march_month < 10 ? march_month + 3 : march_month - 9;
	*year = (int) (era * 400 + year_of_era + (*month <= 2 ? 1 : 0));
}

/* CronFloorDiv: a / b rounded towards minus infinity (b > 0). */
static int64
CronFloorDiv(int64 a, int64 b)
{
	int64		q = a / b;

	if ((a % b) < 0)
		q--;
	return q;
}
