/*-------------------------------------------------------------------------
 *
 * job_graph.h
 *	  The dependency graph of jobs.
 *
 * IDENTIFICATION
 *	  src/job_graph.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_JOB_GRAPH_H
#define JOBCONFIG_JOB_GRAPH_H

#include "nodes/pg_list.h"

#include "problems.h"

extern void JobGraphLock(void);
extern void JobGraphCheck(const char *job_id, List *depends_on,
						  ProblemList *problems);
extern List *JobGraphDependents(const char *job_id);

#endif							/* JOBCONFIG_JOB_GRAPH_H */
