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

typedef struct CommandEntry
{
	uint64		hash;			/* key: hash of the command text */
	char	   *command;
	List	   *raw;			/* its raw statements */
	bool		top_level;		/* must run at top level (run_sql.c) */
	SPIPlanPtr	plan;			/* one transactional statement: its plan */
} CommandEntry;

extern CommandEntry *CommandLookup(const char *command);
extern SPIPlanPtr CommandPlan(CommandEntry *entry);

#endif							/* JOBCONFIG_COMMAND_CACHE_H */
