/*-------------------------------------------------------------------------
 *
 * problems.c
 *	  Collect every problem of a job configuration, then refuse it with
 *	  one error that lists them all.
 *
 * A user fixing a payload should see everything wrong with it at once,
 * not one problem per round trip.  The primary message always names the
 * first problem (clients that show only the message still learn the path
 * at fault); the detail lists every problem, one per line.
 *
 * IDENTIFICATION
 *	  src/problems.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "problems.h"

/*
 * ProblemAdd
 *	  Record that the value at "path" breaks the rule given by fmt.
 */
void
ProblemAdd(ProblemList *problems, const char *path, const char *fmt,...)
{
	StringInfoData line;

	initStringInfo(&line);
	appendStringInfo(&line, "%s: ", path);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&line, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&line, needed);
	}
	problems->lines = lappend(problems->lines, line.data);
}

/*
 * ProblemsReport
 *	  If any problem was found, refuse the write: errcode 22023, the first
 *	  problem in the message, all of them in the detail.
 */
void
ProblemsReport(const ProblemList *problems, const char *job_id)
{
	StringInfoData detail;
	ListCell   *lc;
	int			count = list_length(problems->lines);

	if (count == 0)
		return;

	initStringInfo(&detail);
	foreach(lc, problems->lines)
	{
		if (detail.len > 0)
			appendStringInfoChar(&detail, '\n');
		appendStringInfoString(&detail, (const char *) lfirst(lc));
	}

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 count == 1 ?
			 errmsg("invalid job configuration for \"%s\": %s",
					job_id, (const char *) linitial(problems->lines)) :
			 errmsg_plural("invalid job configuration for \"%s\": %s (and %d more problem)",
						   "invalid job configuration for \"%s\": %s (and %d more problems)",
						   count - 1,
						   job_id, (const char *) linitial(problems->lines),
						   count - 1),
			 errdetail_plural("%d problem:\n%s", "%d problems:\n%s", count,
							  count, detail.data)));
}
