/*-------------------------------------------------------------------------
 *
 * payload_spec.c
 *	  The field table of a job's payload and meta, and the checks that
 *	  need more than a type and a range.
 *
 * Every key a payload may hold is listed here once, with its type, limits,
 * default and description.  The validator and the JSON Schema are both
 * driven by these tables; a new setting is added here and nowhere else.
 * Regular expressions are written in the common subset of PostgreSQL's
 * and ECMA-262's syntax, because the validator runs them with PostgreSQL's
 * regex engine and a UI runs the same text from the JSON Schema.
 *
 * IDENTIFICATION
 *	  src/payload_spec.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgtime.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "cron.h"
#include "payload.h"

/* What readers see instead of a webhook secret. */
#define REDACTED_SECRET "********"

#define WEBHOOK_PATH_PATTERN "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
#define EMAIL_PATTERN \
	"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+" \
	"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?" \
	"(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
#define HTTPS_URL_PATTERN \
	"^[Hh][Tt][Tt][Pp][Ss]://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#][!-~]*)?$"

static const char *const TriggerTypes[] =
{"schedule", "webhook", "manual", "dependency", NULL};
static const char *const DependencyOutcomes[] =
{"success", "failure", "completion", NULL};
static const char *const DependencyModes[] = {"all", "any", NULL};
static const char *const ConcurrencyPolicies[] =
{"forbid", "allow", "replace", NULL};
static const char *const MissedRunPolicies[] = {"skip", "once", "all", NULL};
static const char *const WebhookSignatureSchemes[] = {"timestamp", "body", NULL};

/*
 * CheckNotBlank
 *	  A command of only white space would run nothing.
 */
static char *
CheckNotBlank(const FieldSpec *spec, char **value, PayloadResult *result)
{
	const char *p;

	for (p = *value; *p; p++)
		if (!isspace((unsigned char) *p))
			return NULL;
	return pstrdup("must not be empty");
}

/*
 * CheckCron
 *	  Compile the schedule with the cron engine; store it trimmed.
 */
static char *
CheckCron(const FieldSpec *spec, char **value, PayloadResult *result)
{
	CronSchedule schedule;
	char	   *detail = NULL;
	char	   *trimmed = *value;
	int			len;

	while (isspace((unsigned char) *trimmed))
		trimmed++;
	len = strlen(trimmed);
	while (len > 0 && isspace((unsigned char) trimmed[len - 1]))
		len--;
	trimmed = pnstrdup(trimmed, len);

	if (!CronParse(trimmed, &schedule, &detail))
		return psprintf("invalid cron schedule \"%s\": %s", *value, detail);
	*value = trimmed;
	return NULL;
}

/*
 * CheckTimezone
 *	  An IANA zone PostgreSQL knows; stored in its canonical spelling.
 */
static char *
CheckTimezone(const FieldSpec *spec, char **value, PayloadResult *result)
{
	pg_tz	   *tz = CronLookupTimezone(*value);

	if (tz == NULL)
		return psprintf("unknown time zone \"%s\"", *value);
	*value = pstrdup(pg_get_timezone_name(tz));
	return NULL;
}

/*
 * CheckRunAs
 *	  The job will run with this role's privileges, so the writer must be a
 *	  member of it, and only a superuser may make a job run as a superuser.
 *	  Membership (not inheritance) is what SET ROLE requires, so it is what
 *	  we require: a writer can make a job do only what it could do itself.
 */
static char *
CheckRunAs(const FieldSpec *spec, char **value, PayloadResult *result)
{
	Oid			writer = GetUserId();
	Oid			role = get_role_oid(*value, true);

	if (!OidIsValid(role))
		return psprintf("role \"%s\" does not exist", *value);
	if (superuser_arg(role) && !superuser_arg(writer))
		return psprintf("role \"%s\" is a superuser; only a superuser may create a job that runs as it",
						*value);
	if (!is_member_of_role(writer, role))
		return psprintf("role \"%s\" may not be used: role \"%s\" is not a member of it",
						*value, GetUserNameFromId(writer, false));
	result->run_as = role;
	return NULL;
}

/*
 * CurrentRoleName
 *	  Default runAs: the role writing the job.
 */
static char *
CurrentRoleName(void)
{
	return GetUserNameFromId(GetUserId(), false);
}

/*
 * PayloadRedactSecret
 *	  What the stored payload shows instead of a secret.  A Slack URL keeps
 *	  its scheme and host, so a reader can still see where alerts go, but
 *	  loses the path that carries the token.  Redacting a redacted value
 *	  gives it back unchanged.
 */
char *
PayloadRedactSecret(SecretSlot slot, const char *value)
{
	if (slot == SECRET_SLACK_URL)
	{
		const char *host = strstr(value, "://");
		const char *end;

		if (host != NULL)
		{
			host += 3;
			end = host + strcspn(host, "/?#");
			return psprintf("%.*s/" REDACTED_SECRET, (int) (end - value), value);
		}
	}
	return pstrdup(REDACTED_SECRET);
}

/*
 * PayloadIsRedacted
 *	  Is this the placeholder a reader sees?  Writing it back means "keep
 *	  the secret already stored".
 */
bool
PayloadIsRedacted(SecretSlot slot, const char *value)
{
	return strcmp(PayloadRedactSecret(slot, value), value) == 0;
}

/* trigger.schedule */
static const FieldSpec ScheduleFields[] = {
	{.name = "cron", .kind = FIELD_STRING, .required = true,
		.max_length = 200, .check = CheckCron,
		.schema_extra = PayloadSchemaCronPattern,
		.description = "Cron schedule in pg_cron syntax: five fields, @hourly and the like, or \"N seconds\" (1-59)"},
	{.name = "timezone", .kind = FIELD_STRING, .default_json = "\"UTC\"",
		.max_length = 100, .check = CheckTimezone,
		.schema_extra = PayloadSchemaTimezones,
		.description = "IANA time zone the schedule is read in"},
	{0}
};

/* trigger.webhook */
static const FieldSpec WebhookFields[] = {
	{.name = "path", .kind = FIELD_STRING, .required = true,
		.pattern = WEBHOOK_PATH_PATTERN,
		.pattern_rule = "is not a valid webhook path (letters, digits, \".\", \"_\" and \"-\", starting with a letter or digit, at most 128 characters)",
		.description = "Path segment that names this job in receive_webhook(); unique across jobs"},
	{.name = "secret", .kind = FIELD_STRING, .required = true,
		.min_length = 16, .max_length = 256, .secret = SECRET_WEBHOOK,
		.description = "Shared secret the sender keys each call's HMAC-SHA256 signature with; shown to readers as \"" REDACTED_SECRET "\""},
	/*
	 * One scheme per job: a job that took both would take a call signed as
	 * timestamp "." body again, at any time, as a body of that text sent
	 * without a timestamp.  The timestamped one is the default because it
	 * is the one that refuses replays.
	 */
	{.name = "signature", .kind = FIELD_STRING, .default_json = "\"timestamp\"",
		.allowed = WebhookSignatureSchemes,
		.description = "What each call's HMAC-SHA256 covers: \"timestamp\", the timestamp sent with it, \".\" and the body (Stripe's scheme: within toleranceSeconds, accepted once); \"body\", the body alone, sent without a timestamp (GitHub's scheme: no replay protection). A call in the other form is refused"},
	{.name = "toleranceSeconds", .kind = FIELD_INTEGER, .when = "timestamp",
		.default_json = "300", .minimum = "1", .maximum = "86400",
		.description = "How far a signed timestamp may be from now before the call is refused as a replay; only with signature \"timestamp\""},
	{0}
};

/* trigger.dependency */
static const FieldSpec DependencyFields[] = {
	{.name = "jobIds", .kind = FIELD_STRING_ARRAY, .required = true,
		.min_items = 1, .max_items = 50, .unique_items = true,
		.pattern = PAYLOAD_JOB_ID_PATTERN, .pattern_rule = PAYLOAD_JOB_ID_RULE,
		.description = "Jobs whose runs trigger this one; they must exist and may not form a cycle"},
	{.name = "on", .kind = FIELD_STRING, .default_json = "\"success\"",
		.allowed = DependencyOutcomes,
		.description = "Which outcome of the upstream runs triggers this job"},
	{.name = "mode", .kind = FIELD_STRING, .default_json = "\"all\"",
		.allowed = DependencyModes,
		.description = "Wait for all upstream jobs, or run after any of them"},
	{0}
};

static const FieldSpec TriggerFields[] = {
	{.name = "type", .kind = FIELD_STRING, .default_json = "\"manual\"",
		.allowed = TriggerTypes,
		.description = "What starts the job"},
	{.name = "schedule", .kind = FIELD_OBJECT, .when = "schedule",
		.fields = ScheduleFields,
		.description = "Required when type is schedule"},
	{.name = "webhook", .kind = FIELD_OBJECT, .when = "webhook",
		.discriminator = "signature", .fields = WebhookFields,
		.description = "Required when type is webhook"},
	{.name = "dependency", .kind = FIELD_OBJECT, .when = "dependency",
		.fields = DependencyFields,
		.description = "Required when type is dependency"},
	{0}
};

static const FieldSpec RetryFields[] = {
	{.name = "maxAttempts", .kind = FIELD_INTEGER, .default_json = "3",
		.minimum = "1", .maximum = "100",
		.description = "Attempts in all, the first run included"},
	{.name = "initialDelaySeconds", .kind = FIELD_INTEGER, .default_json = "60",
		.minimum = "0", .maximum = "86400",
		.description = "Delay before the first retry"},
	{.name = "backoffMultiplier", .kind = FIELD_NUMBER, .default_json = "2",
		.minimum = "1", .maximum = "10",
		.description = "Each retry waits this many times longer than the one before"},
	{.name = "maxDelaySeconds", .kind = FIELD_INTEGER, .default_json = "3600",
		.minimum = "1", .maximum = "604800",
		.description = "Upper bound of the delay; at least initialDelaySeconds"},
	{.name = "jitter", .kind = FIELD_BOOLEAN, .default_json = "true",
		.description = "Spread retries by up to 20% of their delay, either way"},
	{0}
};

static const FieldSpec ExecutionFields[] = {
	{.name = "command", .kind = FIELD_STRING, .required = true,
		.min_length = 1, .max_length = 1000000, .check = CheckNotBlank,
		.description = "SQL to run: anything psql -c accepts"},
	{.name = "runAs", .kind = FIELD_STRING, .default_fn = CurrentRoleName,
		.min_length = 1, .max_length = NAMEDATALEN - 1, .check = CheckRunAs,
		.description = "Role whose privileges the command runs with; the writer must be a member of it (default: the writer)"},
	{.name = "priority", .kind = FIELD_INTEGER, .default_json = "50",
		.minimum = "0", .maximum = "100",
		.description = "Higher runs first when runs wait for a worker"},
	{.name = "timeoutSeconds", .kind = FIELD_INTEGER, .default_json = "3600",
		.minimum = "1", .maximum = "86400",
		.description = "The run is cancelled and ends timed_out after this long"},
	{.name = "retry", .kind = FIELD_OBJECT, .default_json = "{}",
		.fields = RetryFields,
		.description = "Retries of failed and timed-out runs, with exponential backoff"},
	{.name = "concurrency", .kind = FIELD_STRING, .default_json = "\"forbid\"",
		.allowed = ConcurrencyPolicies,
		.description = "When a run is due while one is running: skip it (forbid), run both (allow), or cancel the running one (replace)"},
	{.name = "missedRuns", .kind = FIELD_STRING, .default_json = "\"once\"",
		.allowed = MissedRunPolicies,
		.description = "Schedule slots missed while the server was down: skip them, run once, or run each"},
	{0}
};

static const FieldSpec EmailFields[] = {
	{.name = "recipients", .kind = FIELD_STRING_ARRAY, .required = true,
		.min_items = 1, .max_items = 50, .unique_items = true,
		.max_length = 254, .pattern = EMAIL_PATTERN,
		.pattern_rule = "is not a valid email address (a bare address such as ops@example.com)",
		.description = "Addresses to mail"},
	{.name = "onFailure", .kind = FIELD_BOOLEAN, .default_json = "true",
		.description = "Mail when a run fails for good (retries exhausted)"},
	{.name = "onSuccess", .kind = FIELD_BOOLEAN, .default_json = "false",
		.description = "Mail when a run succeeds"},
	{0}
};

static const FieldSpec SlackFields[] = {
	{.name = "webhookUrl", .kind = FIELD_STRING, .required = true,
		.max_length = 2048, .pattern = HTTPS_URL_PATTERN,
		.pattern_rule = "must be an https:// URL with a host name, and no user name or spaces",
		.secret = SECRET_SLACK_URL,
		.description = "Slack incoming-webhook URL (https); readers see only its host"},
	{.name = "onFailure", .kind = FIELD_BOOLEAN, .default_json = "true",
		.description = "Post when a run fails for good (retries exhausted)"},
	{.name = "onSuccess", .kind = FIELD_BOOLEAN, .default_json = "false",
		.description = "Post when a run succeeds"},
	{0}
};

static const FieldSpec NotificationFields[] = {
	{.name = "email", .kind = FIELD_OBJECT, .fields = EmailFields,
		.description = "Email alerts"},
	{.name = "slack", .kind = FIELD_OBJECT, .fields = SlackFields,
		.description = "Slack alerts"},
	{.name = "includeLogs", .kind = FIELD_BOOLEAN, .default_json = "true",
		.description = "Attach the run's log to alerts"},
	{0}
};

static const FieldSpec HistoryFields[] = {
	{.name = "retentionDays", .kind = FIELD_INTEGER, .required = true,
		.minimum = "1", .maximum = "36500",
		.description = "Days this job's finished executions are kept"},
	{0}
};

static const FieldSpec PayloadFields[] = {
	{.name = "enabled", .kind = FIELD_BOOLEAN, .default_json = "true",
		.description = "A disabled job is never started"},
	{.name = "trigger", .kind = FIELD_OBJECT, .default_json = "{}",
		.discriminator = "type", .fields = TriggerFields,
		.description = "What starts the job"},
	{.name = "execution", .kind = FIELD_OBJECT, .required = true,
		.fields = ExecutionFields,
		.description = "What the job runs, as whom, and how runs are retried"},
	{.name = "notifications", .kind = FIELD_OBJECT, .default_json = "{}",
		.fields = NotificationFields,
		.description = "Who hears about finished runs"},
	{.name = "history", .kind = FIELD_OBJECT, .fields = HistoryFields,
		.description = "How long this job's history is kept; without it, the server's jobconfig.history_days applies"},
	{0}
};

const FieldSpec PayloadSpec = {
	.name = "payload", .kind = FIELD_OBJECT, .fields = PayloadFields,
	.description = "A jobconfig job configuration"
};

static const FieldSpec ProvenanceFields[] = {
	{.name = "createdAt", .kind = FIELD_STRING},
	{.name = "createdBy", .kind = FIELD_STRING},
	{.name = "updatedAt", .kind = FIELD_STRING},
	{.name = "updatedBy", .kind = FIELD_STRING},
	{0}
};

static const FieldSpec MetaFields[] = {
	{.name = "title", .kind = FIELD_STRING, .max_length = 200,
		.description = "Display name (default: the job id)"},
	{.name = "description", .kind = FIELD_STRING, .default_json = "\"\"",
		.max_length = 4000,
		.description = "What the job is for"},
	{.name = "tags", .kind = FIELD_STRING_ARRAY, .default_json = "[]",
		.max_items = 32, .unique_items = true, .min_length = 1,
		.max_length = 64,
		.description = "Free-form labels"},
	{.name = "provenance", .kind = FIELD_OBJECT, .fields = ProvenanceFields,
		.system_maintained = true,
		.description = "Who created and last changed the job, and when; maintained by jobconfig"},
	{0}
};

const FieldSpec MetaSpec = {
	.name = "meta", .kind = FIELD_OBJECT, .fields = MetaFields,
	.description = "Display metadata of a job"
};
