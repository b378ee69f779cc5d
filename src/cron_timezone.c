/*-------------------------------------------------------------------------
 *
 * cron_timezone.c
 *	  Resolve a schedule's time zone name to one of PostgreSQL's zones.
 *
 * A job's zone must be a name from PostgreSQL's own tz database, exactly
 * the names that the pg_timezone_names view lists, in any case.  pg_tzset()
 * alone is not the right test: it also accepts POSIX specifications such
 * as "UTC+3" (with the sign the opposite of what most people expect) and
 * abbreviations-with-rules such as "EST5EDT4", which are not zone names.
 *
 * The first lookup in a backend enumerates the tz database once (as
 * pg_timezone_names does, with the same filters) into a hash table of
 * lower-cased names; later lookups are a hash probe, and the pg_tz of each
 * name is remembered after its first use.
 *
 * IDENTIFICATION
 *	  src/cron_timezone.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "pgtime.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "cron.h"

/* One zone name of the tz database. */
typedef struct CronZoneName
{
	char		key[TZ_STRLEN_MAX + 1]; /* lower-cased name: hash key */
	char		name[TZ_STRLEN_MAX + 1];	/* canonical spelling */
	bool		loaded;			/* pg_tzset() has been asked */
	pg_tz	   *tz;				/* its answer (NULL if it had none) */
} CronZoneName;

/* Longest abbreviation pg_timezone_names accepts (see its comments). */
#define CRON_MAX_ZONE_ABBREV 31

static HTAB *zone_names = NULL;

static HTAB *CronLoadZoneNames(void);
static bool CronFoldZoneName(const char *name, char *key);

/*
 * CronLookupTimezone
 *	  The zone of that name in PostgreSQL's tz database (any case), or NULL
 *	  when pg_timezone_names does not list it.
 */
pg_tz *
CronLookupTimezone(const char *name)
{
	char		key[TZ_STRLEN_MAX + 1];
	CronZoneName *entry;

	if (!CronFoldZoneName(name, key))
		return NULL;
	if (zone_names == NULL)
		zone_names = CronLoadZoneNames();

	entry = (CronZoneName *) hash_search(zone_names, key, HASH_FIND, NULL);
	if (entry == NULL)
		return NULL;
	if (!entry->loaded)
	{
		entry->tz = pg_tzset(entry->name);
		entry->loaded = true;
	}
	return entry->tz;
}

/*
 * CronLoadZoneNames
 *	  Enumerate the tz database into a new hash table of zone names.
 *
 * Uses the same enumeration and filters as pg_timezone_names: zones that
 * load and are not leap-second zones (pg_tzenumerate_next), whose local
 * time now can be computed, and whose current abbreviation is not absurdly
 * long.  The table lives in its own context under TopMemoryContext; on
 * error the context is dropped so a later call starts over.
 */
static HTAB *
CronLoadZoneNames(void)
{
	MemoryContext context;
	HTAB	   *names;

	context = AllocSetContextCreate(TopMemoryContext,
									"jobconfig cron zone names",
									ALLOCSET_DEFAULT_SIZES);
	PG_TRY();
	{
		HASHCTL		ctl;
		pg_tzenum  *zones;
		pg_tz	   *tz;
		pg_time_t	now = (pg_time_t) time(NULL);

		ctl.keysize = TZ_STRLEN_MAX + 1;
		ctl.entrysize = sizeof(CronZoneName);
		ctl.hcxt = context;
		names = hash_create("jobconfig cron zone names", 1024, &ctl,
							HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

		zones = pg_tzenumerate_start();
		while ((tz = pg_tzenumerate_next(zones)) != NULL)
		{
			const char *name = pg_get_timezone_name(tz);
			struct pg_tm *tm = pg_localtime(&now, tz);
			char		key[TZ_STRLEN_MAX + 1];
			CronZoneName *entry;
			bool		found;

			if (tm == NULL)
				continue;
			if (tm->tm_zone != NULL &&
				strlen(tm->tm_zone) > CRON_MAX_ZONE_ABBREV)
				continue;
			if (!CronFoldZoneName(name, key))
				continue;
			entry = (CronZoneName *) hash_search(names, key, HASH_ENTER,
												 &found);
			if (!found)
			{
				strlcpy(entry->name, name, sizeof(entry->name));
				entry->loaded = false;
				entry->tz = NULL;
			}
		}
		pg_tzenumerate_end(zones);
	}
	PG_CATCH();
	{
		MemoryContextDelete(context);
		PG_RE_THROW();
	}
	PG_END_TRY();

	return names;
}

/*
 * CronFoldZoneName
 *	  Lower-case an ASCII zone name into key (TZ_STRLEN_MAX + 1 bytes);
 *	  false when it is too long to be a zone name.
 */
static bool
CronFoldZoneName(const char *name, char *key)
{
	int			i;

	for (i = 0; name[i] != '\0'; i++)
	{
		if (i >= TZ_STRLEN_MAX)
			return false;
		key[i] = (char) pg_ascii_tolower((unsigned char) name[i]);
	}
	key[i] = '\0';
	return true;
}
