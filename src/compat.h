/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  What differs between the PostgreSQL versions jobconfig builds for.
 *
 * jobconfig supports PostgreSQL 15 to 18.  Every difference of the server's
 * C API that the code meets is papered over here, once, by a shim named for
 * what it stands for; the rest of the tree calls the shim and never tests
 * PG_VERSION_NUM itself.  A new major version adds its lines here, and the
 * guard below says which versions the tree was written for.
 *
 * IDENTIFICATION
 *	  src/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_COMPAT_H
#define JOBCONFIG_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 190000
#error "jobconfig supports PostgreSQL 15, 16, 17 and 18"
#endif

/*
 * JsonLexerForCString(json, len, encoding, need_escapes)
 *	  A JSON lexer over a string of len bytes, palloc'd in the current
 *	  memory context.  From 17 on the call takes a lexer to fill in first;
 *	  NULL asks it to allocate one, as 15 and 16 always did.
 */
#if PG_VERSION_NUM >= 170000
#define JsonLexerForCString(json, len, encoding, need_escapes) \
	makeJsonLexContextCstringLen(NULL, (json), (len), (encoding), (need_escapes))
#else
#define JsonLexerForCString(json, len, encoding, need_escapes) \
	makeJsonLexContextCstringLen((json), (len), (encoding), (need_escapes))
#endif

/*
 * PortalRunAll(portal, top_level, dest, qc)
 *	  Runs a portal to its end.  18 dropped PortalRun's run_once argument
 *	  (every portal run that way ran once anyway); before 18 it is true.
 */
#if PG_VERSION_NUM >= 180000
#define PortalRunAll(portal, top_level, dest, qc) \
	PortalRun((portal), FETCH_ALL, (top_level), (dest), (dest), (qc))
#else
#define PortalRunAll(portal, top_level, dest, qc) \
	PortalRun((portal), FETCH_ALL, (top_level), true, (dest), (dest), (qc))
#endif

/*
 * StringInfoBytes
 *	  The type of appendBinaryStringInfo's data argument: const void * from
 *	  16 on, const char * before.  Only the cron fuzz shim, which defines the
 *	  function itself in place of the server's, needs to spell it.
 */
#if PG_VERSION_NUM >= 160000
typedef const void *StringInfoBytes;
#else
typedef const char *StringInfoBytes;
#endif

/*
 * GucVariables(&count)
 *	  The array of every setting the server knows (struct config_generic
 *	  *, utils/guc_tables.h).  16 made the call return the count itself.
 */
#if PG_VERSION_NUM >= 160000
#define GucVariables(count) get_guc_variables(count)
#else
#define GucVariables(count) \
	(*(count) = GetNumConfigOptions(), get_guc_variables())
#endif

#endif							/* JOBCONFIG_COMPAT_H */
