/*-------------------------------------------------------------------------
 *
 * jobconfig.h
 *	  Settings and module entry points shared across jobconfig.
 *
 * Each module exposes one XxxInit() that _PG_init calls; settings live in
 * jobconfig.c and are read here as plain C variables.
 *
 * IDENTIFICATION
 *	  src/jobconfig.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_H
#define JOBCONFIG_H

/* Name of the extension's schema; every object lives there. */
#define JOBCONFIG_SCHEMA "jobconfig"

/* Settings (see jobconfig.c for their documentation). */
extern char *jobconfig_reader_roles;
extern char *jobconfig_writer_roles;

/* True when the library was loaded through shared_preload_libraries. */
extern bool jobconfig_preloaded;

#endif							/* JOBCONFIG_H */
