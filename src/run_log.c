/*-------------------------------------------------------------------------
 *
 * run_log.c
 *	  Capturing what a job says while it runs: its NOTICE, INFO, WARNING
 *	  and LOG messages, its command tag and row count, and its error, as
 *	  the execution's log.
 *
 * An executor lowers log_min_messages so that every message of level LOG
 * and above passes through emit_log_hook; while a run is in progress the
 * hook appends the message to the run's log and keeps it out of the server
 * log.  The log is bounded by jobconfig.log_max_bytes: messages beyond it
 * are counted but dropped, and the log says it was truncated.  The error,
 * if any, is always kept, cut to fit the same bound: its message first,
 * then detail, hint and context (which is cut at ERROR_CONTEXT_MAX too).
 * A message is cut before it is escaped, so that a job raising a huge
 * one costs the executor no more than the bound.
 *
 * The stored log, a jsonb object:
 *	  {"messages": [{"level": "NOTICE", "message": ..., "detail": ...,
 *					 "hint": ...}, ...],
 *	   "commandTag": "INSERT 0 1", "rows": 1,
 *	   "error": {"sqlstate": "22012", "message": ..., "detail": ...,
 *				 "hint": ..., "context": ...},
 *	   "truncated": false, "droppedMessages": 0}
 *
 * IDENTIFICATION
 *	  src/run_log.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "jobconfig.h"
#include "run_log.h"

/* An error's context beyond this many bytes is cut. */
#define ERROR_CONTEXT_MAX 4096

static emit_log_hook_type prev_emit_log_hook = NULL;
static MemoryContext log_context = NULL;
static bool capturing = false;
static StringInfoData messages;
static int	printed_bytes = 0;	/* of messages, as jsonb will print them */
static int	dropped = 0;

/*
 * AppendField
 *	  ,"key":"value" when value is not NULL.
 */
static void
AppendField(StringInfo out, const char *key, const char *value, int max_bytes)
{
	if (value == NULL)
		return;
	appendStringInfo(out, ",\"%s\":", key);
	if (max_bytes > 0 && (int) strlen(value) > max_bytes)
		value = psprintf("%.*s...", pg_mbcliplen(value, strlen(value), max_bytes), value);
	escape_json(out, value);
}

/*
 * Clipped
 *	  "value" cut to at most "*budget" bytes (on a character boundary),
 *	  which it then uses up; the original is freed when cut.
 */
static char *
Clipped(char *value, int *budget)
{
	int			len;

	if (value == NULL)
		return NULL;
	len = strlen(value);
	if (len > *budget)
	{
		char	   *cut;

		len = pg_mbcliplen(value, len, Max(*budget, 0));
		cut = psprintf("%.*s...", len, value);
		pfree(value);
		value = cut;
	}
	*budget -= len;
	return value;
}

/*
 * RunLogClipError
 *	  Cut a copied error's message, detail, hint and context so that they
 *	  fit jobconfig.log_max_bytes together, the message first: what a run
 *	  stores of its error is bounded like the rest of its log.
 */
void
RunLogClipError(ErrorData *error)
{
	int			budget = jobconfig_log_max_bytes;
	int			context_budget;

	if (error == NULL)
		return;
	error->message = Clipped(error->message, &budget);
	error->detail = Clipped(error->detail, &budget);
	error->hint = Clipped(error->hint, &budget);
	context_budget = Min(budget, ERROR_CONTEXT_MAX);
	error->context = Clipped(error->context, &context_budget);
}

/*
 * CaptureMessage
 *	  emit_log_hook: a message of the run in progress goes to its log, not
 *	  to the server log.  Nothing here may throw.
 */
static void
CaptureMessage(ErrorData *edata)
{
	if (capturing && edata->elevel < ERROR)
	{
		MemoryContext old = MemoryContextSwitchTo(log_context);
		StringInfoData one;

		int			fields = 1 + (edata->message != NULL) +
			(edata->detail != NULL) + (edata->hint != NULL);

		/* Fields past what the log has left are cut before escaping. */
		int			left = Max(jobconfig_log_max_bytes - printed_bytes, 1);

		initStringInfo(&one);
		appendStringInfo(&one, "{\"level\":\"%s\"",
						 edata->elevel == WARNING ? "WARNING" :
						 edata->elevel == NOTICE ? "NOTICE" :
						 edata->elevel == INFO ? "INFO" : "LOG");
		AppendField(&one, "message", edata->message, left);
		AppendField(&one, "detail", edata->detail, left);
		AppendField(&one, "hint", edata->hint, left);
		appendStringInfoChar(&one, '}');

		/*
		 * jsonb prints a space after each colon and comma: count the bytes
		 * the stored log will show, so that the bound holds there.
		 */
		if (printed_bytes + one.len + 2 * fields + 2 > jobconfig_log_max_bytes)
			dropped++;
		else
		{
			printed_bytes += one.len + 2 * fields + 2;
			if (messages.len > 1)
				appendStringInfoChar(&messages, ',');
			appendBinaryStringInfo(&messages, one.data, one.len);
		}
		pfree(one.data);
		MemoryContextSwitchTo(old);
		edata->output_to_server = false;
	}

	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/*
 * RunLogInstall
 *	  Install the hook in this executor.
 */
void
RunLogInstall(void)
{
	log_context = AllocSetContextCreate(TopMemoryContext, "jobconfig run log",
										ALLOCSET_DEFAULT_SIZES);
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = CaptureMessage;
}

/*
 * RunLogBegin
 *	  Start capturing the messages of a new run.
 */
void
RunLogBegin(void)
{
	MemoryContext old;

	MemoryContextReset(log_context);
	old = MemoryContextSwitchTo(log_context);
	initStringInfo(&messages);
	appendStringInfoChar(&messages, '[');
	MemoryContextSwitchTo(old);
	printed_bytes = 2;
	dropped = 0;
	capturing = true;
}

/*
 * RunLogEnd
 *	  Stop capturing (the messages are kept for RunLogBuild).
 */
void
RunLogEnd(void)
{
	capturing = false;
}

/*
 * RunLogBuild
 *	  The run's log as jsonb: the captured messages, the command tag and
 *	  row count of its last statement, and its error.
 */
Jsonb *
RunLogBuild(const char *command_tag, uint64 rows, ErrorData *error)
{
	StringInfoData out;

	initStringInfo(&out);
	appendStringInfo(&out, "{\"messages\":%s]", messages.data);
	if (command_tag != NULL && command_tag[0] != '\0')
	{
		AppendField(&out, "commandTag", command_tag, 0);
		appendStringInfo(&out, ",\"rows\":" UINT64_FORMAT, rows);
	}
	if (error != NULL)
	{
		appendStringInfoString(&out, ",\"error\":{\"sqlstate\":");
		escape_json(&out, unpack_sql_state(error->sqlerrcode));
		AppendField(&out, "message", error->message, 0);
		AppendField(&out, "detail", error->detail, 0);
		AppendField(&out, "hint", error->hint, 0);
		AppendField(&out, "context", error->context, ERROR_CONTEXT_MAX);
		appendStringInfoChar(&out, '}');
	}
	appendStringInfo(&out, ",\"truncated\":%s,\"droppedMessages\":%d}",
					 dropped > 0 ? "true" : "false", dropped);
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}
