/*-------------------------------------------------------------------------
 *
 * payload_schema.c
 *	  The JSON Schema (draft 2020-12) of a job payload, generated from the
 *	  same field table the validator walks.
 *
 * A UI builds its editor form from payload_schema(): types, ranges, allowed
 * values, defaults, descriptions, the time zones this server knows, and
 * which trigger section each trigger type needs.  What a static schema
 * cannot say is checked by the server only, and the schema's descriptions
 * say so: role membership for runAs, that dependency jobs exist and form no
 * cycle, that a webhook path is unused, and the finer cron rules (reversed
 * ranges, dates that never occur) beyond the pattern given here.
 *
 * IDENTIFICATION
 *	  src/payload_schema.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "access.h"
#include "own_settings.h"
#include "payload.h"

PG_FUNCTION_INFO_V1(jobconfig_payload_schema);

static void AppendFieldSchema(StringInfo out, const FieldSpec *spec);

/*
 * AppendKey
 *	  Append ,"key": (the comma only when something precedes it).
 */
static void
AppendKey(StringInfo out, const char *key)
{
	if (out->len > 0 && out->data[out->len - 1] != '{' &&
		out->data[out->len - 1] != '[')
		appendStringInfoChar(out, ',');
	escape_json(out, key);
	appendStringInfoChar(out, ':');
}

/*
 * AppendStringRules
 *	  Length, allowed values and pattern of a string or of array items.
 */
static void
AppendStringRules(StringInfo out, const FieldSpec *spec)
{
	if (spec->min_length > 0)
	{
		AppendKey(out, "minLength");
		appendStringInfo(out, "%d", spec->min_length);
	}
	if (spec->max_length > 0)
	{
		AppendKey(out, "maxLength");
		appendStringInfo(out, "%d", spec->max_length);
	}
	if (spec->allowed != NULL)
	{
		const char *const *allowed;

		AppendKey(out, "enum");
		appendStringInfoChar(out, '[');
		for (allowed = spec->allowed; *allowed; allowed++)
		{
			if (allowed != spec->allowed)
				appendStringInfoChar(out, ',');
			escape_json(out, *allowed);
		}
		appendStringInfoChar(out, ']');
	}
	if (spec->pattern != NULL)
	{
		AppendKey(out, "pattern");
		escape_json(out, spec->pattern);
	}
	if (spec->schema_extra != NULL)
		spec->schema_extra(out);
}

/*
 * AppendSectionRules
 *	  One if/then/else per child of a discriminated object that has a
 *	  "when": when the discriminator has that value, the child is required
 *	  (unless it has a default), else it is forbidden.  The discriminator
 *	  may be absent, and then has its default: the condition requires the
 *	  key only when the value is not the default.
 */
static void
AppendSectionRules(StringInfo out, const FieldSpec *spec)
{
	const FieldSpec *child;
	const char *key_default = NULL;

	for (child = spec->fields; child->name != NULL; child++)
		if (strcmp(child->name, spec->discriminator) == 0)
			key_default = child->default_json;

	AppendKey(out, "allOf");
	appendStringInfoChar(out, '[');
	for (child = spec->fields; child->name != NULL; child++)
	{
		char	   *value;

		if (child->when == NULL)
			continue;
		if (out->data[out->len - 1] != '[')
			appendStringInfoChar(out, ',');
		value = psprintf("\"%s\"", child->when);
		appendStringInfo(out, "{\"if\":{\"properties\":{\"%s\":{\"const\":%s}}",
						 spec->discriminator, value);
		if (key_default == NULL || strcmp(key_default, value) != 0)
			appendStringInfo(out, ",\"required\":[\"%s\"]", spec->discriminator);
		appendStringInfoChar(out, '}');
		if (child->default_json == NULL && child->default_fn == NULL)
			appendStringInfo(out, ",\"then\":{\"required\":[\"%s\"]}", child->name);
		appendStringInfo(out, ",\"else\":{\"properties\":{\"%s\":false}}}",
						 child->name);
	}
	appendStringInfoChar(out, ']');
}

/*
 * AppendObjectSchema
 *	  properties, required, no other keys, and for a discriminated object
 *	  one if/then/else per section: required when the discriminator has its
 *	  value, forbidden otherwise.
 */
static void
AppendObjectSchema(StringInfo out, const FieldSpec *spec)
{
	const FieldSpec *child;
	bool		any_required = false;

	AppendKey(out, "type");
	appendStringInfoString(out, "\"object\"");
	AppendKey(out, "properties");
	appendStringInfoChar(out, '{');
	for (child = spec->fields; child->name != NULL; child++)
	{
		AppendKey(out, child->name);
		appendStringInfoChar(out, '{');
		AppendFieldSchema(out, child);
		appendStringInfoChar(out, '}');
	}
	appendStringInfoChar(out, '}');

	for (child = spec->fields; child->name != NULL; child++)
	{
		if (!child->required)
			continue;
		if (!any_required)
		{
			AppendKey(out, "required");
			appendStringInfoChar(out, '[');
		}
		else
			appendStringInfoChar(out, ',');
		escape_json(out, child->name);
		any_required = true;
	}
	if (any_required)
		appendStringInfoChar(out, ']');

	AppendKey(out, "additionalProperties");
	appendStringInfoString(out, "false");

	if (spec->discriminator != NULL)
		AppendSectionRules(out, spec);
}

/*
 * AppendFieldSchema
 *	  The keywords of one field's schema (inside its braces).
 */
static void
AppendFieldSchema(StringInfo out, const FieldSpec *spec)
{
	if (spec->description != NULL)
	{
		AppendKey(out, "description");
		escape_json(out, spec->description);
	}
	if (spec->system_maintained)
	{
		AppendKey(out, "readOnly");
		appendStringInfoString(out, "true");
	}
	if (spec->default_json != NULL)
	{
		AppendKey(out, "default");
		appendStringInfoString(out, spec->default_json);
	}

	switch (spec->kind)
	{
		case FIELD_OBJECT:
			AppendObjectSchema(out, spec);
			break;
		case FIELD_STRING:
			AppendKey(out, "type");
			appendStringInfoString(out, "\"string\"");
			if (spec->secret != SECRET_NONE && spec->pattern == NULL)
			{
				/* The stored form is the placeholder, which breaks the rules. */
				AppendKey(out, "anyOf");
				appendStringInfoString(out, "[{");
				AppendStringRules(out, spec);
				appendStringInfoString(out, "},{\"const\":");
				escape_json(out, PayloadRedactSecret(spec->secret, ""));
				appendStringInfoString(out, "}]");
			}
			else
				AppendStringRules(out, spec);
			break;
		case FIELD_INTEGER:
		case FIELD_NUMBER:
			AppendKey(out, "type");
			appendStringInfoString(out, spec->kind == FIELD_INTEGER ?
								   "\"integer\"" : "\"number\"");
			if (spec->minimum != NULL)
			{
				AppendKey(out, "minimum");
				appendStringInfoString(out, spec->minimum);
			}
			if (spec->maximum != NULL)
			{
				AppendKey(out, "maximum");
				appendStringInfoString(out, spec->maximum);
			}
			break;
		case FIELD_BOOLEAN:
			AppendKey(out, "type");
			appendStringInfoString(out, "\"boolean\"");
			break;
		case FIELD_STRING_ARRAY:
			AppendKey(out, "type");
			appendStringInfoString(out, "\"array\"");
			AppendKey(out, "items");
			appendStringInfoString(out, "{\"type\":\"string\"");
			AppendStringRules(out, spec);
			appendStringInfoChar(out, '}');
			if (spec->min_items > 0)
			{
				AppendKey(out, "minItems");
				appendStringInfo(out, "%d", spec->min_items);
			}
			if (spec->max_items > 0)
			{
				AppendKey(out, "maxItems");
				appendStringInfo(out, "%d", spec->max_items);
			}
			if (spec->unique_items)
			{
				AppendKey(out, "uniqueItems");
				appendStringInfoString(out, "true");
			}
			break;
	}
}

/*
 * PayloadSchemaAppend
 *	  Append the schema of an object spec, as the body of a JSON object.
 */
void
PayloadSchemaAppend(StringInfo out, const FieldSpec *spec)
{
	AppendFieldSchema(out, spec);
}

/*
 * PayloadSchemaTimezones
 *	  enum: every zone name this server's tz database has, so a UI can
 *	  offer a list and the schema refuses a made-up zone.
 */
void
PayloadSchemaTimezones(StringInfo schema)
{
	uint64		i;
	int			nest;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nest = OwnSettingsEnter();
	if (SPI_execute("SELECT name FROM pg_catalog.pg_timezone_names ORDER BY name",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list time zones");
	OwnSettingsLeave(nest);

	AppendKey(schema, "enum");
	appendStringInfoChar(schema, '[');
	for (i = 0; i < SPI_processed; i++)
	{
		if (i > 0)
			appendStringInfoChar(schema, ',');
		escape_json(schema, SPI_getvalue(SPI_tuptable->vals[i],
										 SPI_tuptable->tupdesc, 1));
	}
	appendStringInfoChar(schema, ']');
	SPI_finish();
}

/*
 * AppendCaseless
 *	  A word as a case-insensitive regex: "jan" -> "[Jj][Aa][Nn]".  JSON
 *	  Schema patterns take no flags.
 */
static void
AppendCaseless(StringInfo out, const char *word)
{
	for (; *word; word++)
		appendStringInfo(out, "[%c%c]", pg_toupper((unsigned char) *word),
						 pg_tolower((unsigned char) *word));
}

/*
 * AppendNames
 *	  Alternatives of caseless names, each preceded by "|".
 */
static void
AppendNames(StringInfo out, const char *const *names)
{
	for (; *names; names++)
	{
		appendStringInfoChar(out, '|');
		AppendCaseless(out, *names);
	}
}

/*
 * AppendCronField
 *	  One field of the five: a list of *, values, ranges and steps.
 */
static void
AppendCronField(StringInfo out, const char *value, bool last_day)
{
	StringInfoData element;

	initStringInfo(&element);
	appendStringInfo(&element, "(?:\\*|%s(?:-%s)?)(?:/[0-9]+)?", value, value);
	if (last_day)
		appendStringInfoString(&element, "|\\$");
	appendStringInfo(out, "(?:%s)(?:,(?:%s))*", element.data, element.data);
}

/*
 * PayloadSchemaCronPattern
 *	  A pattern that accepts every schedule the cron engine accepts (leading
 *	  comment lines, leading zeros and "+5 seconds" included) and catches
 *	  most malformed ones: wrong field count, out-of-range values, unknown
 *	  names.  The server checks more: reversed ranges, steps beyond the
 *	  field, dates that never occur.
 */
void
PayloadSchemaCronPattern(StringInfo schema)
{
	static const char *const months[] =
	{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
	"nov", "dec", NULL};
	static const char *const days[] =
	{"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};
	static const char *const aliases[] =
	{"yearly", "annually", "monthly", "weekly", "daily", "midnight",
	"hourly", "reboot", "restart", NULL};
	StringInfoData pattern;
	StringInfoData month;
	StringInfoData day;
	const char *const *alias;

	initStringInfo(&month);
	appendStringInfoString(&month, "(?:0*(?:[1-9]|1[0-2])");
	AppendNames(&month, months);
	appendStringInfoChar(&month, ')');
	initStringInfo(&day);
	appendStringInfoString(&day, "(?:0*[0-7]");
	AppendNames(&day, days);
	appendStringInfoChar(&day, ')');

	initStringInfo(&pattern);
	/* Blank and comment lines may come first, as in a crontab. */
	appendStringInfoString(&pattern, "^\\s*(?:#[^\\n]*\\n\\s*)*(?:");
	AppendCronField(&pattern, "0*(?:[0-5]?[0-9])", false);
	appendStringInfoString(&pattern, "\\s+");
	AppendCronField(&pattern, "0*(?:1?[0-9]|2[0-3])", false);
	appendStringInfoString(&pattern, "\\s+");
	AppendCronField(&pattern, "0*(?:[1-9]|[12][0-9]|3[01])", true);
	appendStringInfoString(&pattern, "\\s+");
	AppendCronField(&pattern, month.data, false);
	appendStringInfoString(&pattern, "\\s+");
	AppendCronField(&pattern, day.data, false);
	appendStringInfoString(&pattern, "|@(?:");
	for (alias = aliases; *alias; alias++)
	{
		if (alias != aliases)
			appendStringInfoChar(&pattern, '|');
		AppendCaseless(&pattern, *alias);
	}
	appendStringInfoString(&pattern, ")|\\+?0*(?:[1-9]|[1-5][0-9])\\s*");
	AppendCaseless(&pattern, "second");
	appendStringInfoString(&pattern, "[Ss]?)\\s*$");

	AppendKey(schema, "pattern");
	escape_json(schema, pattern.data);
}

/*
 * jobconfig_payload_schema
 *	  SQL: jobconfig.payload_schema() returns jsonb.
 */
Datum
jobconfig_payload_schema(PG_FUNCTION_ARGS)
{
	StringInfoData out;

	AccessRequireReader("read the payload schema");

	initStringInfo(&out);
	appendStringInfoString(&out,
						   "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
						   "\"title\":\"jobconfig job payload\"");
	PayloadSchemaAppend(&out, &PayloadSpec);
	appendStringInfoString(&out, ",\"$defs\":{\"meta\":{");
	PayloadSchemaAppend(&out, &MetaSpec);
	appendStringInfoString(&out, "}}}");

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}
