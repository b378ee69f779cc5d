/*-------------------------------------------------------------------------
 *
 * cron_bench.c
 *	  A benchmark-only module: time CronNextAfter inside a backend, where
 *	  PostgreSQL's time zone code lives.
 *
 * cron_bench_next(schedule, zone, calls, rounds) compiles the schedule
 * once, then in each round calls CronNextAfter "calls" times, each time
 * from the previous fire time (as the scheduler does), starting at
 * 2026-01-01 00:00 UTC and starting over when the chain passes 2200 (so
 * sparse schedules stay in a realistic range).  It returns the median
 * nanoseconds per call over the rounds.  Never shipped in the extension.
 *
 * IDENTIFICATION
 *	  bench/cron/cron_bench.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "cron.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(cron_bench_next);

/* 2026-01-01 and 2200-01-01 00:00 UTC, microseconds since 2000-01-01. */
#define BENCH_START INT64CONST(820454400000000)
#define BENCH_WRAP INT64CONST(6311433600000000)

/* Where results go so the compiler cannot drop the calls. */
static volatile int64 bench_sink;

static int	BenchCompareDoubles(const void *a, const void *b);

/*
 * cron_bench_next
 *	  Median ns per CronNextAfter call; see the file header.
 */
Datum
cron_bench_next(PG_FUNCTION_ARGS)
{
	char	   *source = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *zone = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int32		calls = PG_GETARG_INT32(2);
	int32		rounds = PG_GETARG_INT32(3);
	CronSchedule schedule;
	char	   *detail;
	pg_tz	   *tz;
	double	   *per_call;
	int			round;

	if (calls < 1 || rounds < 1)
		elog(ERROR, "calls and rounds must be positive");
	if (!CronParse(source, &schedule, &detail))
		elog(ERROR, "invalid cron schedule \"%s\": %s", source, detail);
	tz = CronLookupTimezone(zone);
	if (tz == NULL)
		elog(ERROR, "unknown time zone \"%s\"", zone);

	per_call = palloc(sizeof(double) * rounds);
	for (round = 0; round < rounds; round++)
	{
		struct timespec begin;
		struct timespec end;
		TimestampTz after = BENCH_START;
		int32		i;

		clock_gettime(CLOCK_MONOTONIC, &begin);
		for (i = 0; i < calls; i++)
		{
			TimestampTz next;

			if (!CronNextAfter(&schedule, after, tz, &next))
				elog(ERROR, "no next fire time");
			after = next < BENCH_WRAP ? next : BENCH_START;
			bench_sink += next;
		}
		clock_gettime(CLOCK_MONOTONIC, &end);
		per_call[round] = ((end.tv_sec - begin.tv_sec) * 1e9 +
						   (end.tv_nsec - begin.tv_nsec)) / calls;
	}

	qsort(per_call, rounds, sizeof(double), BenchCompareDoubles);
	PG_RETURN_FLOAT8(per_call[rounds / 2]);
}

/* BenchCompareDoubles: qsort comparator, ascending. */
static int
BenchCompareDoubles(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}
