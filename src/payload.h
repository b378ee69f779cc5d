/*-------------------------------------------------------------------------
 *
 * payload.h
 *	  The job payload: its field table, validation and JSON Schema.
 *
 * One table (payload_spec.c) describes every key of a job's payload and
 * meta: type, range, allowed values, default, checks.  The validator
 * (payload_validate.c) walks a document against it and the JSON Schema
 * (payload_schema.c) is generated from it, so the two cannot drift apart.
 *
 * IDENTIFICATION
 *	  src/payload.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef JOBCONFIG_PAYLOAD_H
#define JOBCONFIG_PAYLOAD_H

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#include "problems.h"

/* A job id (slug); job_configs has the same rule as a CHECK constraint. */
#define PAYLOAD_JOB_ID_PATTERN "^[a-z0-9][a-z0-9_-]{0,62}$"
#define PAYLOAD_JOB_ID_RULE \
	"is not a valid job id (lowercase letters, digits, \"_\" and \"-\", " \
	"starting with a letter or digit, at most 63 characters)"

typedef enum FieldKind
{
	FIELD_OBJECT,
	FIELD_STRING,
	FIELD_INTEGER,
	FIELD_NUMBER,
	FIELD_BOOLEAN,
	FIELD_STRING_ARRAY
} FieldKind;

/* Secrets are kept out of the stored payload; see payload_validate.c. */
typedef enum SecretSlot
{
	SECRET_NONE = 0,
	SECRET_WEBHOOK,				/* trigger.webhook.secret */
	SECRET_SLACK_URL,			/* notifications.slack.webhookUrl */
	SECRET_SLOT_COUNT
} SecretSlot;

/* What the validator found, besides the normalised document. */
typedef struct PayloadResult
{
	/* Real secret values given in the document (NULL where not given). */
	char	   *secrets[SECRET_SLOT_COUNT];
	/* The document carried the redacted placeholder: keep the stored one. */
	bool		secret_kept[SECRET_SLOT_COUNT];
	/* Role the job runs as, once runAs checked out. */
	Oid			run_as;
} PayloadResult;

struct FieldSpec;

/*
 * A check of a string value: NULL when it is fine, else the rule broken
 * (palloc'd, without the path).  It may replace *value by a normalised
 * form, such as a time zone's canonical spelling.
 */
typedef char *(*StringCheck) (const struct FieldSpec *spec, char **value,
							  PayloadResult *result);

/* Adds dynamic keywords (an enum read from the catalogs) to a schema. */
typedef void (*SchemaExtra) (StringInfo schema);

/* A default computed when the document is written (the writing role). */
typedef char *(*DynamicDefault) (void);

typedef struct FieldSpec
{
	const char *name;			/* JSON key; NULL ends a list */
	FieldKind	kind;
	const char *description;
	bool		required;

	/*
	 * Discriminated sections: an object with "discriminator" set picks its
	 * sections by the value of that key; a child with "when" set must be
	 * present exactly when the discriminator has that value, or, when it
	 * has a default, gets it then and is refused otherwise (a webhook's
	 * toleranceSeconds, which only its timestamped scheme has).
	 */
	const char *discriminator;
	const char *when;

	/*
	 * Numbers: the bounds as decimal literals.  jsonb numbers are numeric,
	 * so a value is compared with them as numeric, exactly: as doubles,
	 * 10.0000000000000000000000000001 would pass for 10.  The schema shows
	 * the same text.
	 */
	const char *minimum;
	const char *maximum;

	/* Strings, and the items of string arrays. */
	int			min_length;
	int			max_length;		/* 0: no limit */
	const char *const *allowed; /* NULL-terminated list of allowed values */
	StringCheck check;
	const char *pattern;		/* regex, enforced and put in the schema */
	const char *pattern_rule;	/* what the pattern means, for messages */
	SchemaExtra schema_extra;
	SecretSlot	secret;
	bool		system_maintained;	/* set by jobconfig; input dropped */

	/* String arrays. */
	int			min_items;
	int			max_items;
	bool		unique_items;

	/* Defaults: a JSON literal, or computed; objects use "{}". */
	const char *default_json;
	DynamicDefault default_fn;

	/* Objects. */
	const struct FieldSpec *fields;
} FieldSpec;

/* The tables, in payload_spec.c. */
extern const FieldSpec PayloadSpec;
extern const FieldSpec MetaSpec;

/* Redaction, in payload_spec.c. */
extern char *PayloadRedactSecret(SecretSlot slot, const char *value);
extern bool PayloadIsRedacted(SecretSlot slot, const char *value);

/* payload_validate.c */
extern bool PayloadMatchesPattern(const char *pattern, const char *value);
extern Jsonb *PayloadValidate(const FieldSpec *spec, Jsonb *document,
							  const char *path, ProblemList *problems,
							  PayloadResult *result);

/* payload_schema.c */
extern void PayloadSchemaAppend(StringInfo out, const FieldSpec *spec);
extern void PayloadSchemaTimezones(StringInfo schema);
extern void PayloadSchemaCronPattern(StringInfo schema);

/* jsonb_util.c: small accessors for normalised documents. */
extern JsonbValue *JsonbGetPath(Jsonb *document, int depth, const char *const *keys);
extern char *JsonbGetPathText(Jsonb *document, int depth, const char *const *keys);
extern JsonbValue *JsonbDocumentAsValue(Jsonb *document, JsonbValue *buf);

#endif							/* JOBCONFIG_PAYLOAD_H */
