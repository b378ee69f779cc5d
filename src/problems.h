/*-------------------------------------------------------------------------
 *
 * problems.h
 *	  Collect every problem of a job configuration, then refuse it with
 *	  one error that lists them all.
 *
 * IDENTIFICATION
 *	  src/problems.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_PROBLEMS_H
#define JOBCONFIG_PROBLEMS_H

#include "nodes/pg_list.h"

/* One line per problem, "<json path>: <rule broken>", in discovery order. */
typedef struct ProblemList
{
	List	   *lines;
} ProblemList;

extern void ProblemAdd(ProblemList *problems, const char *path,
					   const char *fmt,...) pg_attribute_printf(3, 4);
extern void ProblemsReport(const ProblemList *problems, const char *job_id);

#endif							/* JOBCONFIG_PROBLEMS_H */
