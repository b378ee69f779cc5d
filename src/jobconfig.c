/*-------------------------------------------------------------------------
 *
 * jobconfig.c
 *	  Library entry point: settings and module initialisation.
 *
 * This file holds only _PG_init, the jobconfig.* settings and the calls
 * that let each module register what it needs.  Everything else lives in
 * a file of its own concern.
 *
 * IDENTIFICATION
 *	  src/jobconfig.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "jobconfig.h"

PG_MODULE_MAGIC;

char	   *jobconfig_reader_roles = NULL;
char	   *jobconfig_writer_roles = NULL;
bool		jobconfig_preloaded = false;

void		_PG_init(void);

/*
 * _PG_init
 *	  Define the settings and, when preloaded, register the workers.
 *
 * Role settings are PGC_SUSET: they decide who may read and write jobs,
 * so only a superuser may change them (and placeholder values set by
 * anyone else before the library loaded are discarded by the GUC code).
 */
void
_PG_init(void)
{
	jobconfig_preloaded = process_shared_preload_libraries_in_progress;

	DefineCustomStringVariable("jobconfig.reader_roles",
							   "Roles that may read jobs and their history.",
							   "A comma-separated list of role names; members "
							   "of these roles (and of the writer roles) may "
							   "read. Roles that do not exist are ignored.",
							   &jobconfig_reader_roles,
							   "authenticated",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("jobconfig.writer_roles",
							   "Roles that may create, change and run jobs.",
							   "A comma-separated list of role names. Roles "
							   "that do not exist are ignored.",
							   &jobconfig_writer_roles,
							   "service_role",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   NULL, NULL, NULL);

	MarkGUCPrefixReserved("jobconfig");
}
