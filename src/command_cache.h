/*-------------------------------------------------------------------------
 *
 * command_cache.h
 *	  What an executor remembers of the commands it has run.
 *
 * IDENTIFICATION
 *	  src/command_cache.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_COMMAND_CACHE_H
#define JOBCONFIG_COMMAND_CACHE_H

#include "executor/spi.h"
#include "nodes/pg_list.h"

#include "tcop/cmdtag.h"

typedef struct CommandEntry
{
	uint64		hash;			/* key: hash of the command text */
	char	   *command;
	bool		top_level;		/* must run at top level (run_sql.c) */
	List	   *raw;			/* top level: its raw statements */
	int			statements;
	CommandTag	last_tag;		/* of its last statement */
	int			uses;
	SPIPlanPtr	plan;			/* one transactional statement: its plan */
} CommandEntry;

extern CommandEntry *CommandLookup(const char *command);
extern SPIPlanPtr CommandPlan(CommandEntry *entry);
extern bool CommandWorthPlanning(CommandEntry *entry);

#endif							/* JOBCONFIG_COMMAND_CACHE_H */
