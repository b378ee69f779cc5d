/*-------------------------------------------------------------------------
 *
 * command_cache.c
 *	  What an executor remembers of the commands it has run: their parsed
 *	  statements, how they must run, and for one-statement commands a
 *	  prepared plan.
 *
 * Jobs run the same command again and again; parsing, analysing and
 * planning it each time would cost more than running most of them.  Each
 * executor keeps, per command text, the raw statements (parsed once) and
 * whether they need top level, and prepares a one-statement transactional
 * command through SPI the second time it runs, keeping the plan:
 * PostgreSQL's plan cache replans it when a table it uses changes, and when
 * it runs under another role (row-level security) or another search_path.
 * (A command seen once, as in a burst of a thousand different jobs, is not
 * worth a kept plan.)  Commands of several statements are planned one
 * statement at a time, as psql -c does, because a later statement may use
 * what an earlier one creates.
 *
 * IDENTIFICATION
 *	  src/command_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "command_cache.h"
#include "run_sql.h"

/* Commands remembered at most; past that the cache starts over. */
#define COMMAND_CACHE_SIZE 4096

static HTAB *commands = NULL;
static MemoryContext cache_context = NULL;

/*
 * CommandCacheReset
 *	  Forget every command (and free its plan).
 */
static void
CommandCacheReset(void)
{
	HASHCTL		ctl;

	if (commands != NULL)
	{
		HASH_SEQ_STATUS status;
		CommandEntry *entry;

		hash_seq_init(&status, commands);
		while ((entry = hash_seq_search(&status)) != NULL)
			if (entry->plan != NULL)
				SPI_freeplan(entry->plan);
		hash_destroy(commands);
		MemoryContextReset(cache_context);
	}
	else
		cache_context = AllocSetContextCreate(TopMemoryContext,
											  "jobconfig command cache",
											  ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(CommandEntry);
	ctl.hcxt = cache_context;
	commands = hash_create("jobconfig commands", 64, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * CommandLookup
 *	  The entry of a command, parsing it on first sight (a syntax error is
 *	  raised as an error of the run).  Must be called in a transaction.
 */
CommandEntry *
CommandLookup(const char *command)
{
	uint64		hash = hash_bytes_extended((const unsigned char *) command,
										   strlen(command), 0);
	CommandEntry *entry;
	bool		found;
	List	   *raw;
	MemoryContext old;

	if (commands == NULL)
		CommandCacheReset();

	entry = hash_search(commands, &hash, HASH_FIND, NULL);
	if (entry != NULL && strcmp(entry->command, command) == 0)
	{
		entry->uses++;
		return entry;
	}

	/* Parse before touching the cache: a syntax error leaves it as it is. */
	raw = pg_parse_query(command);

	if (entry != NULL)
	{
		/* Another command with the same hash: this one takes its place. */
		if (entry->plan != NULL)
			SPI_freeplan(entry->plan);
	}
	else if (hash_get_num_entries(commands) >= COMMAND_CACHE_SIZE)
		CommandCacheReset();

	entry = hash_search(commands, &hash, HASH_ENTER, &found);
	entry->top_level = RunNeedsTopLevel(raw);
	entry->statements = list_length(raw);
	entry->last_tag = CreateCommandTag(llast_node(RawStmt, raw)->stmt);
	entry->uses = 1;
	entry->plan = NULL;
	old = MemoryContextSwitchTo(cache_context);
	entry->command = pstrdup(command);
	entry->raw = entry->top_level ? copyObject(raw) : NIL;
	MemoryContextSwitchTo(old);
	return entry;
}

/*
 * CommandWorthPlanning
 *	  Should this command run from a kept plan: one transactional statement
 *	  run at least twice?
 */
bool
CommandWorthPlanning(CommandEntry *entry)
{
	return !entry->top_level && entry->statements == 1 &&
		(entry->plan != NULL || entry->uses >= 2);
}

/*
 * CommandPlan
 *	  The kept plan of a one-statement transactional command, prepared on
 *	  first use (under the running job's role and settings; the plan cache
 *	  takes care of later changes).  Caller is connected to SPI.
 */
SPIPlanPtr
CommandPlan(CommandEntry *entry)
{
	if (entry->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(entry->command, 0, NULL);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		entry->plan = plan;
	}
	return entry->plan;
}
