/*-------------------------------------------------------------------------
 *
 * cron_fuzz.c
 *	  Mutation fuzzing and brute-force cross-checking of the cron engine,
 *	  built with AddressSanitizer and UBSan by test/fuzz/run.sh.
 *
 * Phase 1 mutates valid schedules at random (character insertions,
 * deletions, replacements, swaps, duplicated slices, truncations, digits
 * blown up to huge numbers, some wholly random strings) and checks that
 * each input either compiles or is refused with a well-formed detail;
 * compiled ones are described and asked for chains of next fire times, in
 * UTC and in two synthetic zones with frequent gaps and overlaps.  Every
 * input is copied into a malloc block of exactly its size, so reading past
 * the terminating NUL is caught.
 *
 * Phase 2 builds random valid schedules from random field sets and
 * compares CronNextAfter with a reference that walks instants minute by
 * minute and applies the DST rules directly (see FuzzBruteNext); some of
 * phase 1's compiled inputs are checked the same way.
 *
 * Usage: cron_fuzz [seed [mutations [schedules]]]; exit status 1 on any
 * finding.
 *
 * IDENTIFICATION
 *	  test/fuzz/cron_fuzz.c
 *
 *-------------------------------------------------------------------------
 */
#include "cron_fuzz_shim.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cron.h"

/* Seconds from the Unix epoch to PostgreSQL's. */
#define FUZZ_UNIX_TO_PG_SECS INT64CONST(946684800)

/* The reference walks this far past "after" (and this far before it). */
#define FUZZ_WINDOW_MINUTES (3 * 24 * 60)
#define FUZZ_WARMUP_MINUTES (24 * 60)

/* Longest mutated input. */
#define FUZZ_MAX_INPUT 400

/* Findings printed before the rest are only counted. */
#define FUZZ_MAX_REPORTS 20

static const char *const seeds[] = {
	"* * * * *", "*/5 * * * *", "0 4 * * 1-5", "5 4 * * mon-fri",
	"30 2 * * *", "0 0 29 2 *", "0 0 $ 2 *", "0 0 $ * *", "0 0 1 * mon",
	"0 0 13 * fri", "0,15,30,45 9-17 * * 1-5", "5-55/10 */3 1-15 1,6,12 *",
	"0 0 * jan-mar sun", "0 12 * * sat-sun", "0 22 * * fri-sun",
	"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight",
	"@hourly", "@reboot", "@restart", "30 seconds", "1 second",
	" 59 SECONDS ", "# comment\n0 3 * * *", "0 0 */2 */3 */2",
	"\t0\t0\t1\t1\t*\t", "1-59/2 0-23/5 2-30/7 2-11/3 1-7/2", "0 0 31 * *",
	"0 0 30 * 7", "59 23 31 12 6", "0 0 1,15 * 3", "* * * * 0,7",
};

typedef struct FuzzStats
{
	long		inputs;
	long		parsed;
	long		rejected;
	long		next_calls;
	long		brute_checks;
	long		failures;
} FuzzStats;

static FuzzStats stats;
static uint64 rng_state;

static void FuzzMutationPhase(long count);
static void FuzzCrossCheckPhase(long count);
static void FuzzCheckInput(const char *text, int len);
static void FuzzCheckNextChain(const CronSchedule *schedule,
							   const char *text, bool brute);
static void FuzzCompareWithReference(const CronSchedule *schedule,
									 const char *text, TimestampTz after,
									 FuzzZoneKind zone);
static bool FuzzBruteNext(const CronSchedule *schedule, TimestampTz after,
						  FuzzZoneKind zone, TimestampTz *found);
static bool FuzzWallMatches(const CronSchedule *schedule, int64 wall_secs);
static int	FuzzMutate(char *buf, int len);
static int	FuzzRandomSchedule(char *buf);
static int	FuzzRandomField(char *buf, int low, int high, int star_percent);
static TimestampTz FuzzRandomInstant(void);
static void FuzzFail(const char *text, const char *what);
static uint64 FuzzRandom(void);
static int	FuzzBelow(int n);

/*
 * main
 *	  Run both phases with the given (or default) seed and sizes.
 */
int
main(int argc, char **argv)
{
	uint64		seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 20260329;
	long		mutations = argc > 2 ? atol(argv[2]) : 300000;
	long		schedules = argc > 3 ? atol(argv[3]) : 3000;

	rng_state = seed * UINT64CONST(0x9E3779B97F4A7C15) + 1;
	FuzzMutationPhase(mutations);
	FuzzCrossCheckPhase(schedules);
	FuzzArenaReset();

	printf("cron_fuzz seed %llu: %ld inputs, %ld compiled, %ld refused, "
		   "%ld next-fire calls, %ld brute-force comparisons\n",
		   (unsigned long long) seed, stats.inputs, stats.parsed,
		   stats.rejected, stats.next_calls, stats.brute_checks);
	printf("%ld inputs clean, %ld findings\n", stats.inputs - stats.failures,
		   stats.failures);
	return stats.failures == 0 ? 0 : 1;
}

/*
 * FuzzMutationPhase
 *	  Check "count" mutated (or, one in twenty, random) inputs.
 */
static void
FuzzMutationPhase(long count)
{
	char		buf[FUZZ_MAX_INPUT + 64];
	long		i;

	for (i = 0; i < count; i++)
	{
		int			len;
		int			rounds;

		if (FuzzBelow(20) == 0)
		{
			len = FuzzBelow(40);
			for (rounds = 0; rounds < len; rounds++)
				buf[rounds] = (char) (1 + FuzzBelow(255));
		}
		else
		{
			const char *seed = seeds[FuzzBelow(lengthof(seeds))];

			len = (int) strlen(seed);
			memcpy(buf, seed, len);
			for (rounds = FuzzBelow(3) == 0 ? 2 + FuzzBelow(3) : 1;
				 rounds > 0; rounds--)
				len = FuzzMutate(buf, len);
		}
		buf[len] = '\0';
		FuzzCheckInput(buf, (int) strlen(buf));
	}
}

/*
 * FuzzCrossCheckPhase
 *	  Compare "count" random valid schedules with the reference, in every
 *	  synthetic zone.
 */
static void
FuzzCrossCheckPhase(long count)
{
	char		buf[256];
	long		i;

	for (i = 0; i < count; i++)
	{
		CronSchedule schedule;
		char	   *detail;
		int			zone;

		FuzzRandomSchedule(buf);
		stats.inputs++;
		if (!CronParse(buf, &schedule, &detail))
		{
			/* Random day/month sets can name dates that never occur. */
			if (strstr(detail, "never occurs") == NULL)
				FuzzFail(buf, detail);
			stats.rejected++;
			FuzzArenaReset();
			continue;
		}
		stats.parsed++;
		for (zone = 0; zone < FUZZ_ZONE_COUNT * 3; zone++)
			FuzzCompareWithReference(&schedule, buf, FuzzRandomInstant(),
									 (FuzzZoneKind) (zone % FUZZ_ZONE_COUNT));
		FuzzArenaReset();
	}
}

/*
 * FuzzCheckInput
 *	  Compile one input from an exact-size copy and check what comes back.
 */
static void
FuzzCheckInput(const char *text, int len)
{
	char	   *exact = malloc(len + 1);
	CronSchedule schedule;
	char	   *detail = NULL;

	memcpy(exact, text, len + 1);
	stats.inputs++;
	if (!CronParse(exact, &schedule, &detail))
	{
		stats.rejected++;
		if (detail == NULL || detail[0] < 'a' || detail[0] > 'z')
			FuzzFail(text, "refused without a lower-case detail");
	}
	else
	{
		char	   *description = CronDescribe(&schedule);

		stats.parsed++;
		if (description[0] < 'A' || description[0] > 'Z')
			FuzzFail(text, "description does not start with a capital");
		if (schedule.kind == CRON_KIND_FIELDS &&
			(schedule.minutes == 0 || schedule.hours == 0 ||
			 schedule.months == 0 || schedule.days_of_week == 0 ||
			 (schedule.minutes >> 60) != 0 || (schedule.hours >> 24) != 0 ||
			 (schedule.days_of_month & 1) != 0 ||
			 (schedule.months & 0xE001) != 0 ||
			 (schedule.days_of_week & 0x80) != 0))
			FuzzFail(text, "field bits out of range");
		FuzzCheckNextChain(&schedule, text, FuzzBelow(16) == 0);
	}
	free(exact);
	FuzzArenaReset();
}

/*
 * FuzzCheckNextChain
 *	  Ask for a few chains of next fire times and check they move strictly
 *	  forward; optionally compare the first with the reference.
 */
static void
FuzzCheckNextChain(const CronSchedule *schedule, const char *text,
				   bool brute)
{
	int			chain;

	for (chain = 0; chain < 3; chain++)
	{
		FuzzZoneKind zone = (FuzzZoneKind) FuzzBelow(FUZZ_ZONE_COUNT);
		TimestampTz after = FuzzRandomInstant();
		int			link;

		if (brute && schedule->kind == CRON_KIND_FIELDS)
			FuzzCompareWithReference(schedule, text, after, zone);
		for (link = 0; link < 4; link++)
		{
			TimestampTz next;
			bool		found;

			stats.next_calls++;
			found = CronNextAfter(schedule, after, FuzzZone(zone), &next);
			if (schedule->kind == CRON_KIND_REBOOT)
			{
				if (found)
					FuzzFail(text, "@reboot has a next fire time");
				break;
			}
			if (!found)
			{
				/* Only allowed near the end of the timestamptz range. */
				if (after < END_TIMESTAMP - INT64CONST(40) * 366 *
					USECS_PER_DAY && after >= MIN_TIMESTAMP)
					FuzzFail(text, "no next fire time");
				break;
			}
			if (next <= after)
				FuzzFail(text, "next fire time not after \"after\"");
			after = next;
		}
	}
}

/*
 * FuzzCompareWithReference
 *	  Check CronNextAfter against FuzzBruteNext over the reference window.
 */
static void
FuzzCompareWithReference(const CronSchedule *schedule, const char *text,
						 TimestampTz after, FuzzZoneKind zone)
{
	TimestampTz next;
	TimestampTz expected;
	bool		found;
	bool		expected_found;
	char		what[160];

	/* Outside the timestamptz range there is nothing to compare. */
	if (after < MIN_TIMESTAMP ||
		after >= END_TIMESTAMP - INT64CONST(40) * 366 * USECS_PER_DAY)
		return;
	stats.brute_checks++;
	found = CronNextAfter(schedule, after, FuzzZone(zone), &next);
	expected_found = FuzzBruteNext(schedule, after, zone, &expected);
	if (expected_found ? (!found || next != expected) :
		(found && next <= after + FUZZ_WINDOW_MINUTES * USECS_PER_MINUTE))
	{
		snprintf(what, sizeof(what),
				 "zone %d after " INT64_FORMAT ": cron_next " INT64_FORMAT
				 " (%s), reference " INT64_FORMAT " (%s)",
				 (int) zone, after, found ? next : 0,
				 found ? "found" : "none", expected_found ? expected : 0,
				 expected_found ? "found" : "none in window");
		FuzzFail(text, what);
	}
}

/*
 * FuzzBruteNext
 *	  The reference: the first fire instant after "after" within the
 *	  window, found by walking every whole-minute instant and applying the
 *	  rules as stated, with no wall-clock search at all:
 *
 *	  - an instant fires if its local time matches, unless that local time
 *		was already seen (a repeat after the clocks went back) and the hour
 *		field does not begin with '*';
 *	  - an instant also fires if the local times jumped over since the
 *		previous minute (a gap) contain a match.
 *
 * "Already seen" is the high-water mark of local times since a warm-up a
 * day before "after".  The synthetic zones' offsets and transitions are
 * whole minutes, so minute instants see every local minute.
 */
static bool
FuzzBruteNext(const CronSchedule *schedule, TimestampTz after,
			  FuzzZoneKind zone, TimestampTz *found)
{
	int64		start = after / USECS_PER_SEC + FUZZ_UNIX_TO_PG_SECS;
	int64		secs;
	int64		high_water = PG_INT64_MIN;
	int64		previous_wall = PG_INT64_MIN;
	int64		last;

	start -= ((start % 60) + 60) % 60;
	last = start + (int64) FUZZ_WINDOW_MINUTES * 60;
	for (secs = start - (int64) FUZZ_WARMUP_MINUTES * 60; secs <= last;
		 secs += 60)
	{
		int64		wall = secs + FuzzZoneOffsetAt(FuzzZone(zone), secs);
		bool		repeat = wall <= high_water;
		bool		fires;

		fires = FuzzWallMatches(schedule, wall) &&
			(!repeat || schedule->hour_star);
		if (!fires && previous_wall != PG_INT64_MIN)
		{
			int64		skipped;

			for (skipped = previous_wall + 60; skipped < wall && !fires;
				 skipped += 60)
				fires = FuzzWallMatches(schedule, skipped);
		}
		if (wall > high_water)
			high_water = wall;
		previous_wall = wall;

		if (fires &&
			(secs - FUZZ_UNIX_TO_PG_SECS) * USECS_PER_SEC > after)
		{
			*found = (secs - FUZZ_UNIX_TO_PG_SECS) * USECS_PER_SEC;
			return true;
		}
	}
	return false;
}

/*
 * FuzzWallMatches
 *	  Whether the local time wall_secs (seconds since 1970 on the local
 *	  clock) is a slot of the schedule, using the C library's calendar and
 *	  the Vixie rule spelled out.
 */
static bool
FuzzWallMatches(const CronSchedule *schedule, int64 wall_secs)
{
	time_t		t = (time_t) wall_secs;
	time_t		tomorrow = t + 86400;
	struct tm	tm;
	struct tm	next_day;
	bool		date_ok;
	bool		weekday_ok;

	gmtime_r(&t, &tm);
	gmtime_r(&tomorrow, &next_day);
	if (!(schedule->minutes & (UINT64CONST(1) << tm.tm_min)) ||
		!(schedule->hours & (1U << tm.tm_hour)) ||
		!(schedule->months & (1U << (tm.tm_mon + 1))))
		return false;
	date_ok = (schedule->days_of_month & (1U << tm.tm_mday)) != 0 ||
		(schedule->last_day_of_month && next_day.tm_mday == 1);
	weekday_ok = (schedule->days_of_week & (1U << tm.tm_wday)) != 0;
	if (schedule->day_of_month_star || schedule->day_of_week_star)
		return date_ok && weekday_ok;
	return date_ok || weekday_ok;
}

/*
 * FuzzMutate
 *	  Apply one random mutation to buf[0..len) and return the new length.
 */
static int
FuzzMutate(char *buf, int len)
{
	static const char alphabet[] =
		"0123456789*/-,$@# \t\nabcdefghijklmnopqrstuvwxyzJANMONSUN.+";
	int			pos = len > 0 ? FuzzBelow(len) : 0;
	char		c = FuzzBelow(10) == 0 ? (char) (1 + FuzzBelow(255)) :
		alphabet[FuzzBelow(sizeof(alphabet) - 1)];

	switch (FuzzBelow(7))
	{
		case 0:					/* insert */
			if (len >= FUZZ_MAX_INPUT)
				return len;
			memmove(buf + pos + 1, buf + pos, len - pos);
			buf[pos] = c;
			return len + 1;
		case 1:					/* delete */
			if (len == 0)
				return len;
			memmove(buf + pos, buf + pos + 1, len - pos - 1);
			return len - 1;
		case 2:					/* replace */
			if (len > 0)
				buf[pos] = c;
			return len;
		case 3:					/* truncate */
			return pos;
		case 4:					/* blow a digit up into a huge number */
			{
				int			digits = 10 + FuzzBelow(30);
				int			i;

				while (pos < len && (buf[pos] < '0' || buf[pos] > '9'))
					pos++;
				if (pos >= len || len + digits > FUZZ_MAX_INPUT)
					return len;
				memmove(buf + pos + digits, buf + pos, len - pos);
				for (i = 0; i < digits; i++)
					buf[pos + i] = (char) ('0' + FuzzBelow(10));
				return len + digits;
			}
		case 5:					/* duplicate a slice */
			{
				int			slice = FuzzBelow(len - pos + 1);

				if (len + slice > FUZZ_MAX_INPUT)
					return len;
				memmove(buf + pos + slice, buf + pos, len - pos);
				return len + slice;
			}
		default:				/* swap two characters */
			if (len > 1)
			{
				int			other = FuzzBelow(len);

				c = buf[pos];
				buf[pos] = buf[other];
				buf[other] = c;
			}
			return len;
	}
}

/*
 * FuzzRandomSchedule
 *	  Write a random five-field schedule (valid syntax, though its dates may
 *	  never occur) into buf; returns its length.
 */
static int
FuzzRandomSchedule(char *buf)
{
	int			len = 0;

	len += FuzzRandomField(buf + len, 0, 59, 20);
	buf[len++] = ' ';
	len += FuzzRandomField(buf + len, 0, 23, 40);
	buf[len++] = ' ';
	if (FuzzBelow(10) == 0)
		len += sprintf(buf + len, "$");
	else
		len += FuzzRandomField(buf + len, 1, 31, 60);
	buf[len++] = ' ';
	len += FuzzRandomField(buf + len, 1, 12, 75);
	buf[len++] = ' ';
	len += FuzzRandomField(buf + len, 0, 7, 60);
	buf[len] = '\0';
	return len;
}

/*
 * FuzzRandomField
 *	  One random field over low..high: '*' (star_percent of the time), a
 *	  star with a step, or a list of values and ranges with steps.
 */
static int
FuzzRandomField(char *buf, int low, int high, int star_percent)
{
	int			len = 0;
	int			items;

	if (FuzzBelow(100) < star_percent)
	{
		if (FuzzBelow(4) == 0)
			return sprintf(buf, "*/%d", 1 + FuzzBelow(high));
		return sprintf(buf, "*");
	}
	for (items = 1 + FuzzBelow(3); items > 0; items--)
	{
		int			a = low + FuzzBelow(high - low + 1);
		int			b = a + FuzzBelow(high - a + 1);

		if (FuzzBelow(2) == 0)
			len += sprintf(buf + len, "%d", a);
		else if (FuzzBelow(2) == 0)
			len += sprintf(buf + len, "%d-%d", a, b);
		else
			len += sprintf(buf + len, "%d-%d/%d", a, b, 1 + FuzzBelow(high));
		if (items > 1)
			buf[len++] = ',';
	}
	return len;
}

/*
 * FuzzRandomInstant
 *	  An instant to start from: usually within hours of a synthetic
 *	  transition, sometimes anywhere in 1900-2100, now and then near the
 *	  ends of the timestamptz range or wholly random.
 */
static TimestampTz
FuzzRandomInstant(void)
{
	int			kind = FuzzBelow(100);
	int64		usecs = (int64) FuzzBelow(60 * 1000) * 1000 + FuzzBelow(1000);

	if (kind < 55)
	{
		/* Periods since 1970 until about 2100, then +-6 or +-1.5 hours. */
		int64		period = FuzzBelow(15500);
		int			spread = FuzzBelow(2) ? 6 * 3600 : 90 * 60;
		int64		secs = period * FUZZ_ZONE_PERIOD_SECS +
			FuzzBelow(2 * spread) - spread;

		return (secs - FUZZ_UNIX_TO_PG_SECS) * USECS_PER_SEC +
			(FuzzBelow(2) ? 0 : usecs);
	}
	if (kind < 95)
		return ((int64) FuzzBelow(200 * 366) - 100 * 366) * USECS_PER_DAY +
			(int64) FuzzBelow(1440) * USECS_PER_MINUTE + usecs;
	if (kind < 97)
		return MIN_TIMESTAMP + (int64) FuzzBelow(1000) * USECS_PER_DAY;
	if (kind < 99)
		return END_TIMESTAMP - 1 - (int64) FuzzBelow(3000) * USECS_PER_DAY;
	return (TimestampTz) FuzzRandom();
}

/* FuzzFail: count a finding and report the first few. */
static void
FuzzFail(const char *text, const char *what)
{
	const char *c;

	stats.failures++;
	if (stats.failures > FUZZ_MAX_REPORTS)
		return;
	fprintf(stderr, "FINDING: %s; input \"", what);
	for (c = text; *c != '\0'; c++)
	{
		if (*c >= 32 && *c < 127 && *c != '"' && *c != '\\')
			fputc(*c, stderr);
		else
			fprintf(stderr, "\\x%02x", (unsigned char) *c);
	}
	fprintf(stderr, "\"\n");
}

/* FuzzRandom: xorshift64*, deterministic for a given seed. */
static uint64
FuzzRandom(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64CONST(2685821657736338717);
}

/* FuzzBelow: a random integer in [0, n). */
static int
FuzzBelow(int n)
{
	return n <= 0 ? 0 : (int) (FuzzRandom() % (uint64) n);
}
