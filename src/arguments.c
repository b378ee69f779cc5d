/*-------------------------------------------------------------------------
 *
 * arguments.c
 *	  The null rule of jobconfig's SQL-callable C functions: a null in a
 *	  required argument is refused, naming the argument.
 *
 * None of jobconfig's functions is STRICT.  A STRICT function answers a
 * null argument with null without running, which turns a forgotten
 * argument into a silent non-answer (cron_next(schedule, NULL) would be
 * null), and a check such as require_writer(NULL) into one that passes.
 * Instead each C function with arguments calls ArgumentsRequire first, and
 * a null anywhere is refused with SQLSTATE 22004 and the message
 * "<argument> must not be null"; the SQL and PL/pgSQL functions raise the
 * same error in the same words.  C code must never read an argument
 * before this check: PG_GETARG_TEXT_PP of a null is a null pointer.
 *
 * IDENTIFICATION
 *	  src/arguments.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/syscache.h"

#include "arguments.h"

/*
 * ArgumentName
 *	  The SQL name of argument argno (from 0) of the function being called,
 *	  as its CREATE FUNCTION spells it; "argument N" when it has none or
 *	  the call did not come through the catalog.  Only looked up once a
 *	  null is found, so a call that passes costs nothing.
 */
static char *
ArgumentName(FunctionCallInfo fcinfo, int argno)
{
	char	   *name = NULL;
	HeapTuple	tuple = NULL;

	if (fcinfo->flinfo != NULL && OidIsValid(fcinfo->flinfo->fn_oid))
		tuple = SearchSysCache1(PROCOID,
								ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
	if (HeapTupleIsValid(tuple))
	{
		bool		names_null;
		bool		modes_null;
		Datum		names = SysCacheGetAttr(PROCOID, tuple,
											Anum_pg_proc_proargnames,
											&names_null);
		Datum		modes = SysCacheGetAttr(PROCOID, tuple,
											Anum_pg_proc_proargmodes,
											&modes_null);
		char	  **input_names;

		if (!names_null &&
			argno < get_func_input_arg_names(names,
											 modes_null ? PointerGetDatum(NULL) : modes,
											 &input_names) &&
			input_names[argno] != NULL && input_names[argno][0] != '\0')
			name = pstrdup(input_names[argno]);
		ReleaseSysCache(tuple);
	}
	return name != NULL ? name : psprintf("argument %d", argno + 1);
}

/*
 * ArgumentsRequire
 *	  Refuse the call when any of its arguments is null: 22004, naming the
 *	  first null one.  For functions all of whose arguments are required.
 */
void
ArgumentsRequire(FunctionCallInfo fcinfo)
{
	int			argno;

	for (argno = 0; argno < PG_NARGS(); argno++)
		if (PG_ARGISNULL(argno))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be null",
							ArgumentName(fcinfo, argno))));
}
