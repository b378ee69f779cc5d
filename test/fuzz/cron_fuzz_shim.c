/*-------------------------------------------------------------------------
 *
 * cron_fuzz_shim.c
 *	  Stand-ins for the few backend functions that the pure cron files
 *	  (cron_parse.c, cron_next.c, cron_describe.c) call, so they can run
 *	  under AddressSanitizer without a server.
 *
 * palloc and friends allocate with malloc at the exact size asked, so an
 * overrun is caught at its first byte, and remember each block so that
 * FuzzArenaReset() can free them all after each input, the way a memory
 * context reset would.  The zone functions serve synthetic zones: UTC, and
 * two zones whose offset alternates every FUZZ_ZONE_PERIOD_SECS (an odd
 * period, so transitions fall at every local time of day), by an hour and
 * by half an hour, giving gaps and overlaps far more often than real zones.
 *
 * IDENTIFICATION
 *	  test/fuzz/cron_fuzz_shim.c
 *
 *-------------------------------------------------------------------------
 */
#include "cron_fuzz_shim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/stringinfo.h"

#include "compat.h"

/* The synthetic zones; only their address and kind matter. */
struct pg_tz
{
	FuzzZoneKind kind;
	long		base_offset;	/* seconds east of UTC, even periods */
	long		shift;			/* added in odd periods */
};

static struct pg_tz fuzz_zones[FUZZ_ZONE_COUNT] = {
	{FUZZ_ZONE_UTC, 0, 0},
	{FUZZ_ZONE_HOUR_SHIFT, 3600, 3600},
	{FUZZ_ZONE_HALF_HOUR_SHIFT, 37800, 1800},
};

static void **arena = NULL;
static size_t arena_count = 0;
static size_t arena_size = 0;

static void *FuzzRemember(void *block);
static void FuzzOutOfMemory(void);

/* FuzzZone: the synthetic zone of that kind. */
pg_tz *
FuzzZone(FuzzZoneKind kind)
{
	return &fuzz_zones[kind];
}

/* FuzzZoneOffsetAt: the offset of a synthetic zone at Unix time secs. */
long
FuzzZoneOffsetAt(const pg_tz *tz, pg_time_t secs)
{
	pg_time_t	period = secs / FUZZ_ZONE_PERIOD_SECS;

	if (secs % FUZZ_ZONE_PERIOD_SECS < 0)
		period--;
	return tz->base_offset + ((period & 1) ? tz->shift : 0);
}

/*
 * pg_next_dst_boundary
 *	  The synthetic zones' transitions, with the backend's contract: 1 and
 *	  the next boundary after *timep, or 0 and the offset for UTC.
 */
int
pg_next_dst_boundary(const pg_time_t *timep, long int *before_gmtoff,
					 int *before_isdst, pg_time_t *boundary,
					 long int *after_gmtoff, int *after_isdst,
					 const pg_tz *tz)
{
	pg_time_t	period = *timep / FUZZ_ZONE_PERIOD_SECS;

	if (*timep % FUZZ_ZONE_PERIOD_SECS < 0)
		period--;
	*before_gmtoff = FuzzZoneOffsetAt(tz, *timep);
	*before_isdst = 0;
	if (tz->kind == FUZZ_ZONE_UTC)
		return 0;
	*boundary = (period + 1) * FUZZ_ZONE_PERIOD_SECS;
	*after_gmtoff = FuzzZoneOffsetAt(tz, *boundary);
	*after_isdst = 0;
	return 1;
}

/* pg_localtime: only reached on a "cannot happen" path; report failure. */
struct pg_tm *
pg_localtime(const pg_time_t *timep, const pg_tz *tz)
{
	fprintf(stderr, "pg_localtime called: cron_next.c took its fallback\n");
	abort();
}

/* FuzzArenaReset: free everything palloc'd since the last reset. */
void
FuzzArenaReset(void)
{
	size_t		i;

	for (i = 0; i < arena_count; i++)
		free(arena[i]);
	arena_count = 0;
}

/* palloc: an exact-size malloc block, freed at the next reset. */
void *
palloc(Size size)
{
	return FuzzRemember(malloc(size == 0 ? 1 : size));
}

/* palloc0: palloc, zeroed. */
void *
palloc0(Size size)
{
	return FuzzRemember(calloc(1, size == 0 ? 1 : size));
}

/* pfree: blocks are freed at the next reset instead. */
void
pfree(void *pointer)
{
}

/* repalloc: realloc, keeping the arena's record in step. */
void *
repalloc(void *pointer, Size size)
{
	size_t		i;
	void	   *moved = realloc(pointer, size == 0 ? 1 : size);

	if (moved == NULL)
		FuzzOutOfMemory();
	for (i = arena_count; i > 0; i--)
	{
		if (arena[i - 1] == pointer)
		{
			arena[i - 1] = moved;
			return moved;
		}
	}
	fprintf(stderr, "repalloc of a block palloc did not return\n");
	abort();
}

/* pstrdup: a palloc'd copy of a string. */
char *
pstrdup(const char *in)
{
	size_t		len = strlen(in);
	char	   *out = palloc(len + 1);

	memcpy(out, in, len + 1);
	return out;
}

/* pnstrdup: a palloc'd copy of at most len bytes of a string. */
char *
pnstrdup(const char *in, Size len)
{
	char	   *out;

	len = strnlen(in, len);
	out = palloc(len + 1);
	memcpy(out, in, len);
	out[len] = '\0';
	return out;
}

/* psprintf: a palloc'd formatted string of exactly the needed size. */
char *
psprintf(const char *fmt,...)
{
	va_list		args;
	int			needed;
	char	   *out;

	va_start(args, fmt);
	needed = vsnprintf(NULL, 0, fmt, args);
	va_end(args);
	out = palloc(needed + 1);
	va_start(args, fmt);
	vsnprintf(out, needed + 1, fmt, args);
	va_end(args);
	return out;
}

/* initStringInfo: an empty StringInfo with a small buffer. */
void
initStringInfo(StringInfo str)
{
	str->maxlen = 16;
	str->data = palloc(str->maxlen);
	str->data[0] = '\0';
	str->len = 0;
	str->cursor = 0;
}

/* enlargeStringInfo: room for "needed" more bytes and a terminator. */
void
enlargeStringInfo(StringInfo str, int needed)
{
	int			want = str->len + needed + 1;

	if (want <= str->maxlen)
		return;
	while (str->maxlen < want)
		str->maxlen *= 2;
	str->data = repalloc(str->data, str->maxlen);
}

/* appendBinaryStringInfo: append len bytes. */
void
appendBinaryStringInfo(StringInfo str, StringInfoBytes data, int datalen)
{
	enlargeStringInfo(str, datalen);
	memcpy(str->data + str->len, data, datalen);
	str->len += datalen;
	str->data[str->len] = '\0';
}

/* appendStringInfoString: append a string. */
void
appendStringInfoString(StringInfo str, const char *s)
{
	appendBinaryStringInfo(str, s, (int) strlen(s));
}

/* appendStringInfoChar: append one character. */
void
appendStringInfoChar(StringInfo str, char ch)
{
	appendBinaryStringInfo(str, &ch, 1);
}

/* appendStringInfo: append formatted text. */
void
appendStringInfo(StringInfo str, const char *fmt,...)
{
	va_list		args;
	int			needed;

	va_start(args, fmt);
	needed = vsnprintf(NULL, 0, fmt, args);
	va_end(args);
	enlargeStringInfo(str, needed);
	va_start(args, fmt);
	vsnprintf(str->data + str->len, needed + 1, fmt, args);
	va_end(args);
	str->len += needed;
}

/* FuzzRemember: record a new block in the arena. */
static void *
FuzzRemember(void *block)
{
	if (block == NULL)
		FuzzOutOfMemory();
	if (arena_count == arena_size)
	{
		arena_size = arena_size == 0 ? 256 : arena_size * 2;
		arena = realloc(arena, arena_size * sizeof(void *));
		if (arena == NULL)
			FuzzOutOfMemory();
	}
	arena[arena_count++] = block;
	return block;
}

/* FuzzOutOfMemory: stop; the harness never expects to run out. */
static void
FuzzOutOfMemory(void)
{
	fprintf(stderr, "out of memory\n");
	abort();
}
