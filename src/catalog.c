/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Running jobconfig's own SQL through SPI with plans prepared once per
 *	  backend.
 *
 * Every statement is parameterised and every object schema-qualified;
 * nothing is spliced into SQL text.  A prepared plan is kept for the life
 * of the backend (the plan cache replans it after DDL, and after the
 * extension is dropped and created again).  Callers are inside
 * SPI_connect/SPI_finish.
 *
 * IDENTIFICATION
 *	  src/catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"

#include "catalog.h"

/*
 * CatalogExecute
 *	  Prepare the statement on first use, then run it.  Returns the SPI
 *	  result code; an unexpected failure is an error.
 */
int
CatalogExecute(CatalogQuery *query, Datum *values, const char *nulls,
			   bool read_only, long count)
{
	int			rc;

	if (query->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(query->sql, query->nargs,
									   query->argtypes);

		if (plan == NULL)
			elog(ERROR, "could not prepare \"%s\": %s", query->sql,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "could not keep plan of \"%s\"", query->sql);
		query->plan = plan;
	}

	rc = SPI_execute_plan(query->plan, values, nulls, read_only, count);
	if (rc < 0)
		elog(ERROR, "could not run \"%s\": %s", query->sql,
			 SPI_result_code_string(rc));
	return rc;
}

/*
 * CatalogGetText
 *	  Column "column" (1-based) of result row "row" as text, or NULL.
 */
char *
CatalogGetText(int row, int column)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
						column);
}

/*
 * CatalogGetDatum
 *	  Column "column" (1-based) of result row "row" as a Datum.
 */
Datum
CatalogGetDatum(int row, int column, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
						 column, isnull);
}
