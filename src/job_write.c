/*-------------------------------------------------------------------------
 *
 * job_write.c
 *	  The triggers on jobconfig.job_configs: every write, by any path, is
 *	  validated, completed and recorded.
 *
 * Whether a job is written through create_job(), a UI's PostgREST call or
 * a hand-written UPDATE, the BEFORE ROW trigger here
 *	- checks job_id, meta and payload against the field tables, the
 *	  dependency graph and the other jobs' webhook paths, and refuses the
 *	  write with one error listing every problem;
 *	- stores the normalised documents (defaults filled in, secrets
 *	  redacted) and derives the typed columns from them, overwriting
 *	  whatever the writer put there;
 *	- keeps the secrets in jobconfig.job_secrets;
 *	- writes the changelog row.
 * The BEFORE DELETE trigger refuses to delete a job others depend on,
 * cancels its runs and detaches its history from it; a statement trigger (on job_configs and on
 * job_executions) refuses non-writers with a clear error before row-level
 * security would silently filter rows.
 *
 * IDENTIFICATION
 *	  src/job_write.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "access.h"
#include "catalog.h"
#include "changelog.h"
#include "cron.h"
#include "job_graph.h"
#include "job_write.h"
#include "payload.h"
#include "wakeup.h"

PG_FUNCTION_INFO_V1(jobconfig_job_configs_before_write);
PG_FUNCTION_INFO_V1(jobconfig_job_configs_before_delete);
PG_FUNCTION_INFO_V1(jobconfig_check_writer);

bool		JobWriteBypass = false;

/* Where each secret lives in a payload, for messages and the changelog. */
static const char *const SecretPaths[SECRET_SLOT_COUNT] = {
	NULL,
	"payload.trigger.webhook.secret",
	"payload.notifications.slack.webhookUrl"
};

/* One side (old or new) of a row of job_configs, as the trigger sees it. */
typedef struct JobRow
{
	pg_uuid_t  *id;
	char	   *job_id;
	Jsonb	   *meta;
	Jsonb	   *payload;
	Oid			owner;
	bool		next_run_isnull;
	Datum		next_run_at;
} JobRow;

/* The typed columns, as derived from a normalised payload. */
typedef struct JobDerived
{
	bool		enabled;
	char	   *trigger_type;
	char	   *cron;
	char	   *timezone;
	char	   *webhook_path;
	char	   *webhook_signature;
	List	   *depends_on;
	int			priority;
} JobDerived;

static CatalogQuery WebhookPathOwner = {
	"SELECT job_id FROM jobconfig.job_configs"
	" WHERE webhook_path = $1 AND id <> $2",
	2, {TEXTOID, UUIDOID}
};

static CatalogQuery ReadSecrets = {
	"SELECT webhook_secret, slack_webhook_url FROM jobconfig.job_secrets"
	" WHERE job_config_id = $1",
	1, {UUIDOID}
};

static CatalogQuery UpsertSecrets = {
	"INSERT INTO jobconfig.job_secrets"
	" (job_config_id, webhook_secret, slack_webhook_url) VALUES ($1, $2, $3)"
	" ON CONFLICT (job_config_id) DO UPDATE"
	" SET webhook_secret = EXCLUDED.webhook_secret,"
	"     slack_webhook_url = EXCLUDED.slack_webhook_url",
	3, {UUIDOID, TEXTOID, TEXTOID}
};

static CatalogQuery DeleteSecrets = {
	"DELETE FROM jobconfig.job_secrets WHERE job_config_id = $1",
	1, {UUIDOID}
};

static CatalogQuery CancelQueuedRuns = {
	"UPDATE jobconfig.job_executions"
	" SET status = 'cancelled', finished_at = pg_catalog.now(),"
	"     error = 'job deleted before the run started'"
	" WHERE job_config_id = $1 AND finished_at IS NULL AND status = 'queued'",
	1, {UUIDOID}
};

static CatalogQuery DetachHistory = {
	"UPDATE jobconfig.job_executions SET job_config_id = NULL"
	" WHERE job_config_id = $1",
	1, {UUIDOID}
};

static CatalogQuery CancelRunningRuns = {
	"UPDATE jobconfig.job_executions SET cancel_requested = true"
	" WHERE job_config_id = $1 AND finished_at IS NULL AND status = 'running'"
	" RETURNING id",
	1, {UUIDOID}
};

/*
 * Column
 *	  A column's attribute number, by name.
 */
static int
Column(TupleDesc desc, const char *name)
{
	int			attnum = SPI_fnumber(desc, name);

	if (attnum <= 0)
		elog(ERROR, "jobconfig.job_configs has no column \"%s\"", name);
	return attnum;
}

/*
 * ReadRow
 *	  The columns the trigger reads from one version of a row.
 */
static void
ReadRow(HeapTuple tuple, TupleDesc desc, JobRow *row)
{
	bool		isnull;
	Datum		d;

	d = heap_getattr(tuple, Column(desc, "id"), desc, &isnull);
	row->id = isnull ? NULL : DatumGetUUIDP(d);
	d = heap_getattr(tuple, Column(desc, "job_id"), desc, &isnull);
	row->job_id = isnull ? NULL : TextDatumGetCString(d);
	d = heap_getattr(tuple, Column(desc, "meta"), desc, &isnull);
	row->meta = isnull ? NULL : DatumGetJsonbP(d);
	d = heap_getattr(tuple, Column(desc, "payload"), desc, &isnull);
	row->payload = isnull ? NULL : DatumGetJsonbP(d);
	d = heap_getattr(tuple, Column(desc, "owner"), desc, &isnull);
	row->owner = isnull ? InvalidOid : DatumGetObjectId(d);
	row->next_run_at = heap_getattr(tuple, Column(desc, "next_run_at"), desc,
									&row->next_run_isnull);
}

/*
 * Derive
 *	  The typed columns of a valid, normalised payload.
 */
static void
Derive(Jsonb *payload, JobDerived *derived)
{
	static const char *const enabled_path[] = {"enabled"};
	static const char *const type_path[] = {"trigger", "type"};
	static const char *const cron_path[] = {"trigger", "schedule", "cron"};
	static const char *const tz_path[] = {"trigger", "schedule", "timezone"};
	static const char *const webhook_path[] = {"trigger", "webhook", "path"};
	static const char *const signature_path[] = {"trigger", "webhook", "signature"};
	static const char *const deps_path[] = {"trigger", "dependency", "jobIds"};
	static const char *const priority_path[] = {"execution", "priority"};
	JsonbValue *v;

	v = JsonbGetPath(payload, 1, enabled_path);
	derived->enabled = v != NULL && v->type == jbvBool && v->val.boolean;
	derived->trigger_type = JsonbGetPathText(payload, 2, type_path);
	derived->cron = JsonbGetPathText(payload, 3, cron_path);
	derived->timezone = JsonbGetPathText(payload, 3, tz_path);
	derived->webhook_path = JsonbGetPathText(payload, 3, webhook_path);
	derived->webhook_signature = JsonbGetPathText(payload, 3, signature_path);

	derived->depends_on = NIL;
	v = JsonbGetPath(payload, 3, deps_path);
	if (v != NULL && v->type == jbvBinary)
	{
		int			n = JsonContainerSize(v->val.binary.data);
		int			i;

		for (i = 0; i < n; i++)
		{
			JsonbValue *item = getIthJsonbValueFromContainer(v->val.binary.data, i);

			derived->depends_on = lappend(derived->depends_on,
										  pnstrdup(item->val.string.val,
												   item->val.string.len));
		}
	}

	v = JsonbGetPath(payload, 2, priority_path);
	derived->priority = (v != NULL && v->type == jbvNumeric) ?
		DatumGetInt32(DirectFunctionCall1(numeric_int4,
										  NumericGetDatum(v->val.numeric))) : 50;
}

/*
 * CheckRetryDelays
 *	  The one rule that spans two keys: the delay cap is not below the
 *	  first delay.
 */
static void
CheckRetryDelays(Jsonb *payload, ProblemList *problems)
{
	static const char *const initial_path[] =
	{"execution", "retry", "initialDelaySeconds"};
	static const char *const max_path[] =
	{"execution", "retry", "maxDelaySeconds"};
	JsonbValue *initial = JsonbGetPath(payload, 3, initial_path);
	JsonbValue *max = JsonbGetPath(payload, 3, max_path);
	int			initial_s;
	int			max_s;

	if (initial == NULL || max == NULL)
		return;
	initial_s = DatumGetInt32(DirectFunctionCall1(numeric_int4,
												  NumericGetDatum(initial->val.numeric)));
	max_s = DatumGetInt32(DirectFunctionCall1(numeric_int4,
											  NumericGetDatum(max->val.numeric)));
	if (max_s < initial_s)
		ProblemAdd(problems, "payload.execution.retry.maxDelaySeconds",
				   "value %d is less than initialDelaySeconds (%d)",
				   max_s, initial_s);
}

/*
 * CheckWebhookPathFree
 *	  A webhook path names one job.  (The unique index backs this up when
 *	  two writers race; this check gives the readable message.)
 */
static void
CheckWebhookPathFree(const char *path, pg_uuid_t *id, ProblemList *problems)
{
	Datum		args[2] = {CStringGetTextDatum(path), UUIDPGetDatum(id)};

	CatalogExecute(&WebhookPathOwner, args, NULL, true, 1);
	if (SPI_processed > 0)
		ProblemAdd(problems, "payload.trigger.webhook.path",
				   "\"%s\" is already used by job \"%s\"", path,
				   CatalogGetText(0, 1));
}

/*
 * ResolveSecrets
 *	  Work out the secrets the job will have: a value given in the payload
 *	  replaces the stored one, the redacted placeholder keeps it, absence
 *	  removes it.  A placeholder with nothing stored behind it is refused.
 *	  Secret changes the redacted payload cannot show go to the changelog.
 */
static void
ResolveSecrets(pg_uuid_t *id, bool is_update, PayloadResult *result,
			   char **final, ProblemList *problems, ChangeSet *changes)
{
	char	   *stored[SECRET_SLOT_COUNT] = {NULL};
	int			slot;

	if (is_update)
	{
		Datum		args[1] = {UUIDPGetDatum(id)};
		OwnerSection owner;

		AccessBecomeOwner(&owner);
		CatalogExecute(&ReadSecrets, args, NULL, true, 1);
		AccessRestoreUser(&owner);
		if (SPI_processed > 0)
		{
			stored[SECRET_WEBHOOK] = CatalogGetText(0, 1);
			stored[SECRET_SLACK_URL] = CatalogGetText(0, 2);
		}
	}

	for (slot = SECRET_NONE + 1; slot < SECRET_SLOT_COUNT; slot++)
	{
		final[slot] = result->secrets[slot];
		if (result->secret_kept[slot])
		{
			final[slot] = stored[slot];
			if (stored[slot] == NULL)
				ProblemAdd(problems, SecretPaths[slot],
						   "is the redacted placeholder readers see; give the secret itself");
		}
		if (final[slot] != NULL && stored[slot] != NULL &&
			strcmp(final[slot], stored[slot]) != 0 &&
			strcmp(PayloadRedactSecret(slot, final[slot]),
				   PayloadRedactSecret(slot, stored[slot])) == 0)
		{
			StringInfoData quoted;
			Jsonb	   *redacted;

			initStringInfo(&quoted);
			escape_json(&quoted, PayloadRedactSecret(slot, final[slot]));
			redacted = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
														  CStringGetDatum(quoted.data)));

			ChangeSetAdd(changes, SecretPaths[slot], redacted, redacted);
		}
	}
}

/*
 * StoreSecrets
 *	  Write the resolved secrets, as the extension's owner.
 */
static void
StoreSecrets(pg_uuid_t *id, char **final, bool is_update)
{
	OwnerSection owner;
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		none = final[SECRET_WEBHOOK] == NULL &&
		final[SECRET_SLACK_URL] == NULL;

	/* A new job without secrets has nothing to store or remove. */
	if (none && !is_update)
		return;

	args[0] = UUIDPGetDatum(id);
	AccessBecomeOwner(&owner);
	if (none)
		CatalogExecute(&DeleteSecrets, args, NULL, false, 0);
	else
	{
		args[1] = final[SECRET_WEBHOOK] ? CStringGetTextDatum(final[SECRET_WEBHOOK]) : (Datum) 0;
		nulls[1] = final[SECRET_WEBHOOK] ? ' ' : 'n';
		args[2] = final[SECRET_SLACK_URL] ? CStringGetTextDatum(final[SECRET_SLACK_URL]) : (Datum) 0;
		nulls[2] = final[SECRET_SLACK_URL] ? ' ' : 'n';
		CatalogExecute(&UpsertSecrets, args, nulls, false, 0);
	}
	AccessRestoreUser(&owner);
}

/*
 * NextRunAt
 *	  The next schedule slot of an enabled schedule job.  An update that
 *	  leaves the schedule, the zone and the enabled flag alone keeps the
 *	  stored value, which belongs to the scheduler.
 */
static bool
NextRunAt(JobDerived *derived, JobDerived *old_derived, JobRow *old,
		  TimestampTz *next)
{
	CronSchedule schedule;
	char	   *detail;

	if (!derived->enabled || strcmp(derived->trigger_type, "schedule") != 0)
		return false;

	if (old_derived != NULL && old_derived->enabled && !old->next_run_isnull &&
		old_derived->cron != NULL && old_derived->timezone != NULL &&
		strcmp(old_derived->cron, derived->cron) == 0 &&
		strcmp(old_derived->timezone, derived->timezone) == 0)
	{
		*next = DatumGetTimestampTz(old->next_run_at);
		return true;
	}

	if (!CronParse(derived->cron, &schedule, &detail))
		elog(ERROR, "validated schedule \"%s\" does not parse: %s",
			 derived->cron, detail);
	return CronNextAfter(&schedule, GetCurrentTransactionStartTimestamp(),
						 CronLookupTimezone(derived->timezone), next);
}

/*
 * FinishMeta
 *	  The stored meta: title defaults to the job id, and provenance says who
 *	  created the job and who changed it last, and when.  A write that
 *	  changed nothing keeps the old provenance.
 */
static Jsonb *
FinishMeta(Jsonb *meta, JobRow *old, const char *job_id, const char *who,
		   bool changed)
{
	static const char *const title_path[] = {"title"};
	static const char *const provenance_path[] = {"provenance"};
	static const char *const created_at_path[] = {"provenance", "createdAt"};
	static const char *const created_by_path[] = {"provenance", "createdBy"};
	StringInfoData extra;
	char	   *now = JsonEncodeDateTime(NULL,
										 TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
										 TIMESTAMPTZOID, NULL);
	char	   *created_at = NULL;
	char	   *created_by = NULL;

	initStringInfo(&extra);
	appendStringInfoChar(&extra, '{');
	if (JsonbGetPath(meta, 1, title_path) == NULL)
	{
		appendStringInfoString(&extra, "\"title\":");
		escape_json(&extra, job_id);
		appendStringInfoChar(&extra, ',');
	}

	if (old != NULL && old->meta != NULL && !changed &&
		JsonbGetPath(old->meta, 1, provenance_path) != NULL)
	{
		JsonbValue *prov = JsonbGetPath(old->meta, 1, provenance_path);
		Jsonb	   *prov_doc = JsonbValueToJsonb(prov);

		appendStringInfoString(&extra, "\"provenance\":");
		JsonbToCString(&extra, &prov_doc->root, VARSIZE(prov_doc));
	}
	else
	{
		if (old != NULL && old->meta != NULL)
		{
			created_at = JsonbGetPathText(old->meta, 2, created_at_path);
			created_by = JsonbGetPathText(old->meta, 2, created_by_path);
		}
		appendStringInfoString(&extra, "\"provenance\":{\"createdAt\":");
		escape_json(&extra, created_at ? created_at : now);
		appendStringInfoString(&extra, ",\"createdBy\":");
		escape_json(&extra, created_by ? created_by : who);
		appendStringInfoString(&extra, ",\"updatedAt\":");
		escape_json(&extra, now);
		appendStringInfoString(&extra, ",\"updatedBy\":");
		escape_json(&extra, who);
		appendStringInfoChar(&extra, '}');
	}
	appendStringInfoChar(&extra, '}');

	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat,
											  JsonbPGetDatum(meta),
											  DirectFunctionCall1(jsonb_in,
																  CStringGetDatum(extra.data))));
}

/*
 * TextArrayOrNull
 *	  depends_on as a text[] Datum, or null for a job with no dependencies.
 */
static Datum
TextArrayOrNull(List *strings, bool *isnull)
{
	Datum	   *elems;
	ListCell   *lc;
	int			n = 0;

	*isnull = strings == NIL;
	if (*isnull)
		return (Datum) 0;
	elems = palloc(sizeof(Datum) * list_length(strings));
	foreach(lc, strings)
		elems[n++] = CStringGetTextDatum((const char *) lfirst(lc));
	return CatalogArray(elems, NULL, n, TEXTOID);
}

/*
 * SetColumn
 *	  Stage one column of the tuple being built.
 */
static void
SetColumn(TupleDesc desc, const char *name, Datum value, bool isnull,
		  Datum *values, bool *nulls, bool *replace)
{
	int			i = Column(desc, name) - 1;

	values[i] = value;
	nulls[i] = isnull;
	replace[i] = true;
}

/*
 * TextOrNull
 *	  A text Datum of a C string, or null.
 */
static Datum
TextOrNull(const char *s, bool *isnull)
{
	*isnull = s == NULL;
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/*
 * CheckIdentity
 *	  The row's id and job_id: present, well-formed, and unchanged by an
 *	  update (a job keeps its name: jobs depend on it by name).
 */
static void
CheckIdentity(JobRow *row, JobRow *old, ProblemList *problems)
{
	if (row->id == NULL)
		ProblemAdd(problems, "id", "must not be null");
	else if (old != NULL &&
			 memcmp(row->id->data, old->id->data, UUID_LEN) != 0)
		ProblemAdd(problems, "id", "cannot be changed");

	if (row->job_id == NULL)
		ProblemAdd(problems, "job_id", "must not be null");
	else if (old != NULL && strcmp(row->job_id, old->job_id) != 0)
		ProblemAdd(problems, "job_id",
				   "cannot be changed (it is \"%s\"); create a new job instead",
				   old->job_id);
	else if (!PayloadMatchesPattern(PAYLOAD_JOB_ID_PATTERN, row->job_id))
		ProblemAdd(problems, "job_id", "\"%s\" " PAYLOAD_JOB_ID_RULE,
				   row->job_id);
}

/*
 * jobconfig_job_configs_before_write
 *	  BEFORE INSERT OR UPDATE, FOR EACH ROW, on jobconfig.job_configs.
 */
Datum
jobconfig_job_configs_before_write(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	new_tuple;
	HeapTuple	result;
	bool		is_update;
	JobRow		row;
	JobRow		old;
	JobDerived	derived;
	JobDerived	old_derived;
	PayloadResult payload_result = {0};
	PayloadResult meta_result = {0};
	ProblemList problems = {0};
	ChangeSet	changes;
	Jsonb	   *payload;
	Jsonb	   *meta;
	char	   *secrets[SECRET_SLOT_COUNT] = {NULL};
	char	   *who = GetUserNameFromId(GetUserId(), false);
	const char *label;
	TimestampTz next_run;
	bool		has_next_run;
	Datum	   *values;
	bool	   *nulls;
	bool	   *replace;
	bool		isnull;
	Datum		d;
	MemoryContext caller_context = CurrentMemoryContext;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		elog(ERROR, "jobconfig_job_configs_before_write must fire before insert or update, for each row");

	is_update = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event);
	desc = RelationGetDescr(trigdata->tg_relation);
	new_tuple = is_update ? trigdata->tg_newtuple : trigdata->tg_trigtuple;

	/* The scheduler advancing next_run_at: nothing to check or record. */
	if (JobWriteBypass && is_update)
		return PointerGetDatum(new_tuple);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	ReadRow(new_tuple, desc, &row);
	if (is_update)
		ReadRow(trigdata->tg_trigtuple, desc, &old);
	label = row.job_id ? row.job_id : "(null)";

	/* Everything that can be wrong, found in one pass. */
	CheckIdentity(&row, is_update ? &old : NULL, &problems);
	if (row.payload == NULL)
	{
		ProblemAdd(&problems, "payload", "is required");
		payload = NULL;
	}
	else
		payload = PayloadValidate(&PayloadSpec, row.payload, "payload",
								  &problems, &payload_result);
	meta = PayloadValidate(&MetaSpec,
						   row.meta ? row.meta :
						   DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"))),
						   "meta", &problems, &meta_result);

	ChangeSetInit(&changes);
	if (problems.lines == NIL)
	{
		Derive(payload, &derived);
		CheckRetryDelays(payload, &problems);
		if (derived.webhook_path != NULL)
			CheckWebhookPathFree(derived.webhook_path, row.id, &problems);
		if (derived.depends_on != NIL)
		{
			JobGraphLock();
			JobGraphCheck(row.job_id, derived.depends_on, &problems);
		}
		ResolveSecrets(row.id, is_update, &payload_result, secrets,
					   &problems, &changes);
	}
	ProblemsReport(&problems, label);

	/* The write goes ahead: secrets, changelog, then the row itself. */
	StoreSecrets(row.id, secrets, is_update);

	if (is_update)
	{
		Derive(old.payload, &old_derived);
		ChangeSetDiff(&changes, "payload", old.payload, payload);
		ChangeSetDiff(&changes, "meta", old.meta, meta);
	}
	else
	{
		ChangeSetDiff(&changes, "payload", NULL, payload);
		ChangeSetDiff(&changes, "meta", NULL, meta);
	}
	meta = FinishMeta(meta, is_update ? &old : NULL, row.job_id, who,
					  !is_update || changes.count > 0);
	ChangelogWrite(row.id, row.job_id, who, is_update ? "updated" : "created",
				   &changes);
	has_next_run = NextRunAt(&derived, is_update ? &old_derived : NULL, &old,
							 &next_run);

	MemoryContextSwitchTo(caller_context);
	values = palloc0(sizeof(Datum) * desc->natts);
	nulls = palloc0(sizeof(bool) * desc->natts);
	replace = palloc0(sizeof(bool) * desc->natts);
	SetColumn(desc, "payload", JsonbPGetDatum(payload), false, values, nulls, replace);
	SetColumn(desc, "meta", JsonbPGetDatum(meta), false, values, nulls, replace);
	SetColumn(desc, "enabled", BoolGetDatum(derived.enabled), false, values, nulls, replace);
	SetColumn(desc, "trigger_type", CStringGetTextDatum(derived.trigger_type), false,
			  values, nulls, replace);
	d = TextOrNull(derived.cron, &isnull);
	SetColumn(desc, "cron", d, isnull, values, nulls, replace);
	d = TextOrNull(derived.timezone, &isnull);
	SetColumn(desc, "timezone", d, isnull, values, nulls, replace);
	d = TextOrNull(derived.webhook_path, &isnull);
	SetColumn(desc, "webhook_path", d, isnull, values, nulls, replace);
	d = TextOrNull(derived.webhook_signature, &isnull);
	SetColumn(desc, "webhook_signature", d, isnull, values, nulls, replace);
	d = TextArrayOrNull(derived.depends_on, &isnull);
	SetColumn(desc, "depends_on", d, isnull, values, nulls, replace);
	SetColumn(desc, "run_as", ObjectIdGetDatum(payload_result.run_as), false,
			  values, nulls, replace);
	SetColumn(desc, "priority", Int32GetDatum(derived.priority), false,
			  values, nulls, replace);
	SetColumn(desc, "next_run_at", TimestampTzGetDatum(next_run), !has_next_run,
			  values, nulls, replace);
	SetColumn(desc, "owner", ObjectIdGetDatum(is_update ? old.owner : GetUserId()),
			  false, values, nulls, replace);
	result = heap_modify_tuple(new_tuple, desc, values, nulls, replace);

	SPI_finish();
	WakeupSchedulerAtCommit(row.id);
	return PointerGetDatum(result);
}

/*
 * jobconfig_job_configs_before_delete
 *	  BEFORE DELETE, FOR EACH ROW: refuse while other jobs depend on the
 *	  job; otherwise drop its secrets, cancel its runs and record the
 *	  deletion.  Its history stays (job_config_id becomes null).
 */
Datum
jobconfig_job_configs_before_delete(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	JobRow		old;
	List	   *dependents;
	ChangeSet	changes;
	Datum		args[1];
	OwnerSection owner;
	char	   *who = GetUserNameFromId(GetUserId(), false);
	uint64		row;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		elog(ERROR, "jobconfig_job_configs_before_delete must fire before delete, for each row");

	desc = RelationGetDescr(trigdata->tg_relation);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ReadRow(trigdata->tg_trigtuple, desc, &old);

	JobGraphLock();
	dependents = JobGraphDependents(old.job_id);
	if (dependents != NIL)
	{
		StringInfoData names;
		ListCell   *lc;

		initStringInfo(&names);
		foreach(lc, dependents)
			appendStringInfo(&names, "%s\"%s\"", names.len ? ", " : "",
							 (const char *) lfirst(lc));
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot delete job \"%s\" because other jobs depend on it",
						old.job_id),
				 errdetail("Jobs that depend on it: %s.", names.data),
				 errhint("Remove \"%s\" from their trigger.dependency.jobIds, or delete them first.",
						 old.job_id)));
	}

	args[0] = UUIDPGetDatum(old.id);
	AccessBecomeOwner(&owner);
	CatalogExecute(&DeleteSecrets, args, NULL, false, 0);
	CatalogExecute(&CancelQueuedRuns, args, NULL, false, 0);
	CatalogExecute(&CancelRunningRuns, args, NULL, false, 0);
	for (row = 0; row < SPI_processed; row++)
	{
		bool		isnull;

		(void) WakeupRequestCancel(DatumGetInt64(CatalogGetDatum(row, 1, &isnull)),
									CANCEL_JOB_DELETED, who);
	}
	CatalogExecute(&DetachHistory, args, NULL, false, 0);
	AccessRestoreUser(&owner);

	ChangeSetInit(&changes);
	ChangeSetDiff(&changes, "payload", old.payload, NULL);
	ChangeSetDiff(&changes, "meta", old.meta, NULL);
	ChangelogWrite(old.id, old.job_id, who, "deleted", &changes);

	SPI_finish();
	WakeupSchedulerAtCommit(old.id);
	return PointerGetDatum(trigdata->tg_trigtuple);
}

/*
 * jobconfig_check_writer
 *	  BEFORE INSERT OR UPDATE OR DELETE, FOR EACH STATEMENT, on the tables
 *	  writers change: a reader's UPDATE would otherwise succeed silently on
 *	  zero rows.  The trigger's argument completes "permission denied to".
 */
Datum
jobconfig_check_writer(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || trigdata->tg_trigger->tgnargs != 1)
		elog(ERROR, "jobconfig_check_writer must fire as a trigger with one argument");
	AccessRequireWriter(trigdata->tg_trigger->tgargs[0]);
	return PointerGetDatum(NULL);
}
