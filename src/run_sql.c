/*-------------------------------------------------------------------------
 *
 * run_sql.c
 *	  Running a job's command: any SQL string psql -c accepts, with the
 *	  same meaning, inside a persistent background worker.
 *
 * Two ways to run, chosen by looking at the parsed statements:
 *
 *	- In a subtransaction of the executor's batch transaction, when every
 *	  statement is one that may run inside a transaction (a whitelist:
 *	  queries, DML, and the DDL and utility statements known to be fine).
 *	  This is the common case and the fast one: the command runs through
 *	  SPI, with a kept plan (command_cache.c); the run's effects and its
 *	  "succeeded" record commit together, with other runs' in one WAL
 *	  flush, and a failed run rolls back alone.
 *
 *	- At top level, the way PostgreSQL's simple-query protocol runs a
 *	  string (exec_simple_query): one statement in its own transaction,
 *	  several in one implicit transaction block, explicit BEGIN/COMMIT
 *	  honoured, portals run as top-level so that VACUUM, CREATE INDEX
 *	  CONCURRENTLY and CALL of a procedure that commits work.  The run's
 *	  record is written in the transaction of its last statement, before
 *	  that commits, so even here effects and record commit together
 *	  wherever the command leaves a transaction to share.
 *
 * IDENTIFICATION
 *	  src/run_sql.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "tcop/cmdtag.h"
#include "tcop/dest.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"

#include "command_cache.h"
#include "compat.h"
#include "run_sql.h"

/*
 * StatementRunsInTransaction
 *	  May this statement run inside a transaction block and a
 *	  subtransaction with the meaning psql -c gives it?  Anything not known
 *	  to be fine runs at top level, which is always right, only slower.
 */
static bool
StatementRunsInTransaction(Node *stmt)
{
	switch (nodeTag(stmt))
	{
			/* Queries and DML. */
		case T_SelectStmt:
		case T_InsertStmt:
		case T_UpdateStmt:
		case T_DeleteStmt:
		case T_MergeStmt:
			return true;

			/* Utility statements that are fine inside a transaction. */
		case T_CreateStmt:
		case T_CreateTableAsStmt:
		case T_RefreshMatViewStmt:
		case T_TruncateStmt:
		case T_AlterTableStmt:
		case T_CopyStmt:
		case T_LockStmt:
		case T_NotifyStmt:
		case T_CommentStmt:
		case T_GrantStmt:
		case T_GrantRoleStmt:
		case T_ViewStmt:
		case T_CreateFunctionStmt:
		case T_AlterFunctionStmt:
		case T_CreateSeqStmt:
		case T_AlterSeqStmt:
		case T_CreateSchemaStmt:
		case T_CreateTrigStmt:
		case T_RuleStmt:
		case T_CreateDomainStmt:
		case T_CompositeTypeStmt:
		case T_CreateEnumStmt:
		case T_RenameStmt:
		case T_AlterOwnerStmt:
		case T_AlterObjectSchemaStmt:
		case T_ExplainStmt:
		case T_PrepareStmt:
		case T_ExecuteStmt:
		case T_DeallocateStmt:
		case T_VariableShowStmt:
		case T_ConstraintsSetStmt:
		case T_CheckPointStmt:
			return true;

		case T_VariableSetStmt:
			/* SET TRANSACTION must come first in a transaction of its own. */
			return ((VariableSetStmt *) stmt)->kind != VAR_SET_MULTI;

		case T_IndexStmt:
			return !((IndexStmt *) stmt)->concurrent;

		case T_DropStmt:
			return !((DropStmt *) stmt)->concurrent;

		case T_ClusterStmt:
			return ((ClusterStmt *) stmt)->relation != NULL;

		default:
			/* VACUUM, CALL, DO, BEGIN/COMMIT, REINDEX, CREATE DATABASE, ... */
			return false;
	}
}

/*
 * RunNeedsTopLevel
 *	  Must this command run at top level?
 */
bool
RunNeedsTopLevel(List *raw_statements)
{
	ListCell   *lc;

	foreach(lc, raw_statements)
		if (!StatementRunsInTransaction(lfirst_node(RawStmt, lc)->stmt))
			return true;
	return false;
}

/*
 * CompletionText
 *	  The command tag psql would print ("INSERT 0 1", "VACUUM").
 */
static void
CompletionText(const QueryCompletion *qc, char *out, int size)
{
	const char *tag = GetCommandTagName(qc->commandTag);

	if (qc->commandTag == CMDTAG_INSERT)
		snprintf(out, size, "INSERT 0 " UINT64_FORMAT, qc->nprocessed);
	else if (command_tag_display_rowcount(qc->commandTag))
		snprintf(out, size, "%s " UINT64_FORMAT, tag, qc->nprocessed);
	else
		snprintf(out, size, "%s", tag);
}

/*
 * RunOneStatement
 *	  Analyze, plan and run one statement through a portal, results
 *	  discarded, the way exec_simple_query does.
 */
static void
RunOneStatement(RawStmt *raw, const char *sql, bool top_level,
				RunOutcome *outcome)
{
	bool		snapshot_set = false;
	List	   *querytrees;
	List	   *plantrees;
	Portal		portal;
	DestReceiver *receiver;
	QueryCompletion qc;

	SetCurrentStatementStartTimestamp();
	if (analyze_requires_snapshot(raw))
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		snapshot_set = true;
	}
	querytrees = pg_analyze_and_rewrite_fixedparams(raw, sql, NULL, 0, NULL);
	plantrees = pg_plan_queries(querytrees, sql, CURSOR_OPT_PARALLEL_OK, NULL);
	if (snapshot_set)
		PopActiveSnapshot();

	portal = CreateNewPortal();
	portal->visible = false;
	PortalDefineQuery(portal, NULL, sql, CreateCommandTag(raw->stmt),
					  plantrees, NULL);
	PortalStart(portal, NULL, 0, InvalidSnapshot);

	receiver = CreateDestReceiver(DestNone);
	InitializeQueryCompletion(&qc);
	(void) PortalRunAll(portal, top_level, receiver, &qc);
	receiver->rDestroy(receiver);
	PortalDrop(portal, false);

	CompletionText(&qc, outcome->command_tag, sizeof(outcome->command_tag));
	outcome->rows = qc.nprocessed;
	outcome->statements++;
}

/*
 * SpiCompletion
 *	  The command tag psql would print, from SPI's result code.
 */
static void
SpiCompletion(int rc, uint64 rows, CommandTag last, char *out, int size)
{
	switch (rc)
	{
		case SPI_OK_SELECT:
		case SPI_OK_SELINTO:
			snprintf(out, size, "SELECT " UINT64_FORMAT, rows);
			break;
		case SPI_OK_INSERT:
		case SPI_OK_INSERT_RETURNING:
			snprintf(out, size, "INSERT 0 " UINT64_FORMAT, rows);
			break;
		case SPI_OK_UPDATE:
		case SPI_OK_UPDATE_RETURNING:
			snprintf(out, size, "UPDATE " UINT64_FORMAT, rows);
			break;
		case SPI_OK_DELETE:
		case SPI_OK_DELETE_RETURNING:
			snprintf(out, size, "DELETE " UINT64_FORMAT, rows);
			break;
		case SPI_OK_MERGE:
			snprintf(out, size, "MERGE " UINT64_FORMAT, rows);
			break;
		default:
			snprintf(out, size, "%s", GetCommandTagName(last));
			break;
	}
}

/*
 * RunInTransaction
 *	  Run a command in the current (sub)transaction, through SPI: with its
 *	  kept plan when it is one statement, statement by statement otherwise.
 */
void
RunInTransaction(CommandEntry *entry, RunOutcome *outcome)
{
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (CommandWorthPlanning(entry))
		rc = SPI_execute_plan(CommandPlan(entry), NULL, NULL, false, 0);
	else
		rc = SPI_execute(entry->command, false, 0);
	if (rc == SPI_ERROR_COPY)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("COPY to or from the client cannot run in a job"),
				 errhint("COPY to or from a file or a program works.")));
	if (rc < 0)
		elog(ERROR, "SPI could not run the command: %s", SPI_result_code_string(rc));
	SpiCompletion(rc, SPI_processed, entry->last_tag,
				  outcome->command_tag, sizeof(outcome->command_tag));
	outcome->rows = SPI_processed;
	outcome->statements = entry->statements;
	SPI_finish();
}

/*
 * IsTransactionExit
 *	  COMMIT, ROLLBACK and the like: allowed in an aborted transaction
 *	  block.
 */
static bool
IsTransactionExit(Node *stmt)
{
	if (IsA(stmt, TransactionStmt))
	{
		TransactionStmtKind kind = ((TransactionStmt *) stmt)->kind;

		return kind == TRANS_STMT_COMMIT || kind == TRANS_STMT_PREPARE ||
			kind == TRANS_STMT_ROLLBACK || kind == TRANS_STMT_ROLLBACK_TO;
	}
	return false;
}

/*
 * RunAtTopLevel
 *	  Run the statements as the simple-query protocol would, starting and
 *	  committing transactions.  Called outside any transaction; returns
 *	  outside any transaction.  before_commit runs in the transaction of
 *	  the last statement, just before it commits (not when the command
 *	  left no transaction open at that point).
 */
void
RunAtTopLevel(List *raw_statements, const char *sql, RunOutcome *outcome,
			  void (*before_commit) (void *arg), void *arg)
{
	bool		implicit_block = list_length(raw_statements) > 1;
	ListCell   *lc;

	StartTransactionCommand();
	if (implicit_block)
		BeginImplicitTransactionBlock();

	foreach(lc, raw_statements)
	{
		RawStmt    *raw = lfirst_node(RawStmt, lc);
		bool		last = lnext(raw_statements, lc) == NULL;

		if (IsAbortedTransactionBlockState() && !IsTransactionExit(raw->stmt))
			ereport(ERROR,
					(errcode(ERRCODE_IN_FAILED_SQL_TRANSACTION),
					 errmsg("current transaction is aborted, commands ignored until end of transaction block")));

		if (!IsTransactionState())
			StartTransactionCommand();

		RunOneStatement(raw, sql, true, outcome);

		if (last)
		{
			if (implicit_block)
				EndImplicitTransactionBlock();
			if (IsTransactionState() && !IsTransactionBlock() &&
				before_commit != NULL)
				before_commit(arg);
			CommitTransactionCommand();
		}
		else if (IsA(raw->stmt, TransactionStmt))
			CommitTransactionCommand();
		else
			CommandCounterIncrement();
	}

	/*
	 * A BEGIN without its COMMIT leaves a block open; psql -c would end
	 * the session, which rolls it back.  So do we.
	 */
	if (IsTransactionOrTransactionBlock())
	{
		outcome->left_block_open = true;
		AbortOutOfAnyTransaction();
	}
}
