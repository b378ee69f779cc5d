/*-------------------------------------------------------------------------
 *
 * catalog.h
 *	  Running jobconfig's own SQL through SPI with plans prepared once per
 *	  backend.
 *
 * IDENTIFICATION
 *	  src/catalog.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_CATALOG_H
#define JOBCONFIG_CATALOG_H

#include "executor/spi.h"

#define CATALOG_MAX_ARGS 8

/*
 * A statement of jobconfig's: its text, argument types and, once prepared,
 * its saved plan.  Declare one static CatalogQuery per statement.
 */
typedef struct CatalogQuery
{
	const char *sql;
	int			nargs;
	Oid			argtypes[CATALOG_MAX_ARGS];
	bool		by_index;		/* plan it for index scans only */
	bool		generic_plan;	/* one plan, whatever the arguments' values */
	SPIPlanPtr	plan;
} CatalogQuery;

extern int	CatalogExecute(CatalogQuery *query, Datum *values,
						   const char *nulls, bool read_only, long count);
extern char *CatalogGetText(int row, int column);
extern Datum CatalogGetDatum(int row, int column, bool *isnull);
extern Datum CatalogArray(Datum *elems, bool *nulls, int n, Oid elemtype);
extern Datum CatalogUuidArray(List *ids);

#endif							/* JOBCONFIG_CATALOG_H */
