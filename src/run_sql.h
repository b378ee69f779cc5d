/*-------------------------------------------------------------------------
 *
 * run_sql.h
 *	  Running a job's command.
 *
 * IDENTIFICATION
 *	  src/run_sql.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_RUN_SQL_H
#define JOBCONFIG_RUN_SQL_H

#include "nodes/pg_list.h"

/* What running a command produced (its last statement's). */
typedef struct RunOutcome
{
	char		command_tag[64];
	uint64		rows;
	int			statements;
	bool		left_block_open;	/* BEGIN without COMMIT: rolled back */
} RunOutcome;

struct CommandEntry;

extern bool RunNeedsTopLevel(List *raw_statements);
extern void RunInTransaction(struct CommandEntry *entry, RunOutcome *outcome);
extern void RunAtTopLevel(List *raw_statements, const char *sql,
						  RunOutcome *outcome,
						  void (*before_commit) (void *arg), void *arg);

#endif							/* JOBCONFIG_RUN_SQL_H */
