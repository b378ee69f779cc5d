/*-------------------------------------------------------------------------
 *
 * database_hooks.c
 *	  Stepping aside for commands that need a database to themselves.
 *
 * DROP DATABASE, CREATE DATABASE ... TEMPLATE, ALTER DATABASE RENAME and
 * ALTER DATABASE SET TABLESPACE refuse to run while anyone else is
 * connected to the database, and jobconfig's scheduler and executors are.
 * A ProcessUtility hook, active in every backend because the library is
 * preloaded, asks them to leave first and keeps the launcher from starting
 * them again until the command is done; when the database is still there
 * afterwards (the command failed, or only renamed or copied it), they come
 * back at once, and a database created as a copy is probed too.
 *
 * IDENTIFICATION
 *	  src/database_hooks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/latch.h"
#include "tcop/utility.h"
#include "utils/timestamp.h"

#include "jobconfig.h"
#include "shmem.h"

/* How long the workers stay away at most, should this backend die. */
#define PAUSE_MS (60 * 1000)

/* How long to wait for them to leave before going ahead anyway. */
#define LEAVE_WAIT_MS (5 * 1000)

static ProcessUtility_hook_type prev_process_utility = NULL;

/*
 * DatabaseNeededAlone
 *	  The database a utility statement needs to itself, or NULL.
 */
static const char *
DatabaseNeededAlone(Node *stmt)
{
	ListCell   *lc;

	switch (nodeTag(stmt))
	{
		case T_DropdbStmt:
			return ((DropdbStmt *) stmt)->dbname;
		case T_CreatedbStmt:
			foreach(lc, ((CreatedbStmt *) stmt)->options)
			{
				DefElem    *option = lfirst(lc);

				if (strcmp(option->defname, "template") == 0)
					return defGetString(option);
			}
			return NULL;
		case T_RenameStmt:
			if (((RenameStmt *) stmt)->renameType == OBJECT_DATABASE)
				return ((RenameStmt *) stmt)->subname;
			return NULL;
		case T_AlterDatabaseStmt:
			foreach(lc, ((AlterDatabaseStmt *) stmt)->options)
				if (strcmp(((DefElem *) lfirst(lc))->defname, "tablespace") == 0)
					return ((AlterDatabaseStmt *) stmt)->dbname;
			return NULL;
		default:
			return NULL;
	}
}

/*
 * StepAside
 *	  Ask the database's scheduler (and with it its executors) to leave,
 *	  keep them away, and wait a little for them to go.  Returns the slot,
 *	  or -1 when jobconfig has none for that database.
 */
static int
StepAside(Oid dboid)
{
	int			index;
	int			waited = 0;

	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	index = DatabaseSlotFind(dboid);
	if (index >= 0)
	{
		DatabaseSlot *db = DatabaseSlotAt(index);

		db->stop_requested = true;
		db->paused_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), PAUSE_MS);
		if (db->scheduler_latch)
			SetLatch(db->scheduler_latch);
	}
	LWLockRelease(JobconfigState->lock);

	while (index >= 0 && waited < LEAVE_WAIT_MS)
	{
		DatabaseSlot *db = DatabaseSlotAt(index);
		bool		gone;
		int			i;

		LWLockAcquire(JobconfigState->lock, LW_SHARED);
		gone = db->scheduler_pid == 0 && db->notifier_pid == 0;
		for (i = 0; gone && i < JobconfigState->max_workers; i++)
			gone = db->executors[i].pid == 0;
		LWLockRelease(JobconfigState->lock);
		if (gone)
			break;
		pg_usleep(10 * 1000L);
		waited += 10;
		CHECK_FOR_INTERRUPTS();
	}
	return index;
}

/*
 * ComeBack
 *	  The command is over: the launcher may start the database's scheduler
 *	  again (if the database still exists) and probe new databases.
 */
static void
ComeBack(int index)
{
	LWLockAcquire(JobconfigState->lock, LW_EXCLUSIVE);
	if (index >= 0)
	{
		DatabaseSlotAt(index)->stop_requested = false;
		DatabaseSlotAt(index)->paused_until = 0;
	}
	if (JobconfigState->launcher_latch)
		SetLatch(JobconfigState->launcher_latch);
	LWLockRelease(JobconfigState->lock);
}

/*
 * DatabaseUtility
 *	  ProcessUtility_hook.
 */
static void
DatabaseUtility(PlannedStmt *pstmt, const char *queryString,
				bool readOnlyTree, ProcessUtilityContext context,
				ParamListInfo params, QueryEnvironment *queryEnv,
				DestReceiver *dest, QueryCompletion *qc)
{
	const char *dbname = JobconfigState ? DatabaseNeededAlone(pstmt->utilityStmt) : NULL;
	Oid			dboid = dbname ? get_database_oid(dbname, true) : InvalidOid;
	int			index = OidIsValid(dboid) ? StepAside(dboid) : -1;

	PG_TRY();
	{
		if (prev_process_utility)
			prev_process_utility(pstmt, queryString, readOnlyTree, context,
								 params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		if (dbname != NULL)
			ComeBack(index);
	}
	PG_END_TRY();
}

/*
 * DatabaseHooksRegister
 *	  Install the hook; called from _PG_init when preloaded.
 */
void
DatabaseHooksRegister(void)
{
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = DatabaseUtility;
}
