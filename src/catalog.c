/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Running jobconfig's own SQL through SPI with plans prepared once per
 *	  backend.
 *
 * Every statement is parameterised, every object schema-qualified, and
 * the search_path pinned while it is planned and run (own_settings.c);
 * nothing is spliced into SQL text.  A query can ask to be planned for
 * index scans only, when statistics cannot be trusted to choose, and for
 * one generic plan, when no plan may be chosen by the arguments' values.  A prepared plan is kept for the life
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

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/uuid.h"

#include "catalog.h"
#include "own_settings.h"

/*
 * PlanByIndex
 *	  Planner settings under which a query is prepared and run when its
 *	  plan must not depend on statistics.  The queue of executions goes
 *	  from empty to thousands of rows in a second, faster than autovacuum
 *	  analyzes it: a plan made for an empty queue (a sort of the whole
 *	  queue for each claim) would be kept while the queue is full.
 */
static void
PlanByIndex(void)
{
	static const char *const off[] = {"enable_seqscan", "enable_bitmapscan",
	"enable_sort", "enable_hashjoin", "enable_mergejoin"};
	int			i;

	for (i = 0; i < lengthof(off); i++)
		(void) set_config_option(off[i], "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
}

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
	int			nest;

	/*
	 * Planned and run with the search_path pinned (own_settings.c): these
	 * statements often run with rights the caller lacks.
	 */
	nest = OwnSettingsEnter();
	if (query->by_index)
	{
		if (nest < 0)
			nest = NewGUCNestLevel();
		PlanByIndex();
	}

	if (query->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare_cursor(query->sql, query->nargs,
											  query->argtypes,
											  query->generic_plan ?
											  CURSOR_OPT_GENERIC_PLAN : 0);

		if (plan == NULL)
			elog(ERROR, "could not prepare \"%s\": %s", query->sql,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "could not keep plan of \"%s\"", query->sql);
		query->plan = plan;
	}

	rc = SPI_execute_plan(query->plan, values, nulls, read_only, count);
	OwnSettingsLeave(nest);
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

/*
 * CatalogArray
 *	  A one-dimensional array of "n" elements of type "elemtype", for an
 *	  argument; "nulls" may be NULL when no element is null.
 */
Datum
CatalogArray(Datum *elems, bool *nulls, int n, Oid elemtype)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, elemtype,
											  typlen, typbyval, typalign));
}

/*
 * CatalogUuidArray
 *	  A uuid[] argument from a list of pg_uuid_t pointers.
 */
Datum
CatalogUuidArray(List *ids)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(ids), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, ids)
		elems[n++] = UUIDPGetDatum((pg_uuid_t *) lfirst(lc));
	return CatalogArray(elems, NULL, n, UUIDOID);
}
