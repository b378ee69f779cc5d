/*-------------------------------------------------------------------------
 *
 * cron_fuzz_shim.h
 *	  What the fuzz harness's shim provides besides the backend functions
 *	  the pure cron files call: an allocation arena and synthetic zones.
 *
 * IDENTIFICATION
 *	  test/fuzz/cron_fuzz_shim.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRON_FUZZ_SHIM_H
#define CRON_FUZZ_SHIM_H

#include "postgres.h"

#include "pgtime.h"

/*
 * port.h maps the printf family to PostgreSQL's own implementations, which
 * live in libpgport; the harness uses the C library's.
 */
#undef printf
#undef fprintf
#undef sprintf
#undef snprintf
#undef vsnprintf
#undef vfprintf

/* The zones the shim can stand in for. */
typedef enum FuzzZoneKind
{
	FUZZ_ZONE_UTC,				/* no transitions, offset 0 */
	FUZZ_ZONE_HOUR_SHIFT,		/* alternates +01:00 / +02:00 */
	FUZZ_ZONE_HALF_HOUR_SHIFT,	/* alternates +10:30 / +11:00 */
	FUZZ_ZONE_COUNT
} FuzzZoneKind;

/* Period of the synthetic zones' transitions, in seconds. */
#define FUZZ_ZONE_PERIOD_SECS (3 * 86400 + 97 * 60)

extern pg_tz *FuzzZone(FuzzZoneKind kind);
extern long FuzzZoneOffsetAt(const pg_tz *tz, pg_time_t secs);
extern void FuzzArenaReset(void);

#endif							/* CRON_FUZZ_SHIM_H */
